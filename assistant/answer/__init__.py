"""The answer stage: one engine, interchangeable backends chosen by name.

``extractive`` (default) composes the answer from the best-supported sentences of the
retrieved clauses — offline, deterministic, no model. ``openai`` sends the numbered sources
to any OpenAI-compatible chat endpoint; ``llamacpp`` runs a local GGUF file. More are
added with :func:`register_backend` and chosen with ``ASSISTANT_ANSWER_MODE``.

Modules: ``engine`` (the Answerer), ``registry`` (the backend protocol and names),
``extractive`` and ``llm`` (the built-in backends), ``prompt`` (what a model is sent),
``followup`` (follow-up questions).
"""

from __future__ import annotations

from . import extractive, llm  # noqa: F401  (the built-in backends register themselves)
from .engine import REFUSAL, Answerer, SearchBackend, refusal
from .followup import query_refs, resolve_followup
from .llm import ChatBackend
from .prompt import build_messages, prompt_sources
from .registry import (
    AnswerBackend,
    Draft,
    History,
    backend_names,
    create_backend,
    register_backend,
    unregister_backend,
)

__all__ = [
    "REFUSAL",
    "AnswerBackend",
    "Answerer",
    "ChatBackend",
    "Draft",
    "History",
    "SearchBackend",
    "backend_names",
    "build_messages",
    "create_backend",
    "prompt_sources",
    "query_refs",
    "refusal",
    "register_backend",
    "resolve_followup",
    "unregister_backend",
]
