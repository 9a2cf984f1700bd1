"""When a generated answer is not worth returning: the checks that send the engine back to
the extractive answer.

A small model fed numbered sources may copy a list of reference standards full of numbers
no source holds, echo the sources' labels ("[1] 重庆两江新区…（十二）…") instead of an
answer, or leave out the very quantity the question asked while the sources state it.
:func:`weak_answer` names such a failure; the engine then quotes the sources instead, with
a one-line note. Pure Python over the Draft, the hits and the grounding findings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..asking import question_focus
from ..cite import source_label, strip_markers
from ..focus import carries, sentence_evidence
from ..gate import query_terms, window_coverage
from ..grounding import Grounding
from ..records import Hit
from ..text import CJK_RUN, normalize, split_sentences
from .registry import Draft

# more than this share of the answer's claims flagged (and at least MIN_FLAGGED of them)
FLAGGED_SHARE = 0.5
MIN_FLAGGED = 2
# what is left of an answer once the sources' labels are taken out: less than this share
# of its CJK characters is no answer
MIN_OWN_SHARE = 0.3

NOTE = "（模型的回答未通过依据核对：{reason}；以下改为依据原文的摘录。）"


def weak_answer(question: str, draft: Draft, hits: Sequence[Hit], grounding: Grounding) -> str:
    """Why the generated ``draft`` should not be returned ("" when it may be).

    ``grounding`` holds the number checks of the draft against its cited sources.
    """
    if draft.declined or not draft.text.strip():
        return ""
    if _echoes_labels(draft.text, hits):
        return "只复述了资料的标题"
    claims = [s for s in split_sentences(strip_markers(draft.text)) if _claim(s)]
    flagged = {s for s, _ in grounding.unsupported} | set(grounding.uncited)
    if len(flagged) >= MIN_FLAGGED and len(flagged) > FLAGGED_SHARE * max(1, len(claims)):
        return "多数句子含资料中没有的数字或未标注来源"
    focus = question_focus(question)
    if focus.quantity and not carries(focus, normalize(strip_markers(draft.text))):
        ev = sentence_evidence(focus, hits[:3], query_terms(question), window_coverage)
        if ev.focus_cov > 0:
            return "没有给出资料中写明的所问数值"
    return ""


def _claim(s: str) -> bool:
    return sum(len(r) for r in CJK_RUN.findall(s)) >= 8


def _echoes_labels(text: str, hits: Sequence[Hit]) -> bool:
    """Is the answer little more than the sources' labels (document, clause, heading)?"""
    rest = normalize(strip_markers(text))
    total = sum(len(r) for r in CJK_RUN.findall(rest))
    for h in hits:
        for part in re.split(r"[（）()\s·>]+", normalize(source_label(h))):
            if len(part) >= 2:
                rest = rest.replace(part, " ")
    rest = re.sub(r"[…。，、；：:,.!?！？\-—\s]+", "", rest)
    return sum(len(r) for r in CJK_RUN.findall(rest)) < MIN_OWN_SHARE * total
