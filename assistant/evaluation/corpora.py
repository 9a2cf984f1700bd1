"""The corpus a dataset runs on: generated fixture documents and a cached index of a folder.

An index is cached under ``cache_dir/eval-index/<key>``, the key hashing the corpus's files
and what shapes an index (embedder, chunker/tokenizer/index format versions), so an eval
re-ingests only when one of them changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import json
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import AssistantError
from .datasets import project_root, rel_path

READY = "eval-ready.json"


def _index_versions() -> dict[str, str]:
    vers: dict[str, str] = {}
    for mod, attr in (("assistant.chunk", "CHUNKER_VERSION"),
                      ("assistant.tokenize", "TOKENIZER_VERSION"),
                      ("assistant.index", "FORMAT")):
        with contextlib.suppress(Exception):
            vers[attr] = str(getattr(importlib.import_module(mod), attr))
    return vers


def corpus_files(corpus: Path) -> list[Path]:
    """Every non-hidden file under ``corpus``, sorted."""
    return sorted(f for f in corpus.rglob("*") if f.is_file()
                  and not any(p.startswith(".") for p in f.relative_to(corpus).parts))


def corpus_key(corpus: Path, settings: Settings, versions: dict[str, str] | None = None,
               embedder_id: str = "") -> str:
    """Hash of the corpus (relative paths + content hashes) and of what shapes an index
    (embed model and embedder id, chunker/tokenizer/index format versions)."""
    h = hashlib.sha256()
    vers = _index_versions() if versions is None else versions
    h.update(json.dumps({"embed_model": settings.embed_model, "embedder": embedder_id, **vers},
                        sort_keys=True).encode())
    for f in corpus_files(corpus):
        h.update(f.relative_to(corpus).as_posix().encode("utf-8") + b"\0")
        fh = hashlib.sha256()
        with f.open("rb") as fp:
            for block in iter(lambda: fp.read(1 << 20), b""):
                fh.update(block)
        h.update(fh.digest())
    return h.hexdigest()[:16]


def cached_index(corpus: Path, settings: Settings, progress: bool = True,
                 embedder_id: str = "") -> tuple[Settings, dict[str, Any]]:
    """Settings pointing at an index of ``corpus`` under ``cache_dir/eval-index/<key>``,
    ingesting it when not already built; and its cost entry."""
    from ..ingest import ingest

    key = corpus_key(corpus, settings, embedder_id=embedder_id)
    path = Path(settings.cache_dir) / "eval-index" / key
    s = settings.with_overrides(index=path)
    ready = path / READY
    info: dict[str, Any] = {"key": key, "index": str(path)}
    if ready.exists():
        info["ingested"] = False
        with contextlib.suppress(OSError, ValueError):
            info["built_ingest_s"] = json.loads(ready.read_text("utf-8")).get("seconds")
        return s, info
    t0 = time.perf_counter()
    rep = ingest([corpus], s, prune=True, progress=progress)
    secs = time.perf_counter() - t0
    failed = [f.path for f in rep.failed]
    if not any(f.status in ("added", "updated", "unchanged") for f in rep.files):
        raise AssistantError(f"{corpus}: no document could be ingested for the eval")
    if rep.pending:
        raise AssistantError(f"{corpus}: {rep.pending} chunks still without vectors after ingest")
    ready.write_text(json.dumps({"seconds": round(secs, 2), "corpus": str(corpus),
                                 "failed": failed}, ensure_ascii=False), "utf-8")
    info.update(ingested=True, ingest_s=round(secs, 2))
    if failed:
        info["failed"] = failed
    return s, info


class FixtureUnavailable(AssistantError):
    """A generated corpus cannot be built here (generator or a font missing)."""


def fixture_corpus(name: str, files: Sequence[str], settings: Settings) -> Path:
    """Generate the corpus ``fixtures:<name>`` from ``tests/fixtures_<name>.py``, once.

    Each entry of ``files`` is ``"<which>.<format>"``, made with the module's
    ``make_standard_<format>(directory, which)``. The directory is keyed by the generator's
    source and the file list and reused once complete, so its content (and the index cache
    key) stays the same across runs even where a format embeds a timestamp.
    """
    src = project_root() / "tests" / f"fixtures_{name}.py"
    if not src.exists():
        raise FixtureUnavailable(f"{rel_path(src)} not present")
    key = hashlib.sha256(src.read_bytes() + "|".join(files).encode()).hexdigest()[:16]
    target = Path(settings.cache_dir) / "eval-fixtures" / f"{name}-{key}"
    done = target / ".complete"
    if done.exists():
        return target
    spec = importlib.util.spec_from_file_location(f"_eval_fixtures_{name}", src)
    if spec is None or spec.loader is None:
        raise FixtureUnavailable(f"{rel_path(src)}: cannot import")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    try:
        spec.loader.exec_module(mod)
        target.mkdir(parents=True, exist_ok=True)
        for item in files:
            which, _, fmt = item.partition(".")
            make = getattr(mod, f"make_standard_{fmt}", None)
            if make is None:
                raise FixtureUnavailable(f"{rel_path(src)} has no make_standard_{fmt}")
            make(target, which)
    except FixtureUnavailable:
        raise
    except Exception as e:  # the generator's own "unavailable" (no CJK font, no fpdf2)
        raise FixtureUnavailable(f"fixtures:{name}: {type(e).__name__}: {e}") from None
    done.write_text("\n".join(files), encoding="utf-8")
    return target


def mixed_corpus(name: str, parts: dict[str, list[str]], fixtures: Sequence[str],
                 settings: Settings) -> Path:
    """The corpus ``mix:<name>``: one folder per part, holding copies of the part's sources,
    so that standards, laws and policy texts share one index (gold ``doc`` = ``<part>/<path>``).

    A source is a folder (copied with its tree), a file or a glob (relative to the project
    root; each file by its name), or ``fixtures:<gen>`` (the spec's ``fixtures`` generated by
    :func:`fixture_corpus`). Built under ``cache_dir/eval-fixtures/mix-<name>-<key>``, the key
    hashing the part list and every source file, and reused once complete.
    """
    root = project_root()
    files: list[tuple[str, Path]] = []  # (path in the mixed corpus, source file)
    for part, sources in sorted(parts.items()):
        for src in sources:
            if src.startswith("fixtures:"):
                d = fixture_corpus(src[9:], fixtures, settings)
                files += [(f"{part}/{f.relative_to(d).as_posix()}", f) for f in corpus_files(d)]
            elif any(ch in src for ch in "*?["):
                files += [(f"{part}/{f.name}", f) for f in sorted(root.glob(src)) if f.is_file()]
            elif (root / src).is_dir():
                d = root / src
                files += [(f"{part}/{f.relative_to(d).as_posix()}", f) for f in corpus_files(d)]
            else:
                files.append((f"{part}/{Path(src).name}", root / src))
    h = hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode())
    for rel, f in files:
        h.update(rel.encode("utf-8") + b"\0" + hashlib.sha256(f.read_bytes()).digest())
    target = Path(settings.cache_dir) / "eval-fixtures" / f"mix-{name}-{h.hexdigest()[:16]}"
    done = target / ".complete"
    if done.exists():
        return target
    for rel, f in files:
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target / rel)
    done.write_text("\n".join(rel for rel, _ in files), encoding="utf-8")
    return target
