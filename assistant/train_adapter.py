"""Train the shipped query adapter: ``python -m assistant.train_adapter``.

From ``../shared`` (the repository next to it), with the index of the laws the STARD
questions cite::

    python -m assistant.train_adapter --index IDX \\
        --questions ../shared/eval/stard-train.jsonl --out assistant/adapters/default.npz

Only the train split of the questions is used (``assistant.evaluation.splits``; 978 of
1,235); corpus-mined pairs (``--mined``, from ``assistant.mine_pairs``) are added. The
hybrid on the validation split, with and without the adapter, is measured and recorded in
the artefact. Fixed seed: the same index and files give the same artefact.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .adapter_training import FitConfig, TrainingPair, align_pairs, pairs_hash, read_pairs
from .config import load_settings
from .evaluation.splits import SALT, VALIDATION_PERCENT, is_validation


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m assistant.train_adapter",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True, help="index to train against")
    ap.add_argument("--questions", type=Path, required=True,
                    help="question set (eval format); its train split is used")
    ap.add_argument("--mined", type=Path, action="append", default=[],
                    help="extra pairs (eval format), e.g. mined from the corpus; repeatable")
    ap.add_argument("--out", type=Path, required=True, help="the .npz to write")
    ap.add_argument("--method", default="linear", help="linear, lowrank, mlp or memory")
    ap.add_argument("--epochs", type=int, default=FitConfig.epochs)
    ap.add_argument("--tau", type=float, default=FitConfig.tau)
    ap.add_argument("--lr", type=float, default=FitConfig.lr)
    ap.add_argument("--weight-decay", type=float, default=FitConfig.weight_decay)
    ap.add_argument("--hard-weight", type=float, default=FitConfig.hard_weight)
    ap.add_argument("--mined-weight", type=float, default=0.3,
                    help="weight of a mined pair against a question")
    ap.add_argument("--seed", type=int, default=0)
    return ap


def _portable(arg: str) -> str:
    """An argument as recorded in the artefact: no machine-specific absolute paths."""
    return f"<{Path(arg).name}>" if arg.startswith("/") else arg


def main(argv: list[str] | None = None) -> int:
    from .embed import get_embedder, warm
    from .index import Index
    from .progress import make_progress
    from .query_adapter import save_adapter
    from .tune import run_hybrid, train_adapter, with_adapter

    a = _parser().parse_args(argv)
    settings = load_settings(index=a.index, query_adapter="none")
    questions = read_pairs(a.questions)
    train = [p for p in questions if not is_validation(p.qid)]
    valid = [p for p in questions if is_validation(p.qid)]
    mined: list[TrainingPair] = []
    for f in a.mined:
        for p in read_pairs(f, source="mined"):
            p.weight *= a.mined_weight
            mined.append(p)
    cfg = FitConfig(method=a.method, epochs=a.epochs, tau=a.tau, lr=a.lr,
                    weight_decay=a.weight_decay, hard_weight=a.hard_weight, seed=a.seed)
    base = get_embedder(settings)
    warm(base, batch=True)  # every training question, embedded in batches
    index = Index.open(settings, embedder_id=base.id)
    docs = list(index.documents())
    train, valid, mined = (align_pairs(x, docs) for x in (train, valid, mined))
    t0 = time.perf_counter()
    with make_progress("/s") as bar:
        trained = train_adapter(train + mined, index, settings, base, cfg, None, bar)
    train_s = round(time.perf_counter() - t0, 1)
    without, _ = run_hybrid(index, settings, base, valid)
    with_, _ = run_hybrid(index, settings, with_adapter(base, trained.adapter), valid)
    trained.adapter.meta.update(
        validation=with_, validation_without=without, validation_questions=len(valid),
        split=f"sha256('{SALT}' + id) % 100 < {VALIDATION_PERCENT}",
        questions_sha256=pairs_hash(train), mined_sha256=pairs_hash(mined),
        train_questions=len(train), mined_pairs=len(mined), trained_s=train_s,
        command="python -m assistant.train_adapter " + " ".join(
            _portable(x) for x in (argv if argv is not None else sys.argv[1:])))
    path = save_adapter(trained.adapter, a.out)
    print(json.dumps({"out": str(path), "bytes": path.stat().st_size, "trained_s": train_s,
                      "validation_without": without, "validation_with": with_},
                     ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
