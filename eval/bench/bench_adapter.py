"""Benchmark: what the learned query side brings, on the fixed validation split.

One run, one index, the same questions: the hybrid with the learned scorer over fused
candidates (``--scorer``), with the query adapter, with both, without either, BM25 alone,
dense alone and dense with the adapter; article-level R@10, R@100, MRR@10 and warm
latency p50/p95 per system (the eval suite's scoring).

    python eval/bench/bench_adapter.py --index DIR [--split validation] [--adapter default]
        [--scorer default] [--systems hybrid,hybrid+scorer]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from common import ROOT, STARD

KEYS = ("recall_at_10", "recall_at_100", "mrr_at_10", "latency_ms_p50", "latency_ms_p95")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--questions", type=Path, default=STARD)
    ap.add_argument("--split", default="validation", help="validation, train or all")
    ap.add_argument("--adapter", default="default", help="default or an .npz path")
    ap.add_argument("--scorer", default="default", help="default, none or a .json path")
    ap.add_argument("--systems", default="", help="comma-separated subset of the systems")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from assistant.adapter_training import align_gold
    from assistant.config import load_settings
    from assistant.embed import get_embedder, warm
    from assistant.evaluation.datasets import load_questions
    from assistant.evaluation.scoring import RetrieverSystem, run_system, summarize_system
    from assistant.evaluation.splits import select
    from assistant.index import Index
    from assistant.query_adapter import AdaptedEmbedder, resolve_adapter
    from assistant.retrieve import Retriever

    s = load_settings(index=args.index, query_adapter="none", scorer="none")
    base = get_embedder(s)
    warm(base)  # as the eval, UI and batch do
    adapter = resolve_adapter(args.adapter, base.id, base.dim)
    if adapter is None:
        raise SystemExit(f"no adapter '{args.adapter}' for embedder {base.id}")
    idx = Index.open(s, embedder_id=base.id)
    qs = select(load_questions(args.questions), args.split)[: args.limit]
    docs = list(idx.documents())
    for q in qs:  # an index ingested from another root names documents by file name
        q.gold = align_gold(q.gold, docs)
    plain = Retriever(idx, s, embedder=base)
    tuned = Retriever(idx, s, embedder=AdaptedEmbedder(base, adapter))
    scored = Retriever(idx, s.with_overrides(scorer=args.scorer), embedder=base)
    both = Retriever(idx, s.with_overrides(scorer=args.scorer),
                     embedder=AdaptedEmbedder(base, adapter))
    systems = {"hybrid+scorer": RetrieverSystem(scored, "hybrid"),
               "hybrid+adapter+scorer": RetrieverSystem(both, "hybrid"),
               "hybrid+adapter": RetrieverSystem(tuned, "hybrid"),
               "hybrid": RetrieverSystem(plain, "hybrid"),
               "bm25": RetrieverSystem(plain, "bm25"),
               "dense": RetrieverSystem(plain, "dense"),
               "dense+adapter": RetrieverSystem(tuned, "dense")}
    if args.systems:
        keep = args.systems.split(",")
        systems = {k: v for k, v in systems.items() if k in keep}
    if args.scorer == "none":
        systems = {k: v for k, v in systems.items() if "scorer" not in k}
    rows = {}
    t0 = time.perf_counter()
    for name, system in systems.items():
        summary = summarize_system(run_system(system, qs))
        rows[name] = {k: summary.get(k) for k in KEYS}
    meta = {"index": args.index.name, "chunks": idx.count(), "split": args.split,
            "questions": len(qs), "adapter": adapter.meta.get("path"),
            "method": adapter.method, "scorer": args.scorer, "wall_s": round(time.perf_counter() - t0, 1)}
    print(f"{len(qs)} questions ({args.split}), index {args.index.name} "
          f"({meta['chunks']} chunks), adapter {adapter.method}, scorer {args.scorer}")
    print("| system | R@10 | R@100 | MRR@10 | p50 ms | p95 ms |\n|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | " + " | ".join(
            f"{r[k]:.3f}" if k.startswith(("recall", "mrr")) else f"{r[k]:.0f}"
            for k in KEYS) + " |")
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "systems": rows}, indent=2), "utf-8")


if __name__ == "__main__":
    main()
