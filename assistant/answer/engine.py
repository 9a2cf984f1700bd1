"""The answer engine: resolve a follow-up, retrieve, ask the gate, let the backend named by
``settings.answer_mode`` write, then check the numbers and attach the citations.

Every backend goes through the same gate (:mod:`assistant.gate`: refuse when retrieval
found nothing relevant, or nothing that gives what the question asks), before any backend
— a language model included — is called, and the same grounding checks
(:mod:`assistant.grounding`). A generated answer that fails them badly (mostly flagged,
only the sources' labels, or without the asked quantity the sources state) is replaced by
the extractive answer with a one-line note (:mod:`assistant.answer.fallback`).
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..cite import build_citation, doc_name
from ..config import Settings
from ..gate import Relevance, decide
from ..grounding import check_numbers
from ..records import Answer, Citation, Hit
from .fallback import NOTE, weak_answer
from .followup import resolve_followup
from .registry import Draft, History, create_backend

REFUSAL = "已索引的文件中没有找到能回答这个问题的内容，无法给出有依据的答复。"
# on topic, but no clause gives what is asked: say what is missing and where we looked
PARTIAL = "本库中的{doc}未规定{missing}，无法给出有依据的答复。"
NEAREST = "\n以下条款与问题最接近，仅供参考："
NEAREST_NOT_ANSWERING = "\n最接近的条款如下，但它们不回答该问题，仅供参考："


class SearchBackend(Protocol):
    """What the answer engine needs from retrieval (``assistant.retrieve.Retriever``)."""

    def search(self, query: str, k: int = 10, filters: Any | None = None) -> list[Hit]: ...


@dataclass
class _Turn:
    """One question on its way through the engine."""

    question: str
    resolved: str
    hits: list[Hit]
    started: float  # perf_counter() when retrieval was done
    timings: dict[str, float] = field(default_factory=dict)


class Answerer:
    """Answers questions from retrieved clauses with the backend ``settings.answer_mode``
    (see :func:`assistant.answer.register_backend`; an unknown name is a ConfigError).

    Safe to share between threads as long as the retriever is.
    """

    def __init__(self, retriever: SearchBackend, settings: Settings | None = None) -> None:
        self.retriever = retriever
        self.settings = settings or Settings()
        self.mode = self.settings.answer_mode
        self.backend = create_backend(self.settings)

    def ask(self, question: str, history: History | None = None, filters: Any = None) -> Answer:
        """Answer one question (non-streaming)."""
        final: Answer | None = None
        for item in self._run(question, history, filters, streaming=False):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream(self, question: str, history: History | None = None, filters: Any = None) -> Iterator[str | Answer]:
        """Yield the answer text in deltas, then the final Answer.

        The deltas concatenate to ``Answer.answer`` (an LLM's spacing aside); the Answer is
        authoritative: show its text once it arrives.
        """
        yield from self._run(question, history, filters, streaming=True)

    def relevance(self, question: str, history: History | None = None, filters: Any = None) -> Relevance:
        """The gate's decision for ``question`` alone, without answering (the eval's curve)."""
        turn = self._retrieve(question, history, filters)
        return decide(turn.resolved, turn.hits, self.settings)

    # -- pipeline -----------------------------------------------------------------------

    def _run(self, question: str, history: History | None, filters: Any, streaming: bool) -> Iterator[str | Answer]:
        turn = self._retrieve(question, history, filters)
        rel = decide(turn.resolved, turn.hits, self.settings)
        draft: Draft | None = None
        if rel.ok:
            draft = yield from self._generate(turn, history, streaming)
            if draft.unanswerable:
                rel = rel.refused(draft.unanswerable)
        if draft is None or not rel.ok:
            yield from self._refuse(turn, rel)
        else:
            yield from self._finish(turn, self._checked(turn, draft))

    def _retrieve(self, question: str, history: History | None, filters: Any) -> _Turn:
        """Resolve a follow-up against the history and retrieve for it."""
        t0 = time.perf_counter()
        resolved = resolve_followup(question, history)
        hits = self.retriever.search(resolved, k=self.settings.top_k, filters=filters)
        t1 = time.perf_counter()
        return _Turn(question, resolved, hits, t1, {"retrieve_ms": (t1 - t0) * 1000})

    def _generate(self, turn: _Turn, history: History | None, streaming: bool) -> Generator[str, None, Draft]:
        """Pass on the backend's deltas; return its Draft."""
        draft: Draft | None = None
        for item in self.backend.generate(turn.resolved, turn.hits, history, streaming):
            if isinstance(item, Draft):
                draft = item
            else:
                yield item
        if draft is None:
            raise TypeError(f"answer backend {self.mode!r} yielded no Draft")
        return draft

    def _checked(self, turn: _Turn, draft: Draft) -> Draft:
        """The backend's draft, or the extractive one when a generated answer is too weak
        to return (the note says why; the flag records it)."""
        if not draft.flag_uncited:  # quoted text (the extractive backend): nothing to redo
            return draft
        g = check_numbers(draft.text, draft.cited, flag_uncited=True)
        reason = weak_answer(turn.resolved, draft, turn.hits, g)
        if not reason:
            return draft
        quoted: Draft | None = None
        for item in create_backend(self.settings.with_overrides(answer_mode="extractive")).generate(
                turn.resolved, turn.hits, None, False):
            if isinstance(item, Draft):
                quoted = item
        if quoted is None or quoted.unanswerable:
            return draft
        quoted.text = NOTE.format(reason=reason) + "\n" + quoted.text
        quoted.flags = [*draft.flags, f"model answer replaced by the extractive one: {reason}"]
        return quoted

    def _refuse(self, turn: _Turn, rel: Relevance) -> Iterator[str | Answer]:
        text, cits, flags = refusal(turn.hits, rel)
        yield text
        yield self._answer(turn, text, True, cits, flags)

    def _finish(self, turn: _Turn, draft: Draft) -> Iterator[str | Answer]:
        """Grounding checks, citations and warnings on what the backend wrote."""
        text = draft.text
        g = check_numbers(text, draft.cited, flag_uncited=draft.flag_uncited)
        flags = [*draft.flags, *g.flags]
        if draft.declined:
            flags.append("model declined: the sources do not answer")
        elif not draft.cited:
            flags.append("answer cites no source")
        citations = [build_citation(n, h, draft.quotes.get(n, "")) for n, h in draft.cited.items()]
        notes = [f"[{c.n}] {c.label()} {c.warning}" for c in citations if c.warning]
        if notes:
            note = "\n注意：" + "；".join(notes) + "。"
            text += note
            yield note
        yield self._answer(turn, text, draft.declined, citations, flags)

    def _answer(self, turn: _Turn, text: str, refused: bool, citations: list[Citation], flags: list[str]) -> Answer:
        timings = {**turn.timings, "answer_ms": (time.perf_counter() - turn.started) * 1000}
        return Answer(answer=text, refused=refused, citations=citations, flags=flags, timings=timings,
                      question=turn.question, mode=self.mode, resolved_question=turn.resolved)


