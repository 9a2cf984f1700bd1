"""Benchmark: which vector recipe and dtype pay, by STARD recall per minute of embedding.

    python eval/bench/bench_recipe.py --base DIR --work DIR [--recipes two-view,passage,...]
                                      [--dtypes float32,int8] [--split validation]

``--base`` is an index parsed but not embedded (``assistant --index DIR ingest --no-embed
FOLDER``, e.g. the ~140 laws the STARD questions cite). For each recipe × dtype, in one run,
a copy of it is embedded (process CPU and wall time, passages/s) and searched with the
validation split's questions (article-level R@10, R@100, MRR@10; hybrid and dense), so the
ratios hold against the same machine load. Recipes:

  two-view        the shipped recipe: mean of the passage (document name, heading path,
                  text) and the bare text (embed.VECTOR_RECIPE)
  passage         the passage view alone (half the embedding work)
  short-body:N    the bare view only for chunks whose text has at most N characters

A recipe may carry its dtype: ``two-view@int8``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from common import ROOT, STARD

KEYS = ("recall_at_10", "recall_at_100", "mrr_at_10")


def recipe_fn(name: str):  # type: ignore[no-untyped-def]
    """A chunk_vectors replacement for the named recipe."""
    import numpy as np

    from assistant.embed import recipe

    if name == "two-view":
        return recipe.chunk_vectors
    limit = int(name.split(":", 1)[1]) if name.startswith("short-body:") else 0
    if name != "passage" and not limit:
        raise SystemExit(f"unknown recipe {name!r}")

    def vectors(embedder, passages, bodies, progress=None):  # type: ignore[no-untyped-def]
        short = [i for i, b in enumerate(bodies) if limit and len(b) <= limit]
        if not short:
            out = embedder.embed_passages(list(passages), progress=progress)
            return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        chosen = set(short)  # a body equal to its passage is embedded once (one view)
        keep = [b if i in chosen else p for i, (p, b) in enumerate(zip(passages, bodies, strict=True))]
        return recipe.chunk_vectors(embedder, passages, keep, progress=progress)

    return vectors


def run(base: Path, work: Path, rcp: str, dtype: str, qs: list) -> dict:  # type: ignore[type-arg]
    import assistant.embed as embed_pkg
    from assistant.adapter_training import align_gold
    from assistant.config import load_settings
    from assistant.embed import get_embedder, warm
    from assistant.evaluation.scoring import RetrieverSystem, run_system, summarize_system
    from assistant.index import Index
    from assistant.ingest import embed_pending
    from assistant.retrieve import Retriever

    target = work / f"{rcp.replace(':', '-')}-{dtype}"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(base, target)
    s = load_settings(index=target, embed_dtype=dtype, query_adapter="none")
    emb = get_embedder(s)
    warm(emb)
    idx = Index.open(s, embedder_id=emb.id)
    real = embed_pkg.chunk_vectors
    embed_pkg.chunk_vectors = recipe_fn(rcp)
    try:
        cpu0, t0 = time.process_time(), time.perf_counter()
        n = embed_pending(idx, emb, s)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    finally:
        embed_pkg.chunk_vectors = real
    idx = Index.open(s, embedder_id=emb.id)  # reopened: the one that embedded knew no vectors
    docs = list(idx.documents())
    for q in qs:
        q.gold = align_gold(q.gold, docs)
    r = Retriever(idx, s, embedder=emb)
    row: dict[str, object] = {"recipe": rcp, "dtype": dtype, "chunks": n,
                              "embed_wall_s": round(wall, 1), "embed_cpu_s": round(cpu, 1),
                              "chunks_per_s": round(n / wall, 1)}
    for mode in ("hybrid", "dense"):
        summary = summarize_system(run_system(RetrieverSystem(r, mode), qs))
        row[mode] = {k: round(float(summary[k]), 3) for k in KEYS}
    row["hybrid_r10_per_cpu_min"] = round(row["hybrid"]["recall_at_10"] / (cpu / 60), 4)  # type: ignore[index]
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, required=True, help="an index ingested with --no-embed")
    ap.add_argument("--work", type=Path, required=True, help="where the embedded copies go")
    ap.add_argument("--recipes", default="two-view,passage,short-body:120,two-view@int8",
                    help="comma-separated; recipe@dtype overrides --dtypes for that one")
    ap.add_argument("--dtypes", default="float32")
    ap.add_argument("--split", default="validation")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from assistant.embed.cpu import cpu_info
    from assistant.evaluation.datasets import load_questions
    from assistant.evaluation.splits import select

    if not STARD.exists():
        raise SystemExit(f"{STARD} not found: this benchmark needs ../shared")
    qs = select(load_questions(STARD), args.split)
    rows = []
    print(f"{len(qs)} questions ({args.split}); cpu: {cpu_info().summary()}", flush=True)
    runs = [tuple(r.split("@", 1)) if "@" in r else (r, d)
            for d in args.dtypes.split(",") for r in args.recipes.split(",")]
    for rcp, dtype in dict.fromkeys(runs):  # "passage@int8": one recipe with its own dtype
        row = run(args.base, args.work, rcp, dtype, qs)
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    base = rows[0]
    print("\n| recipe | dtype | embed CPU s (ratio) | wall s | hybrid R@10 / R@100 / MRR@10 | dense R@10 / R@100 / MRR@10 |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        h, d = r["hybrid"], r["dense"]
        print(f"| {r['recipe']} | {r['dtype']} | {r['embed_cpu_s']} ({r['embed_cpu_s'] / base['embed_cpu_s']:.2f}×) "
              f"| {r['embed_wall_s']} | {h['recall_at_10']:.3f} / {h['recall_at_100']:.3f} / {h['mrr_at_10']:.3f} "
              f"| {d['recall_at_10']:.3f} / {d['recall_at_100']:.3f} / {d['mrr_at_10']:.3f} |")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()
