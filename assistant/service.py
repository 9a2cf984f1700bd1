"""One facade over the pipeline for the CLI, the UI and the eval suite.

It opens the index once and loads the embedder only when dense retrieval first needs it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from .config import Settings
from .index import Index
from .records import Answer, Chunk, Filters, Hit
from .retrieve import Retriever


class Assistant:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._index: Index | None = None
        self._retriever: Retriever | None = None
        self._lock = threading.Lock()

    @property
    def index(self) -> Index:
        if self._index is None:
            from .embed import get_embedder

            # The embedder's id is known without loading its weights.
            emb = get_embedder(self.settings)
            self._index = Index.open(self.settings, embedder_id=emb.id)
        return self._index

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            self._retriever = Retriever(self.index, self.settings)
        return self._retriever

    def warm(self) -> None:
        """Make the query engine ready now, for processes that will embed many queries
        (UI, batch, eval): the first question then waits for nothing."""
        from .embed import get_embedder, warm

        warm(get_embedder(self.settings))

    def search(self, query: str, k: int | None = None, filters: Filters | None = None,
               mode: str = "hybrid") -> list[Hit]:
        return self.retriever.search(query, k, filters, mode)  # type: ignore[arg-type]

    def answerer(self, settings: Settings | None = None) -> Any:
        from .answer import Answerer

        return Answerer(self.retriever, settings or self.settings)

    def ask(self, question: str, history: list[tuple[str, str]] | None = None,
            filters: Filters | None = None, settings: Settings | None = None) -> Answer:
        return self.answerer(settings).ask(question, history=history, filters=filters)

    def clause(self, doc: str, clause: str | None = None) -> list[Chunk]:
        chunks = self.index.chunks_of(doc)
        if clause is None:
            return chunks
        return [c for c in chunks if c.clause == clause]

    def ingest(self, paths: list[Path], **kw: Any) -> Any:
        from .ingest import ingest

        with self._lock:
            report = ingest(paths, self.settings, **kw)
            self._index = None  # reopen: documents and keyword index changed
            self._retriever = None
        return report

    def remove(self, doc: str) -> bool:
        from .ingest import remove

        with self._lock:
            ok = remove(self.index, self.settings, doc)  # under the index's writer lock
            self._retriever = None
        return ok
