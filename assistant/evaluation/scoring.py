"""Running systems over questions and scoring them.

A system is any object with ``name`` and ``search(question, k) -> list[RankedItem]``
(``RetrieverSystem`` wraps the project's Retriever; ``assistant.baselines`` holds the
others), so every piece here is tested with fakes. The metrics themselves are the pure
functions of ``assistant.metrics``.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import AssistantError
from ..metrics import (
    AnswerRecord,
    Pair,
    RankedItem,
    answer_metrics,
    dedupe_clauses,
    dedupe_ids,
    docid,
    first_gold_rank,
    latency_summary,
    mean_metrics,
    question_metrics,
    recall_curve,
)
from .datasets import Question

DEPTH = 100
CURVE_KS = (1, 2, 3, 5, 10, 20, 30, 50, 100)


class SearchSystem(Protocol):
    """What the harness needs from a system under test."""

    name: str

    def search(self, question: str, k: int) -> list[RankedItem]: ...


class RetrieverSystem:
    """The project's Retriever in one mode (hybrid, bm25 or dense)."""

    def __init__(self, retriever: Any, mode: str) -> None:
        self.retriever = retriever
        self.mode = mode
        self.name = mode

    def search(self, question: str, k: int) -> list[RankedItem]:
        return hits_to_items(self.retriever.search(question, k=k, mode=self.mode))


def hits_to_items(hits: Sequence[Any]) -> list[RankedItem]:
    """Hits (clause chunks) → ranked items, one per chunk, with the chunk's length."""
    return [
        RankedItem(h.chunk.id, float(h.score), frozenset({(h.chunk.doc, h.chunk.clause)}),
                   len(h.chunk.text))
        for h in hits
    ]


@dataclass
class QuestionResult:
    qid: str
    question: str
    kind: str
    gold: set[Pair]
    items: list[RankedItem]  # as returned (chunk level), best first
    latency_ms: float
    metrics: dict[str, float] | None = None  # None for unanswerable questions
    error: str = ""

    @property
    def ranked(self) -> list[RankedItem]:
        """Parts of one clause collapsed: the ranking that recall/MRR/nDCG score."""
        return dedupe_clauses(self.items)


@dataclass
class SystemResult:
    name: str
    results: list[QuestionResult] = field(default_factory=list)


@dataclass
class AnswerResult:
    qid: str
    kind: str
    record: AnswerRecord
    latency_ms: float
    citations: list[str] = field(default_factory=list)
    error: str = ""
    gate_score: float | None = None  # the answer gate's score (refusal curve); None if unknown
    split: str = ""  # the question's part ("calibration" / "held-out"), where marked


@dataclass
class DatasetRun:
    name: str
    corpus: str
    questions: list[Question]
    systems: dict[str, SystemResult] = field(default_factory=dict)
    answers: list[AnswerResult] | None = None
    skipped: str = ""
    description: str = ""


def score_question(items: Sequence[RankedItem], gold: set[Pair]) -> dict[str, float] | None:
    """All ranking metrics of one question's result; None when it has no gold."""
    if not gold:
        return None
    return question_metrics(dedupe_clauses(items), gold, context_run=dedupe_ids(items))


def search_text(q: Question) -> str:
    """What a system searches for: the question, or for a follow-up (``history``) the
    question rewritten to stand alone, as the answer engine does."""
    if not q.history:
        return q.question
    from ..answer.followup import resolve_followup

    return resolve_followup(q.question, q.history)


def run_system(system: SearchSystem, questions: Sequence[Question], depth: int = DEPTH,
               tick: Callable[[], None] | None = None) -> SystemResult:
    """Ask every question, timing each search; a failing search scores zero, noted.

    One untimed warm-up search first, so that loading a model or an index is not charged
    to the first question's latency."""
    res = SystemResult(system.name)
    if questions:
        with contextlib.suppress(AssistantError):
            system.search(questions[0].question, depth)
    for q in questions:
        err = ""
        t0 = time.perf_counter()
        try:
            items = list(system.search(search_text(q), depth))[:depth]
        except AssistantError as e:
            items, err = [], str(e)
        ms = (time.perf_counter() - t0) * 1000.0
        gold = q.gold_set
        res.results.append(QuestionResult(q.id, q.question, q.kind, gold, items, ms,
                                          score_question(items, gold), err))
        if tick:
            tick()
    return res


