"""Language-model backends: any llama-index chat model behind :class:`ChatBackend`, with the
two built in — ``openai`` (any OpenAI-compatible endpoint) and ``llamacpp`` (a local GGUF
file). llama-index is imported only when a model is first needed."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..cite import MarkerRewriter, best_quote, sentences_citing, tidy_markers
from ..config import Settings
from ..errors import AssistantError, LLMError
from ..records import Hit
from ..text import shorten
from .prompt import build_messages, prompt_sources
from .registry import AnswerBackend, Draft, History, register_backend

# One retry covers a dropped connection or a 502 from a proxy; more only delays the error.
LLM_RETRIES = 1

# where a refusal that still cites the nearest sources says so: its opening characters
DECLINE_LEAD = 40
_DECLINE = re.compile(
    r"没有找到(?:相关|有关)|未找到(?:相关|有关)|未对此作出(?:规定|说明)|没有对此作出规定"
    r"|(?:资料|来源)[^。]{0,8}(?:没有|未)(?:提及|涉及|规定|包含|提供)"
    r"|无法(?:根据|依据|从)[^。]{0,12}(?:回答|确定|判断)|不能回答"
)


class ChatBackend(AnswerBackend):
    """Sends the numbered sources to a chat model and checks what comes back: markers of
    sources it was not given are removed, the rest renumbered in order of first use.

    ``make_llm(settings)`` returns any object with llama-index's ``chat``/``stream_chat``;
    it is called on first use (a refused question never needs the model). ``name`` and
    ``where`` (endpoint or file) make the error messages.
    """

    def __init__(self, name: str, settings: Settings, make_llm: Callable[[Settings], Any], where: str = "") -> None:
        self.name = name
        self.settings = settings
        self.where = where
        self._make_llm = make_llm
        self._llm: Any = None
        self._lock = threading.Lock()

    def llm(self) -> Any:
        """The chat model, created on first use."""
        if self._llm is None:
            with self._lock:
                if self._llm is None:
                    self._llm = self._make_llm(self.settings)
        return self._llm

    def generate(self, question: str, hits: Sequence[Hit], history: History | None,
                 streaming: bool) -> Iterator[str | Draft]:
        sources = prompt_sources(hits)
        rewriter = MarkerRewriter(len(sources))
        chunks: list[str] = []
        for delta in self._chat(question, sources, history, streaming):
            out = rewriter.feed(delta)
            if out:
                chunks.append(out)
                yield out
        tail = rewriter.flush()
        if tail:
            chunks.append(tail)
            yield tail
        text = tidy_markers("".join(chunks))
        if not text:
            raise LLMError(f"{self.name} backend returned an empty answer")
        cited = {n: sources[k - 1] for n, k in enumerate(rewriter.order, 1)}
        yield Draft(
            text,
            cited=cited,
            quotes={n: best_quote(h, sentences_citing(text, n)) for n, h in cited.items()},
            flags=list(rewriter.flags),
            # "现有资料未对此作出规定，最接近的是[2]": a refusal that points at the nearest source
            declined=bool(_DECLINE.search(text[:DECLINE_LEAD])) or (not cited and bool(_DECLINE.search(text))),
        )

    def _chat(self, question: str, sources: Sequence[Hit], history: History | None, streaming: bool) -> Iterator[str]:
        """Raw text deltas from the model; every failure becomes a one-line LLMError."""
        from llama_index.core.llms import ChatMessage

        llm = self.llm()
        msgs = [ChatMessage(role=m["role"], content=m["content"]) for m in build_messages(question, sources, history)]
        think = _ThinkFilter()
        try:
            if streaming:
                for r in llm.stream_chat(msgs):
                    out = think.feed(r.delta or "")
                    if out:
                        yield out
            else:
                r = llm.chat(msgs)
                out = think.feed(r.message.content or "")
                if out:
                    yield out
        except AssistantError:
            raise
        except Exception as e:
            raise LLMError(f"{self.name} backend ({self.where}) failed: {type(e).__name__}: {_one_line(e)}") from None
        tail = think.flush()
        if tail:
            yield tail


class _ThinkFilter:
    """Drops a leading <think>…</think> block (reasoning models) from streamed text."""

    def __init__(self) -> None:
        self._buf = ""
        self._state = "start"  # start → (think →) pass

    def feed(self, delta: str) -> str:
        if self._state == "pass":
            return delta
        self._buf += delta
        if self._state == "start":
            stripped = self._buf.lstrip()
            if "<think>".startswith(stripped):
                return ""  # could still become "<think>"
            if not stripped.startswith("<think>"):
                self._state = "pass"
                out, self._buf = self._buf, ""
                return out
            self._state = "think"
        end = self._buf.find("</think>")
        if end < 0:
            return ""
        out = self._buf[end + len("</think>") :].lstrip()
        self._buf, self._state = "", "pass"
        return out

    def flush(self) -> str:
        out = "" if self._state == "think" else self._buf
        self._buf = ""
        return out


def _one_line(e: BaseException) -> str:
    return shorten(str(e), 200) or type(e).__name__


# ---------------------------------------------------------------------------------------
# openai: any OpenAI-compatible endpoint
# ---------------------------------------------------------------------------------------


@register_backend("openai")
def openai_backend(settings: Settings) -> ChatBackend:
    return ChatBackend("openai", settings, make_openai, where=settings.llm_base_url)


def make_openai(settings: Settings, retries: int = LLM_RETRIES) -> Any:
    """An OpenAILike chat model for ``settings.llm_base_url`` (imported lazily)."""
    if not settings.llm_base_url:
        raise LLMError(
            "openai mode needs ASSISTANT_LLM_BASE_URL (an OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1)"
        )
    try:
        from llama_index.llms.openai_like import OpenAILike
    except ImportError:
        raise LLMError("openai mode needs llama-index-llms-openai-like (pip install llama-index-llms-openai-like)") from None
    return OpenAILike(
        model=settings.llm_model or "default",
        api_base=settings.llm_base_url,
        api_key=settings.llm_api_key or "not-needed",  # local servers accept any key
        timeout=settings.llm_timeout,
        is_chat_model=True,
        is_function_calling_model=False,
        max_retries=retries,
        temperature=0.1,
        context_window=32768,
    )


# ---------------------------------------------------------------------------------------
# llamacpp: a local GGUF file
# ---------------------------------------------------------------------------------------


@register_backend("llamacpp")
def llamacpp_backend(settings: Settings) -> ChatBackend:
    return ChatBackend("llamacpp", settings, make_llamacpp, where=settings.llm_gguf or "llamacpp")


def make_llamacpp(settings: Settings) -> Any:
    """A llama.cpp model for the GGUF file ``settings.llm_gguf`` (imported lazily)."""
    path = settings.llm_gguf
    if not path:
        raise LLMError("llamacpp mode needs ASSISTANT_LLM_GGUF (the path of a .gguf model file)")
    if not Path(path).is_file():
        raise LLMError(f"llamacpp mode: GGUF file not found: {path}")
    try:
        from llama_index.llms.llama_cpp import LlamaCPP
    except ImportError:
        raise LLMError(
            "llamacpp mode needs the optional extra: pip install '.[llamacpp]' (llama-index-llms-llama-cpp)"
        ) from None
    template: dict[str, Any] = {}
    messages_to_prompt, completion_to_prompt = _prompt_formatters(template)
    try:
        llm = LlamaCPP(
            model_path=path,
            temperature=0.1,
            max_new_tokens=768,
            context_window=8192,
            model_kwargs={"n_threads": settings.threads or None},
            messages_to_prompt=messages_to_prompt,
            completion_to_prompt=completion_to_prompt,
            verbose=False,
        )
    except Exception as e:
        raise LLMError(f"llamacpp mode: cannot load {path}: {_one_line(e)}") from None
    tpl = _gguf_chat_template(llm)
    if tpl is not None:
        template["t"] = tpl
    return llm


def _prompt_formatters(template: dict[str, Any]) -> tuple[Callable[..., str], Callable[[str], str]]:
    """(messages_to_prompt, completion_to_prompt) for LlamaCPP: the model's own chat template
    once ``template["t"]`` is set (it is read from the loaded file), ChatML until then."""

    def messages_to_prompt(messages: Sequence[Any]) -> str:
        msgs = [{"role": getattr(m.role, "value", str(m.role)), "content": m.content or ""} for m in messages]
        tpl = template.get("t")
        if tpl is not None:  # the model's own chat template, as stored in the GGUF
            return str(tpl.render(messages=msgs, add_generation_prompt=True, bos_token="", eos_token=""))
        # ChatML: what Qwen and most instruction-tuned Chinese models expect
        body = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in msgs)
        return body + "<|im_start|>assistant\n"

    def completion_to_prompt(prompt: str) -> str:
        from llama_index.core.llms import ChatMessage

        return messages_to_prompt([ChatMessage(role="user", content=prompt)])

    return messages_to_prompt, completion_to_prompt


def _gguf_chat_template(llm: Any) -> Any:
    """The chat template stored in the loaded GGUF, compiled in a jinja sandbox; None if none."""
    try:
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        src = llm._model.metadata.get("tokenizer.chat_template")
        if src:
            env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
            env.globals["raise_exception"] = lambda msg: (_ for _ in ()).throw(ValueError(msg))
            return env.from_string(src)
    except Exception:  # no template in the file: ChatML it is
        pass
    return None
