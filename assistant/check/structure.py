"""Structure: required elements and their order, 前言's drafting basis, the terms lead-in,
clause numbering (gaps, duplicates, lone subclauses), hanging paragraphs, annexes."""

from __future__ import annotations

import re
from collections import Counter

from .draft import REFS, SCOPE, TERMS, Draft, Para, compact, sentences, snippet
from .records import Finding
from .rules import finding

_LABEL = re.compile(r"^(?P<label>\d{1,2}(?:\.\d{1,3}){0,5}|[A-Z](?:\.\d{1,3}){1,5})[ \u3000]+(?P<rest>\S.{0,30})$")
_NOT_TITLE = re.compile(r"[。；;，,：:！？]|^(?:的|中|和|或|与|至|mm|cm|m|kg|min|s|h|d|℃|%|个|次|倍)")
_TERMS_LEADIN = ("下列术语和定义适用于本文件", "界定的术语和定义适用于本文件",
                 "本文件没有需要界定的术语和定义")
_ANNEX_TITLE = re.compile(r"附\s*录\s*[A-Z](?![A-Za-z])(?=\s*[（(]\s*(?:规范性|资料性)|\s*$)")
_ELEMENTS = ((SCOPE, "1", "8.5"), (REFS, "2", "8.6"), (TERMS, "3", "8.7"))


def check_structure(draft: Draft, rt: dict) -> list[Finding]:
    out = _elements(draft, rt)
    out += _foreword(draft, rt)
    out += _terms_leadin(draft, rt)
    out += _numbering(draft, rt)
    out += _lone_and_hanging(draft, rt)
    out += _annexes(draft, rt)
    return out


# -- elements -----------------------------------------------------------------------------

def _elements(draft: Draft, rt: dict) -> list[Finding]:
    out: list[Finding] = []
    cover = " ".join(draft.cover[:3])
    if not draft.meta.std_no:
        out.append(finding("missing_element", "封面", cover[:60], "封面上没有文件编号。", rt,
                           1 if draft.loaded and draft.loaded.format == "pdf" else 0,
                           rule_clause="8.1", element="封面的文件编号", at="8.1"))
    if not any(re.match(r"^ICS\s*\d", x) for x in draft.cover):
        out.append(finding("missing_element", "封面", cover[:60], "封面上没有ICS号。", rt,
                           rule_clause="8.1", element="封面的ICS号", at="8.1"))
    if draft.clause("前言") is None:
        out.append(finding("missing_element", "前言", cover[:60], "文件没有前言。", rt,
                           rule_clause="8.3", element="前言", at="8.3"))
    for title, label, rule_clause in _ELEMENTS:
        c = draft.chapter(title)
        if c is None and draft.heading_in_text(label, title):
            continue  # the heading is there; the parser did not open the clause
        if c is None:
            first = draft.clause(label)
            where = f"{first.label} {first.heading}".strip() if first else ""
            out.append(finding("missing_element", label, where, f"没有“{title}”一章。", rt,
                               first.page_start if first else 0, rule_clause=rule_clause,
                               element=title, at=rule_clause))
        elif c.label != label:
            out.append(finding("element_order", c.label, f"{c.label} {c.heading}",
                               f"“{title}”是第{c.label}章，应为第{label}章。", rt, c.page_start,
                               rule_clause=rule_clause, element=title, where=f"第{label}章"))
    for p in draft.paras:
        m = _ANNEX_TITLE.search(p.text) if p.clause == "参考文献" and p.role != "heading" else None
        if m:  # an annex after 参考文献 (a PDF may have run its title into an entry)
            out.append(finding("element_order", "参考文献", snippet(p.text, m.start()),
                               "附录位于参考文献之后。", rt, p.page, element=compact(m.group(0)),
                               where="参考文献之前"))
        elif p.role == "body" and compact(p.text) in ("前言", "引言"):
            out.append(finding("element_order", p.clause, p.text, f"“{compact(p.text)}”出现在正文之中。",
                               rt, p.page, element=compact(p.text), where="第1章之前"))
    return out


