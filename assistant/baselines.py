"""Baseline systems for the eval: LlamaIndex's default recipe over the same documents.

``llamaindex-default`` = ``SentenceSplitter(chunk_size=1024, chunk_overlap=200)`` over each
document's full text + a ``VectorStoreIndex`` whose embed model is the project's embedder
wrapped as a llama-index ``BaseEmbedding``. Each retrieved chunk is mapped back to the set
of ``(doc, clause)`` it overlaps, so clause-level recall and recall at equal context size can
be scored against the same gold as our clause-level systems. Passage vectors are cached on
disk (keyed by text hash and embedder id): embedding is the cost, the split is cheap.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .metrics import Pair, RankedItem
from .records import Chunk

CHUNK_SIZE = 1024
CHUNK_OVERLAP = 200
BASELINE_VERSION = "1"


@dataclass
class DocText:
    """A document's text rebuilt from its chunks, with the character span of each clause."""

    doc: str
    text: str
    spans: list[tuple[int, int, Pair]]  # [start, end) of each chunk, and its clause

    def clauses_in(self, start: int, end: int) -> frozenset[Pair]:
        return frozenset(p for s, e, p in self.spans if s < end and e > start)


def rebuild_documents(chunks: Iterable[Chunk]) -> list[DocText]:
    """Concatenate each document's chunks in order ("\\n" between them): the document's full
    text as parsed, with clause offsets (parts of one clause give several spans)."""
    by_doc: dict[str, list[Chunk]] = defaultdict(list)
    for c in chunks:
        by_doc[c.doc].append(c)
    out = []
    for doc in sorted(by_doc):
        parts, spans, pos = [], [], 0
        for c in sorted(by_doc[doc], key=lambda c: (c.ordinal, c.part, c.id)):
            if parts:
                parts.append("\n")
                pos += 1
            parts.append(c.text)
            spans.append((pos, pos + len(c.text), (c.doc, c.clause)))
            pos += len(c.text)
        out.append(DocText(doc, "".join(parts), spans))
    return out


