"""Typed records passed between pipeline stages.

load → parse → chunk → embed → index → retrieve → answer → cite. Every stage takes and
returns these dataclasses; the CLI and UI never see llama-index nodes or Chroma rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Kind = Literal["standard", "law", "policy", "other"]
# national / industry / local / group / enterprise for standards; for laws the catalogue
# level (法律, 行政法规, 部门规章, 地方性法规, 司法解释 …) is kept as written.
Category = str
# Normalised status vocabulary (see parse.normalize_status): the standards' family
# (现行, 即将实施, 废止, 被代替), the laws' family (有效, 已失效) and 未知.
Status = str
STATUSES: tuple[Status, ...] = ("现行", "即将实施", "废止", "有效", "已失效", "被代替", "未知")
# Statuses of a document that is no longer in force: cited only with a warning.
WITHDRAWN: frozenset[Status] = frozenset({"废止", "已失效", "被代替"})


@dataclass
class LoadedFile:
    """The text of one input file, before any structure is found (output of load)."""

    path: str  # POSIX path relative to the ingested root
    format: Literal["pdf", "docx", "txt", "md", "html"]
    # One entry per page for PDFs (page headers/footers still present); one entry otherwise.
    pages: list[str]
    encoding: str = "utf-8"
    sha256: str = ""
    # Metadata the file states about itself: Markdown front matter, HTML <meta> (key as
    # written → value); the parser maps the keys onto DocMeta fields.
    meta: dict[str, str] = field(default_factory=dict)
    ocr_pages: list[int] = field(default_factory=list)  # 1-based PDF pages read by OCR


@dataclass
class DocMeta:
    """Metadata of one document (standard, law, policy text)."""

    doc: str  # POSIX path relative to the ingested root: the document's id
    title: str = ""
    kind: Kind = "other"
    std_no: str = ""  # normalised standard number, e.g. "GB/T 1.1—2020"; "" for non-standards
    category: Category = ""  # national/industry/local/group/enterprise, or the law's level
    force: str = ""  # mandatory / recommended / guidance (standards only)
    status: Status = "未知"
    issued: str = ""  # 发布日期 / 公布日期, ISO yyyy-mm-dd where known
    effective: str = ""  # 实施日期 / 施行日期
    replaces: list[str] = field(default_factory=list)  # numbers this document replaces
    replaced_by: str = ""  # number or title of the replacement, when known
    doc_number: str = ""  # 发文字号 of policy texts, e.g. "渝两江党发〔2024〕13号"
    issuer: str = ""  # 发布机构 of a standard, e.g. "国家市场监督管理总局 国家标准化管理委员会"
    adoption: str = ""  # an adopted international standard, e.g. "ISO 9001:2015, IDT"
    sha256: str = ""
    format: str = ""
    pages: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Clause:
    """One structural unit of a parsed document: a clause, article or policy section."""

    label: str  # exactly as written: "8.6", "第五十四条", "附录C", "A.1", "（二十四）", "前言"
    heading: str  # the unit's own title ("规范性引用文件"); "" where it has none
    text: str  # the full text of the unit, label and heading included
    path: list[str] = field(default_factory=list)  # ancestors, e.g. ["8 要素的编写"]
    page_start: int = 0  # 1-based; 0 when the source has no pages
    page_end: int = 0


@dataclass
class ParsedDocument:
    meta: DocMeta
    clauses: list[Clause]


@dataclass
class Chunk:
    """The unit that is embedded, indexed, retrieved and cited."""

    id: str  # stable: f"{doc}#{clause}#{part}"
    doc: str
    clause: str
    text: str
    heading: str = ""  # heading path, " > "-joined, e.g. "8 要素的编写 > 8.6 规范性引用文件"
    title: str = ""
    std_no: str = ""
    kind: str = "other"
    category: str = ""
    status: str = "未知"
    page_start: int = 0
    page_end: int = 0
    ordinal: int = 0  # position of the chunk in its document
    part: int = 0  # >0 when a long clause was split; all parts share the label

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def page(self) -> str:
        if not self.page_start:
            return ""
        if self.page_end and self.page_end != self.page_start:
            return f"{self.page_start}-{self.page_end}"
        return str(self.page_start)


@dataclass
class Filters:
    """Restrictions on which documents a search may return (empty: all)."""

    kinds: list[str] | None = None
    categories: list[str] | None = None
    current_only: bool = False
    docs: list[str] | None = None
    statuses: list[str] | None = None

    def empty(self) -> bool:
        return not (self.kinds or self.categories or self.current_only or self.docs or self.statuses)


@dataclass
class Evidence:
    """Why a chunk was retrieved: each retriever's rank (1-based) and score, None where
    that retriever did not return it."""

    bm25_rank: int | None = None
    bm25_score: float | None = None
    dense_rank: int | None = None
    dense_sim: float | None = None
    exact: bool = False  # the query named this clause
    rerank: float | None = None  # the cross-encoder's score, where one re-scored it
    # the rank in the fused order, where the learned scorer moved the chunk from it: how
    # sure the retrievers were is read from their own order (assistant/gate.py)
    fused_rank: int | None = None

    def merge(self, other: Evidence) -> None:
        """Take the fields ``other`` has and this one lacks."""
        for name, value in vars(other).items():
            if value not in (None, False) and getattr(self, name) in (None, False):
                setattr(self, name, value)

    def both_within(self, n: int) -> bool:
        """Both BM25 and dense rank the chunk within the first ``n``."""
        return (self.bm25_rank is not None and self.bm25_rank <= n
                and self.dense_rank is not None and self.dense_rank <= n)


@dataclass
class Hit:
    """A retrieved chunk with its fused score and the evidence behind it."""

    chunk: Chunk
    score: float
    rank: int = 0
    evidence: Evidence = field(default_factory=Evidence)
    superseded: bool = False  # a newer version of the same law/standard is indexed
    replaced_by: str = ""

    def to_json(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "rank": self.rank,
            "score": round(self.score, 6),
            "doc": c.doc,
            "title": c.title,
            "std_no": c.std_no,
            "clause": c.clause,
            "heading": c.heading,
            "page": c.page,
            "kind": c.kind,
            "status": c.status,
            "text": c.text,
        }


@dataclass
class Citation:
    n: int  # the marker number used in the answer: [n]
    doc: str
    title: str
    std_no: str
    clause: str
    heading: str = ""
    page: str = ""
    status: str = "未知"
    quote: str = ""
    text: str = ""  # the whole clause, for "open the source"
    warning: str = ""  # e.g. "已废止，被 GB/T 1.1—2020 代替"

    def label(self) -> str:
        """How the clause is cited in prose: "GB/T 1.1—2020 8.6", "标准化法 第十条"."""
        name = self.std_no or self.title or self.doc
        return f"{name} {self.clause}".strip()

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("text", None)
        return d


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # grounding-check findings
    timings: dict[str, float] = field(default_factory=dict)  # retrieve_ms, answer_ms
    mode: str = "extractive"
    resolved_question: str = ""  # the follow-up question after resolution against history

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [c.to_json() for c in self.citations],
            "flags": self.flags,
            "timings": {k: round(v, 1) for k, v in self.timings.items()},
        }
