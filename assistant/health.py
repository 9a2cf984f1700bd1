"""Is the index whole? Damage detection for its three stores, and repair of the vectors.

* ``manifest.json`` must be an index manifest (an object naming its embedder).
* ``chunks.sqlite``: its connection turns SQLite's "file is damaged" errors into one-line
  :class:`IndexDamaged` errors, wherever they surface (at open, or in a query of a
  truncated file whose damaged pages are read late).
* ``chroma/``: Chroma keeps its own database and an in-memory vector index persisted in
  files. A process that opens a store whose files disagree with its database (two writers
  at once left it so, before the writer lock) hangs in ``count()``, or segfaults or fails
  in ``query()``: nothing to catch. So the store is never trusted blind. Its *fingerprint*
  (row count and sequence numbers from its database, names and sizes of its vector files;
  read without Chroma, in milliseconds) is compared with the one recorded, with a verdict,
  by the last locked writer or the last probe; when they differ, a child process probes
  the store (opens, counts and queries it) under a timeout, and its verdict is recorded.

Choice for search: dense (and hybrid) search on a missing or damaged store is refused
with a one-line error naming the fix; keyword search (``--mode bm25``) keeps working.
A store that is sound but lacks some vectors (``partial``) still serves: those chunks are
found by keyword only, as pending ones are. ``ingest`` repairs all three: it re-embeds
the chunks whose vectors are missing, or rebuilds a missing or damaged store from the
chunk table.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from .errors import IndexDamaged
from .lock import writer_active


class Index(Protocol):
    """What the checks need of :class:`assistant.index.Index` (named here, not imported:
    index.py uses this module's guards, so importing it back would make a cycle)."""

    path: Path

    def count(self, pending: bool = False) -> int: ...
    def sources(self) -> list[str]: ...
    def state(self, key: str) -> str | None: ...
    def set_state(self, key: str, value: str) -> None: ...
    def drop_vectors(self) -> None: ...
    def mark_pending(self, keep: set[str] | None = None) -> int: ...

CHROMA_DB = "chroma.sqlite3"
VERDICT_KEY = "vectors_verdict"  # state-table row: [fingerprint, problem or ""] last found
PROBE_TIMEOUT = 60.0  # seconds; opening 70,000 vectors takes a few on a busy machine

# SQLite result codes that mean the file itself is damaged: SQLITE_CORRUPT, SQLITE_NOTADB,
# and SQLITE_IOERR_SHORT_READ (a truncated file).
_DAMAGE_CODES = {11, 26, 522}

# Opens the store as search would, in a child process: a crash or hang there is a verdict,
# not the end of the caller.
_PROBE = """
import sys
import chromadb
from chromadb.config import Settings
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
col = client.get_collection(sys.argv[2])
n = col.count()
if n:
    dim = len(col.get(limit=1, include=["embeddings"])["embeddings"][0])
    col.query(query_embeddings=[[1.0] * dim], n_results=min(n, 10), include=["distances"])
print(n)
"""

State = Literal["ok", "empty", "partial", "missing", "damaged", "busy"]


@dataclass
class VectorHealth:
    """What the vector store holds against what the chunk table says it holds."""

    state: State  # busy: another process is writing it (no verdict then)
    embedded: int  # chunks the chunk table marks as embedded
    vectors: int  # vectors in Chroma (0 when missing or unreadable)
    detail: str = ""  # what is wrong, for partial / missing / damaged
    fix: str = ""  # the command that repairs it

    @property
    def usable(self) -> bool:
        """False when dense search must be refused (its results would be silently empty,
        or Chroma would crash)."""
        return self.state not in ("missing", "damaged")

    def summary(self) -> str:
        if self.state in ("ok", "empty"):
            return f"{self.state} ({self.vectors} vectors for {self.embedded} embedded chunks)"
        if self.state == "busy":
            return f"being written by another process ({self.vectors} vectors so far)"
        return f"{self.state.upper()}: {self.detail}; {self.fix}"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "usable": self.usable}

    def error(self) -> IndexDamaged:
        """The one-line error for refusing to search an unusable store."""
        return IndexDamaged(f"{self.detail}; {self.fix} (keyword search works meanwhile: --mode bm25)")


# ---------------------------------------------------------------- hints
def ingest_command(index_dir: Path, sources: Iterable[str]) -> str:
    """The ``assistant ingest`` command line that rebuilds or repairs this index."""
    args = ["assistant"]
    if Path(index_dir) != Path("index"):
        args += ["--index", str(index_dir)]
    roots = sorted(set(sources))
    shown = [shlex.quote(r) for r in roots[:3]] + (["…"] if len(roots) > 3 else [])
    return " ".join(args + ["ingest"] + (shown or ["FOLDER…"]))


