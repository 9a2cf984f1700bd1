"""Eval datasets: JSONL questions with clause-level gold, and the manifest naming them.

``eval/datasets/manifest.toml`` names the project's sets and the corpus each runs on;
``resolve_datasets`` turns command-line arguments (paths or names) into ``DatasetSpec``s.
"""

from __future__ import annotations

import contextlib
import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import QuestionFileError
from ..metrics import Pair


def project_root() -> Path:
    """The project's root (the folder holding ``assistant/``)."""
    return Path(__file__).resolve().parents[2]


def shared_root() -> Path:
    """``../shared`` relative to the project root (may be absent)."""
    return project_root().parent / "shared"


@dataclass
class Question:
    id: str
    question: str
    gold: list[Pair]
    reference_answer: str = ""
    kind: str = ""
    split: str = ""  # "calibration" / "held-out" where a dataset marks its parts
    # earlier turns of the conversation, (question, answer): "该标准…" follow-ups
    history: list[tuple[str, str]] = field(default_factory=list)

    @property
    def gold_set(self) -> set[Pair]:
        return set(self.gold)


def load_questions(path: Path, limit: int | None = None) -> list[Question]:
    """Read a JSONL dataset; a malformed line raises QuestionFileError naming file and line."""
    out: list[Question] = []
    seen: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise QuestionFileError(f"{path}: cannot read ({e.strerror or e})") from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            row = json.loads(line)
        except ValueError as e:
            raise QuestionFileError(f"{where}: not JSON ({e})") from None
        if not isinstance(row, dict) or not str(row.get("question", "")).strip():
            raise QuestionFileError(f"{where}: needs an object with a non-empty \"question\"")
        gold_raw = row.get("gold", [])
        if not isinstance(gold_raw, list):
            raise QuestionFileError(f"{where}: \"gold\" must be a list of {{doc, clause}}")
        gold: list[Pair] = []
        for g in gold_raw:
            if not isinstance(g, dict) or not g.get("doc") or not g.get("clause"):
                raise QuestionFileError(f"{where}: each gold item needs \"doc\" and \"clause\"")
            pair = (str(g["doc"]), str(g["clause"]))
            if pair not in gold:
                gold.append(pair)
        history = row.get("history") or []
        if not (isinstance(history, list) and all(
                isinstance(t, list) and len(t) == 2 and all(isinstance(x, str) for x in t)
                for t in history)):
            raise QuestionFileError(f"{where}: \"history\" must be a list of [question, answer]")
        qid = str(row.get("id") or f"line{n}")
        if qid in seen:
            raise QuestionFileError(f"{where}: duplicate id {qid!r}")
        seen.add(qid)
        out.append(Question(qid, str(row["question"]).strip(), gold,
                            str(row.get("reference_answer") or ""), str(row.get("kind") or ""),
                            str(row.get("split") or ""), [(t[0], t[1]) for t in history]))
        if limit is not None and len(out) >= limit:
            break
    return out


@dataclass
class DatasetSpec:
    """One dataset and where it runs: a corpus directory, a fixture generator, or the index."""

    name: str
    file: Path
    corpus: str = ""  # a directory (relative to the project root), "fixtures:<name>",
    # "mix:<name>" (several sources in one index, see ``parts``), or ""
    fixtures: list[str] = field(default_factory=list)  # for fixtures: "<which>.<format>"
    # for "mix:<name>": folder in the mixed corpus → what goes in it (see corpora.mixed_corpus)
    parts: dict[str, list[str]] = field(default_factory=dict)
    optional: bool = False
    default: bool = True
    description: str = ""
    skipped: str = ""  # why it cannot run here (e.g. ../shared absent)


def manifest_path() -> Path:
    return project_root() / "eval" / "datasets" / "manifest.toml"


def load_manifest(path: Path | None = None) -> dict[str, DatasetSpec]:
    """The project's datasets, paths resolved against the project root."""
    path = path or manifest_path()
    if not path.exists():
        return {}
    root = project_root()
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out = {}
    for name, t in data.items():
        if not isinstance(t, dict) or "file" not in t:
            continue
        out[name] = DatasetSpec(
            name=name, file=(root / t["file"]).resolve(), corpus=str(t.get("corpus", "")),
            fixtures=[str(x) for x in t.get("fixtures", [])],
            parts={str(k): [str(x) for x in v] for k, v in dict(t.get("parts", {})).items()},
            optional=bool(t.get("optional", False)), default=bool(t.get("default", True)),
            description=str(t.get("description", "")),
        )
    return out


def resolve_datasets(datasets: Sequence[Path | str], manifest: dict[str, DatasetSpec] | None = None
                     ) -> list[DatasetSpec]:
    """Each argument is a JSONL path or a manifest name; none = the manifest's default sets.

    A manifest set whose file is absent is returned with ``skipped`` set when it is optional
    (``../shared`` data) and raises otherwise.
    """
    manifest = load_manifest() if manifest is None else manifest
    if not datasets:
        chosen = [s for s in manifest.values() if s.default]
    else:
        chosen = []
        by_file = {s.file: s for s in manifest.values()}
        for d in datasets:
            p = Path(d)
            if p.is_file():
                spec = by_file.get(p.resolve())
                chosen.append(spec if spec is not None else DatasetSpec(p.stem, p.resolve()))
            elif str(d) in manifest:
                chosen.append(manifest[str(d)])
            elif p.stem in manifest and p.suffix == ".jsonl" and not manifest[p.stem].file.exists():
                chosen.append(manifest[p.stem])
            else:
                known = ", ".join(sorted(manifest)) or "none"
                raise QuestionFileError(
                    f"{d}: no such dataset file or manifest name (known names: {known})")
    out = []
    for s in chosen:
        if not s.file.exists():
            if not s.optional:
                raise QuestionFileError(f"{s.file}: dataset '{s.name}' is missing")
            s = DatasetSpec(**{**s.__dict__, "skipped": f"{rel_path(s.file)} not present"})
        elif s.corpus and not s.corpus.startswith("fixtures:"):
            missing = _missing_sources(s)
            if missing:
                if not s.optional:
                    raise QuestionFileError(f"{missing}: corpus of dataset '{s.name}' is missing")
                s = DatasetSpec(**{**s.__dict__, "skipped": f"{rel_path(missing)} not present"})
        out.append(s)
    return out


def _missing_sources(s: DatasetSpec) -> Path | None:
    """The first source of a spec's corpus that is not there (a folder, or a part's file
    or glob of a mixed corpus), or None."""
    root = project_root()
    if not s.corpus.startswith("mix:"):
        cdir = (root / s.corpus).resolve()
        return None if cdir.is_dir() else cdir
    for sources in s.parts.values():
        for src in sources:
            if src.startswith("fixtures:"):
                continue
            if any(ch in src for ch in "*?["):
                if not any(root.glob(src)):
                    return (root / src).resolve()
            elif not (root / src).exists():
                return (root / src).resolve()
    return None


def rel_path(p: Path) -> str:
    """A path for reports: relative to the project root ("../shared/…" beside it)."""
    p = p.resolve()
    with contextlib.suppress(ValueError):
        return p.relative_to(project_root()).as_posix() or "."
    with contextlib.suppress(ValueError):
        return "../" + p.relative_to(project_root().parent).as_posix()
    return str(p)
