"""The vector recipe: how a chunk's vector is made from its texts."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .base import Embedder

# How a chunk's vector is made from its texts; recorded in the manifest so that an index
# built with another recipe is re-embedded by the next ingest.
VECTOR_RECIPE = "passage+body/1"


def chunk_vectors(embedder: Embedder, passages: Sequence[str], bodies: Sequence[str],
                  progress: Callable[[float], None] | None = None) -> np.ndarray:
    """One vector per chunk: the normalised mean of two views, the passage (document name,
    heading path and text) and the bare text.

    The context view finds the right document, the bare view tells apart the articles of
    one document, whose passages share most of their context tokens. On 1,235 STARD
    questions over the laws corpus the mean scores better than either view alone
    (eval/README.md).
    """
    if len(passages) != len(bodies):
        raise ValueError("one body per passage")
    n = len(passages)
    if n == 0:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    # Bodies equal to their passage (no context) are embedded once. One call, so that the
    # embedder packs both views into length-sorted batches.
    other = [i for i in range(n) if bodies[i] != passages[i]]
    total = n + len(other)
    tick = (lambda k: progress(k * n / total)) if progress is not None else None
    out = embedder.embed_passages([*passages, *(bodies[i] for i in other)], progress=tick)
    vecs = out[:n].astype(np.float32, copy=True)
    vecs[other] += out[n:]
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs / np.maximum(norms, 1e-12)
