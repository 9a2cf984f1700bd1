"""Rerank: an optional cross-encoder re-scores the head of the fused ranking.

None ships: no Chinese cross-encoder's weights can be installed from PyPI, and nothing is
downloaded at run time. A user who has one sets ``ASSISTANT_RERANKER`` to a
sentence-transformers ``CrossEncoder`` folder (or a model name already in the Hugging Face
cache, e.g. ``BAAI/bge-reranker-v2-m3``) and ``ASSISTANT_RERANK_DEPTH`` to how many fused
hits it re-scores; :func:`rerank_head` decides the order it yields.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol, runtime_checkable

from .config import Settings
from .errors import RerankerError
from .fusion import Candidate


@runtime_checkable
class Reranker(Protocol):
    id: str

    def score(self, query: str, passages: list[str]) -> list[float]:
        """One relevance score per passage, higher is better (any scale)."""
        ...


class CrossEncoderReranker:
    """A sentence-transformers ``CrossEncoder`` on CPU, loaded on first use."""

    def __init__(self, name_or_path: str, batch_size: int = 16) -> None:
        self.id = str(name_or_path)
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> CrossEncoderReranker:
        with self._lock:
            if self._model is None:
                from .embed import load_st_model

                self._model = load_st_model(self.id, cross_encoder=True, error=RerankerError)
        return self

    def score(self, query: str, passages: list[str]) -> list[float]:
        if not passages:
            return []
        model = self.load()._model
        try:
            out = model.predict([(query, p) for p in passages], batch_size=self.batch_size,
                                show_progress_bar=False, convert_to_numpy=True)
        except Exception as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise RerankerError(f"reranker {self.id!r} failed to score: {first}") from None
        out = out.reshape(len(passages), -1)
        if out.shape[1] != 1:  # e.g. an NLI model: which label means "relevant" is unknown
            raise RerankerError(
                f"reranker {self.id!r} gives {out.shape[1]} scores per pair; use a cross-encoder "
                "with one relevance score (num_labels=1), such as a bge-reranker")
        return [float(x) for x in out[:, 0]]


_CACHE: dict[str, Reranker] = {}
_CACHE_LOCK = threading.Lock()


def get_reranker(settings: Settings) -> Reranker | None:
    """The reranker ``settings.reranker`` names (one per process), or None when unset."""
    name = settings.reranker.strip()
    if not name:
        return None
    with _CACHE_LOCK:
        found = _CACHE.get(name)
        if found is None:
            found = _CACHE[name] = CrossEncoderReranker(name)
    return found


def rerank_head(reranker: Reranker, query: str, ranked: Sequence[Candidate],
                passages: Mapping[str, str], depth: int,
                superseded: Callable[[Candidate], bool]) -> list[Candidate]:
    """Re-score the first ``depth`` candidates on their ``passages`` (the text the embedder
    saw: document name and heading path give the clause its context); a head candidate
    without a passage (removed meanwhile) is left out.

    A superseded version's clause reads like its current one's and scores alike, so within
    the head current versions come first, as in the fused ranking. The head keeps scores
    above the tail's; each candidate's ``evidence.rerank`` has the model's."""
    head = [c for c in ranked[:depth] if c.id in passages]
    tail = list(ranked[depth:])
    scores = reranker.score(query, [passages[c.id] for c in head])
    if len(scores) != len(head):
        raise RerankerError(f"reranker {reranker.id!r} returned {len(scores)} scores "
                            f"for {len(head)} passages")
    head = [replace(c, evidence=replace(c.evidence, rerank=float(sc)))
            for c, sc in zip(head, scores, strict=True)]
    head.sort(key=lambda c: (superseded(c), -(c.evidence.rerank or 0.0), c.id))
    base = max((c.score for c in tail), default=0.0)
    return [replace(c, score=base + len(head) - i) for i, c in enumerate(head)] + tail
