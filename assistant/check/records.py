"""Records of a draft check: findings, the cited rule, reference statuses, related provisions."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "note"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "note")


@dataclass
class RuleRef:
    """The rule a finding applies, cited down to the clause that states it."""

    kind: str
    title: str  # short Chinese name of the rule, e.g. "规范性引用文件未列入第2章"
    citation: str  # "GB/T 1.1—2020 8.6"
    summary: str  # the rule in one sentence (our wording, not the standard's text)
    text: str = ""  # the clause's text from the index, when that standard is indexed
    doc: str = ""  # the indexed document the text comes from


@dataclass
class Finding:
    """One defect of the draft: where, what rule, how bad, how to fix it."""

    kind: str
    group: str  # references / structure / language
    severity: Severity
    clause: str  # label of the draft clause ("2", "5.3", "附录A", "前言", "封面")
    snippet: str  # a quote of the draft at that place
    message: str
    rule: RuleRef
    fix: str
    page: int = 0  # 1-based PDF page, 0 when the draft has no pages

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReferenceStatus:
    """A standard the draft cites, as the library and the catalogue know it."""

    std_no: str  # normalised, as cited (dated or not)
    listed: bool  # in 第2章
    normative: bool  # cited normatively in the text (见/按/符合 …)
    status: str = "未知"  # 现行 / 即将实施 / 废止 / 被代替 / 未知
    current: str = ""  # the current edition where known
    replaced_by: str = ""
    title: str = ""
    source: str = ""  # "index", "catalogue" or "" (unknown)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RelatedHit:
    citation: str  # "GB 90003—2019 5.2", "标准化法 第十条"
    title: str
    status: str
    text: str
    score: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RelatedProvision:
    """Indexed clauses on the same subject as one technical clause of the draft."""

    clause: str
    snippet: str
    hits: list[RelatedHit] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"clause": self.clause, "snippet": self.snippet,
                "hits": [h.to_json() for h in self.hits]}


@dataclass
class CheckReport:
    """Everything ``check_draft`` found about one draft."""

    draft: str
    title: str = ""
    std_no: str = ""
    findings: list[Finding] = field(default_factory=list)
    references: list[ReferenceStatus] = field(default_factory=list)
    related: list[RelatedProvision] | None = None  # None: the section was not produced
    related_note: str = ""  # why it is missing, or how it was made
    timings: dict[str, float] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        c = Counter(f.severity for f in self.findings)
        return {s: c.get(s, 0) for s in SEVERITIES}

    def to_json(self) -> dict[str, Any]:
        return {
            "draft": self.draft, "title": self.title, "std_no": self.std_no,
            "counts": self.counts(),
            "findings": [f.to_json() for f in self.findings],
            "references": [r.to_json() for r in self.references],
            "related": None if self.related is None else [r.to_json() for r in self.related],
            "related_note": self.related_note,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }

