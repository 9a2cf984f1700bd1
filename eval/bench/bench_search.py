"""Benchmark: warm retrieval latency on an existing index, per mode, with peak RSS.

Queries are the real questions of ../shared/eval/stard-train.jsonl. BM25-only is the
baseline measured in the same run; the ratio hybrid/bm25 is printed.

    python eval/bench/bench_search.py --index /tmp/laws-index --n 300
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STARD = ROOT.parent / "shared" / "eval" / "stard-train.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from assistant.config import load_settings
    from assistant.metrics import percentile
    from assistant.service import Assistant

    if STARD.exists():
        qs = [json.loads(line)["question"] for line in STARD.open(encoding="utf-8")][: args.n]
    else:
        qs = ["强制性国家标准由谁制定？", "产品质量检验机构的资格", "计量器具的检定"] * (args.n // 3)
    a = Assistant(load_settings(index=args.index))
    a.warm()  # as the UI, batch and eval do: the torch path serves the queries
    for q in qs[:5]:  # warm-up: model load, BM25 load, caches
        a.search(q, args.k)
    res: dict[str, dict[str, float]] = {}
    for mode in ("bm25", "dense", "hybrid"):
        lat = []
        for q in qs:
            t = time.perf_counter()
            a.search(q, args.k, mode=mode)
            lat.append((time.perf_counter() - t) * 1000)
        res[mode] = {"p50_ms": round(statistics.median(lat), 1), "p95_ms": round(percentile(lat, 95) or 0.0, 1),
                     "mean_ms": round(statistics.fmean(lat), 1)}
    res["ratio_hybrid_over_bm25_p50"] = {"x": round(res["hybrid"]["p50_ms"] / res["bm25"]["p50_ms"], 2)}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.json:
        print(json.dumps({**res, "peak_rss_mb": round(rss), "queries": len(qs)}))
        return
    print(f"{len(qs)} queries, k={args.k}, index {args.index}")
    for mode, r in res.items():
        print(f"{mode:>28}: {r}")
    print(f"{'peak RSS':>28}: {rss:.0f} MB")


if __name__ == "__main__":
    main()
