"""Find the structure of a loaded file: standard clauses, law articles, policy sections.

``parse(loaded, catalog)`` decides the kind of document, dispatches to the parser for that
kind and merges the catalogue's metadata. The small text helpers shared by the parsers
(dates, page-tagged lines, status vocabulary) live here; the parser modules are imported
lazily so that importing this package stays cheap and free of import cycles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from ..identifiers import cn_to_int, find_std_numbers
from ..records import STATUSES, Clause, DocMeta, LoadedFile, ParsedDocument

if TYPE_CHECKING:
    from .catalog import Catalog

__all__ = ["STATUSES", "normalize_status", "parse", "supersede", "to_iso_date"]

# Raw status words → the standards' family (现行/即将实施/废止) or the laws' family
# (有效/已失效). Which family a word belongs to follows how it is written; ``kind`` then
# moves it into the vocabulary of that kind of document.
_STATUS_WORDS: dict[str, str] = {
    "现行": "现行", "现行标准": "现行", "current": "现行", "active": "现行",
    "有效": "有效", "现行有效": "有效", "生效": "有效", "已生效": "有效", "部分失效": "有效",
    "尚有效": "有效", "valid": "有效", "in force": "有效", "effective": "有效",
    "即将实施": "即将实施", "即将生效": "即将实施", "尚未实施": "即将实施", "尚未生效": "即将实施",
    "未生效": "即将实施", "待实施": "即将实施", "待生效": "即将实施", "upcoming": "即将实施",
    "废止": "废止", "作废": "废止", "已作废": "废止", "withdrawn": "废止", "abolished": "废止",
    "已废止": "已失效", "失效": "已失效", "已失效": "已失效", "无效": "已失效", "已废除": "已失效",
    "废除": "已失效", "repealed": "已失效", "expired": "已失效", "invalid": "已失效",
    "被代替": "被代替", "被替代": "被代替", "已被代替": "被代替", "已被替代": "被代替",
    "代替": "被代替", "已修改": "被代替", "已修订": "被代替", "被修订": "被代替",
    "superseded": "被代替", "replaced": "被代替",
    "未知": "未知", "unknown": "未知",
}
_TO_LAW = {"现行": "有效", "废止": "已失效"}
_TO_STANDARD = {"有效": "现行", "已失效": "废止"}


def normalize_status(s: str | None, kind: str | None = None) -> str:
    """Map a written status onto the shared vocabulary (see ``records.Status``).

    Blank or unrecognised → 未知. With ``kind`` "law"/"policy" the standards' words move to
    the laws' family (现行→有效, 废止→已失效); with "standard" the other way round.
    """
    if not s:
        return "未知"
    key = re.sub(r"\s+", " ", str(s)).strip().strip("。.").lower()
    status = _STATUS_WORDS.get(key)
    if status is None:
        # "现行有效（已修改）", "废止 (2021-01-01)": judge by the leading word
        for word in sorted(_STATUS_WORDS, key=len, reverse=True):
            if key.startswith(word):
                status = _STATUS_WORDS[word]
                break
        else:
            return "未知"
    if kind in ("law", "policy"):
        return _TO_LAW.get(status, status)
    if kind == "standard":
        return _TO_STANDARD.get(status, status)
    return status


_DATE_RE = re.compile(
    r"(?P<y>(?:19|20)\d{2}|[一二〇○零三四五六七八九]{4})\s*(?:年|[-./])\s*"
    r"(?P<m>\d{1,2}|[一二三四五六七八九十]{1,2})\s*(?:月|[-./])\s*"
    r"(?P<d>\d{1,2}|[一二三四五六七八九十]{1,3})(?:\s*日|(?!\d))"
)


def _cn_year(s: str) -> int | None:
    """'2024' / '二〇二四' → 2024; None unless a four-digit year."""
    y = cn_to_int(s)
    return y if y is not None and 1000 <= y <= 9999 else None


def find_dates(text: str) -> list[str]:
    """All dates written in ``text`` as ISO yyyy-mm-dd, in order of appearance."""
    out = []
    for m in _DATE_RE.finditer(text):
        y = _cn_year(m.group("y"))
        mo = cn_to_int(m.group("m"))
        d = cn_to_int(m.group("d"))
        if y and mo and d and 1 <= mo <= 12 and 1 <= d <= 31:
            out.append(f"{y:04d}-{mo:02d}-{d:02d}")
    return out


def to_iso_date(s: str | None) -> str:
    """'2020年5月28日', '2024-6-12', '2024/06/12', '二〇二四年五月十七日' → ISO; else ''."""
    if not s:
        return ""
    dates = find_dates(str(s))
    return dates[0] if dates else ""


@dataclass
class Line:
    """One line of a loaded file with the (1-based) page it is on; page 0 without pages."""

    text: str
    page: int = 0
    end_page: int = 0  # where a paragraph joined from wrapped lines ends; 0 = same page

    @property
    def last_page(self) -> int:
        return self.end_page or self.page


_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_PAGE_NO = re.compile(
    r"^\s*(?:[-—–－]\s*\d{1,4}\s*[-—–－]|第\s*\d{1,4}\s*页(?:\s*[/，,]?\s*共\s*\d{1,4}\s*页)?"
    r"|\d{1,4}\s*/\s*\d{1,4}|\d{1,4})\s*$"
)


def clean(text: str) -> str:
    """Drop zero-width characters and trailing whitespace (they break exact matching)."""
    return _INVISIBLE.sub("", text).rstrip()


def paged_lines(loaded: LoadedFile) -> list[Line]:
    """The file's lines tagged with their page; page furniture of PDFs removed.

    PDF pages keep their running headers/footers and page numbers (see ``LoadedFile``):
    a bare page number, and a first or last line repeated on most pages, are dropped.
    """
    has_pages = loaded.format == "pdf" or len(loaded.pages) > 1
    pages = [[clean(x) for x in p.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
             for p in loaded.pages]
    furniture: set[str] = set()
    if has_pages and len(pages) >= 3:
        edge: dict[str, int] = {}
        for p in pages:
            body = [x.strip() for x in p if x.strip()]
            for x in {*body[:2], *body[-2:]}:
                key = re.sub(r"\d+", "#", x)
                edge[key] = edge.get(key, 0) + 1
        furniture = {k for k, n in edge.items() if n >= max(3, len(pages) // 2) and len(k) < 60}
    out: list[Line] = []
    for i, p in enumerate(pages, start=1):
        for x in p:
            s = x.strip()
            if has_pages and s and (_PAGE_NO.match(s) or re.sub(r"\d+", "#", s) in furniture):
                continue
            out.append(Line(x, i if has_pages else 0))
    return out


_SENTENCE_END = "。；;：:！!？?”’」』）)】》.…"


def join_wrapped(lines: list[Line], starts_block: re.Pattern[str]) -> list[Line]:
    """Rejoin PDF lines wrapped mid-sentence into paragraphs (Chinese joins without space).

    A line continues the previous one unless the previous one ends a sentence, is a heading
    (a short block start without punctuation), or is clearly shorter than a full line; or
    the line itself starts a block (heading, article, section marker: ``starts_block``).
    """
    texts = [ln.text.strip() for ln in lines if ln.text.strip()]
    widths = sorted(len(t) for t in texts)
    # a full line of the page; lines much shorter than it ended their paragraph
    full = widths[int(len(widths) * 0.9)] if len(widths) >= 10 else 0
    out: list[Line] = []
    prev_raw = ""
    for ln in lines:
        s = ln.text.strip()
        if not s:
            continue
        joined = bool(out) and not starts_block.match(s) and not _ends_paragraph(
            prev_raw, starts_block, full)
        if joined:
            prev = out[-1].text
            sep = " " if prev[-1:].isascii() and s[:1].isascii() else ""
            out[-1] = Line(prev + sep + s, out[-1].page, ln.page)
        else:
            out.append(Line(s, ln.page))
        prev_raw = s
    return out


def _ends_paragraph(line: str, starts_block: re.Pattern[str], full: int) -> bool:
    if line.endswith(tuple(_SENTENCE_END)):
        return True
    if full:
        return len(line) < 0.7 * full
    # too few lines to know the page width: a heading such as "(一)总体目标" or "第一章 总则"
    return (bool(starts_block.match(line)) and len(line) <= 40 and not re.match(r"第\S{1,8}条", line)
            and not re.search(r"[。；;，,]", line))


def paragraph_groups(lines: list[Line], target: int = 600) -> list[Clause]:
    """Clauses for text without recognisable structure: consecutive paragraphs ≈ ``target``
    characters each, labelled 第1部分, 第2部分 … (a citable position, not a written label)."""
    groups: list[list[Line]] = []
    size = 0
    for ln in lines:
        s = ln.text.strip()
        if not s:
            continue
        if not groups or (size + len(s) > target and size > 0):
            groups.append([])
            size = 0
        groups[-1].append(Line(s, ln.page, ln.end_page))
        size += len(s)
    return [
        Clause(label=f"第{i}部分", heading="", text="\n".join(x.text for x in g),
               page_start=g[0].page, page_end=g[-1].last_page)
        for i, g in enumerate(groups, start=1)
    ]


def title_from_path(path: str) -> str:
    """A fallback title: the file name without suffix and version date."""
    stem = PurePosixPath(path).stem
    return re.sub(r"\s*[（(]\d{4}-\d{2}-\d{2}[)）]\s*$", "", stem).strip() or stem


def _looks_like_standard(loaded: LoadedFile) -> bool:
    try:
        from .standard import looks_like_standard
    except ImportError:  # the standards parser has not landed yet
        return False
    return bool(looks_like_standard(loaded))


# Levels of a law catalogue (LawRefBook's and the national database's 效力级别).
LAW_LEVELS = frozenset({
    "宪法", "法律", "行政法规", "监察法规", "部门规章", "地方性法规", "地方政府规章", "司法解释",
    "自治条例", "单行条例", "自治条例和单行条例", "经济特区法规", "有关法律问题和重大问题的决定",
    "军事法规", "军事规章",
})


def detect_kind(loaded: LoadedFile, entry: dict[str, str] | None = None) -> str:
    """'standard', 'law', 'policy' or 'other' for a loaded file.

    Article-structured text (第X条 paragraphs in sequence) is recognised first: it is
    unambiguous and most of the corpus. Then standards (whose clauses often look like policy
    sections), policy texts, and texts that are probably legal (a law's title over a
    promulgation line). A catalogue row settles the kind when the text alone does not: one
    with a standard number → "standard", one with a law's level → "law".
    """
    from . import law, policy

    entry = entry or {}
    signal = law.law_signal(loaded)
    if signal == 2:
        return "law"
    if entry.get("std_no"):
        return "standard"
    if entry.get("category", "").strip() in LAW_LEVELS:
        return "law"  # a law catalogue row: a decision, an order, a notice of a ministry
    if _looks_like_standard(loaded):
        return "standard"
    if policy.looks_like_policy(loaded):
        return "policy"
    if signal == 1:
        return "law"  # a law's title over a promulgation line, without articles
    return "other"


def parse(loaded: LoadedFile, catalog: Catalog | None = None,
          today: str | None = None) -> ParsedDocument:
    """Parse a loaded file into metadata and clauses.

    Metadata comes from three sources, later ones winning: the text (cover, 前言), what the
    file states about itself (Markdown front matter, HTML ``<meta>``), the catalogue. A
    standard without a stated status is 现行, or 即将实施 until its effective date
    (``today``, ISO, defaults to the current date)."""
    from . import law, policy
    from .catalog import entry_from

    stated = entry_from(loaded.meta) if loaded.meta else {}
    entry = catalog.lookup(loaded.path, stated.get("std_no", "")) if catalog is not None else {}
    kind = detect_kind(loaded, {**stated, **entry})
    if kind == "standard":
        from .standard import parse_standard

        doc = parse_standard(loaded, (entry or stated).get("std_no", ""))
    elif kind == "law":
        doc = law.parse_law(loaded)
    elif kind == "policy":
        doc = policy.parse_policy(loaded)
    else:
        doc = parse_other(loaded)
    meta = doc.meta
    if catalog is not None and meta.std_no:
        entry = catalog.lookup(loaded.path, meta.std_no) or entry
    merge_meta(meta, stated)
    merge_meta(meta, entry)
    if meta.kind == "standard":
        _standard_status(meta, today)
    meta.sha256 = meta.sha256 or loaded.sha256
    meta.format = meta.format or loaded.format
    meta.pages = meta.pages or (len(loaded.pages) if loaded.format == "pdf" else 0)
    return doc


def _standard_status(meta: DocMeta, today: str | None) -> None:
    """Category and force follow the number; a status the document does not state follows
    its dates (a newer indexed edition that replaces it is found across documents, see
    :func:`supersede`)."""
    from datetime import date

    from ..identifiers import std_category

    if meta.std_no:
        meta.category, meta.force = std_category(meta.std_no)
    if meta.status == "未知" and (meta.effective or meta.issued):
        today = today or date.today().isoformat()
        meta.status = "即将实施" if meta.effective and meta.effective > today else "现行"


def supersede(metas: list[DocMeta]) -> list[DocMeta]:
    """Standards another indexed standard replaces (its ``replaces`` names them, or it is a
    newer edition of the same number): marked 被代替 with ``replaced_by`` set, unless a
    catalogue or the document says otherwise (废止 stays 废止). Returns the changed ones."""
    from ..identifiers import std_base

    by_no = {m.std_no: m for m in metas if m.kind == "standard" and m.std_no}
    newer: dict[str, str] = {}
    for m in by_no.values():
        for old in m.replaces:
            if old in by_no and old != m.std_no:
                newer.setdefault(old, m.std_no)
    by_base: dict[str, list[DocMeta]] = {}
    for m in by_no.values():
        by_base.setdefault(std_base(m.std_no), []).append(m)
    for group in by_base.values():
        latest = max(group, key=lambda m: (m.effective or m.issued, m.std_no))
        for m in group:
            if m is not latest and (m.effective or m.issued) < (latest.effective or latest.issued):
                newer.setdefault(m.std_no, latest.std_no)
    changed = []
    for no, repl in newer.items():
        m = by_no[no]
        if m.status in ("现行", "即将实施", "未知"):
            m.status, m.replaced_by = "被代替", m.replaced_by or repl
            changed.append(m)
    return changed


def merge_meta(meta: DocMeta, entry: dict[str, str] | None) -> DocMeta:
    """Overlay a catalogue row on parsed metadata: the catalogue is the curated source, so its
    non-blank values win, except a law's dates: its text gives the first promulgation date,
    which the catalogue (dating the version) only fills in when the text has none. The
    status is moved into the vocabulary of the document's kind."""
    for key, value in (entry or {}).items():
        if not value or not hasattr(meta, key) or key in ("doc", "kind"):
            continue
        if meta.kind == "law" and key in ("issued", "effective") and getattr(meta, key):
            continue
        if key == "replaces":
            vals = value if isinstance(value, list) else (
                find_std_numbers(value) or re.split(r"[,，;；、]+", value))
            meta.replaces = [v.strip() for v in vals if v.strip()]
        else:
            setattr(meta, key, value)
    meta.status = normalize_status(meta.status, meta.kind)
    return meta


def parse_other(loaded: LoadedFile) -> ParsedDocument:
    """A text with no known structure: paragraph groups, title from the first short line."""
    lines = paged_lines(loaded)
    if loaded.format == "pdf":
        lines = join_wrapped(lines, re.compile(r"^$"))
    title = ""
    for ln in lines:
        s = ln.text.strip().lstrip("#").strip()
        if s:
            title = s if len(s) <= 60 else ""
            break
    meta = DocMeta(doc=loaded.path, title=title or title_from_path(loaded.path), kind="other",
                   sha256=loaded.sha256, format=loaded.format)
    return ParsedDocument(meta=meta, clauses=paragraph_groups(lines))
