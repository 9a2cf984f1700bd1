"""Structure of a standard (GB/T 1.1 layout): cover metadata, 前言, 引言, numbered clauses,
terms, annexes, 参考文献.

The text comes from :func:`assistant.load.load_file`: PDF pages with their running headers,
footers and page numbers still present, or one string for DOCX/TXT/MD/HTML. The parser

1. reads the standard number from the cover (or the running headers, or the file name);
2. removes running headers/footers and page numbers from PDF pages;
3. reads title, dates and replaced numbers from the cover (and 前言);
4. skips the 目次, then walks the lines: a line opens a clause only when it is a heading
   (label + blank + a short title without sentence punctuation, or a label alone whose title
   is on the next line, or — for untitled clauses — a label + blank + a sentence after a
   finished sentence) *and* its number follows the clause tree (the next sibling or first
   child of a clause already seen). Cross-references at the start of a line ("5.3 中规定的",
   "11.5.14.2的试验应") are therefore body text;
5. rejoins lines wrapped inside a sentence and keeps table rows as "cell | cell" lines.

Steps 3 and 4–5 live in :mod:`.cover` and :mod:`.clause_tree`.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import PurePosixPath

from ..identifiers import (
    find_std_numbers,
    normalize_std_no,
    std_base,
    std_category,
    std_number_spans,
)
from ..records import Clause, DocMeta, LoadedFile, ParsedDocument
from .clause_tree import _CLAUSE_RE, _compact, _Line, _Parser, _title_like
from .cover import EFFECTIVE_RE, ISSUED_RE, adoption

__all__ = ["looks_like_standard", "parse_standard"]

# ---------------------------------------------------------------------------------------------
# patterns
# ---------------------------------------------------------------------------------------------

_WS = re.compile(r"[ \t\u3000\xa0\u2002\u2003\u2009]+")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\x00]")

_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
_PAGE_NO = re.compile(
    r"^(?:[-—–－]\s*(?P<d1>\d{1,4}|[IVXLCivxlc]{1,7})\s*[-—–－]"
    r"|第\s*(?P<d2>\d{1,4})\s*页(?:\s*[/，,]?\s*共\s*\d{1,4}\s*页)?"
    r"|(?P<d3>\d{1,4})\s*/\s*\d{1,4}"
    r"|(?P<plain>\d{1,4}|[IVXLC]{1,7}|[ivxlc]{1,7}))$"
)

# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------

def looks_like_standard(loaded: LoadedFile) -> bool:
    """True for the text of a standard: a standard number near the top plus the furniture of a
    standard (ICS/CCS, "XX标准", 前言, "1 范围", 规范性引用文件, 术语和定义, 发布/实施 dates)."""
    text = "\n".join(loaded.pages)
    head = _norm_text(text[:6000])
    lines = [x.strip() for x in head.split("\n") if x.strip()]
    top = "\n".join(lines[:40])
    score = 0
    has_no = any(normalize_std_no(x) for x in lines[:40]
                 if not re.search(r"[\u4e00-\u9fff]", x)) or (
        bool(re.search(r"(?:^|\n)\s*(?:代替|标准编号)", top)) and bool(find_std_numbers(top)))
    stem_no = normalize_std_no(PurePosixPath(loaded.path).stem)
    if has_no:
        score += 2
    if stem_no:
        score += 1
    if re.search(r"(?m)^\s*(?:ICS|CCS)\s", top):
        score += 1
    if re.search(r"(?m)^\s*\S{0,12}(?:国家|行业|地方|团体|企业)标准\s*$", top):
        score += 1
    if ISSUED_RE.search(top) and EFFECTIVE_RE.search(top):
        score += 1
    body = _norm_text(text[:60000])
    if re.search(r"(?m)^\s*1\s*范\s*围\s*$", body):
        score += 2
    if re.search(r"(?m)^\s*2\s*规范性引用文件\s*$", body):
        score += 1
    if re.search(r"(?m)^\s*3\s*术语(?:和定义)?", body):
        score += 1
    if re.search(r"(?m)^\s*前\s*言\s*$", body):
        score += 1
    if re.search(r"本(?:文件|标准)按照\s*GB/T\s*1\.1", body):
        score += 1
    if re.search(r"(?m)^\s*第[一二三四五六七八九十百]+条\s", body):
        score -= 3  # articles: a law or a regulation
    return score >= 4 and (has_no or bool(stem_no))


def parse_standard(loaded: LoadedFile, std_no: str = "") -> ParsedDocument:
    """Metadata and clauses of a standard (see the module docstring); ``std_no`` is the
    number when it is known already (from front matter or a catalogue)."""
    pages = _pages_of(loaded)
    paged = loaded.format == "pdf" or len(pages) > 1
    raw_pages = [[_norm_line(x) for x in p.split("\n")] for p in pages]

    std_no = std_no or _std_no_from_cover(raw_pages) or _std_no_from_headers(raw_pages) or (
        normalize_std_no(PurePosixPath(loaded.path).stem) or "")
    if paged:
        raw_pages = _strip_running(raw_pages, std_no)
    lines: list[_Line] = []
    for i, p in enumerate(raw_pages, start=1):
        blank = not paged  # a page break is no paragraph break
        for x in p:
            if not x:
                blank = True
                continue
            lines.append(_Line(x, i if paged else 0, blank))
            blank = False
    start = _body_start(lines)
    cover = lines[:start]
    meta = DocMeta(doc=loaded.path, kind="standard", std_no=std_no, sha256=loaded.sha256,
                   format=loaded.format, pages=len(loaded.pages) if loaded.format == "pdf" else 0)
    meta.category, meta.force = std_category(std_no) if std_no else ("", "")
    _cover_meta(cover, meta)
    parser = _Parser(lines, start, meta.title, joinable=loaded.format != "docx")
    clauses = parser.run()
    if not meta.title and parser.body_title:
        meta.title = parser.body_title
    if not meta.title:
        meta.title = title_from_name(loaded.path)
    _from_foreword(clauses, meta)
    if not clauses:
        body = "\n".join(x.text for x in lines[start:] or lines)
        clauses = [Clause(label="全文", heading=meta.title, text=body,
                          page_start=lines[0].page if lines else 0,
                          page_end=lines[-1].page if lines else 0)]
    return ParsedDocument(meta=meta, clauses=clauses)


# ---------------------------------------------------------------------------------------------
# lines, headers and footers
# ---------------------------------------------------------------------------------------------

def _pages_of(loaded: LoadedFile) -> list[str]:
    if loaded.format != "pdf" and len(loaded.pages) == 1 and "\f" in loaded.pages[0]:
        return loaded.pages[0].split("\f")  # pdftotext output keeps form feeds between pages
    return list(loaded.pages)


def _norm_text(s: str) -> str:
    return _INVISIBLE.sub("", s).replace("\r\n", "\n").replace("\r", "\n")


_SPACED_CJK = re.compile(r"(?<=[\u4e00-\u9fff，。、；：（）]) (?=[\u4e00-\u9fff，。、；：（）])")
# a page number after a TOC entry's tab (DOCX) becomes a leader
_TAB_PAGE = re.compile(r"\t+(?=(?:[IVXLC]{1,6}|\d{1,3})\s*$)")


def _norm_line(s: str) -> str:
    s = _INVISIBLE.sub("", s)
    s = _TAB_PAGE.sub("……", s)
    s = _WS.sub(" ", s).strip()
    # "本 文 件 规 定 了": some PDFs position every glyph apart; the extracted line then has a
    # blank between all characters
    han = sum(1 for ch in s if "\u4e00" <= ch <= "\u9fff")
    if han >= 4 and len(_SPACED_CJK.findall(s)) >= 0.8 * (han - 1):
        s = _SPACED_CJK.sub("", s)
    return s


def _roman(s: str) -> int | None:
    s = s.upper()
    if not s or any(ch not in _ROMAN for ch in s):
        return None
    total = 0
    for i, ch in enumerate(s):
        v = _ROMAN[ch]
        total += -v if i + 1 < len(s) and _ROMAN[s[i + 1]] > v else v
    return total


def _page_number(s: str) -> tuple[int | None, bool]:
    """(value, decorated) of a page-number line; (None, False) if it is not one."""
    m = _PAGE_NO.match(s)
    if not m:
        return None, False
    for g in ("d1", "d2", "d3"):
        if m.group(g):
            v = m.group(g)
            return (int(v) if v.isdigit() else _roman(v)), True
    v = m.group("plain")
    return (int(v) if v.isdigit() else _roman(v)), False


def _std_no_from_cover(pages: list[list[str]]) -> str:
    first = [x for p in pages[:2] for x in p if x][:60]
    for x in first:
        if "代替" in x or "替代" in x or re.search(r"[\u4e00-\u9fff]", x):
            continue
        no = normalize_std_no(x)
        if no and re.search(r"\d", no.split(" ", 1)[1]):
            return no
    for x in first:
        # "中华人民共和国国家标准 GB/T 40001—2026 数字标准 …": a cover run into one line
        head = re.split(r"代替|替代", x, maxsplit=1)[0]
        nos = [n for n in find_std_numbers(head) if "—" in n]
        if nos and (len(x) < 40 or _KIND_START.match(x) or head.lstrip().startswith(nos[0][:2])):
            return nos[0]
    return ""


_KIND_START = re.compile(r"^(?:中华人民共和国)?\S{0,14}?(?:国家|行业|地方|团体|企业)标准")


def title_from_name(path: str) -> str:
    """A title from a file name, without the standard number in it:
    "GBT 1.1-2020 标准化文件的起草规则.pdf" → "标准化文件的起草规则"."""
    stem = PurePosixPath(path).stem
    rest = stem
    for a, b, _ in reversed(std_number_spans(stem)):
        rest = rest[:a] + " " + rest[b:]
    rest = re.sub(r"^[\s_\-—–.,，、]+|[\s_\-—–.,，、]+$", "", rest)
    rest = re.sub(r"[_\s]+", " ", rest)
    return rest if re.search(r"[\u4e00-\u9fffA-Za-z]{2}", rest) else stem


def _std_no_from_headers(pages: list[list[str]]) -> str:
    counts: Counter[str] = Counter()
    for p in pages:
        body = [x for x in p if x]
        for x in body[:2] + body[-2:]:
            no = None if re.search(r"[\u4e00-\u9fff]", x) else normalize_std_no(x)
            if no:
                counts[no] += 1
    if counts:
        no, n = counts.most_common(1)[0]
        if n >= 2:
            return no
    return ""


def _strip_running(pages: list[list[str]], std_no: str) -> list[list[str]]:
    """Remove running headers, footers and page numbers from the edges of each page."""
    n = len(pages)
    edge_keys: Counter[str] = Counter()
    for p in pages:
        body = [x for x in p if x]
        for x in {*body[:3], *body[-3:]}:
            edge_keys[re.sub(r"\d+", "#", x)] += 1
    repeated = {k for k, c in edge_keys.items()
                if n >= 3 and c >= max(3, (n + 1) // 2) and len(k) <= 80}
    base = std_base(std_no) if std_no else ""

    # plain page numbers must agree with the page index (offset mode), decorated ones need not
    offsets: Counter[tuple[str, int]] = Counter()
    for i, p in enumerate(pages):
        body = [x for x in p if x]
        for x in {*body[:3], *body[-3:]}:
            v, _dec = _page_number(x)
            if v is not None:
                offsets[("r" if not x.strip("-—–－ ").isdigit() else "a", i - v)] += 1
    good_offsets = {k for k, c in offsets.items() if c >= 2 or n <= 2}

    def is_running(x: str, i: int) -> bool:
        if re.sub(r"\d+", "#", x) in repeated:
            return True
        no = normalize_std_no(x)
        if no and std_no and (no == std_no or std_base(no) == base):
            return True
        v, decorated = _page_number(x)
        if v is None:
            return False
        if decorated or not x.isdigit():
            return True  # "- 3 -", "第3页", a roman numeral alone at the edge of a page
        return ("a", i - v) in good_offsets

    out: list[list[str]] = []
    for i, p in enumerate(pages):
        idx = [j for j, x in enumerate(p) if x]
        drop: set[int] = set()
        for j in idx[:3]:
            if is_running(p[j], i):
                drop.add(j)
            else:
                break
        for j in reversed(idx[-3:]):
            if j in drop:
                break
            if is_running(p[j], i):
                drop.add(j)
            else:
                break
        out.append([x for j, x in enumerate(p) if j not in drop])
    return out


# ---------------------------------------------------------------------------------------------
# cover metadata
# ---------------------------------------------------------------------------------------------

def _body_start(lines: list[_Line]) -> int:
    """Index of the first line after the cover: 目次, 前言, 引言 or chapter 1."""
    for i, ln in enumerate(lines):
        c = _compact(ln.text)
        if c in ("目次", "目录", "前言", "引言"):
            return i
        m = _CLAUSE_RE.match(ln.text)
        if m and m.group("label") in ("1", "0") and m.group("sep") and _title_like(m.group("rest")):
            return i
    return 0


def _cover_meta(cover: list[_Line], meta: DocMeta) -> None:
    from .catalog import entry_from
    from .cover import read_cover

    found = read_cover([x.text for x in cover], meta.std_no)
    meta.issued, meta.effective = found.issued, found.effective
    meta.replaces = found.replaces
    meta.title, meta.issuer, meta.adoption = found.title, found.issuer, found.adoption
    # "发布日期：…", "标准状态：…", "代替标准：…" on the cover: as front matter is read
    for key, value in entry_from(found.fields).items():
        if key == "replaces":
            for no in find_std_numbers(value):
                if no != meta.std_no and no not in meta.replaces:
                    meta.replaces.append(no)
        elif key == "status" or (key in _COVER_FIELDS and not getattr(meta, key)):
            setattr(meta, key, value)


_COVER_FIELDS = ("issued", "effective", "title", "issuer", "adoption", "replaced_by")


def _from_foreword(clauses: list[Clause], meta: DocMeta) -> None:
    """Replaced numbers ("本文件代替GB/T 1.1—2009") and adoption ("等同采用ISO …") of 前言."""
    for c in clauses:
        if c.label != "前言":
            continue
        meta.adoption = meta.adoption or adoption(c.text)
        text = re.sub(r"\s+", " ", c.text)
        for m in re.finditer(r"本(?:文件|标准|部分)(?:同时)?(?:代替|替代)(.+?)(?:。|；|，\s*与|，\s*除|,\s*与|$)",
                             text):
            chunk = re.sub(r"《[^》]*》", " ", m.group(1))
            for no in find_std_numbers(chunk):
                if no != meta.std_no and no not in meta.replaces:
                    meta.replaces.append(no)