def run_answers(answerer: Any, questions: Sequence[Question],
                tick: Callable[[], None] | None = None) -> list[AnswerResult]:
    """Answer every question with ``answerer.ask`` and reduce each Answer to a record
    (after one untimed warm-up question)."""
    out = []
    if questions:
        with contextlib.suppress(AssistantError):
            answerer.ask(questions[0].question)
    for q in questions:
        t0 = time.perf_counter()
        err = ""
        try:
            a = answerer.ask(q.question, history=q.history) if q.history else answerer.ask(q.question)
            cited = {(c.doc, c.clause) for c in a.citations}
            rec = AnswerRecord(q.gold_set, cited, bool(a.refused), bool(a.flags),
                               a.answer or "", q.reference_answer)
            labels = [docid(c.doc, c.clause) for c in a.citations]
        except AssistantError as e:
            err = str(e)
            rec = AnswerRecord(q.gold_set, set(), True, True, "", q.reference_answer)
            labels = []
        ms = (time.perf_counter() - t0) * 1000.0
        out.append(AnswerResult(q.id, q.kind, rec, ms, labels, err, _gate_score(answerer, q),
                                q.split))
        if tick:
            tick()
    return out


def _gate_score(answerer: Any, q: Question) -> float | None:
    """The gate's score for ``q`` (untimed; None for answerers without a gate)."""
    relevance = getattr(answerer, "relevance", None)
    if relevance is None:
        return None
    try:
        rel = relevance(q.question, q.history) if q.history else relevance(q.question)
        return float(rel.score)
    except AssistantError:
        return None


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}


def summarize_system(sr: SystemResult) -> dict[str, Any]:
    """Mean metrics over answerable questions, latency, per-kind breakdown, recall curve."""
    scored = [r for r in sr.results if r.metrics is not None]
    out: dict[str, Any] = {"questions": len(sr.results), "scored": len(scored)}
    out.update(_clean(mean_metrics([r.metrics for r in scored if r.metrics is not None])))
    out.update(_clean(latency_summary([r.latency_ms for r in sr.results])))
    errors = [r for r in sr.results if r.error]
    if errors:
        out["errors"] = len(errors)
    by_kind: dict[str, list[QuestionResult]] = defaultdict(list)
    for r in scored:
        by_kind[r.kind or "-"].append(r)
    out["by_kind"] = {
        k: {"n": len(rs), **_clean(mean_metrics([r.metrics for r in rs if r.metrics]))}
        for k, rs in sorted(by_kind.items())
    }
    curve = recall_curve([r.ranked for r in scored], [r.gold for r in scored], CURVE_KS)
    out["recall_curve"] = {str(k): round(v, 4) for k, v in curve.items()}
    return out


def summarize_answers(ans: Sequence[AnswerResult]) -> dict[str, Any]:
    """Answer metrics overall and per kind, with answer latency."""
    out: dict[str, Any] = _clean(answer_metrics([a.record for a in ans]))
    out.update(_clean(latency_summary([a.latency_ms for a in ans], "answer_latency_ms")))
    errors = [a for a in ans if a.error]
    if errors:
        out["errors"] = len(errors)
    by_kind: dict[str, list[AnswerResult]] = defaultdict(list)
    for a in ans:
        by_kind[a.kind or "-"].append(a)
    out["by_kind"] = {k: _clean(answer_metrics([a.record for a in v]))
                      for k, v in sorted(by_kind.items())}
    by_split: dict[str, list[AnswerResult]] = defaultdict(list)
    for a in ans:
        if a.split:
            by_split[a.split].append(a)
    if by_split:  # never tuned on the held-out part: report it apart
        out["by_split"] = {k: _clean(answer_metrics([a.record for a in v]))
                           for k, v in sorted(by_split.items())}
    return out


def worst_missed(sr: SystemResult, n: int = 10) -> list[QuestionResult]:
    """Answerable questions whose gold is furthest down (absent first), then lowest recall@10."""
    scored = [r for r in sr.results if r.metrics is not None and r.metrics["recall_at_10"] < 1.0]

    def key(r: QuestionResult) -> tuple[float, float, str]:
        rank = first_gold_rank(r.ranked, r.gold)
        return (-(rank if rank is not None else math.inf),
                (r.metrics or {}).get("recall_at_10", 0.0), r.qid)

    return sorted(scored, key=key)[:n]
