"""The answer engine: resolve a follow-up, retrieve, ask the gate, let the backend named by
``settings.answer_mode`` write, then check the numbers and attach the citations.

Every backend goes through the same gate (:mod:`assistant.gate`: refuse when retrieval
found nothing relevant) and the same grounding checks (:mod:`assistant.grounding`).
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..cite import build_citation
from ..config import Settings
from ..gate import Relevance, decide
from ..grounding import check_numbers
from ..records import Answer, Citation, Hit
from .followup import resolve_followup
from .registry import Draft, History, create_backend

REFUSAL = "已索引的文件中没有找到能回答这个问题的内容，无法给出有依据的答复。"


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
            yield from self._finish(turn, draft)

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
    if suggestions:
        text += "\n以下条款与问题最接近，仅供参考：\n" + "\n".join(
            f"{c.n}. {c.label()}" + (f"（{c.heading}）" if c.heading else "") for c in suggestions
        )
    return text, suggestions, [f"refused: {rel.reason}"]
