"""Ingestion: files → load → parse → chunk → (keyword index) → embed → Chroma.

Incremental and idempotent: a document whose content hash and chunker version are
unchanged is skipped; a changed one has its chunks replaced in one transaction; vectors are
computed afterwards for every chunk still without one, so an interrupted run is completed by
the next, and keyword search works as soon as the parse phase ends.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import Settings
from .errors import AssistantError, InputFileError
from .health import repair_vectors, trust_vectors
from .index import Index
from .lock import WriterLock

# Input files that are metadata, not documents.
_SKIP_NAMES = {"catalog.csv", "manifest.json", "readme.md"}
_META_SUFFIXES = {".csv", ".json", ".toml", ".txt~"}


@dataclass
class FileResult:
    path: str
    status: str  # added / updated / unchanged / failed / removed
    reason: str = ""
    chunks: int = 0
    ocr_pages: list[int] = field(default_factory=list)  # PDF pages read by OCR (1-based)


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    embedded: int = 0
    pending: int = 0
    repaired: str = ""  # what was wrong with the vector store, and what was queued
    seconds: float = 0.0
    parse_seconds: float = 0.0
    embed_seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    def summary(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in ("added", "updated", "unchanged", "removed", "failed")]
        return (", ".join(parts) + f"; {self.embedded} chunks embedded"
                + (f", {self.pending} still pending" if self.pending else "")
                + f" in {self.seconds:.1f} s"
                + (f"; repaired: {self.repaired}" if self.repaired else ""))

    def to_json(self) -> dict[str, object]:
        return {
            "added": self.count("added"), "updated": self.count("updated"),
            "unchanged": self.count("unchanged"), "removed": self.count("removed"),
            "failed": [{"path": f.path, "reason": f.reason} for f in self.failed],
            "ocr": {f.path: f.ocr_pages for f in self.files if f.ocr_pages},
            "embedded": self.embedded, "pending": self.pending,
            "repaired": self.repaired, "seconds": round(self.seconds, 2),
        }


def discover(paths: list[Path]) -> Iterator[tuple[Path, Path]]:
    """(file, root) for every candidate input; the doc id is the file's path under root."""
    for p in paths:
        if p.is_dir():
            # Unknown formats are yielded too, so that they are reported, not silently ignored.
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p)
                if (f.is_file() and not any(part.startswith(".") for part in rel.parts)
                        and f.name.lower() not in _SKIP_NAMES
                        and f.suffix.lower() not in _META_SUFFIXES):
                    yield f, p
        elif p.is_file():
            yield p, p.parent
        else:
            raise AssistantError(f"{p}: no such file or directory")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def ingest(paths: list[Path], settings: Settings, catalog: Path | None = None, prune: bool = False,
           progress: bool = True, embed: bool = True,
           on_file: Callable[[FileResult], None] | None = None) -> IngestReport:
    """Bring the index at ``settings.index`` up to date with ``paths``, holding the index's
    writer lock throughout (a second writer waits ``settings.lock_timeout`` seconds, then
    fails with :class:`~assistant.errors.IndexBusy`)."""
    from .embed import get_embedder

    t0 = time.perf_counter()
    report = IngestReport()

    def record(fr: FileResult) -> None:
        report.files.append(fr)
        if on_file:
            on_file(fr)

    embedder = get_embedder(settings)
    files = list(discover(paths))  # a missing path fails before any waiting
    with WriterLock(settings.index, settings.lock_timeout):
        index = Index.open(settings, create=True, embedder_id=embedder.id, dim=embedder.dim)
        try:
            report.repaired = _prepare(index, settings)
            with _progress(progress) as bar:
                seen = _parse_files(index, files, catalog, record, bar)
                if prune:
                    _prune(index, paths, seen, record)
                refresh_derived(index, settings)
                report.parse_seconds = time.perf_counter() - t0
                index.update_manifest()
                if embed:
                    t1 = time.perf_counter()
                    report.embedded = embed_pending(index, embedder, settings, bar)
                    report.embed_seconds = time.perf_counter() - t1
            report.pending = index.count(pending=True)
            index.update_manifest()
            trust_vectors(index)
        finally:
            index.close()  # the last connection out folds SQLite's write-ahead log back in
    report.seconds = time.perf_counter() - t0
    return report


