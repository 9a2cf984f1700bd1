"""Benchmark: warm retrieval latency on an existing index, per mode, with peak RSS.

Queries are the real questions of ../shared/eval/stard-train.jsonl. BM25-only is the
baseline measured in the same run; the ratio hybrid/bm25 is printed.

    python eval/bench/bench_search.py --index /tmp/laws-index --n 300
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from common import ROOT, questions, report


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

    qs = questions(args.n)
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
    report(res, f"{len(qs)} queries, k={args.k}, index {args.index}", len(qs), args.json)

if __name__ == "__main__":
    main()
