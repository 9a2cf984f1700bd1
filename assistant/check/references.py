"""Normative references: 第2章 against the references in the text, dates, statuses, formats.

Standard numbers are found and normalised by :mod:`assistant.identifiers`; a reference in the
text is normative when a 见/按/符合-type verb introduces it (not 参见), or when it imports terms
("GB/T … 界定的"), outside notes, examples and informative annexes.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from ..identifiers import std_base, std_category, std_number_spans, std_year
from .draft import REFS, Draft, Para, compact, sentences, snippet
from .library import Library
from .records import Finding, ReferenceStatus
from .rules import finding

_SKIP_CLAUSES = frozenset({"前言", "引言", "参考文献", "索引"})
_NORMATIVE_VERB = re.compile(r"(?<!参)(?:见|按照?|依据|根据|符合|满足|遵守|遵照|执行|采用)")
_INFORMATIVE_VERB = re.compile(r"(?:参见|参考|参照)\s*(?:《[^》]{0,60}》)?\s*$")
_IMPORTS = re.compile(r"^\s*(?:《[^》]{0,60}》)?\s*(?:中)?(?:界定|规定|确立|给出)的")
_SPECIFIC = re.compile(
    r"^\s*(?:《[^》]{0,60}》)?\s*(?:的|中的?)?\s*(?P<loc>第\s*\d{1,2}\s*[章条]|\d{1,2}(?:\.\d{1,3})+"
    r"|\d{1,2}\s*[章条]|[A-Z](?:\.\d{1,3})+|附录\s*[A-Z](?![A-Za-z])|[表图]\s*(?:[A-Z]\.)?\d{1,3})"
    r"(?![\d.]|\s*(?:部分|个|次|级|类|种|项|mm|cm|m\b|%|℃))")
_LEADIN = ("下列文件中的内容通过文中的规范性引用而构成本文件必不可少的条款",
           "注日期的引用文件仅该日期对应的版本适用于本文件不注日期的引用文件其最新版本"
           "包括所有的修改单适用于本文件")
_NO_REFS = "本文件没有规范性引用文件"


@dataclass
class Mention:
    std_no: str
    written: str
    clause: str
    text: str  # the sentence it is in
    page: int
    normative: bool
    specific: str  # "5.2", "表1" … when a part of the document is cited


@dataclass
class Entry:
    std_no: str
    written: str
    title: str
    para: Para


def _punctless(s: str) -> str:
    return re.sub(r"[\s，,。；;：:（）()“”\"、]", "", s)


def mentions(draft: Draft) -> list[Mention]:
    """Standard numbers cited in the text (not 前言, 第2章, 参考文献)."""
    out: list[Mention] = []
    for p in draft.paras:
        if p.clause in _SKIP_CLAUSES or p.clause == _refs_label(draft) or p.role in ("heading", "marker"):
            continue
        informative = p.role in ("note", "example") or draft.in_informative_annex(p.clause)
        for sent in sentences(p.text):
            for s, e, no in std_number_spans(sent, international=True):
                before, after = sent[:s], sent[e:]
                normative = not informative and not _INFORMATIVE_VERB.search(before) and bool(
                    _NORMATIVE_VERB.search(before) or _IMPORTS.match(after) or p.role == "table")
                m = _SPECIFIC.match(after)
                out.append(Mention(no, sent[s:e], p.clause, sent, p.page, normative,
                                   compact(m.group("loc")) if m else ""))
    return out


def _refs_label(draft: Draft) -> str:
    c = draft.chapter(REFS)
    return c.label if c else "2"


def entries(draft: Draft) -> list[Entry]:
    """The documents listed in 第2章, in order."""
    out: list[Entry] = []
    label = _refs_label(draft)
    for p in draft.paras:
        if not (p.clause == label or p.clause.startswith(label + ".")) or p.role in ("heading", "marker"):
            continue
        spans = std_number_spans(p.text, international=True)
        if spans and spans[0][0] <= 2:
            s, e, no = spans[0]
            out.append(Entry(no, p.text[s:e], p.text[e:].strip(), p))
    return out


def check_references(draft: Draft, lib: Library) -> tuple[list[Finding], list[ReferenceStatus]]:
    """All findings about normative references, and the status of every cited document."""
    ms, es = mentions(draft), entries(draft)
    rt = lib.rule_text
    found: list[Finding] = []
    found += _chapter_findings(draft, es, rt)
    found += _listing_findings(ms, es, rt)
    found += _date_findings(ms, es, rt)
    found += _format_findings(ms, es, rt)
    found += _order_findings(es, rt)
    status_f, statuses = _status_findings(ms, es, lib)
    return found + status_f, statuses


def _chapter_findings(draft: Draft, es: list[Entry], rt: dict) -> list[Finding]:
    ch = draft.chapter(REFS)
    if ch is None:
        return []  # reported by the structure checks as a missing element
    out: list[Finding] = []
    for c in draft.clauses:
        if c.label.startswith(ch.label + "."):
            out.append(finding("ref_subdivided", c.label, c.text.split("\n")[0][:60],
                               f"第{ch.label}章“规范性引用文件”被分为条（{c.label}）。", rt,
                               c.page_start, label=c.label))
    body = _punctless("".join(p.text for p in draft.paras_of(ch.label) if p.role == "body"))
    has_leadin = all(x in body for x in _LEADIN)
    says_none = _NO_REFS in body
    if not (has_leadin or (says_none and not es)):
        first = next((p.text for p in draft.paras_of(ch.label) if p.role == "body"), ch.heading)
        why = ("写了“本文件没有规范性引用文件”却列出了文件" if says_none
               else "缺少或改写了规定的引导语")
        out.append(finding("ref_leadin", ch.label, snippet(first), f"第{ch.label}章{why}。", rt,
                           ch.page_start))
    return out


def _listing_findings(ms: list[Mention], es: list[Entry], rt: dict) -> list[Finding]:
    out: list[Finding] = []
    listed = {std_base(e.std_no) for e in es}
    cited = {std_base(m.std_no) for m in ms if m.normative}
    seen: set[str] = set()
    for m in ms:
        b = std_base(m.std_no)
        if m.normative and b not in listed and b not in seen:
            seen.add(b)
            out.append(finding("ref_unlisted", m.clause, snippet(m.text, m.text.find(m.written)),
                               f"{m.std_no} 在 {m.clause} 中被规范性引用，但未列入第2章。", rt,
                               m.page, std=m.std_no))
    for e in es:
        if std_base(e.std_no) not in cited:
            out.append(finding("ref_uncited", e.para.clause, snippet(e.para.text),
                               f"第2章列出了 {e.std_no}，但文中没有规范性引用它。", rt,
                               e.para.page, std=e.std_no))
    return out


def _date_findings(ms: list[Mention], es: list[Entry], rt: dict) -> list[Finding]:
    out: list[Finding] = []
    listed = {std_base(e.std_no): e.std_no for e in es}
    for m in ms:
        where = snippet(m.text, m.text.find(m.written))
        if m.specific and not std_year(m.std_no) and not m.std_no.startswith(("ISO", "IEC", "EN")):
            dated = listed.get(std_base(m.std_no), "")
            out.append(finding("ref_undated_specific", m.clause, where,
                               f"引用了 {m.std_no} 的 {m.specific}，但未注日期。", rt, m.page,
                               std_dated=dated if std_year(dated) else f"{m.std_no}—YYYY"))
            continue
        lst = listed.get(std_base(m.std_no))
        if lst and std_year(m.std_no) and std_year(m.std_no) != std_year(lst):
            out.append(finding("ref_date_mismatch", m.clause, where,
                               f"文中引用 {m.std_no}，第2章列出的是 {lst}。", rt, m.page,
                               listed=lst, cited=m.std_no))
    return out


def _format_findings(ms: list[Mention], es: list[Entry], rt: dict) -> list[Finding]:
    out: list[Finding] = []
    seen: set[str] = set()
    items = [(e.written, e.std_no, e.para.clause, e.para.text, e.para.page) for e in es]
    items += [(m.written, m.std_no, m.clause, m.text, m.page) for m in ms]
    for written, no, clause, text, page in items:
        if no.startswith(("ISO", "IEC", "EN", "IEEE")):
            continue
        w = re.sub(r"\s+", " ", written.strip())
        if w == no or (w, clause) in seen:
            continue
        seen.add((w, clause))
        out.append(finding("ref_number_format", clause, snippet(text, text.find(written)),
                           f"编号“{w}”的写法不规范，应为“{no}”。", rt, page, written=w, std=no))
    return out


_GROUP_RANK = {"national": 0, "industry": 1, "local": 2, "group": 3, "enterprise": 4}


def _order_key(no: str) -> tuple:
    cat, _ = std_category(no)
    rank = _GROUP_RANK.get(cat, 5 if no.startswith(("ISO", "IEC")) else 6)
    prefix, _, rest = std_base(no).partition(" ")
    nums = tuple(int(x) for x in re.findall(r"\d+", re.split(r"[:：]", rest)[0])[:5])
    return (rank, prefix, nums)


def _order_findings(es: list[Entry], rt: dict) -> list[Finding]:
    for prev, cur in itertools.pairwise(es):
        if _order_key(cur.std_no) < _order_key(prev.std_no):
            return [finding("ref_order", cur.para.clause, snippet(cur.para.text),
                            f"{cur.std_no} 排在 {prev.std_no} 之后，不符合规定的排列顺序。", rt,
                            cur.para.page, std=cur.std_no, before=prev.std_no)]
    return []


def _status_findings(ms: list[Mention], es: list[Entry], lib: Library
                     ) -> tuple[list[Finding], list[ReferenceStatus]]:
    out: list[Finding] = []
    statuses: list[ReferenceStatus] = []
    normative = {std_base(m.std_no) for m in ms if m.normative}
    places: dict[str, tuple[str, str, int]] = {}
    for e in es:
        places.setdefault(e.std_no, (e.para.clause, e.para.text, e.para.page))
    for m in ms:
        places.setdefault(m.std_no, (m.clause, m.text, m.page))
    listed = {e.std_no for e in es}
    for no, (clause, text, page) in places.items():
        rs = _status_of(no, lib)
        rs.listed, rs.normative = no in listed, std_base(no) in normative
        statuses.append(rs)
        kind, msg, details = _status_verdict(no, rs, lib)
        if kind:
            out.append(finding(kind, clause, snippet(text, max(0, text.find(no))), msg,
                               lib.rule_text, page, std=no, **details))
    return out, statuses


def _status_of(no: str, lib: Library) -> ReferenceStatus:
    ed = lib.edition(no) if std_year(no) else lib.current(no)
    cur = lib.current(no)
    rs = ReferenceStatus(std_no=no, listed=False, normative=False)
    if ed is not None:
        rs.status, rs.replaced_by, rs.title, rs.source = ed.status, ed.replaced_by, ed.title, ed.source
    if cur is not None and cur.status in ("现行", "有效"):
        rs.current = cur.std_no
    return rs


def _status_verdict(no: str, rs: ReferenceStatus, lib: Library) -> tuple[str, str, dict]:
    if no.startswith(("ISO", "IEC", "EN", "IEEE")) and not lib.knows(no):
        return "", "", {}
    if not lib.knows(no):
        return "ref_unknown", f"{no} 未在文库或标准目录中找到。", {}
    year = std_year(no)
    newer = rs.current and rs.current != no and std_year(rs.current) > year
    if rs.status == "废止":
        rep = rs.replaced_by or (rs.current if newer else "")
        return ("ref_withdrawn", f"{no} 已废止" + (f"，被 {rep} 代替" if rep else "") + "。",
                {"replacement": f" {rep}" if rep else ""})
    if rs.status == "被代替" or (year and newer):
        cur = rs.replaced_by or rs.current
        return ("ref_superseded", f"{no} 不是现行版本" + (f"，现行版本为 {cur}" if cur else "") + "。",
                {"current": cur})
    if rs.status == "即将实施":
        return "ref_upcoming", f"{no} 尚未实施（即将实施）。", {}
    if year and lib.edition(no) is None:
        return "ref_unknown", f"{no} 这一版本未在文库或标准目录中找到。", {}
    return "", "", {}
