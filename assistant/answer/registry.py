"""The answer-backend protocol and the registry that maps ``ASSISTANT_ANSWER_MODE`` names to
backends.

A backend is registered by name with a factory ``Settings -> AnswerBackend``; the built-in
ones (``extractive``, ``openai``, ``llamacpp``) register themselves on import of
:mod:`assistant.answer`, and tests or plugins register theirs the same way::

    @register_backend("echo")
    class Echo(AnswerBackend):
        def __init__(self, settings: Settings) -> None: ...
        def generate(self, question, hits, history, streaming): ...
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, overload

from ..config import Settings
from ..errors import ConfigError
from ..records import Hit

History = Sequence[tuple[str, str]]


@dataclass
class Draft:
    """What a backend wrote, before the grounding checks and the citations are added."""

    text: str
    cited: dict[int, Hit] = field(default_factory=dict)  # marker number in ``text`` → source
    quotes: dict[int, str] = field(default_factory=dict)  # marker number → quote ("" = default)
    flags: list[str] = field(default_factory=list)
    # the backend read the sources and says they do not answer (an LLM's "没有找到相关规定")
    declined: bool = False
    # why nothing could be written at all (e.g. only bare headings to quote): a refusal
    unanswerable: str = ""
    # flag claims without a marker: generated text may make them, quoted text does not
    flag_uncited: bool = True


class AnswerBackend(ABC):
    """Writes an answer from the hits the gate let through.

    The constructor must be cheap (no model loading, no network): a backend is made for
    every ``Answerer``, including those that end up refusing.
    """

    @abstractmethod
    def generate(self, question: str, hits: Sequence[Hit], history: History | None,
                 streaming: bool) -> Iterator[str | Draft]:
        """Yield the answer text in deltas, then one :class:`Draft` with the whole text.

        ``question`` is already resolved against ``history``; the deltas concatenate to
        ``Draft.text``. Failures are raised as :class:`assistant.errors.AssistantError`
        (one line).
        """


BackendFactory = Callable[[Settings], AnswerBackend]
F = TypeVar("F", bound=BackendFactory)

_BACKENDS: dict[str, BackendFactory] = {}


@overload
def register_backend(name: str) -> Callable[[F], F]: ...
@overload
def register_backend(name: str, factory: F) -> F: ...


def register_backend(name: str, factory: F | None = None) -> F | Callable[[F], F]:
    """Register ``factory`` (a backend class, or any function of Settings returning a
    backend) as answer mode ``name``, replacing a backend of that name. Without a factory,
    a decorator that does so."""

    def add(f: F) -> F:
        _BACKENDS[name] = f
        return f

    return add(factory) if factory is not None else add


def unregister_backend(name: str) -> None:
    """Forget answer mode ``name`` (tests clean up after themselves)."""
    _BACKENDS.pop(name, None)


def backend_names() -> list[str]:
    """The registered answer modes, sorted."""
    return sorted(_BACKENDS)


def create_backend(settings: Settings) -> AnswerBackend:
    """The backend ``settings.answer_mode`` names; ConfigError listing the names if none."""
    factory = _BACKENDS.get(settings.answer_mode)
    if factory is None:
        raise ConfigError(f"unknown answer mode {settings.answer_mode!r} "
                          f"(ASSISTANT_ANSWER_MODE): registered are {', '.join(backend_names())}")
    return factory(settings)
