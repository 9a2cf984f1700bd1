"""Benchmark: which vector recipe and dtype pay, by STARD recall per minute of embedding.

    python eval/bench/bench_recipe.py --base DIR --work DIR [--recipes passage,short-body:120]
                                      [--dtypes float32,int8] [--split validation]

``--base`` is an index parsed but not embedded (``assistant --index DIR ingest --no-embed
FOLDER``, e.g. the laws the STARD questions cite: ``eval/bench/stard_subset.py``). For each
dtype, in one run, a copy of it is embedded with the shipped two-view recipe (process CPU
and wall time, passages/s: measured), keeping both views of every chunk; the other
recipes are composed from those views (their cost: that run's time × their share of its
tokens). Each copy is searched with the validation split's questions (article-level R@10,
R@100, MRR@10; hybrid and dense). With two dtypes it also prints the cosine of each
dtype's vectors to the first's. Recipes:

  two-view        the shipped recipe: mean of the passage (document name, heading path,
                  text) and the bare text (embed.VECTOR_RECIPE)
  passage         the passage view alone (half the embedding work)
  short-body:N    the bare view only for chunks whose text has at most N characters
  span            both views from one pass of the passage (embed.chunk_vectors), its own
                  timed run
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from common import ROOT, STARD

KEYS = ("recall_at_10", "recall_at_100", "mrr_at_10")
MEASURED = ("span",)  # recipes embedded and timed in their own run (not composable)


class Views:
    """Both views of every chunk, embedded once per dtype (the shipped two-view recipe,
    timed), so that one-view recipes are composed from them without embedding again.
    A recipe's cost is that run's CPU time × the share of the tokens it would embed."""

    def __init__(self) -> None:
        self.vec: dict[tuple[str, str], tuple[object, object]] = {}
        self.tokens: dict[tuple[str, str], tuple[int, int]] = {}

    def capture(self, embedder, passages, bodies, progress=None, recipe=None):  # type: ignore[no-untyped-def]
        """The two-view recipe, keeping each view's vector and token count."""
        n = len(passages)
        other = [i for i in range(n) if bodies[i] != passages[i]]
        out = embedder.embed_passages([*passages, *(bodies[i] for i in other)],
                                      progress=progress)
        body_row = dict(zip(other, range(n, n + len(other)), strict=True))
        counts = embedder.count_tokens([*passages, *(bodies[i] for i in other)])
        for i in range(n):
            j = body_row.get(i)
            key = (passages[i], bodies[i])
            self.vec[key] = (out[i], out[j] if j is not None else None)
            self.tokens[key] = (counts[i], counts[j] if j is not None else 0)
        vecs = out[:n].astype(np.float32, copy=True)
        vecs[other] += out[n:]
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)

    def compose(self, name: str):  # type: ignore[no-untyped-def]
        """A chunk_vectors replacement that builds the named recipe from the kept views."""
        limit = int(name.split(":", 1)[1]) if name.startswith("short-body:") else 0
        if name != "passage" and not limit:
            raise SystemExit(f"unknown recipe {name!r} (two-view, passage, short-body:N)")

        def vectors(embedder, passages, bodies, progress=None, recipe=None):  # type: ignore[no-untyped-def]
            rows = []
            for p, b in zip(passages, bodies, strict=True):
                pv, bv = self.vec[(p, b)]
                v = pv if bv is None or not (limit and len(b) <= limit) else pv + bv
                rows.append(np.asarray(v, dtype=np.float32))
            out = np.stack(rows)
            return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

        return vectors

    def token_share(self, name: str) -> float:
        """Tokens the named recipe embeds / tokens the two-view recipe embeds."""
        limit = int(name.split(":", 1)[1]) if name.startswith("short-body:") else 0
        total = sum(p + b for p, b in self.tokens.values())
        if name == "two-view":
            return 1.0
        used = sum(p + (b if limit and len(k[1]) <= limit else 0)
                   for k, (p, b) in self.tokens.items())
        return used / max(total, 1)


def cosines(a: Views, b: Views) -> np.ndarray:
    """Cosine between the two runs' vectors of every view both hold."""
    out = []
    for key, views in a.vec.items():
        for x, y in zip(views, b.vec.get(key, (None, None)), strict=True):
            if x is not None and y is not None:
                x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
                out.append(float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y))))
    return np.array(out)


