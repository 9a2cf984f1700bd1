"""The keyword index of one index directory: bm25s matrices built from the tokens stored
in SQLite, persisted under ``bm25/`` with the chunk ids in matrix order and the index
generation they were built at (every change of documents or tokens bumps it).

Owned by :class:`assistant.index.Index`, which shares its SQLite connection and lock.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .scoring import DocColumn, top_scores


class KeywordIndex:
    """BM25 over the chunk table; loaded on first use, rebuilt when it lags the table."""

    def __init__(self, path: Path, db: sqlite3.Connection, lock: threading.RLock,
                 generation: Callable[[], int]) -> None:
        self.path = path  # the bm25/ folder
        self._db = db
        self._lock = lock
        self._generation = generation
        self._model: Any = None
        self._ids: list[str] = []
        self._gen = -1
        self._docs: tuple[list[str], DocColumn] | None = None

    def _meta(self) -> dict[str, Any] | None:
        """The persisted ``ids.json``, if it was built at the current generation; else None."""
        try:
            meta = json.loads((self.path / "ids.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return meta if meta.get("generation") == self._generation() else None

    def stale(self) -> bool:
        return self._meta() is None

    def _load(self) -> None:
        if self._model is not None and self._gen == self._generation():
            return
        with self._lock:
            import bm25s

            meta = self._meta()
            if meta is not None:
                try:
                    self._model = bm25s.BM25.load(str(self.path), mmap=False,
                                                  show_progress=False)
                    self._ids = meta["ids"]
                    self._gen = meta["generation"]
                    return
                except (OSError, ValueError, KeyError):
                    pass  # half-written: rebuild below
            self.rebuild()

    def rebuild(self) -> None:
        """Rebuild from the stored tokens and persist atomically (built in a temporary
        folder, swapped in by rename)."""
        import bm25s

        with self._lock:
            gen = self._generation()
            ids, tokenized = self._read_tokens()
            model = bm25s.BM25(k1=1.2, b=0.75)
            if ids:
                model.index(tokenized, show_progress=False)
                self._persist(model, gen, ids)
            self._model = model if ids else None
            self._ids = ids
            self._gen = gen

    def _read_tokens(self) -> tuple[list[str], Any]:
        """Chunk ids and their tokens as ids into one vocabulary, read row by row: a chunk's
        tokens are kept as one int32 array, not as a list of strings (for the laws corpus,
        10 million tokens: the strings alone took 1.75 GB at the peak of a rebuild, the
        arrays take 40 MB)."""
        from bm25s.tokenization import Tokenized

        vocab: dict[str, int] = {}
        ids: list[str] = []
        rows: list[np.ndarray] = []
        for cid, toks in self._db.execute("SELECT id, tokens FROM chunks ORDER BY seq"):
            ids.append(cid)
            words = toks.split(" ") if toks else []
            rows.append(np.fromiter((vocab.setdefault(w, len(vocab)) for w in words),
                                    dtype=np.int32, count=len(words)))
        return ids, Tokenized(ids=_AsLists(rows), vocab=vocab)

    def _persist(self, model: Any, gen: int, ids: list[str]) -> None:
        tmp = self.path.with_name(f"{self.path.name}.tmp{os.getpid()}")
        model.save(str(tmp), show_progress=False)
        # inside the temporary folder: the rename below makes it visible whole
        (tmp / "ids.json").write_text(json.dumps({"generation": gen, "ids": ids},
                                                 ensure_ascii=False, indent=2), "utf-8")
        old = self.path.with_name(f"{self.path.name}.old{os.getpid()}")
        if self.path.exists():
            self.path.rename(old)
        tmp.rename(self.path)
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)

    def scores(self, tokens: list[str]) -> tuple[list[str], np.ndarray]:
        """BM25 score of every chunk for the query tokens, aligned with the returned ids."""
        self._load()
        if self._model is None:
            return [], np.zeros(0, dtype=np.float32)
        vocab = self._model.vocab_dict
        toks = [t for t in tokens if t in vocab]
        if not toks:
            return self._ids, np.zeros(len(self._ids), dtype=np.float32)
        return self._ids, self._model.get_scores(toks)

    def idf(self, tokens: list[str]) -> dict[str, float]:
        """Each token's inverse document frequency over the chunks, ``log(1 + (N - df +
        0.5) / (df + 0.5))`` as in BM25; a token no chunk has gets the rarest value."""
        self._load()
        n = len(self._ids)
        if self._model is None or not n:
            return {t: 0.0 for t in tokens}
        vocab, indptr = self._model.vocab_dict, self._model.scores["indptr"]
        out = {}
        for t in tokens:
            tid = vocab.get(t)
            df = 0 if tid is None or tid + 1 >= len(indptr) else int(indptr[tid + 1] - indptr[tid])
            out[t] = math.log1p((n - df + 0.5) / (df + 0.5))
        return out

    def search(self, tokens: list[str], k: int, docs: set[str] | None = None
               ) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the ``k`` best chunks with a positive score, best
        first, ties by chunk id (reproducible runs); with ``docs``, of those documents only."""
        ids, scores = self.scores(tokens)
        if docs is not None and ids:
            scores = np.where(self._doc_column(ids).mask(docs), scores, 0.0)
        return top_scores(ids, scores, k)

    def _doc_column(self, ids: list[str]) -> DocColumn:
        """The document of each chunk of the keyword index (``ids``, its order), read from
        the chunk table once per keyword index: a chunk id is never parsed for it."""
        if self._docs is None or self._docs[0] is not ids:
            doc_of = dict(self._db.execute("SELECT id, doc FROM chunks"))
            self._docs = (ids, DocColumn([doc_of.get(c) for c in ids]))
        return self._docs[1]


class _AsLists(list):  # type: ignore[type-arg]
    """int32 arrays that bm25s reads as lists of ints, one at a time when it needs them
    (it walks the corpus twice: document frequencies, then scores)."""

    def __init__(self, rows: list[np.ndarray]) -> None:
        super().__init__(rows)

    def __iter__(self):  # type: ignore[no-untyped-def]
        for row in super().__iter__():
            yield row.tolist()

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        got = super().__getitem__(i)
        return got.tolist() if isinstance(got, np.ndarray) else [r.tolist() for r in got]
