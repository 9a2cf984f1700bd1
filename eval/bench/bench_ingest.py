"""Benchmark: ingest the full laws corpus (../shared/corpus/laws).

Prints wall time per phase, peak RSS, articles/s, embedding tokens/s and the fraction of
the path's peak reached while embedding (square fp32 GEMM, same threads, same run), then
times a second, unchanged ingest. Keyword search is usable as soon as the parse phase ends
(printed as "keyword search ready after").

    python eval/bench/bench_ingest.py --index /tmp/laws-index          # full run
    python eval/bench/bench_ingest.py --index /tmp/laws-index --limit 50 # quick look
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAWS = ROOT.parent / "shared" / "corpus" / "laws"
FLOP_PER_TOKEN = 42.5e6  # multilingual-e5-small: 12 layers × (4·384² + 2·384·1536) × 2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=None, help="index dir (default: a temp dir)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N law files")
    ap.add_argument("--no-embed", action="store_true", help="parse and keyword-index only")
    ap.add_argument("--keep", action="store_true", help="keep an existing index (resume)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not LAWS.is_dir():
        sys.exit("../shared/corpus/laws not found")
    sys.path.insert(0, str(ROOT))
    from assistant.config import load_settings
    from assistant.embed import get_embedder
    from assistant.index import Index
    from assistant.ingest import ingest

    index = args.index or Path(tempfile.mkdtemp(prefix="bench-ingest-")) / "index"
    if index.exists() and not args.keep:
        shutil.rmtree(index)
    src = LAWS
    if args.limit:
        src = Path(tempfile.mkdtemp(prefix="bench-laws-"))
        files = sorted(p for p in LAWS.rglob("*.md"))[: args.limit]
        for f in files:
            t = src / f.relative_to(LAWS)
            t.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, t)
        shutil.copy(LAWS / "catalog.csv", src / "catalog.csv")
    from assistant.embed.cpu import cpu_info, gemm_peak

    s = load_settings(index=index)
    info = cpu_info()
    threads = s.threads or info.cores
    peak = gemm_peak(threads, seconds=3.0)  # square fp32 torch.mm, as many threads as workers
    t0 = time.perf_counter()
    report = ingest([src], s, progress=not args.json, embed=not args.no_embed)
    wall = time.perf_counter() - t0
    # the ingest's peak, before this script's own counting below adds to the process
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    idx = Index.open(s)
    n_chunks = idx.count()
    tokens = 0
    if report.embedded:
        emb = get_embedder(s)
        texts = idx.passages()
        for i in range(0, len(texts), 2048):  # the passage view only: about half the work
            tokens += sum(emb.count_tokens(texts[i : i + 2048]))
    t1 = time.perf_counter()
    again = ingest([src], s, progress=False, embed=not args.no_embed)
    reingest = time.perf_counter() - t1
    achieved = tokens * FLOP_PER_TOKEN / report.embed_seconds / 1e9 if report.embed_seconds and tokens else 0.0
    out = {
        "cpu": info.summary(s.embed_dtype),
        "files": len(report.files), "failed": len(report.failed), "chunks": n_chunks,
        "wall_s": round(wall, 1), "keyword_ready_s": round(report.parse_seconds, 1),
        "embed_s": round(report.embed_seconds, 1), "embedded": report.embedded,
        "chunks_per_s": round(n_chunks / wall, 1) if wall else 0,
        "embed_tokens": tokens,
        "embed_tokens_per_s": round(tokens / report.embed_seconds, 1) if report.embed_seconds else 0,
        "matmul_peak_gflops": round(peak, 1), "embed_gflops": round(achieved, 1),
        "fraction_of_peak": round(achieved / peak, 3) if peak else 0,
        "reingest_unchanged_s": round(reingest, 1), "reingest_unchanged": again.count("unchanged"),
        "peak_rss_mb": round(rss, 0), "index_mb": round(idx.stats()["size_bytes"] / 1e6, 1),
    }
    if args.json:
        print(json.dumps(out))
        return
    for k, v in out.items():
        print(f"{k:>22}: {v}")


if __name__ == "__main__":
    main()