def refusal(hits: Sequence[Hit], rel: Relevance) -> tuple[str, list[Citation], list[str]]:
    """The plain "not covered" answer, listing the closest clauses as suggestions."""
    suggestions: list[Citation] = []
    seen: set[tuple[str, str]] = set()
    for h in hits:
        key = (h.chunk.doc, h.chunk.clause)
        if key in seen:
            continue
        seen.add(key)
        suggestions.append(build_citation(len(suggestions) + 1, h))
        if len(suggestions) == 3:
            break
    text = REFUSAL
    if rel.missing and suggestions:
        top = hits[0].chunk
        text = PARTIAL.format(doc=_doc_ref(top.std_no, top.title, top.doc), missing=rel.missing)
    if suggestions:
        text += (NEAREST_NOT_ANSWERING if rel.missing else NEAREST) + "\n" + "\n".join(
            f"{c.n}. {c.label()}" + (f"（{c.heading}）" if c.heading else "") for c in suggestions
        )
    return text, suggestions, [f"refused: {rel.reason}"]


def _doc_ref(std_no: str, title: str, doc: str) -> str:
    """"GB/T 90001.1—2023" / "《重庆两江新区质量强区建设实施方案》" for a refusal's sentence."""
    return std_no or f"《{doc_name('', title, doc)}》"
