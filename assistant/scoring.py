"""Small pure functions over a retriever's score array (one score per indexed chunk): the
best ``k`` with reproducible ties, and which rows belong to a set of documents."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def top_scores(ids: Sequence[str], scores: np.ndarray, k: int) -> list[tuple[str, float]]:
    """The ``k`` best (id, score) with a positive score, best first; ties by id, also at
    the cut (so runs are reproducible and the candidates do not depend on array order)."""
    n = min(k, len(ids))
    if n <= 0:
        return []
    kth = float(np.partition(scores, len(ids) - n)[len(ids) - n])  # the n-th best score
    pick = np.flatnonzero(scores >= kth) if kth > 0 else np.flatnonzero(scores > 0)
    order = sorted(pick, key=lambda i: (-float(scores[i]), ids[i]))[:n]
    return [(ids[i], float(scores[i])) for i in order]


class DocColumn:
    """The document of each row, coded as small integers so that a document filter is one
    array lookup (a Python test per row costs ~10 ms on 70,000 chunks)."""

    def __init__(self, docs: Sequence[str | None]) -> None:
        self._code: dict[str, int] = {}
        for d in docs:
            if d is not None:
                self._code.setdefault(d, len(self._code))
        unknown = len(self._code)  # a row whose document is unknown: in no filter
        self.codes = np.fromiter((unknown if d is None else self._code[d] for d in docs),
                                 np.int64, len(docs))

    def mask(self, docs: set[str]) -> np.ndarray:
        """True for the rows of these documents."""
        allowed = np.zeros(len(self._code) + 1, dtype=bool)
        allowed[[self._code[d] for d in docs if d in self._code]] = True
        return allowed[self.codes]
