"""Train the learned scorer (:mod:`assistant.learned_scorer`) on question → clause pairs.

    python -m assistant.train_scorer --index IDX --questions ../shared/eval/stard-train.jsonl \\
        --out assistant/adapters/scorer.json --seed 0

Each question of the *train* split (the validation split of
:mod:`assistant.evaluation.splits` is never read) is searched once; the head of its fused
ranking becomes one LambdaRank group: gold clauses are relevant, chunks holding the same
text as a gold chunk (another version of one law) are left out, the rest are not relevant.
``--dev`` holds out an inner split of the train questions and reports on it (for choosing
settings); without it the model is fitted on all train questions. The command prints
R@10 / R@100 / MRR@10 of the fused ranking before and after on the held part, and
writes nothing when the scorer is worse there.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .learned_scorer import FEATURES, HEAD, features, save_scorer
from .metrics import Pair, RankedItem, dedupe_clauses, mean_metrics, question_metrics

DEV_SALT = "scorer-dev:"
DEPTH = 100
KEYS = ("recall_at_10", "recall_at_100", "mrr_at_10")


@dataclass
class Group:
    """One question's head of the fused ranking, as features and labels."""

    qid: str
    x: np.ndarray  # (n, len(FEATURES))
    ids: list[str]
    pairs: list[Pair]
    lengths: list[int]
    label: np.ndarray  # 1 = a gold clause
    keep: np.ndarray  # False: same text as a gold chunk (not a negative)
    gold: set[Pair]


def build_groups(retriever: object, questions: Sequence[object], head: int = HEAD,
                 progress: bool = True) -> list[Group]:
    """Search each question once (hybrid, no learned step) and turn its head into a group."""
    from .adapter_training import _text_key, align_gold
    from .records import Filters

    r = retriever
    docs = list(r.index.documents())  # type: ignore[attr-defined]
    out: list[Group] = []
    t0 = time.perf_counter()
    for n, q in enumerate(questions, 1):
        gold = set(align_gold(sorted(q.gold_set), docs))  # type: ignore[attr-defined]
        ranked, scope = r.fused(q.question, Filters(), "hybrid", DEPTH)  # type: ignore[attr-defined]
        ranked = ranked[:head]
        chunks = r.index.get_chunks([c.id for c in ranked])  # type: ignore[attr-defined]
        x = features(ranked, chunks, r.query_terms(q.question, scope),  # type: ignore[attr-defined]
                     r.priors(), r.versions(), scope.named)  # type: ignore[attr-defined]
        pairs = [(c.doc or "", c.clause) for c in ranked]
        label = np.array([p in gold for p in pairs], dtype=np.int32)
        keys = [_text_key(chunks[c.id].text) if c.id in chunks else "" for c in ranked]
        gold_keys = {k for k, lab in zip(keys, label, strict=True) if lab}
        keep = np.array([bool(lab) or k not in gold_keys
                         for k, lab in zip(keys, label, strict=True)])
        lengths = [len(chunks[c.id].text) if c.id in chunks else 0 for c in ranked]
        out.append(Group(q.id, x, [c.id for c in ranked], pairs, lengths, label, keep, gold))  # type: ignore[attr-defined]
        if progress and (n % 50 == 0 or n == len(questions)):
            el = time.perf_counter() - t0
            print(f"search {n}/{len(questions)} elapsed {el:.0f}s "
                  f"ETA {el / n * (len(questions) - n):.0f}s", file=sys.stderr, flush=True)
    return out


def evaluate(groups: Sequence[Group], predict: object = None) -> dict[str, float]:
    """Article-level metrics of the heads, as ranked (``predict`` None) or re-ranked by
    ``predict(x)`` (ties by fused order): the eval suite's scoring at depth 100."""
    rows = []
    for g in groups:
        if not g.gold:
            continue
        order = list(range(len(g.ids)))
        if predict is not None and len(order) > 1:
            s = predict(g.x)  # type: ignore[operator]
            order.sort(key=lambda i: (-s[i], i))
        n = len(order)
        items = [RankedItem(g.ids[i], float(n - r), frozenset({g.pairs[i]}), g.lengths[i])
                 for r, i in enumerate(order[:DEPTH])]
        m = question_metrics(dedupe_clauses(items), g.gold)
        rows.append({k: m[k] for k in KEYS})
    return mean_metrics(rows)


