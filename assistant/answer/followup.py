"""Follow-up questions: the document and clause a question names, and rewriting a follow-up
("那第二章呢？") so that it stands alone, from the earlier turns of the conversation."""

from __future__ import annotations

import re
import unicodedata

from ..cite import strip_markers
from ..grounding import CN_NUM, blank_std_numbers
from ..identifiers import (
    find_law_name,
    law_article_label,
    normalize_clause_label,
    parse_reference,
    std_number_spans,
)
from .registry import History

# ---------------------------------------------------------------------------------------
# references named in a question
# ---------------------------------------------------------------------------------------


def query_refs(text: str) -> tuple[str, str]:
    """(document reference, clause reference) named in a question or answer, "" where absent.

    The document is the first standard number (normalised), else the law whose article is
    named, else the first law or title named (as written, see
    :func:`identifiers.find_law_name`); the clause is the one
    :func:`identifiers.parse_reference` finds, or else one named without its document, as
    follow-ups do ("那第二章呢？", "那 8.7 呢？").
    """
    t = unicodedata.normalize("NFKC", text)
    stds = std_number_spans(t, international=True)
    ref = parse_reference(t)
    if stds:
        doc = stds[0][2]
    else:
        doc = find_law_name(t)
        if ref and ref.law and not doc.endswith(ref.law):  # as written when it is the same law
            doc = ref.law
    clause = ref.clause if ref and ref.clause else _loose_clause(blank_std_numbers(t, stds))
    return doc, clause


_LOOSE_ARTICLE = re.compile(rf"第\s*[{CN_NUM}\d]+\s*[条章节款]")
_LOOSE_CLAUSE = re.compile(r"(?<![\d.A-Za-z表图])(?:[A-Z]|\d+)(?:\.\d+)+(?![\d.])|附录[A-Z]")


def _loose_clause(t: str) -> str:
    """A clause named without its document: "第十一条" (articles normalised, "第26条" →
    "第二十六条"), "第二章", "8.7", "A.1", "附录B"; "" when none."""
    m = _LOOSE_ARTICLE.search(t)
    if m:
        label = re.sub(r"\s+", "", m.group(0))
        return (law_article_label(label) or label) if label.endswith("条") else label
    m = _LOOSE_CLAUSE.search(t)
    return normalize_clause_label(m.group(0)) if m else ""


# ---------------------------------------------------------------------------------------
# resolving follow-ups
# ---------------------------------------------------------------------------------------

# pronouns that stand for the document of the previous turn …
_DOC_KINDS = (r"(?:实施方案|实施细则|实施办法|实施条例|法律|法规|法|标准|条例|办法|规定|文件|方案|规范"
              r"|规程|细则|导则|指南|规划)")
_DOC_ANAPHORA = re.compile(
    rf"该{_DOC_KINDS}|这(?:部|个|项|份|一)?{_DOC_KINDS}"
    r"|本(?:法|标准|条例|办法|方案|实施方案|实施细则|实施办法|规范|规程|细则|规划|规定)(?!性|化)"
    r"|(?<!其)它(?!们)"
)
# … and for its clause
_CLAUSE_ANAPHORA = re.compile(
    r"(?:这一?|该|本|此)[条款项](?!例|标准|法|规定|文件|制度)|上述条[款文]?|上一条"
)
_FOLLOWUP_LEAD = re.compile(r"^\s*(?:那么|那|还有|另外|再问一下|再问|以及|并且)[，,\s]*")
_FOLLOWUP_TAIL = re.compile(r"呢\s*[?？]?\s*$")


def resolve_followup(question: str, history: History | None) -> str:
    """Rewrite a follow-up so it stands alone, carrying the document (and clause) named in
    earlier turns: after "标准化法第十条规定了什么？", "那第二章呢？" → "标准化法第二章呢？"."""
    if not history:
        return question
    doc = clause = ""
    for user, assistant in history:
        resolved = _resolve_one(user, doc, clause)
        d, c = query_refs(resolved)
        if not d:  # the answer may name it ("根据《产品质量法》第四十九条…")
            d, c2 = query_refs(strip_markers(assistant or "")[:400])
            c = c or c2
        if d:
            doc, clause = d, c
        elif c:
            clause = c
    return _resolve_one(question, doc, clause)


def _resolve_one(q: str, doc: str, clause: str) -> str:
    if not doc:
        return q
    qd, qc = query_refs(q)
    if qd and not _DOC_ANAPHORA.fullmatch(qd):  # "本办法" is no name of its own
        return q
    sep = " " if re.search(r"[A-Za-z0-9]$", doc) else ""
    if _CLAUSE_ANAPHORA.search(q):
        ref = f"{doc}{sep}{clause}" if clause else doc
        return _CLAUSE_ANAPHORA.sub(lambda _m: ref, q, count=1)
    if _DOC_ANAPHORA.search(q):
        return _DOC_ANAPHORA.sub(lambda _m: doc, q, count=1)
    if qc or _FOLLOWUP_LEAD.search(q) or _FOLLOWUP_TAIL.search(q):
        rest = _FOLLOWUP_LEAD.sub("", q)
        if not qc and clause:  # "那罚款呢？" asks about the same clause
            return f"{doc}{sep}{clause}{rest}"
        return f"{doc}{sep}{rest}"
    return q
