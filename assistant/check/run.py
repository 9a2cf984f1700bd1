"""Running a check from the CLI or the UI: the index when there is one, a progress display,
the report written where asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import Settings
from . import check_draft, usable
from .records import CheckReport


def open_assistant(settings: Settings) -> Any:
    """An Assistant on the configured index, or None when there is no index (the check then
    runs without the library's statuses, rule texts and related provisions)."""
    from ..service import Assistant

    return usable(Assistant(settings))


def check_file(draft: Path, settings: Settings, catalog: Path | None = None,
               related: bool = True, show_progress: bool = True,
               assistant: Any = None) -> CheckReport:
    """Check ``draft`` with the index of ``settings`` (when present) and a catalogue CSV."""
    from ..parse.catalog import Catalog

    cat = Catalog.load(catalog) if catalog else None
    a = assistant if assistant is not None else open_assistant(settings)
    if not show_progress:
        return check_draft(draft, a, None, cat, related)
    from ..progress import make_progress

    with make_progress("steps/s") as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        return check_draft(draft, a, progress, cat, related)


def write_report(report: CheckReport, out: Path) -> Path:
    from .report import to_markdown

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(to_markdown(report) + "\n", encoding="utf-8")
    return out
