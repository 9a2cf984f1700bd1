"""The persistent index: documents and chunks (SQLite), vectors (Chroma through llama-index),
keyword index (bm25s) and a self-describing manifest.

Layout of ``settings.index``::

    manifest.json   embedder id and dimension, chunker/tokenizer versions, counts, times
    chunks.sqlite   documents (metadata, content hash) and chunks (text, tokens, embedded?)
    chroma/         the Chroma collection "chunks" (one vector per chunk, cosine space)
    bm25/           bm25s matrices + the chunk ids in matrix order + the generation built

SQLite is the source of truth and every change to it is one transaction, so a kill -9 at
any point leaves an index that opens: chunks without vectors are simply found by keyword
only until the next ``ingest`` embeds them; a keyword index older than the chunk table is
rebuilt from the stored tokens when opened.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .config import Settings
from .errors import IndexMismatch, IndexMissing
from .health import GuardedConnection, VectorHealth, read_manifest, rebuild_hint, sources_in
from .keyword_index import KeywordIndex
from .parse import supersede
from .records import Chunk, DocMeta

FORMAT = 1
MANIFEST = "manifest.json"
COLLECTION = "chunks"
# Dense search within at most this many documents filters in Chroma ($in); more, and it
# over-fetches and filters after (a long $in list is slower than the search).
_WHERE_MAX_DOCS = 200

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    meta TEXT NOT NULL,
    n_chunks INTEGER NOT NULL,
    chunker TEXT NOT NULL,
    source TEXT NOT NULL,
    ingested_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    doc TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    clause TEXT NOT NULL,
    data TEXT NOT NULL,
    passage TEXT NOT NULL,
    tokens TEXT NOT NULL,
    embedded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc, ordinal);
CREATE INDEX IF NOT EXISTS chunks_clause ON chunks(clause);
CREATE INDEX IF NOT EXISTS chunks_pending ON chunks(embedded);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS terms (term TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS doc_refs (doc TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS clause_refs (
    doc TEXT NOT NULL, clause TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (doc, clause));
"""


@dataclass
class DocInfo:
    meta: DocMeta
    n_chunks: int
    ingested_at: float