def vector_recipe(index: Index, settings: Settings) -> str:
    """The recipe name the index's vectors are (to be) made with: the configured one, or
    for ``auto`` the one the index records (the default where it records none known)."""
    from .embed.recipe import recipe_id, recipe_name

    if settings.embed_recipe != "auto":
        recipe_id(settings.embed_recipe)
        return settings.embed_recipe
    return recipe_name(index.manifest.get("vectors"))


def _prepare(index: Index, settings: Settings) -> str:
    """Bring what the index was built with up to date, and repair its vector store.
    Returns what was repaired ('' if nothing)."""
    from .embed.recipe import recipe_id
    from .tokenize import TOKENIZER_VERSION, add_terms

    add_terms(index.terms())
    if index.manifest.get("tokenizer") != TOKENIZER_VERSION:
        index.retokenize()  # keyword tokens follow the tokenizer; vectors stay valid
    wanted = recipe_id(vector_recipe(index, settings))
    if index.manifest.get("vectors") != wanted:
        # Vectors made another way are replaced one batch at a time; until then the old
        # ones keep serving dense search.
        index.mark_all_pending(wanted)
    return _repair(index)


def _repair(index: Index) -> str:
    """Check the vector store against the chunk table and queue what it lacks (rebuilding
    it when missing or damaged). Writers only: the caller holds the lock."""
    health = index.vector_health(fresh=True)
    queued = repair_vectors(index, health)
    return f"{health.detail} ({queued} chunks queued for embedding)" if health.detail else ""


def _parse_files(index: Index, files: list[tuple[Path, Path]], catalog: Path | None,
                 record: Callable[[FileResult], None], bar: Any) -> set[str]:
    """Load, parse, chunk and store each changed file; returns the document ids seen.

    A document's id is its path under the folder given. Two folders holding the same
    relative path would give two documents one id (the second silently replacing the
    first), so the second fails with a message naming both files."""
    from .parse.catalog import Catalog

    known = index.doc_hashes()
    catalogs: dict[Path, Catalog | None] = {}
    first: dict[str, Path] = {}
    task = bar.add_task("parse", total=len(files)) if bar else None
    for f, root in files:
        rel = f.relative_to(root).as_posix()
        other = first.get(rel)
        first.setdefault(rel, f)
        try:
            if other is not None and other.resolve() == f.resolve():
                continue  # the same file given twice
            if other is not None:
                raise InputFileError(
                    str(f), f"has the same document id '{rel}' as {other} (ids are paths "
                    "under the folder given)", "ingest their common parent folder instead, "
                    "or rename one")
            record(_ingest_file(index, f, root, rel, known, _catalog_for(root, catalog, catalogs)))
        except AssistantError as e:
            record(FileResult(rel, "failed", str(e)))
        except Exception as e:  # a parser bug must not stop the other files
            record(FileResult(rel, "failed", f"{rel}: {type(e).__name__}: {e}"))
        finally:
            if bar is not None and task is not None:
                bar.advance(task)
    return set(first)


def _catalog_for(root: Path, given: Path | None, cache: dict[Path, Any]) -> Any:
    """The catalog for files under ``root``: the one given, else ``root/catalog.csv``."""
    from .parse.catalog import Catalog

    key = Path("<given>") if given is not None else root
    if key not in cache:
        src = given if given is not None else (root / "catalog.csv")
        cache[key] = Catalog.load(src) if src.exists() else None
    return cache[key]


