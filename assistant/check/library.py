"""What the library knows that a check needs: editions and statuses of standards (index
metadata and a standards catalogue), the text of GB/T 1.1—2020's clauses where it is indexed,
and the terms defined by indexed standards."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..identifiers import normalize_clause_label, std_base, std_year

if TYPE_CHECKING:
    from ..parse.catalog import Catalog

_GBT11 = "GB/T 1.1"


@dataclass
class Edition:
    std_no: str
    status: str = "未知"
    replaced_by: str = ""
    title: str = ""
    source: str = ""  # index / catalogue


@dataclass
class Library:
    """Editions by base number (``GB/T 1.1`` → editions), rule texts, defined terms."""

    editions: dict[str, dict[str, Edition]] = field(default_factory=dict)
    rule_text: dict[str, tuple[str, str]] = field(default_factory=dict)  # clause → (text, doc)
    terms: dict[str, tuple[str, str]] = field(default_factory=dict)  # term → (std_no, label)
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)

    def add(self, ed: Edition) -> None:
        eds = self.editions.setdefault(std_base(ed.std_no), {})
        old = eds.get(ed.std_no)
        if old is None or (old.status == "未知" and ed.status != "未知"):
            eds[ed.std_no] = ed
        elif not old.replaced_by and ed.replaced_by:
            old.replaced_by = ed.replaced_by

    def term_pattern(self) -> re.Pattern[str] | None:
        """One alternation of the library's terms (3+ characters), longest first."""
        if self._pattern is None and self.terms:
            words = sorted((t for t in self.terms if len(t) >= 3), key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, words))) if words else None
        return self._pattern

    def knows(self, std_no: str) -> bool:
        return std_base(std_no) in self.editions

    def edition(self, std_no: str) -> Edition | None:
        return self.editions.get(std_base(std_no), {}).get(std_no)

    def current(self, std_no: str) -> Edition | None:
        """The edition in force of this number: 现行 first, else the newest known."""
        eds = list(self.editions.get(std_base(std_no), {}).values())
        if not eds:
            return None
        live = [e for e in eds if e.status in ("现行", "有效")]
        pool = live or eds
        return max(pool, key=lambda e: std_year(e.std_no) or "0")


def build_library(assistant: Any = None, catalog: Catalog | None = None) -> Library:
    """Merge the index's standards (when ``assistant`` has an index) and the catalogue."""
    lib = Library()
    if catalog is not None:
        for no, row in catalog.by_number.items():
            lib.add(Edition(no, row.get("status", "未知") or "未知", row.get("replaced_by", ""),
                            row.get("title", ""), "catalogue"))
    if assistant is None:
        return lib
    docs = assistant.index.documents()
    for info in docs.values():
        m = info.meta
        if m.kind != "standard" or not m.std_no:
            continue
        lib.add(Edition(m.std_no, m.status or "未知", m.replaced_by, m.title, "index"))
        if std_base(m.std_no) == _GBT11 and std_year(m.std_no) == "2020":
            lib.rule_text = _clause_texts(assistant, m.doc)
        lib.terms.update(_terms_of(assistant, m.doc, m.std_no))
    return lib


def _clause_texts(assistant: Any, doc: str) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for ch in assistant.clause(doc):
        label = normalize_clause_label(ch.clause)
        prev = out.get(label, ("", doc))[0]
        out[label] = ((prev + "\n" + ch.text).strip() if prev else ch.text, doc)
    return out


_TERM_HEAD = re.compile(r"^(\d+\.\d+(?:\.\d+)*)\s+(?P<term>[^\s；;]{2,20})")


def _terms_of(assistant: Any, doc: str, std_no: str) -> dict[str, tuple[str, str]]:
    """Terms an indexed standard defines: entries of its 术语和定义 chapter."""
    out: dict[str, tuple[str, str]] = {}
    for ch in assistant.clause(doc):
        parts = [p.strip() for p in (ch.heading or "").split(">")]
        if len(parts) < 2 or "术语" not in parts[0]:
            continue
        m = _TERM_HEAD.match(parts[-1])
        if m and re.search(r"[\u4e00-\u9fff]", m.group("term")):
            out.setdefault(m.group("term"), (std_no, ch.clause))
    return out