def rebuild_hint(index_dir: Path, sources: Iterable[str]) -> str:
    return f"rebuild it: rm -r {shlex.quote(str(index_dir))} && {ingest_command(index_dir, sources)}"


# ---------------------------------------------------------------- manifest
def read_manifest(mpath: Path, sources: Callable[[], Iterable[str]]) -> dict[str, Any]:
    """The manifest, if it is one (an object naming its embedder); else
    :class:`IndexDamaged` naming the file and the rebuild."""
    try:
        data = json.loads(mpath.read_text("utf-8"))
        why = "not an index manifest: no embedder recorded"
    except (OSError, ValueError) as e:
        data, why = None, f"unreadable: {e}"
    emb = data.get("embedder") if isinstance(data, dict) else None
    if isinstance(emb, dict) and isinstance(emb.get("id"), str) and emb["id"]:
        return data  # type: ignore[return-value]
    raise IndexDamaged(f"{mpath} is damaged ({why}); " + rebuild_hint(mpath.parent, _safe(sources)))


def sources_in(db_path: Path) -> list[str]:
    """The folders the documents of a chunk table were ingested from."""
    db = _read_only(db_path)
    try:
        return [r[0] for r in db.execute("SELECT DISTINCT source FROM documents")]
    finally:
        db.close()


def _read_only(db_path: Path) -> sqlite3.Connection:
    """A read-only connection: looking must not create or change anything."""
    return sqlite3.connect(db_path.resolve().as_uri() + "?mode=ro", uri=True)


def _safe(sources: Callable[[], Iterable[str]]) -> list[str]:
    try:
        return list(sources())
    except Exception:  # the chunk table may be damaged too: the hint then stays generic
        return []


# ---------------------------------------------------------------- chunks.sqlite
def damage_error(e: sqlite3.Error) -> bool:
    """Whether an error means the file is damaged (not a busy or mistaken query)."""
    return (type(e) is sqlite3.DatabaseError
            or getattr(e, "sqlite_errorcode", 0) in _DAMAGE_CODES
            # garbage over a text column's page: everything stored is UTF-8
            or str(e).startswith("Could not decode to UTF-8"))


class GuardedCursor(sqlite3.Cursor):
    """A cursor of :class:`GuardedConnection`: damage errors become :class:`IndexDamaged`."""

    connection: GuardedConnection

    def _guard(self, step: Callable[..., Any], *a: Any) -> Any:
        try:
            return step(*a)
        except sqlite3.DatabaseError as e:
            raise self.connection.damaged(e) from None

    def execute(self, *a: Any) -> GuardedCursor:  # type: ignore[override]
        return self._guard(super().execute, *a)  # type: ignore[no-any-return]

    def executemany(self, *a: Any) -> GuardedCursor:  # type: ignore[override]
        return self._guard(super().executemany, *a)  # type: ignore[no-any-return]

    def fetchone(self) -> Any:
        return self._guard(super().fetchone)

    def fetchmany(self, *a: Any) -> list[Any]:
        return self._guard(super().fetchmany, *a)  # type: ignore[no-any-return]

    def fetchall(self) -> list[Any]:
        return self._guard(super().fetchall)  # type: ignore[no-any-return]

    def __next__(self) -> Any:
        return self._guard(super().__next__)


class GuardedConnection(sqlite3.Connection):
    """``chunks.sqlite``'s connection (``sqlite3.connect(..., factory=GuardedConnection)``):
    errors that mean the file is damaged become one-line :class:`IndexDamaged` errors that
    name the file and the rebuild (``file`` and ``hint`` are set by the opener); other
    errors pass unchanged."""

    file = "chunks.sqlite"
    hint: Callable[[], str] = staticmethod(lambda: "")  # type: ignore[assignment]

    def damaged(self, e: sqlite3.DatabaseError) -> Exception:
        if not damage_error(e):
            return e
        return IndexDamaged(f"{self.file} is damaged ({e}); {self.hint()}")

    def execute(self, *a: Any) -> GuardedCursor:  # type: ignore[override]
        return self.cursor(GuardedCursor).execute(*a)

    def executemany(self, *a: Any) -> GuardedCursor:  # type: ignore[override]
        return self.cursor(GuardedCursor).executemany(*a)

    def executescript(self, script: str) -> sqlite3.Cursor:
        try:
            return super().executescript(script)
        except sqlite3.DatabaseError as e:
            raise self.damaged(e) from None

    def commit(self) -> None:
        try:
            super().commit()
        except sqlite3.DatabaseError as e:
            raise self.damaged(e) from None


