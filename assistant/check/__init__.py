"""Review a draft standard against GB/T 1.1—2020 and the library.

``check_draft(path_or_loaded, assistant=None, progress=None)`` loads and parses the draft with
the project's loader and standards parser, runs the reference, structure and language checks
and, when an index is at hand, lists the related provisions of each technical clause.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .records import CheckReport, Finding, RuleRef

if TYPE_CHECKING:
    from ..parse.catalog import Catalog
    from ..records import LoadedFile

__all__ = ["CheckReport", "Finding", "RuleRef", "check_draft"]

Progress = Callable[[str, int, int], None]


def check_draft(path_or_loaded: str | Path | LoadedFile, assistant: Any = None,
                progress: Progress | None = None, catalog: Catalog | None = None,
                related: bool = True, related_mode: str = "auto") -> CheckReport:
    """All findings about one draft. ``assistant`` (an :class:`assistant.service.Assistant`
    with an index) adds statuses, GB/T 1.1's own clause texts, library terms and the related
    provisions; ``catalog`` adds statuses from a standards catalogue; ``progress(stage, done,
    total)`` is called as the stages finish. ``related_mode`` (auto / hybrid / bm25) chooses
    the related-provisions search; auto is hybrid up to 40 technical clauses, keyword beyond."""
    from .draft import load_draft
    from .language import check_language
    from .library import build_library
    from .references import check_references
    from .structure import check_structure

    t0 = time.perf_counter()
    assistant = usable(assistant)
    steps = 5 if related and assistant is not None else 4

    def tick(n: int) -> None:
        if progress:
            progress("check", n, steps)

    draft = load_draft(path_or_loaded)
    t_load = time.perf_counter()
    tick(1)
    lib = build_library(assistant, catalog)
    tick(2)
    ref_findings, statuses = check_references(draft, lib)
    findings = ref_findings + check_structure(draft, lib.rule_text)
    tick(3)
    findings += check_language(draft, lib)
    tick(4)
    report = CheckReport(draft=draft.path, title=draft.meta.title, std_no=draft.meta.std_no,
                         findings=_dedupe(findings), references=statuses)
    t_check = time.perf_counter()
    _add_related(report, draft, assistant, related, progress, related_mode)
    tick(steps)
    t_end = time.perf_counter()
    report.timings = {"load_s": t_load - t0, "check_s": t_check - t_load,
                      "related_s": t_end - t_check, "total_s": t_end - t0}
    return report


def usable(assistant: Any) -> Any:
    """``assistant`` when it has an index to consult, else None (the check runs on
    GB/T 1.1 and the catalogue alone; the UI's assistant may have no index yet)."""
    from ..errors import IndexMissing

    if assistant is None:
        return None
    try:
        assistant.index  # noqa: B018 - opening it is the test
    except IndexMissing:
        return None
    return assistant


def _add_related(report: CheckReport, draft: Any, assistant: Any, related: bool,
                 progress: Progress | None, mode: str) -> None:
    if not related:
        report.related_note = "相关条款未生成（--no-related）。"
        return
    if assistant is None:
        report.related_note = "没有可用的索引，未生成相关条款（先运行 assistant ingest）。"
        return
    from .related import related_provisions, search_mode, technical_clauses

    used = search_mode(len(technical_clauses(draft)), mode)
    report.related = related_provisions(draft, assistant, progress, mode=used)
    how = "关键词检索" if used == "bm25" else "关键词与语义混合检索"
    report.related_note = f"每个技术要求条款在索引中最接近的条款（{how}），供核查冲突；不是检查结论。"


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, str]] = set()
    out: list[Finding] = []
    for f in findings:
        key = (f.kind, f.clause, f.snippet)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