def fit(groups: Sequence[Group], seed: int = 0, trees: int = 200, leaves: int = 15,
        lr: float = 0.05, min_data: int = 200) -> object:
    """A LambdaRank booster over the groups that have a gold chunk in their head."""
    import lightgbm as lgb

    xs, ys, sizes = [], [], []
    for g in groups:
        if not g.label.any():
            continue  # nothing to learn from
        xs.append(g.x[g.keep])
        ys.append(g.label[g.keep])
        sizes.append(int(g.keep.sum()))
    data = lgb.Dataset(np.vstack(xs), np.concatenate(ys), group=sizes,
                       feature_name=list(FEATURES), free_raw_data=False)
    params = {"objective": "lambdarank", "metric": "ndcg", "ndcg_eval_at": [10],
              "learning_rate": lr, "num_leaves": leaves, "min_data_in_leaf": min_data,
              "feature_fraction": 0.9, "bagging_fraction": 0.9, "bagging_freq": 1,
              "lambdarank_truncation_level": 30, "seed": seed, "deterministic": True,
              "num_threads": 2, "verbose": -1}
    return lgb.train(params, data, num_boost_round=trees)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m assistant.train_scorer",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True, help="index to train against")
    ap.add_argument("--questions", type=Path, required=True,
                    help="questions with gold clauses (eval dataset format)")
    ap.add_argument("--out", type=Path, default=None, help="the .json to write")
    ap.add_argument("--dev", action="store_true",
                    help="fit on 80%% of the train split, report on the other 20%%")
    ap.add_argument("--cache", type=Path, default=None,
                    help="keep the searched groups here (re-used when present)")
    ap.add_argument("--query-adapter", default="none",
                    help="the query adapter the scorer will run behind (default, none, a path)")
    ap.add_argument("--trees", type=int, default=200)
    ap.add_argument("--leaves", type=int, default=15)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--min-data", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from .config import load_settings
    from .embed import get_embedder, warm
    from .evaluation.datasets import load_questions
    from .evaluation.splits import is_validation, select
    from .index import Index
    from .retrieve import Retriever

    settings = load_settings(index=args.index, scorer="none", query_adapter=args.query_adapter)
    emb = get_embedder(settings)
    qs = select(load_questions(args.questions), "train")
    if args.cache and args.cache.exists():
        groups = [Group(**g) for g in pickle.loads(args.cache.read_bytes())]
    else:
        warm(emb)
        idx = Index.open(settings, embedder_id=emb.id)
        groups = build_groups(Retriever(idx, settings, embedder=emb), qs)
        if args.cache:
            args.cache.write_bytes(pickle.dumps([vars(g) for g in groups]))
    if args.dev:
        fit_on = [g for g in groups if not is_validation(g.qid, DEV_SALT)]
        held = [g for g in groups if is_validation(g.qid, DEV_SALT)]
    else:  # the model for use: every train question; held = its own 20 % check
        fit_on, held = groups, [g for g in groups if is_validation(g.qid, DEV_SALT)]
    t0 = time.perf_counter()
    booster = fit(fit_on, args.seed, args.trees, args.leaves, args.lr, args.min_data)
    fit_s = time.perf_counter() - t0
    before = evaluate(held)
    after = evaluate(held, lambda x: booster.predict(x, num_threads=1))  # type: ignore[attr-defined]
    what = "dev (held out)" if args.dev else "train (seen in fitting)"
    print(f"{len(fit_on)} groups fitted in {fit_s:.1f}s; {len(held)} {what}:")
    for name, m in (("before", before), ("after", after)):
        print(f"  {name}: " + " / ".join(f"{k} {m.get(k, 0):.4f}" for k in KEYS))
    if args.out is None:
        return 0
    if args.dev and sum(after.values()) < sum(before.values()):
        print("not written: the scorer is worse on the held-out questions", file=sys.stderr)
        return 1
    text = booster.model_to_string()  # type: ignore[attr-defined]
    h = hashlib.sha256()
    for q in qs:
        h.update(json.dumps([q.id, q.question], ensure_ascii=False).encode("utf-8"))
    save_scorer(args.out, text, {
        "embedder": emb.id, "head": HEAD, "trees": args.trees, "leaves": args.leaves,
        "lr": args.lr, "min_data": args.min_data, "seed": args.seed,
        "query_adapter": args.query_adapter,
        "questions": len(qs), "questions_hash": h.hexdigest()[:16],
        "split": "train split of assistant.evaluation.splits (validation never read)",
        "fit_s": round(fit_s, 1), "fusion": settings.fusion,
        "check": {"held": len(held), "dev": args.dev, "before": before, "after": after},
    })
    print(f"written: {args.out} ({args.out.stat().st_size / 1e3:.0f} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