def _foreword(draft: Draft, rt: dict) -> list[Finding]:
    c = draft.clause("前言")
    if c is None:
        return []
    text = compact(c.text)
    if re.search(r"按照?GB/T1\.1[—\-–－]2020.{0,60}?(?:规定)?起草", text):
        return []
    first = next((p.text for p in draft.paras_of("前言") if p.role == "body"), "前言")
    return [finding("foreword_basis", "前言", snippet(first), "前言没有说明按照 GB/T 1.1—2020 起草。",
                    rt, c.page_start)]


def _terms_leadin(draft: Draft, rt: dict) -> list[Finding]:
    c = draft.chapter(TERMS)
    if c is None:
        return []
    body = re.sub(r"[\s，,。“”]", "", "".join(p.text for p in draft.paras_of(c.label) if p.role == "body"))
    if any(x in body for x in _TERMS_LEADIN):
        return []
    first = next((p.text for p in draft.paras_of(c.label) if p.role == "body"), c.heading)
    return [finding("terms_leadin", c.label, snippet(first),
                    f"第{c.label}章“术语和定义”没有规定的引导语。", rt, c.page_start)]


# -- numbering ----------------------------------------------------------------------------

def _key(label: str) -> tuple:
    head, *rest = label.split(".")
    return (int(head) if head.isdigit() else head, *(int(x) for x in rest))


def _valid_next(prev: tuple | None, annex: str) -> list[tuple]:
    if prev is None:
        return [(annex, 1)] if annex else [(1,)]
    out = [(*prev, 1)] if len(prev) < 6 else []
    for k in range(len(prev) - 1, -1, -1):
        if isinstance(prev[k], int):
            out.append((*prev[:k], prev[k] + 1))
    return out


def _label(key: tuple) -> str:
    return ".".join(str(x) for x in key)


def _events(draft: Draft) -> list[tuple[str, str, int, str]]:
    """(label, clause it sits in, page, line) of every heading, in order: the parser's clauses
    and heading-shaped lines the parser left in the body (they broke the clause tree)."""
    out: list[tuple[str, str, int, str]] = []
    first = next((c for c in draft.clauses if re.fullmatch(r"\d{1,2}", c.label)), None)
    if first is not None and first.label == "2" and draft.heading_in_text("1", SCOPE):
        out.append(("1", "1", first.page_start, f"1 {SCOPE}"))  # see heading_in_text
    for c in draft.clauses:
        if c.label.startswith("附录") or re.fullmatch(r"\d{1,2}(?:\.\d{1,3})*|[A-Z](?:\.\d{1,3})+", c.label):
            out.append((c.label, c.label, c.page_start, c.text.split("\n")[0]))
        for p in draft.paras_of(c.label):
            m = _LABEL.match(p.text) if p.role in ("body", "list") else None
            if m and not _NOT_TITLE.search(m.group("rest")) and re.search(r"[\u4e00-\u9fff]", m.group("rest")):
                out.append((m.group("label"), c.label, p.page, p.text))
    return out


def _numbering(draft: Draft, rt: dict) -> list[Finding]:
    out: list[Finding] = []
    prev: tuple | None = None
    annex = ""
    seen: set[str] = set()
    for label, _where, page, line in _events(draft):
        if label.startswith("附录"):
            annex, prev = label[2:], None
            continue
        key = _key(label)
        if (annex and key[0] != annex) or (not annex and not isinstance(key[0], int)):
            continue
        ok = _valid_next(prev, annex)
        same = [k for k in ok if len(k) == len(key) and k[:-1] == key[:-1]]
        expected = _label(same[0] if same else (ok[0] if ok else key))
        if label in seen:
            out.append(finding("numbering_duplicate", label, snippet(line), f"编号 {label} 重复。",
                               rt, page, label=label, expected=expected))
        elif key not in ok:
            out.append(finding("numbering_gap", label, snippet(line),
                               f"编号 {label} 不连续（应为 {expected}）。", rt, page,
                               rule_clause="7.2" if len(key) == 1 else "7.3",
                               label=label, expected=expected))
        seen.add(label)
        prev = key
    return out


