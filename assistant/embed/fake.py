"""The test embedder: hashed character n-grams, no model, no torch."""

from __future__ import annotations

import zlib

import numpy as np

from .base import Progress


class FakeEmbedder:
    """Deterministic hashed character 1–3-gram features; no model, no torch.

    Signed feature hashing (crc32 picks bucket and sign), so texts that share characters
    are close and unrelated texts are near-orthogonal — enough to test retrieval logic.
    """

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.id = f"fake-ngram-{dim}"

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        s = "".join(text.split())  # whitespace carries no meaning for Chinese text
        for n in (1, 2, 3):
            for i in range(len(s) - n + 1):
                h = zlib.crc32(s[i : i + n].encode("utf-8"))
                v[h % self.dim] += 1.0 if (h >> 31) & 1 else -1.0
        norm = float(np.linalg.norm(v))
        return v / norm if norm > 0 else v

    def embed_passages(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i] = self._vector(t)
        if progress is not None and texts:
            progress(len(texts))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_passages(texts)

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(t) for t in texts]