# ---------------------------------------------------------------- chroma/
def fingerprint(chroma: Path) -> tuple[int, str]:
    """(vectors held, fingerprint) of a Chroma directory, read without Chroma: its row
    count and sequence numbers (every write moves them), and its vector-index files."""
    db = _read_only(chroma / CHROMA_DB)
    try:
        n = int(db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])
        seqs = db.execute("SELECT segment_id, seq_id FROM max_seq_id ORDER BY segment_id").fetchall()
        log = db.execute("SELECT MAX(seq_id) FROM embeddings_queue").fetchone()
    finally:
        db.close()
    # Sizes, not times: a reader opening a store whose vector index was never persisted
    # rewrites its files, unchanged (Chroma 1.5).
    files = sorted((f"{d.name}/{f.name}", f.stat().st_size)
                   for d in chroma.iterdir() if d.is_dir() for f in d.iterdir())
    return n, repr((n, seqs, log, files))


def vector_ids(chroma: Path) -> set[str]:
    """Ids of the vectors Chroma's database holds (read without Chroma)."""
    db = _read_only(chroma / CHROMA_DB)
    try:
        return {r[0] for r in db.execute("SELECT embedding_id FROM embeddings")}
    finally:
        db.close()


def probe(chroma: Path, collection: str, timeout: float = PROBE_TIMEOUT) -> str:
    """Open, count and query the store in a child process; '' if it answers, else why not."""
    try:
        res = subprocess.run([sys.executable, "-c", _PROBE, str(chroma), collection],
                             capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"Chroma did not answer within {timeout:.0f} s"
    if res.returncode == 0:
        return ""
    if res.returncode < 0:
        return f"Chroma crashed (signal {-res.returncode})"
    lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else f"exit status {res.returncode}"


def check_vectors(index: Index, collection: str, deep: bool = True) -> VectorHealth:
    """Compare the vector store with the chunk table. ``deep``: probe a store whose
    fingerprint is not the trusted one (see the module docstring)."""
    h = _check(index, collection, deep)
    if h.detail:
        h.fix = "re-embed with: " + ingest_command(index.path, index.sources())
    return h


def _check(index: Index, collection: str, deep: bool) -> VectorHealth:
    embedded = index.count() - index.count(pending=True)
    chroma = index.path / "chroma"
    if not (chroma / CHROMA_DB).exists():
        if writer_active(index.path):
            return VectorHealth("busy", embedded, 0)
        if embedded:
            return VectorHealth("missing", embedded, 0,
                                f"{chroma}/ is missing, yet {embedded} chunks are marked embedded")
        return VectorHealth("empty", 0, 0)
    try:
        n, fp = fingerprint(chroma)
    except (sqlite3.Error, OSError) as e:
        return VectorHealth("damaged", embedded, 0, f"{chroma / CHROMA_DB} is unreadable ({e})")
    if writer_active(index.path):  # counts move while a writer works: no verdict
        return VectorHealth("busy", embedded, n)
    if deep:
        why = _verdict(index, fp)
        if why is None:
            why = probe(chroma, collection)
            # a writer holding the table makes this fail: probed again next time
            with contextlib.suppress(sqlite3.OperationalError):
                index.set_state(VERDICT_KEY, json.dumps([fp, why], ensure_ascii=False))
        if why:
            return VectorHealth("damaged", embedded, n,
                                f"{chroma}/ does not match its own database ({why})")
    if n < embedded:
        return VectorHealth("partial", embedded, n,
                            f"{embedded - n} of {embedded} embedded chunks have no vector in {chroma}/")
    return VectorHealth("ok" if n else "empty", embedded, n)


def _verdict(index: Index, fp: str) -> str | None:
    """The problem found when the store last had this fingerprint ('' none); None if it
    has changed since (or was never looked at)."""
    try:
        seen, why = json.loads(index.state(VERDICT_KEY) or "[]")
    except (ValueError, TypeError):
        return None
    return str(why) if seen == fp else None


def repair_vectors(index: Index, health: VectorHealth) -> int:
    """Queue for embedding what the vector store lacks; a missing or damaged store is
    dropped and rebuilt from the chunk table. Returns the chunks queued. Writers only."""
    if health.state in ("missing", "damaged"):
        index.drop_vectors()
        return index.mark_pending()
    if health.state == "partial":
        return index.mark_pending(keep=vector_ids(index.path / "chroma"))
    return 0


def trust_vectors(index: Index) -> None:
    """Record the store as it is now as sound: called by a writer, under the lock, when
    its writes are done (its own writes are consistent; no probe is needed)."""
    chroma = index.path / "chroma"
    if (chroma / CHROMA_DB).exists():
        index.set_state(VERDICT_KEY, json.dumps([fingerprint(chroma)[1], ""], ensure_ascii=False))