class Index:
    """One index directory. Cheap to open; vectors and BM25 load on first use."""

    def __init__(self, settings: Settings, path: Path, manifest: dict[str, Any]) -> None:
        self.settings = settings
        self.path = path
        self.manifest = manifest
        # A damaged file raises IndexDamaged (one line: the file and the rebuild) from any
        # query, not only here: a truncated file may open and fail on a later page.
        self._db = sqlite3.connect(path / "chunks.sqlite", check_same_thread=False,
                                   factory=GuardedConnection)
        self._db.file = str(path / "chunks.sqlite")
        self._db.hint = lambda: rebuild_hint(path, _str_list(manifest.get("sources")))
        self._db.executescript(_SCHEMA)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._lock = threading.RLock()
        self._health: VectorHealth | None = None
        self._store: Any = None
        self._collection: Any = None
        self._keywords = KeywordIndex(path / "bm25", self._db, self._lock, self.generation)
        self._docs_cache: dict[str, DocInfo] | None = None
        self._refs: Any = None
        self._refs_gen = -1

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, settings: Settings, create: bool = False, embedder_id: str = "",
             dim: int = 0) -> Index:
        """Open the index at ``settings.index``.

        With ``create`` a missing index is made for the given embedder; an existing one
        built with another embedder is refused (vectors of two models cannot be mixed).
        """
        from .chunk import CHUNKER_VERSION
        from .embed import VECTOR_RECIPE
        from .embed.recipe import recipe_id
        from .tokenize import TOKENIZER_VERSION

        path = Path(settings.index)
        mpath = path / MANIFEST
        if mpath.exists():
            manifest = read_manifest(mpath, lambda: sources_in(path / "chunks.sqlite"))
            built = manifest["embedder"]
            if embedder_id and built["id"] != embedder_id:
                raise IndexMismatch(
                    f"{path} was built with embedder '{built['id']}' (dim {built.get('dim')}), "
                    f"but '{embedder_id}' is configured. Set ASSISTANT_EMBED_MODEL="
                    f"{built.get('model') or built['id']} or "
                    + rebuild_hint(path, _str_list(manifest.get("sources"))))
        elif create:
            path.mkdir(parents=True, exist_ok=True)
            now = _now()
            manifest = {
                "format": FORMAT,
                "embedder": {"id": embedder_id, "dim": dim, "model": settings.embed_model},
                "chunker_version": CHUNKER_VERSION,
                "tokenizer": TOKENIZER_VERSION,
                "vectors": recipe_id(settings.embed_recipe) if settings.embed_recipe != "auto"
                else VECTOR_RECIPE,
                "documents": 0,
                "chunks": 0,
                "embedded": 0,
                "created": now,
                "updated": now,
            }
            _write_json(mpath, manifest)
        else:
            raise IndexMissing(
                f"no index at {path}; build one with: assistant ingest corpus/ "
                f"(or point --index / ASSISTANT_INDEX at an existing one)"
            )
        return cls(settings, path, manifest)

    @property
    def embedder_id(self) -> str:
        return str(self.manifest.get("embedder", {}).get("id", ""))

    # ------------------------------------------------------------------ documents
    def documents(self) -> dict[str, DocInfo]:
        if self._docs_cache is None:
            rows = self._db.execute("SELECT meta, n_chunks, ingested_at FROM documents").fetchall()
            docs = {}
            for meta, n, at in rows:
                m = DocMeta(**json.loads(meta))
                docs[m.doc] = DocInfo(m, n, at)
            # A standard that a newer indexed edition replaces is 被代替 (derived on read,
            # not stored: removing the newer edition gives the old one its status back).
            supersede([d.meta for d in docs.values()])
            self._docs_cache = docs
        return self._docs_cache

    def source_of(self, doc: str) -> str:
        """The ingested root a document came from (what ``--prune`` compares against)."""
        row = self._db.execute("SELECT source FROM documents WHERE doc=?", (doc,)).fetchone()
        return row[0] if row else ""

    def doc_hashes(self) -> dict[str, tuple[str, str]]:
        """doc → (sha256, chunker version) of what is indexed."""
        rows = self._db.execute("SELECT doc, sha256, chunker FROM documents").fetchall()
        return {d: (h, c) for d, h, c in rows}

    def replace_document(self, meta: DocMeta, chunks: Sequence[Chunk], passages: Sequence[str],
                         tokens: Sequence[list[str]], source: str) -> None:
        """Replace a document's chunks in one transaction (vectors follow in ``embed_pending``)."""
        from .chunk import CHUNKER_VERSION

        with self._lock:
            self._delete_vectors(meta.doc)
            with self._db:
                self._db.execute("DELETE FROM chunks WHERE doc=?", (meta.doc,))
                self._db.executemany(
                    "INSERT INTO chunks(id, doc, ordinal, clause, data, passage, tokens) "
                    "VALUES (?,?,?,?,?,?,?)",
                    [
                        (c.id, c.doc, c.ordinal, c.clause, json.dumps(c.to_dict(), ensure_ascii=False),
                         p, " ".join(t))
                        for c, p, t in zip(chunks, passages, tokens, strict=True)
                    ],
                )
                self._db.execute(
                    "INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?)",
                    (meta.doc, meta.sha256, json.dumps(meta.to_dict(), ensure_ascii=False),
                     len(chunks), CHUNKER_VERSION, source, time.time()),
                )
                self._bump()
            self._docs_cache = None

    def remove_document(self, doc: str) -> bool:
        with self._lock:
            self._delete_vectors(doc)
            with self._db:
                cur = self._db.execute("DELETE FROM documents WHERE doc=?", (doc,))
                self._db.execute("DELETE FROM chunks WHERE doc=?", (doc,))
                self._bump()
            self._docs_cache = None
            return cur.rowcount > 0

    def add_terms(self, terms: Iterable[str]) -> None:
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO terms VALUES (?)", [(t,) for t in terms])

    def terms(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT term FROM terms")]

    def _bump(self) -> None:
        self._db.execute(
            "INSERT INTO state VALUES ('generation', '1') ON CONFLICT(key) DO UPDATE "
            "SET value = CAST(value AS INTEGER) + 1"
        )

    def generation(self) -> int:
        row = self._db.execute("SELECT value FROM state WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    # ------------------------------------------------------------------ references
    def references_stale(self) -> bool:
        """True when documents changed since the last count, or the counting rules did."""
        from .references import REFERENCES_VERSION

        state = dict(self._db.execute(
            "SELECT key, value FROM state WHERE key IN ('refs_generation', 'refs_version')"))
        return (state.get("refs_generation") != str(self.generation())
                or state.get("refs_version") != REFERENCES_VERSION)

    def rebuild_references(self, is_current: Any) -> None:
        """Recount cross-references over the whole index (see :mod:`assistant.references`);
        ``is_current(doc)`` tells the version in force, on which articles are counted."""
        from .references import REFERENCES_VERSION, count_references

        with self._lock:
            gen = self.generation()
            metas = [i.meta for i in self.documents().values()]
            refs = count_references(metas, self.iter_chunks(), is_current)
            with self._db:
                self._db.execute("DELETE FROM doc_refs")
                self._db.execute("DELETE FROM clause_refs")
                self._db.executemany("INSERT INTO doc_refs VALUES (?,?)", refs.doc_in.items())
                self._db.executemany("INSERT INTO clause_refs VALUES (?,?,?)",
                                     [(d, c, n) for (d, c), n in refs.clause_in.items()])
                self._db.executemany("INSERT OR REPLACE INTO state VALUES (?, ?)",
                                     [("refs_generation", str(gen)),
                                      ("refs_version", REFERENCES_VERSION)])
            self._refs, self._refs_gen = refs, gen

    def references(self) -> Any:
        """The stored :class:`~assistant.references.References` (empty until an ingest)."""
        from .references import References

        gen = self.generation()
        if self._refs is None or self._refs_gen != gen:
            refs = References(
                dict(self._db.execute("SELECT doc, n FROM doc_refs").fetchall()),
                {(d, c): n for d, c, n in self._db.execute("SELECT doc, clause, n FROM clause_refs")},
            )
            self._refs, self._refs_gen = refs, gen
        return self._refs

    # ------------------------------------------------------------------ chunks
    def _chunk(self, data: str) -> Chunk:
        """A stored chunk, with its document's current status (see ``documents``)."""
        c = Chunk(**json.loads(data))
        info = self.documents().get(c.doc)
        if info is not None:
            c.status = info.meta.status
        return c

    def _rows_by_id(self, columns: str, ids: Iterable[str]) -> Iterator[tuple[Any, ...]]:
        """``SELECT id, <columns>`` for these chunk ids, 500 at a time (SQLite's limit on
        bound parameters is lower than a query's candidates)."""
        ids = list(ids)
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            q = f"SELECT id, {columns} FROM chunks WHERE id IN ({','.join('?' * len(part))})"
            yield from self._db.execute(q, part)

    def get_chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        return {cid: self._chunk(data) for cid, data in self._rows_by_id("data", ids)}

    def chunk_keys(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """chunk id → (doc, clause), without decoding the chunks."""
        return {cid: (doc, clause) for cid, doc, clause in self._rows_by_id("doc, clause", ids)}

    def chunks_of(self, doc: str) -> list[Chunk]:
        rows = self._db.execute("SELECT data FROM chunks WHERE doc=? ORDER BY ordinal", (doc,))
        return [self._chunk(r[0]) for r in rows]

    def find_clause(self, clause: str, docs: Iterable[str] | None = None) -> list[Chunk]:
        """Chunks whose label is exactly ``clause`` (optionally within ``docs``)."""
        q, args = "SELECT data FROM chunks WHERE clause=?", [clause]
        if docs is not None:
            docs = list(docs)
            q += f" AND doc IN ({','.join('?' * len(docs))})"
            args += docs
        rows = self._db.execute(q + " ORDER BY doc, ordinal", args).fetchall()
        return [self._chunk(d) for (d,) in rows]

    def iter_chunks(self) -> Iterator[Chunk]:
        for (data,) in self._db.execute("SELECT data FROM chunks ORDER BY seq"):
            yield self._chunk(data)

    def count(self, pending: bool = False) -> int:
        q = "SELECT COUNT(*) FROM chunks" + (" WHERE embedded=0" if pending else "")
        return int(self._db.execute(q).fetchone()[0])

    # ------------------------------------------------------------------ vectors
    @property
    def collection(self) -> Any:
        """The persistent Chroma collection of chunk vectors (chromadb only: searching
        does not import llama-index, which costs a second at start-up). A missing or
        damaged store is not opened (Chroma could crash): :class:`IndexDamaged` says so."""
        if self._collection is None:
            if not (h := self.vector_health()).usable:
                raise h.error()
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            client = chromadb.PersistentClient(
                path=str(self.path / "chroma"),
                settings=ChromaSettings(anonymized_telemetry=False),
            )
            # embedding_function=None: chromadb's default would download a model.
            self._collection = client.get_or_create_collection(
                COLLECTION, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )
        return self._collection

    @property
    def store(self) -> Any:
        """llama-index's ChromaVectorStore over :attr:`collection`, for adding nodes."""
        if self._store is None:
            from llama_index.vector_stores.chroma import ChromaVectorStore

            self._store = ChromaVectorStore(chroma_collection=self.collection)
        return self._store

    def _delete_vectors(self, doc: str) -> None:
        if (self.path / "chroma").exists():
            self.collection.delete(where={"doc": doc})

    def pending(self, limit: int) -> list[tuple[str, str, str]]:
        """(id, doc, passage) of chunks still without a vector, in index order."""
        return self._db.execute(
            "SELECT id, doc, passage FROM chunks WHERE embedded=0 ORDER BY seq LIMIT ?", (limit,)
        ).fetchall()

    def mark_all_pending(self, recipe: str) -> None:
        """Queue every chunk for a new vector (the vector recipe changed). Old vectors stay
        in Chroma, serving dense search, until each is overwritten."""
        with self._lock, self._db:
            self._db.execute("UPDATE chunks SET embedded=0")
        self.manifest["vectors"] = recipe
        self.update_manifest()

    def add_vectors(self, rows: Sequence[tuple[str, str, str]], vectors: np.ndarray) -> None:
        """Store vectors for pending chunks, then mark them embedded (idempotent on re-run)."""
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        chunks = self.get_chunks([r[0] for r in rows])
        nodes = []
        for (cid, doc, _passage), vec in zip(rows, vectors, strict=True):
            c = chunks.get(cid)
            if c is None:  # replaced meanwhile
                continue
            nodes.append(
                TextNode(
                    id_=cid,
                    text=c.text,
                    embedding=vec.astype(np.float32).tolist(),
                    metadata={"doc": doc, "clause": c.clause, "kind": c.kind,
                              "category": c.category, "status": c.status},
                    relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=doc)},
                )
            )
        if not nodes:
            return
        with self._lock:
            # A kill between the two steps below leaves vectors whose chunks are not marked:
            # they are deleted and re-added on the next run, never duplicated.
            self.collection.delete(ids=[n.node_id for n in nodes])
            self.store.add(nodes)
            with self._db:
                self._db.executemany("UPDATE chunks SET embedded=1 WHERE id=?",
                                     [(n.node_id,) for n in nodes])

    def has_vectors(self) -> bool:
        """True when dense search has vectors to search (during a re-embedding, the old
        ones still serve). A missing or damaged vector store raises :class:`IndexDamaged`
        naming the fix: dense results would be silently empty, or Chroma would crash."""
        h = self.vector_health()
        if not h.usable:
            raise h.error()
        return h.vectors > 0

    def vector_health(self, fresh: bool = False) -> VectorHealth:
        """The vector store against the chunk table (see :mod:`assistant.health`); checked
        once per opened index (again while another process is writing it, or ``fresh``)."""
        with self._lock:  # one check at a time (the UI answers several questions at once)
            if fresh or self._health is None or self._health.state == "busy":
                from .health import check_vectors

                self._health = check_vectors(self, COLLECTION)
            return self._health

    def mark_pending(self, keep: set[str] | None = None) -> int:
        """Queue embedded chunks for embedding again: all, or those whose id is not in
        ``keep`` (the vectors the store holds). Returns how many were queued."""
        ids = [r[0] for r in self._db.execute("SELECT id FROM chunks WHERE embedded=1")]
        ids = [i for i in ids if keep is None or i not in keep]
        with self._lock, self._db:
            self._db.executemany("UPDATE chunks SET embedded=0 WHERE id=?", [(i,) for i in ids])
        self._health = None
        return len(ids)

    def drop_vectors(self) -> None:
        """Delete the vector store (missing or damaged: it is rebuilt from the chunks)."""
        import shutil
        import sys

        self._collection = self._store = None
        if "chromadb" in sys.modules:  # chromadb caches one client per path, per process
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient.clear_system_cache()
        shutil.rmtree(self.path / "chroma", ignore_errors=True)
        self._health = None

    def state(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM state WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_state(self, key: str, value: str) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (key, value))

    def sources(self) -> list[str]:
        """The folders documents were ingested from (for the commands error messages suggest)."""
        return [r[0] for r in self._db.execute("SELECT DISTINCT source FROM documents")]

    def vectors(self, page: int = 5000) -> tuple[list[str], np.ndarray]:
        """Every stored chunk vector: (chunk ids, float32 matrix), for training a query
        adapter against the index as it is (read in pages: Chroma caps one get)."""
        ids: list[str] = []
        mats = [np.zeros((0, int(self.manifest.get("embedder", {}).get("dim", 0))), np.float32)]
        n = self.collection.count() if (self.path / "chroma").exists() else 0
        for off in range(0, n, page):
            res = self.collection.get(include=["embeddings"], limit=page, offset=off)
            ids += list(res["ids"])
            mats.append(np.asarray(res["embeddings"], dtype=np.float32))
        return ids, np.concatenate(mats)

    def dense_search(self, vector: np.ndarray, k: int, docs: set[str] | None = None
                     ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the ``k`` nearest chunks, best first; with
        ``docs``, of chunks of those documents only."""
        if docs is not None and not docs:
            return []
        if not (self.path / "chroma").exists() or self.count() == 0:
            return []
        where: dict[str, Any] | None = None
        n = k
        if docs is not None and len(docs) <= _WHERE_MAX_DOCS:
            where = {"doc": {"$in": sorted(docs)}} if len(docs) > 1 else {"doc": next(iter(docs))}
        elif docs is not None:
            n = k * 4  # a long $in list is slow: over-fetch, keep the allowed documents
        # No count() first (10 ms on 70,000 vectors): Chroma returns fewer than n_results
        # when it holds fewer, and nothing when it is empty.
        res = self.collection.query(
            query_embeddings=[vector.astype(np.float32).tolist()], n_results=n, where=where,
            include=["distances", "metadatas"] if docs is not None else ["distances"])
        ids, dists = res["ids"][0], res["distances"][0]
        if docs is not None:  # each vector carries its document (the id is not parsed)
            keep = [(m or {}).get("doc") in docs for m in res["metadatas"][0]]
            ids = [i for i, ok in zip(ids, keep, strict=True) if ok]
            dists = [d for d, ok in zip(dists, keep, strict=True) if ok]
        return [(i, 1.0 - float(d)) for i, d in zip(ids[:k], dists[:k], strict=True)]

    # ------------------------------------------------------------------ keywords
    def bm25_stale(self) -> bool:
        return self._keywords.stale()

    def rebuild_bm25(self) -> None:
        """Rebuild the keyword index from the stored tokens and persist it atomically."""
        self._keywords.rebuild()

    def keyword_scores(self, tokens: list[str]) -> tuple[list[str], np.ndarray]:
        """BM25 score of every chunk for the query tokens, aligned with the returned ids."""
        return self._keywords.scores(tokens)

    def keyword_idf(self, tokens: list[str]) -> dict[str, float]:
        """BM25's inverse document frequency of each token over this index's chunks."""
        return self._keywords.idf(tokens)

    def keyword_search(self, tokens: list[str], k: int, docs: set[str] | None = None
                       ) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the ``k`` best chunks with a positive score, best
        first, ties by chunk id; with ``docs``, of those documents only."""
        return self._keywords.search(tokens, k, docs)

    def retokenize(self) -> int:
        """Re-tokenize every stored passage (after a tokenizer change); vectors are kept."""
        from .tokenize import TOKENIZER_VERSION, tokenize

        rows = self._db.execute("SELECT id, passage FROM chunks").fetchall()
        with self._lock, self._db:
            self._db.executemany("UPDATE chunks SET tokens=? WHERE id=?",
                                 [(" ".join(tokenize(p)), cid) for cid, p in rows])
            self._bump()
        self.manifest["tokenizer"] = TOKENIZER_VERSION
        return len(rows)

    def passages(self) -> list[str]:
        """Every chunk's passage (what was embedded), in index order."""
        return [r[0] for r in self._db.execute("SELECT passage FROM chunks ORDER BY seq")]

    # ------------------------------------------------------------------ manifest
    def update_manifest(self, **extra: Any) -> dict[str, Any]:
        docs = self._db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        self.manifest.update(
            documents=int(docs),
            chunks=self.count(),
            embedded=self.count() - self.count(pending=True),
            sources=sorted(self.sources()),  # named by the rebuild command of error messages
            updated=_now(),
            **extra,
        )
        _write_json(self.path / MANIFEST, self.manifest)
        return self.manifest

    def stats(self) -> dict[str, Any]:
        size = sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())
        return {
            "path": str(self.path),
            "documents": len(self.documents()),
            "chunks": self.count(),
            "embedded": self.count() - self.count(pending=True),
            "size_bytes": size,
        }

    def close(self) -> None:
        self._db.close()


def _str_list(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), "utf-8")
    tmp.replace(path)
