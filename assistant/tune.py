"""Fitting a query adapter to an index from pairs, and ``assistant tune`` for users.

:func:`train_adapter` is shared by the shipped artefact (``python -m
assistant.train_adapter``) and by :func:`tune`: questions are embedded once by the plain
embedder; the hybrid ranking (with the adapter in use now) gives hard negatives; a new
residual part is fitted on top of that adapter's parts (``--query-adapter default``
starts from the shipped one), so a user's artefact keeps what it knows. :func:`tune`
holds out a share of the pairs itself, measures the hybrid before and after on them, and
refuses to write an artefact that is worse.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .adapter_training import (
    FitConfig,
    IndexVectors,
    TrainingPair,
    align_pairs,
    fit,
    make_examples,
    memory_part,
    merge_pairs,
    pairs_hash,
    read_pairs,
)
from .config import Settings
from .errors import AdapterError
from .evaluation.splits import is_validation
from .query_adapter import AdaptedEmbedder, QueryAdapter, resolve_adapter, save_adapter

TUNE_SALT = "tune-split:"
METRICS = ("recall_at_10", "recall_at_100", "mrr_at_10")
HARD_DEPTH = 30  # hybrid hits per training question taken as hard negatives


class CachedQueries:
    """The plain embedder, with query vectors computed once for known texts."""

    def __init__(self, base: Any, texts: Sequence[str], vectors: np.ndarray) -> None:
        self.base, self.id, self.dim = base, base.id, base.dim
        self.vectors = {t: vectors[i] for i, t in enumerate(texts)}

    def embed_query(self, text: str) -> np.ndarray:
        v = self.vectors.get(text)
        return v if v is not None else self.base.embed_query(text)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.embed_query(t) for t in texts])

    def embed_passages(self, texts: list[str], progress: Any = None) -> np.ndarray:
        return self.base.embed_passages(texts, progress=progress)

    def count_tokens(self, texts: list[str]) -> list[int]:
        return self.base.count_tokens(texts)


def with_adapter(embedder: Any, adapter: QueryAdapter | None) -> Any:
    return embedder if adapter is None else AdaptedEmbedder(embedder, adapter)


def embed_questions(embedder: Any, texts: Sequence[str],
                    tick: Callable[[int], None] | None = None) -> np.ndarray:
    """Query vectors of ``texts`` (the embedder's query prompt), in batches of 64."""
    out = [np.zeros((0, embedder.dim), dtype=np.float32)]
    for s in range(0, len(texts), 64):
        out.append(np.asarray(embedder.embed_queries(list(texts[s:s + 64])), dtype=np.float32))
        if tick is not None:
            tick(len(texts[s:s + 64]))
    return np.concatenate(out)


def run_hybrid(index: Any, settings: Settings, embedder: Any, pairs: Sequence[TrainingPair],
               depth: int = 100, tick: Callable[[int], None] | None = None
               ) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Mean R@10, R@100, MRR@10 of the hybrid search (article level, parts of a clause
    counted once) over ``pairs`` with gold, and each pair's ranked chunk ids."""
    from .evaluation.scoring import hits_to_items, score_question
    from .retrieve import Retriever

    retriever = Retriever(index, settings, embedder=embedder)
    sums = dict.fromkeys(METRICS, 0.0)
    n = 0
    ranked: dict[str, list[str]] = {}
    for p in pairs:
        items = hits_to_items(retriever.search(p.question, k=depth))
        ranked[p.qid] = [it.id for it in items]
        m = score_question(items, set(p.gold))
        if m is not None:
            n += 1
            for k in METRICS:
                sums[k] += m[k]
        if tick is not None:
            tick(1)
    return {k: round(v / max(n, 1), 4) for k, v in sums.items()}, ranked


def residual(adapter: QueryAdapter | None, queries: np.ndarray) -> np.ndarray | None:
    """The (unnormalised) residual an adapter adds to each query, or None."""
    if adapter is None:
        return None
    from .query_adapter import METHODS

    r = np.zeros_like(queries)
    for method, w in adapter.parts:
        r += METHODS[method][0](queries, w)
    return r


@dataclass
class Trained:
    """A fitted adapter and what it was fitted on."""

    adapter: QueryAdapter
    n_pairs: int
    seconds: float
    meta: dict[str, Any] = field(default_factory=dict)


def train_adapter(pairs: Sequence[TrainingPair], index: Any, settings: Settings, base: Any,
                  cfg: FitConfig, init: QueryAdapter | None = None,
                  progress: Any = None, iv: IndexVectors | None = None,
                  queries: np.ndarray | None = None) -> Trained:
    """Fit ``cfg.method`` on ``pairs`` against ``index``, on top of ``init``'s parts."""
    t0 = time.perf_counter()
    iv = iv or IndexVectors.from_index(index)
    if not iv.ids:
        raise AdapterError(f"{index.path}: no vectors to train against; run 'assistant ingest'")
    pairs = list(pairs)
    bar = _Bar(progress)
    if queries is None:
        bar.start("embed", len(pairs))
        queries = embed_questions(base, [p.question for p in pairs], bar.tick)
    bar.start("negatives", len(pairs))
    cached = CachedQueries(base, [p.question for p in pairs], queries)
    _, hard = run_hybrid(index, settings, with_adapter(cached, init), pairs, HARD_DEPTH,
                         bar.tick)
    examples, kept = make_examples(pairs, iv, hard)
    if not examples:
        raise AdapterError("none of the pairs' gold clauses is in the index "
                           "(doc = path as listed by 'assistant docs', clause = its label)")
    q = queries[kept]
    parts = list(init.parts) if init is not None else []
    if cfg.method == "memory":
        parts.append(("memory", memory_part(q, examples, iv.matrix, cfg)))
    else:
        bar.start("train", cfg.epochs)
        parts.append((cfg.method, fit(q, examples, iv.matrix, cfg, residual(init, q), bar.tick)))
    bar.stop()
    adapter = QueryAdapter(base.id, base.dim, parts, {
        "seed": cfg.seed, "config": cfg.to_dict(), "pairs": len(examples),
        "pairs_sha256": pairs_hash(pairs), "index_chunks": len(iv.ids),
        "base": (init.meta.get("method") if init is not None else None)})
    return Trained(adapter, len(examples), round(time.perf_counter() - t0, 1))


class _Bar:
    """Stages of one progress display (count, rate, ETA), or nothing."""

    def __init__(self, progress: Any) -> None:
        self.p, self.task = progress, None

    def start(self, what: str, total: int) -> None:
        if self.p is not None:
            self.stop()
            self.task = self.p.add_task(what, total=total)

    def tick(self, n: int) -> None:
        if self.p is not None and self.task is not None:
            self.p.advance(self.task, n)

    def stop(self) -> None:
        if self.p is not None and self.task is not None:
            self.p.update(self.task, visible=False)
        self.task = None


@dataclass
class TuneReport:
    before: dict[str, float]
    after: dict[str, float]
    n_train: int
    n_heldout: int
    seconds: float
    written: Path | None = None

    def better(self) -> bool:
        """Not worse: the sum of R@10, R@100 and MRR@10 on the held-out pairs."""
        return sum(self.after.values()) >= sum(self.before.values())


def split_pairs(pairs: Sequence[TrainingPair], percent: int
                ) -> tuple[list[TrainingPair], list[TrainingPair]]:
    """(train, held out): held out by a hash of the question text, pairs with gold only."""
    held = [p for p in pairs if p.gold and is_validation(p.question, TUNE_SALT, percent)]
    ids = {id(p) for p in held}
    return [p for p in pairs if id(p) not in ids], held


def tune(files: Sequence[Path], settings: Settings, out: Path, cfg: FitConfig,
         heldout_percent: int = 20, progress: bool = True) -> TuneReport:
    """Fit an adapter to the pairs in ``files`` on ``settings.index``; write it to ``out``
    unless it is worse on the pairs held out than the adapter in use now."""
    from .embed import get_embedder, warm
    from .index import Index
    from .progress import make_progress

    pairs = merge_pairs([p for f in files for p in read_pairs(Path(f))])
    base = get_embedder(settings.with_overrides(query_adapter="none"))
    index = Index.open(settings, embedder_id=base.id)
    pairs = align_pairs(pairs, list(index.documents()))
    train, held = split_pairs(pairs, heldout_percent)
    if len(held) < 3 or len(train) < 3:
        raise AdapterError(f"{len(pairs)} pairs with gold: too few to hold out a validation "
                           "share and train on the rest (give at least ~20)")
    current = resolve_adapter(settings.query_adapter, base.id, base.dim)
    warm(base, batch=True)  # every pair's question, embedded in batches
    t0 = time.perf_counter()
    bar_ctx = make_progress("pairs/s") if progress else contextlib.nullcontext(None)
    with bar_ctx as bar:
        b = _Bar(bar)
        b.start("embed", len(pairs))
        vecs = embed_questions(base, [p.question for p in pairs], b.tick)
        at = {id(p): i for i, p in enumerate(pairs)}
        cached = CachedQueries(base, [p.question for p in pairs], vecs)
        b.start("before", len(held))
        before, _ = run_hybrid(index, settings, with_adapter(cached, current), held, tick=b.tick)
        trained = train_adapter(train, index, settings, cached, cfg, current, bar,
                                queries=vecs[[at[id(p)] for p in train]])
        b.start("after", len(held))
        after, _ = run_hybrid(index, settings, with_adapter(cached, trained.adapter), held,
                              tick=b.tick)
        b.stop()
    report = TuneReport(before, after, trained.n_pairs, len(held),
                        round(time.perf_counter() - t0, 1))
    if report.better():
        trained.adapter.meta.update(validation=after, validation_before=before,
                                    heldout_pairs=len(held), trained_s=report.seconds)
        report.written = save_adapter(trained.adapter, out)
    return report