def wrap_embedder(embedder: Any) -> Any:
    """The project's embedder as a llama-index ``BaseEmbedding`` (query/passage prompts kept)."""
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from pydantic import PrivateAttr

    class ProjectEmbedding(BaseEmbedding):
        _emb: Any = PrivateAttr()

        def __init__(self, emb: Any) -> None:
            super().__init__(model_name=str(getattr(emb, "id", "project-embedder")),
                             embed_batch_size=64)
            self._emb = emb

        def _get_query_embedding(self, query: str) -> list[float]:
            return np.asarray(self._emb.embed_query(query), dtype=np.float32).tolist()

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embeddings([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return np.asarray(self._emb.embed_passages(list(texts)), dtype=np.float32).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        async def _aget_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embedding(text)

    return ProjectEmbedding(embedder)


class VectorCache:
    """Passage vectors on disk, keyed by sha1 of the text (one ``vectors.npz``).

    ``save`` merges with what is on disk and replaces the file atomically, so two eval runs
    sharing the cache do not drop each other's vectors."""

    FILE = "vectors.npz"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.vectors: dict[str, np.ndarray] = self._read()

    def _read(self) -> dict[str, np.ndarray]:
        f = self.path / self.FILE
        if not f.exists():
            return {}
        try:
            with np.load(f) as data:
                keys, mat = data["keys"], data["vectors"]
                return {str(k): mat[i] for i, k in enumerate(keys)} if len(keys) == len(mat) else {}
        except (OSError, ValueError, KeyError):
            return {}

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def save(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        merged = {**self._read(), **self.vectors}
        names = sorted(merged)
        mat = (np.stack([merged[k] for k in names]).astype(np.float32) if names
               else np.zeros((0, 0), dtype=np.float32))
        tmp = self.path / f".{self.FILE}.{os.getpid()}.tmp"
        with tmp.open("wb") as fh:
            np.savez(fh, keys=np.array(names), vectors=mat)
        os.replace(tmp, self.path / self.FILE)
        self.vectors = merged


class LlamaIndexDefault:
    """LlamaIndex's default RAG recipe as a retrieval system for the eval."""

    name = "llamaindex-default"

    def __init__(self, chunks: Iterable[Chunk], embedder: Any, cache_dir: Path | None,
                 progress: Any = None, tokenizer: Any = None) -> None:
        """``tokenizer`` replaces llama-index's default (tiktoken) only in fast unit tests."""
        from llama_index.core import Document, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter
        from llama_index.core.schema import MetadataMode

        t0 = time.perf_counter()
        docs = rebuild_documents(chunks)
        self._docs = {d.doc: d for d in docs}
        splitter = SentenceSplitter(
            chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP,
            id_func=lambda i, doc: f"{doc.doc_id}#n{i}", tokenizer=tokenizer,
        )
        nodes = splitter.get_nodes_from_documents(
            [Document(text=d.text, id_=d.doc, metadata={"doc": d.doc}) for d in docs]
        )
        self._info: dict[str, tuple[frozenset[Pair], int]] = {}
        for n in nodes:
            d = self._docs[n.ref_doc_id or n.metadata["doc"]]
            start, end = n.start_char_idx, n.end_char_idx
            if start is None or end is None:
                found = d.text.find(n.text)
                start, end = (found, found + len(n.text)) if found >= 0 else (0, 0)
            self._info[n.node_id] = (d.clauses_in(start, end), len(n.text))
        self.split_seconds = time.perf_counter() - t0

        t1 = time.perf_counter()
        texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
        cache = VectorCache(cache_dir) if cache_dir is not None else None
        known = cache.vectors if cache is not None else {}
        keys = [VectorCache.key(t) for t in texts]
        todo = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
        self.embedded = len(todo)
        batch = 256
        for i in range(0, len(todo), batch):
            part = todo[i:i + batch]
            vecs = np.asarray(embedder.embed_passages([t for _, t in part]), dtype=np.float32)
            for (k, _), v in zip(part, vecs, strict=True):
                known[k] = v
            if progress is not None:
                progress(len(part))
            if cache is not None and (i // batch) % 20 == 19:
                cache.save()  # an interrupted build keeps what it embedded
        if cache is not None and todo:
            cache.save()
        for n, k in zip(nodes, keys, strict=True):
            n.embedding = np.asarray(known[k], dtype=np.float32).tolist()
        self.embed_seconds = time.perf_counter() - t1
        self.nodes = len(nodes)
        self._index = VectorStoreIndex(nodes, embed_model=wrap_embedder(embedder))
        self._retrievers: dict[int, Any] = {}

    def search(self, question: str, k: int) -> list[RankedItem]:
        """Top ``k`` chunks; each item carries the clauses it overlaps and its length."""
        r = self._retrievers.get(k)
        if r is None:
            r = self._retrievers[k] = self._index.as_retriever(similarity_top_k=k)
        out = []
        for nws in r.retrieve(question):
            contains, length = self._info.get(nws.node.node_id, (frozenset(), len(nws.node.text)))
            out.append(RankedItem(nws.node.node_id, float(nws.score or 0.0), contains, length))
        return out

    def describe(self) -> dict[str, Any]:
        return {"nodes": self.nodes, "chunk_size": CHUNK_SIZE, "chunk_overlap": CHUNK_OVERLAP,
                "split_s": round(self.split_seconds, 2), "embed_s": round(self.embed_seconds, 2),
                "embedded": self.embedded}


def baseline_cache_dir(cache_root: Path, embedder_id: str) -> Path:
    """Where the baseline's passage vectors for one embedder live (shared by all corpora)."""
    key = hashlib.sha256(f"{BASELINE_VERSION}|{embedder_id}".encode()).hexdigest()[:16]
    return cache_root / "eval-baselines" / key
