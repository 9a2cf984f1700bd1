"""Language of provisions: verbal forms as GB/T 1.1—2020 附录C defines them, requirements
where none may stand (注, 示例, 前言, 范围), and defined terms against the terms used."""

from __future__ import annotations

import re

from .draft import SCOPE, TERMS, Draft, Para, compact, sentences, snippet, strip_quotes
from .library import Library
from .records import Finding
from .rules import finding

# 应 as a verbal form, not inside 应用, 相应, 对应, 反应, 供应 …
SHALL = re.compile(r"(?<![相对响适反供效呼感答回顺照报理])应(?![用急答变力届聘征邀允酬付试])")
_MUST = re.compile(r"必须")
_VAGUE = re.compile(r"(?:一般|原则上|通常|尽量|尽可能)(?:不)?应|应尽(?:量|可能)")
_PROHIBIT = re.compile(r"不得|(?<!必)不可(?!能|逆|少|或缺|分|见|燃|靠|抗|测|控|替代)|禁止")
_PERMIT_NEG = re.compile(r"可以不")
_QUOTED_TERM = re.compile(r"“(?P<t>[\u4e00-\u9fff]{2,12})”")
_ABBREV_TERM = re.compile(r"(?P<t>[\u4e00-\u9fff]{2,12})[（(][A-Z][A-Za-z0-9\-]{1,9}[)）]")
_REQUIRE = re.compile(r"应|宜|可")


def check_language(draft: Draft, lib: Library) -> list[Finding]:
    rt = lib.rule_text
    out: list[Finding] = []
    scope = draft.chapter(SCOPE)
    for p in draft.paras:
        if p.role in ("heading", "marker"):
            continue
        out += _verbal_forms(draft, p, rt, scope.label if scope else "1")
    out += _terms(draft, lib)
    return out


def _find(pat: re.Pattern[str], text: str) -> re.Match[str] | None:
    return pat.search(strip_quotes(text))


def _verbal_forms(draft: Draft, p: Para, rt: dict, scope: str) -> list[Finding]:
    out: list[Finding] = []
    refs = draft.chapter("规范性引用文件")
    if refs is not None and p.clause == refs.label:
        return out  # the prescribed lead-in says 必不可少; entries are titles
    text = p.text
    if p.clause in ("参考文献", "索引"):
        return out
    where = p.clause
    m = _find(_MUST, text)
    if m:
        out.append(finding("must", where, snippet(text, m.start()), "条款中使用了“必须”。", rt, p.page))
    m = _find(_VAGUE, text)
    if m:
        out.append(finding("vague_requirement", where, snippet(text, m.start()),
                           f"“{m.group(0)}”混淆了要求与推荐。", rt, p.page))
    m = _find(_PROHIBIT, text)
    if m:
        out.append(finding("prohibition_form", where, snippet(text, m.start()),
                           f"用“{m.group(0)}”表示禁止。", rt, p.page, word=m.group(0)))
    m = _find(_PERMIT_NEG, text)
    if m:
        out.append(finding("permission_form", where, snippet(text, m.start()),
                           f"用“{m.group(0)}”表示允许的否定。", rt, p.page, word=m.group(0)))
    m = _find(SHALL, text) or _find(_MUST, text)
    if m:
        kind = {"note": "requirement_in_note", "example": "requirement_in_example"}.get(p.role)
        if kind is None and p.clause == "前言":
            kind = "requirement_in_foreword"
        elif kind is None and p.clause == scope:
            kind = "requirement_in_scope"
        if kind:
            place = {"requirement_in_note": "注", "requirement_in_example": "示例",
                     "requirement_in_foreword": "前言", "requirement_in_scope": "范围"}[kind]
            out.append(finding(kind, where, snippet(text, m.start()), f"{place}中含有要求（“应”）。",
                               rt, p.page))
    return out


# -- terms --------------------------------------------------------------------------------

def defined_terms(draft: Draft) -> dict[str, str]:
    """term → entry label of the draft's 术语和定义 chapter (synonyms after ； included)."""
    c = draft.chapter(TERMS)
    if c is None:
        return {}
    out: dict[str, str] = {}
    for cl in draft.clauses:
        if not cl.label.startswith(c.label + ".") or not cl.heading:
            continue
        for t in re.split(r"[；;]", cl.heading):
            t = re.sub(r"\s+[A-Za-z].*$", "", t.strip())
            if t:
                out.setdefault(t, cl.label)
    return out


def _imported(draft: Draft, lib: Library) -> set[str]:
    """Terms the lead-in imports from other documents ("GB/T … 界定的…适用于本文件")."""
    from ..identifiers import std_base, std_number_spans

    c = draft.chapter(TERMS)
    if c is None:
        return set()
    text = " ".join(p.text for p in draft.paras_of(c.label) if p.role == "body")
    bases = {std_base(no) for _, _, no in std_number_spans(text)}
    return {t for t, (no, _) in lib.terms.items() if std_base(no) in bases}


def _terms(draft: Draft, lib: Library) -> list[Finding]:
    rt = lib.rule_text
    terms = defined_terms(draft)
    if not terms:
        return []
    tc = draft.chapter(TERMS)
    usage = [p for p in draft.paras if p.role not in ("heading", "marker")
             and p.clause not in ("前言", "引言", "参考文献") and p.clause.split(".")[0] != tc.label]
    text = "\n".join(p.text for p in usage)
    out: list[Finding] = []
    for term, label in terms.items():
        if term not in text and not any(t2 in text for t2, l2 in terms.items() if l2 == label):
            entry = draft.clause(label)
            out.append(finding("term_unused", label, f"{label} {term}", f"术语“{term}”在文中没有使用。",
                               rt, entry.page_start if entry else 0, term=term, label=label))
    out += _undefined(draft, lib, usage, set(terms) | _imported(draft, lib))
    return out


def _undefined(draft: Draft, lib: Library, usage: list[Para], known: set[str]) -> list[Finding]:
    """Terms used in provisions but not defined: quoted words, words given an abbreviation,
    and terms indexed standards define."""
    out: list[Finding] = []
    seen: set[str] = set(known)
    pat = lib.term_pattern()
    for p in usage:
        if p.role in ("note", "example") or not _REQUIRE.search(p.text):
            continue
        for sent in sentences(p.text):
            if not _REQUIRE.search(sent):
                continue
            cands = [(m.group("t"), "") for m in _QUOTED_TERM.finditer(sent)]
            cands += [(m.group("t"), "") for m in _ABBREV_TERM.finditer(sent)]
            if pat is not None:
                cands += [(m.group(0), "{} {}".format(*lib.terms[m.group(0)]))
                          for m in pat.finditer(sent)]
            for term, source in cands:
                if term in seen or any(term in k or k in term for k in known if len(k) >= 2):
                    continue
                seen.add(term)
                out.append(finding("term_undefined", p.clause, snippet(sent, sent.find(term)),
                                   f"“{term}”用于条款中，但第3章没有界定它。", lib.rule_text, p.page,
                                   term=term, source=f"（已有定义见 {source}）" if source else ""))
    return out


def is_requirement(text: str) -> bool:
    """A provision that states a requirement (应/不应), quotes aside."""
    return bool(SHALL.search(strip_quotes(text)))


__all__ = ["SHALL", "check_language", "compact", "defined_terms", "is_requirement"]