def _ingest_file(index: Index, f: Path, root: Path, rel: str,
                 known: dict[str, tuple[str, str]], catalog: Any) -> FileResult:
    """One file into the chunk table (vectors follow in ``embed_pending``)."""
    from .chunk import CHUNKER_VERSION, chunk_document, passage_text
    from .load import load_file
    from .parse import parse
    from .tokenize import add_terms, tokenize

    sha = _sha256(f)
    if known.get(rel) == (sha, CHUNKER_VERSION):
        return FileResult(rel, "unchanged")
    loaded = load_file(f, root)
    parsed = parse(loaded, catalog)
    parsed.meta.sha256 = sha
    chunks = chunk_document(parsed)
    if not chunks:
        raise InputFileError(rel, "no text found", "check that the file has content")
    passages = [passage_text(c) for c in chunks]
    terms = [c.heading for c in parsed.clauses if c.heading and any("术语" in p for p in c.path)]
    if terms:
        add_terms(terms)
        index.add_terms(terms)
    tokens = [tokenize(p) for p in passages]
    # The root is stored absolute, so that --prune finds it from any working directory.
    index.replace_document(parsed.meta, chunks, passages, tokens, str(root.resolve()))
    return FileResult(rel, "updated" if rel in known else "added", chunks=len(chunks),
                      ocr_pages=loaded.ocr_pages)


def _prune(index: Index, paths: list[Path], seen: set[str],
           record: Callable[[FileResult], None]) -> None:
    """Remove documents whose files are gone, within the folders given only: a file
    argument prunes nothing, and a document whose file still exists is kept."""
    dirs = [p.resolve() for p in paths if p.is_dir()]
    if not dirs:
        return
    for doc in list(index.documents()):
        # Sources stored relative (older indexes) resolve from here: at worst outside
        # every folder given, and so kept.
        f = (Path(index.source_of(doc)) / doc).resolve()
        if doc not in seen and any(f.is_relative_to(d) for d in dirs) and not f.exists():
            index.remove_document(doc)
            record(FileResult(doc, "removed"))


def remove(index: Index, settings: Settings, doc: str) -> bool:
    """Remove one document, under the writer lock (the UI's library tab calls this through
    :meth:`assistant.service.Assistant.remove`). False if it was not indexed."""
    with WriterLock(index.path, settings.lock_timeout):
        _repair(index)  # Chroma is written below: never a damaged one
        ok = index.remove_document(doc)
        refresh_derived(index, settings)
        index.update_manifest()
        trust_vectors(index)
    return ok


def refresh_derived(index: Index, settings: Settings) -> None:
    """Bring what is computed from all documents together, the keyword index and the
    cross-reference counts, up to date after documents were added, changed or removed.
    Nothing is redone when nothing changed (rebuilding BM25 alone takes 9 s for the laws)."""
    if index.bm25_stale():
        index.rebuild_bm25()
    refresh_references(index, settings)


def refresh_references(index: Index, settings: Settings) -> None:
    """Recount cross-references if documents changed since they were last counted."""
    if not index.references_stale():
        return
    from .versions import version_families

    versions = version_families(i.meta for i in index.documents().values())
    index.rebuild_references(lambda d: versions[d].current if d in versions else True)


def embed_pending(index: Index, embedder, settings: Settings, bar=None,  # type: ignore[no-untyped-def]
                  batch: int = 512) -> int:
    """Embed every chunk that has no vector yet; safe to interrupt and re-run."""
    from .embed import chunk_vectors

    total = index.count(pending=True)
    if total == 0:
        return 0
    recipe = vector_recipe(index, settings)
    task = bar.add_task("embed", total=total) if bar is not None else None
    done = 0
    while True:
        rows = index.pending(batch)
        if not rows:
            break

        def tick(n: float) -> None:
            if bar is not None and task is not None:
                bar.advance(task, n)

        chunks = index.get_chunks([r[0] for r in rows])
        bodies = [chunks[r[0]].text if r[0] in chunks else r[2] for r in rows]
        vecs = chunk_vectors(embedder, [r[2] for r in rows], bodies, progress=tick,
                             recipe=recipe)
        index.add_vectors(rows, vecs)
        done += len(rows)
        index.update_manifest()
    return done


class _NoBar:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *a: object) -> None:
        return None


def _progress(enabled: bool):  # type: ignore[no-untyped-def]
    if not enabled:
        return _NoBar()
    from .progress import make_progress

    return make_progress("/s")