def _lone_and_hanging(draft: Draft, rt: dict) -> list[Finding]:
    out: list[Finding] = []
    terms = draft.chapter(TERMS)
    skip = terms.label if terms else ""
    labels = [c.label for c in draft.clauses]
    # a label written twice is two clauses, however the parser counted them
    counts = Counter(e[0] for e in _events(draft))
    twice = {lab for lab, n in counts.items() if n > 1}
    for c in draft.clauses:
        if c.label == skip or c.label.split(".")[0] == skip or c.label in ("前言", "引言", "参考文献"):
            continue
        parent = c.label
        prefix = (c.label[2:] if c.label.startswith("附录") else c.label) + "."
        children = [x for x in labels if x.startswith(prefix) and "." not in x[len(prefix):]]
        if len(children) == 1 and children[0] not in twice:
            ch = draft.clause(children[0])
            out.append(finding("single_subclause", children[0], _first_line(ch),
                               f"{parent} 下只有一个条 {children[0]}。", rt,
                               ch.page_start if ch else 0, label=children[0], parent=parent))
        body = [p for p in draft.paras_of(c.label) if p.role not in ("heading", "marker")]
        if children and body:
            out.append(finding("hanging_paragraph", c.label, snippet(body[0].text),
                               f"{parent} 的标题与 {children[0]} 之间有悬置段。", rt, body[0].page,
                               label=parent, child=children[0]))
    return out


def _first_line(c) -> str:  # type: ignore[no-untyped-def]
    return c.text.split("\n")[0][:60] if c is not None else ""


# -- annexes ------------------------------------------------------------------------------

_NORM = re.compile(r"(?<!参)(?:见|按照?|依据|根据|符合|满足|执行)\s*$")
_INFO = re.compile(r"(?:参见|参考|参照)\s*$")


def _annex_mentions(draft: Draft, letter: str) -> list[tuple[Para, str]]:
    """(paragraph, "normative"/"informative"/"neutral") of each mention of 附录<letter>."""
    out: list[tuple[Para, str]] = []
    pat = re.compile(rf"附\s*录\s*{letter}(?![A-Za-z])")
    for p in draft.paras:
        if p.clause == "附录" + letter or p.clause.startswith(letter + ".") or p.role in ("heading", "marker"):
            continue
        for sent in sentences(p.text):
            for m in pat.finditer(sent):
                before = sent[:m.start()]
                if p.role in ("note", "example") or p.clause == "前言" or _INFO.search(before):
                    how = "informative"
                elif _NORM.search(before) or ("应" in sent and "规定" in sent[m.end():m.end() + 6]):
                    how = "normative"
                else:
                    how = "neutral"
                out.append((p, how))
    return out


def _annexes(draft: Draft, rt: dict) -> list[Finding]:
    out: list[Finding] = []
    for c in draft.clauses:
        if not re.fullmatch(r"附录[A-Z]", c.label):
            continue
        letter, kind = c.label[2:], draft.annex_kind(c.label[2:])
        head = " ".join(c.text.split("\n")[:3])[:60]
        if not kind:
            out.append(finding("annex_no_marker", c.label, head, f"{c.label} 未标明规范性或资料性。",
                               rt, c.page_start, annex=c.label))
        ms = _annex_mentions(draft, letter)
        if not ms:
            out.append(finding("annex_unreferenced", c.label, head, f"正文和前言中没有提及{c.label}。",
                               rt, c.page_start, annex=c.label))
            continue
        hows = {h for _, h in ms}
        if kind == "资料性" and "normative" in hows:
            p = next(p for p, h in ms if h == "normative")
            out.append(finding("annex_kind_mismatch", p.clause, snippet(p.text, p.text.find("附录")),
                               f"{c.label}标为资料性，但在 {p.clause} 中被规范性地提及。", rt, p.page,
                               annex=c.label, should="规范性"))
        elif kind == "规范性" and hows == {"informative"}:
            p = ms[0][0]
            out.append(finding("annex_kind_mismatch", p.clause, snippet(p.text, p.text.find("附录")),
                               f"{c.label}标为规范性，但文中只以资料性方式提及（参见）。", rt, p.page,
                               annex=c.label, should="资料性"))
    return out