def run(base: Path, work: Path, rcp: str, dtype: str, qs: list, views: Views,  # type: ignore[type-arg]
        timed: dict[str, float]) -> dict:  # type: ignore[type-arg]
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
    measured = rcp in ("two-view", *MEASURED)
    s = load_settings(index=target, embed_dtype=dtype, query_adapter="none",
                      embed_recipe=rcp if rcp in MEASURED else "two-view")
    emb = get_embedder(s)
    warm(emb)
    idx = Index.open(s, embedder_id=emb.id)
    real = embed_pkg.chunk_vectors
    if rcp == "two-view":
        embed_pkg.chunk_vectors = views.capture
    elif not measured:
        embed_pkg.chunk_vectors = views.compose(rcp)
    try:
        cpu0, t0 = time.process_time(), time.perf_counter()
        n = embed_pending(idx, emb, s)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    finally:
        embed_pkg.chunk_vectors = real
    if rcp == "two-view":
        timed.update(cpu=cpu, wall=wall)
    share = 1.0 if measured else views.token_share(rcp)
    idx = Index.open(s, embedder_id=emb.id)  # reopened: the one that embedded knew no vectors
    docs = list(idx.documents())
    for q in qs:
        q.gold = align_gold(q.gold, docs)
    r = Retriever(idx, s, embedder=emb)
    row: dict[str, object] = {
        "recipe": rcp, "dtype": dtype, "chunks": n, "token_share": round(share, 3),
        # measured for two-view and span; the others: two-view's time × their token share
        "embed_cpu_s": round(cpu if measured else timed["cpu"] * share, 1),
        "embed_wall_s": round(wall if measured else timed["wall"] * share, 1),
        "measured": measured}
    row["chunks_per_s"] = round(n / max(float(row["embed_wall_s"]), 1e-9), 1)  # type: ignore[arg-type]
    for mode in ("hybrid", "dense"):
        summary = summarize_system(run_system(RetrieverSystem(r, mode), qs))
        row[mode] = {k: round(float(summary[k]), 4) for k in KEYS}
    row["hybrid_r10_per_cpu_min"] = round(row["hybrid"]["recall_at_10"] / (float(row["embed_cpu_s"]) / 60), 4)  # type: ignore[index,arg-type]
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, required=True, help="an index ingested with --no-embed")
    ap.add_argument("--work", type=Path, required=True, help="where the embedded copies go")
    ap.add_argument("--recipes", default="passage,short-body:60,short-body:120",
                    help="comma-separated, besides two-view (always run, and timed)")
    ap.add_argument("--dtypes", default="float32,int8")
    ap.add_argument("--keep", action="store_true", help="keep the embedded copies")
    ap.add_argument("--skip-two-view", action="store_true",
                    help="run only the recipes embedded on their own (span), not two-view")
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
    recipes = [r for r in args.recipes.split(",") if r and r != "two-view"]
    kept: list[Views] = []
    for dtype in args.dtypes.split(","):
        # two-view first: its run embeds both views, the others are composed from them
        views, timed = Views(), {}
        kept.append(views)
        for rcp in ["two-view", *recipes]:
            if args.skip_two_view and rcp not in MEASURED:
                continue
            row = run(args.base, args.work, rcp, dtype, qs, views, timed)
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
        if not args.keep:
            for rcp in ["two-view", *recipes]:
                shutil.rmtree(args.work / f"{rcp.replace(':', '-')}-{dtype}", ignore_errors=True)
    for other, dtype in zip(kept[1:], args.dtypes.split(",")[1:], strict=True):
        cos = cosines(kept[0], other)
        if not len(cos):
            continue
        print(f"cosine of {dtype} vectors to {args.dtypes.split(',')[0]} (both views, "
              f"{len(cos)}): min {cos.min():.4f}, p1 {float(np.percentile(cos, 1)):.4f}, "
              f"mean {cos.mean():.4f}")
    base = rows[0]
    print("\n| recipe | dtype | embed CPU s (ratio) | wall s | hybrid R@10 / R@100 / MRR@10 | dense R@10 / R@100 / MRR@10 |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        h, d = r["hybrid"], r["dense"]
        cost = "" if r["measured"] else " (modelled)"
        print(f"| {r['recipe']} | {r['dtype']} | {r['embed_cpu_s']}{cost} ({r['embed_cpu_s'] / base['embed_cpu_s']:.2f}×) "
              f"| {r['embed_wall_s']} | {h['recall_at_10']:.3f} / {h['recall_at_100']:.3f} / {h['mrr_at_10']:.3f} "
              f"| {d['recall_at_10']:.3f} / {d['recall_at_100']:.3f} / {d['mrr_at_10']:.3f} |")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()
