"""The answer engine: one interface, interchangeable backends.

``extractive`` (default) composes the answer from the best-supported sentences of the
retrieved clauses — offline, deterministic, no model. ``openai`` sends the numbered sources
to any OpenAI-compatible chat endpoint; ``llamacpp`` runs a local GGUF file. Every backend
goes through the same gate (refuse when retrieval found nothing relevant) and the same
grounding checks (markers, numbers) from :mod:`assistant.cite`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from .cite import (
    LIST_ITEM,
    MarkerRewriter,
    Relevance,
    assess_relevance,
    bigrams,
    build_citation,
    check_numbers,
    coverage,
    dense_band_for,
    hit_text,
    marker_numbers,
    normalize,
    numbers,
    query_refs,
    query_terms,
    shorten,
    source_label,
    split_sentences,
    status_warning,
    strip_label,
    strip_markers,
    tidy_markers,
)
from .config import Settings
from .errors import AssistantError, LLMError
from .records import Answer, Citation, Hit

History = Sequence[tuple[str, str]]

# One retry covers a dropped connection or a 502 from a proxy; more only delays the error.
LLM_RETRIES = 1
MAX_SENTENCES = 4
MAX_ANSWER_CHARS = 420
# a sentence must score this share of the best one: keeps answers to the point
RELATIVE_CUT = 0.8
PROMPT_SOURCES = 6
PROMPT_SOURCE_CHARS = 900
HISTORY_TURNS = 3


class SearchBackend(Protocol):
    """What the answer engine needs from retrieval (``assistant.retrieve.Retriever``)."""

    def search(self, query: str, k: int = 10, filters: Any | None = None) -> list[Hit]: ...


# ---------------------------------------------------------------------------------------
# follow-up questions
# ---------------------------------------------------------------------------------------

# pronouns that stand for the document of the previous turn …
_DOC_ANAPHORA = re.compile(
    r"该(?:法律|法规|法|标准|条例|办法|规定|文件|方案|规范)|这(?:部|个|项|份|一)?(?:法律|法规|法|标准|条例|办法|规定|文件|方案|规范)"
    r"|本(?:法|标准|条例|办法)|(?<!其)它(?!们)"
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
    if qd:
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


# ---------------------------------------------------------------------------------------
# refusal
# ---------------------------------------------------------------------------------------

REFUSAL = "已索引的文件中没有找到能回答这个问题的内容，无法给出有依据的答复。"


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


# ---------------------------------------------------------------------------------------
# extractive backend
# ---------------------------------------------------------------------------------------

_ASKS_NUMBER = re.compile(r"几|多少|多久|多长|多大|何时|什么时候|哪一?年|日期|期限|时限|金额|罚款|比例")
_PUNCT_END = re.compile(r"[。！？；!?;：:，,、\s]+$")
_KEY = re.compile(r"[\s\W_]+")
_LATIN = re.compile(r"[\sa-z\-,;'()/]*")
_HEAD_NO = re.compile(r"^(?:[a-z]?\d+(?:\.\d+)*|第[^\s]{1,6}[章节条]|[（(][一二三四五六七八九十]+[)）]|[一二三四五六七八九十]+、)\s*")


def extractive(query: str, hits: Sequence[Hit]) -> tuple[str, list[tuple[Hit, list[str]]]]:
    """The best-supported sentences of the top clauses, each followed by its marker.

    Returns the answer text and the sources in order of first use with the sentences
    quoted from each.
    """
    terms = query_terms(query)
    wants_number = bool(_ASKS_NUMBER.search(query))
    cands = list(hits[:6])
    sents = [_sentences(h) for h in cands]
    exact = [i for i, h in enumerate(cands) if h.evidence.exact]
    picked: list[tuple[int, int, str]] = []  # (hit index, sentence position, sentence)
    if exact:  # the question named this clause: give the clause itself
        i = exact[0]
        total = 0
        for j, s in enumerate(sents[i]):
            if len(picked) >= MAX_SENTENCES or (picked and total + len(s) > MAX_ANSWER_CHARS):
                break
            picked.append((i, j, s))
            total += len(s)
    else:
        hit_cov = [coverage(terms, hit_text(h)) for h in cands]
        best = max(hit_cov, default=0.0)
        scored: list[tuple[float, int, int, str]] = []
        for i, h in enumerate(cands):
            if i > 0 and hit_cov[i] < 0.5 * best:
                continue  # a clause that shares little with the question only adds noise
            # a sentence is read with its clause's own heading: in "8.6 规范性引用文件",
            # "该要素应设置为文件的第2章" is about 规范性引用文件
            own = h.chunk.heading.split(">")[-1].strip()
            # words of the document's title ("两江新区", "标准化法") pick the document, not
            # the sentence within it
            title = normalize(f"{h.chunk.std_no} {h.chunk.title}")
            local = {t: w for t, w in terms.items() if t not in title} or terms
            for j, s in enumerate(sents[i]):
                s = _focus(local, s)
                cov = coverage(local, f"{own} {s}")
                if cov <= 0 and not (i == 0 and j == 0):
                    continue
                # the fused retrieval rank is better evidence than word overlap alone
                score = cov + 0.3 * hit_cov[i] + 0.3 / (1 + i) - (0.1 if h.superseded else 0.0)
                if wants_number and numbers(s):  # "第几章？" "多少日内？" is answered by a number
                    score += 0.3
                scored.append((score, i, j, s))
        scored.sort(key=lambda x: (-x[0], x[1], x[2]))
        total = 0
        chosen: list[set[str]] = []
        for score, i, j, s in scored:
            if len(picked) >= MAX_SENTENCES or score < RELATIVE_CUT * scored[0][0]:
                break
            if picked and total + len(s) > MAX_ANSWER_CHARS:
                continue
            g = bigrams(s)
            # the same rule in another law or version ("销售者应当建立并执行进货检查验收制度")
            if any(len(g & o) / max(1, len(g | o)) >= NEAR_DUPLICATE for o in chosen):
                continue
            chosen.append(g)
            picked.append((i, j, s))
            total += len(s)
        picked = _complete_lists(picked, sents)
    picked.sort(key=lambda x: (x[0], x[1]))
    order: list[int] = []
    used: dict[int, list[str]] = {}
    last: dict[int, int] = {}
    parts: list[str] = []
    if picked:  # name the main source up front, as a compliance answer does (and so a
        # follow-up question can find the document in the conversation history)
        parts.append(f"根据{_cite_name(cands[picked[0][0]])}：")
    for i, j, s in picked:
        if i not in order:
            order.append(i)
        elif last[i] != j - 1:  # the quote skips part of the clause
            used[i].append("……")
        used.setdefault(i, []).append(s)
        last[i] = j
        body = _PUNCT_END.sub("", s)
        end = s[len(body) :].strip()
        end = "：" if end.startswith(("：", ":")) else "。"
        parts.append(f"{body}[{order.index(i) + 1}]{end}")
    return "".join(parts), [(cands[i], used[i]) for i in order]


NEAR_DUPLICATE = 0.6  # bigram Jaccard above which two sentences say the same thing
LIST_ITEMS = 6


def _complete_lists(picked: list[tuple[int, int, str]], sents: list[list[str]]) -> list[tuple[int, int, str]]:
    """A list item needs its lead-in ("有下列情形之一的：") and a lead-in its items."""
    have = {(i, j) for i, j, _ in picked}
    out = list(picked)
    budget = MAX_ANSWER_CHARS * 3 // 2 - sum(len(s) for _, _, s in picked)
    for i, j, s in picked:
        ss = sents[i]
        if LIST_ITEM.match(s):
            for k in range(j - 1, -1, -1):
                if ss[k].rstrip().endswith(("：", ":")):
                    if (i, k) not in have:
                        have.add((i, k))
                        out.append((i, k, ss[k]))
                        budget -= len(ss[k])
                    break
                if not LIST_ITEM.match(ss[k]):
                    break
        if s.rstrip().endswith(("：", ":")):
            for k in range(j + 1, min(len(ss), j + 1 + LIST_ITEMS)):
                if not LIST_ITEM.match(ss[k]) or budget < len(ss[k]):
                    break
                if (i, k) not in have:
                    have.add((i, k))
                    out.append((i, k, ss[k]))
                    budget -= len(ss[k])
    return out


def _focus(terms: dict[str, float], s: str, limit: int = 150) -> str:
    """A long sentence cut to its best window of comma-separated parts (verbatim), so the
    answer quotes "制造业产品质量合格率大于95%" rather than the whole 300-character target list."""
    if len(s) <= limit:
        return s
    parts = [p for p in re.split(r"(?<=[，,])", s) if p]
    best, best_cov = s, -1.0
    for a in range(len(parts)):
        for b in range(a + 1, min(len(parts), a + 3) + 1):
            window = "".join(parts[a:b])
            cov = coverage(terms, window) - 0.0005 * len(window)  # shorter wins a tie
            if cov > best_cov:
                best, best_cov = window, cov
    return best if coverage(terms, best) > 0 else s


def _cite_name(h: Hit) -> str:
    """"《中华人民共和国标准化法》第十条" / "GB/T 1.1—2020 8.6"."""
    c = h.chunk
    if c.std_no:
        return f" {c.std_no} {c.clause}".rstrip()
    name = c.title or Path(c.doc).stem
    return f"《{name}》{c.clause}"


def _sentences(h: Hit) -> list[str]:
    """Sentences of a clause worth quoting: not its bare label or heading."""
    c = h.chunk
    text = strip_label(c.text, c.clause)
    # the heading's own words, without its number: "8.6 规范性引用文件" → "规范性引用文件"
    heading = _HEAD_NO.sub("", normalize(c.heading.split(">")[-1]).strip()) if c.heading else ""
    out = []
    for s in split_sentences(text):
        core = _PUNCT_END.sub("", s)
        n = _HEAD_NO.sub("", normalize(core)).strip()
        # a bare heading, or a term entry's "要求 requirement" line, is no sentence
        if len(core) < 6 or (heading and n.startswith(heading) and _LATIN.fullmatch(n[len(heading) :])):
            continue
        out.append(s)
    return out


# ---------------------------------------------------------------------------------------
# LLM backends
# ---------------------------------------------------------------------------------------

SYSTEM_PROMPT = (
    "你是标准、法律法规和政策文件的合规咨询助手。\n"
    "规则：\n"
    "1. 只依据用户消息中编号的【资料】回答，不得使用资料以外的知识，不得编造条款、数字或标准编号。\n"
    "2. 每一句话的句末都必须用方括号编号标注所依据的资料，例如 [1] 或 [1][3]；只能使用给出的编号。\n"
    "3. 期限、金额、比例、日期和标准编号必须与资料原文完全一致。\n"
    "4. 标注为已废止、已失效或被代替的资料仅供参考，应优先依据现行版本并提示用户。\n"
    "5. 如果资料不能回答问题，直接回答“资料中没有找到相关规定”，不要猜测。\n"
    "6. 使用简体中文，简洁准确，一般不超过300字。"
)


def build_messages(question: str, sources: Sequence[Hit], history: History | None = None) -> list[dict[str, str]]:
    """Chat messages: system rules, the last turns, then the numbered sources and question."""
    msgs = [{"role": "system", "content": SYSTEM_PROMPT}]
    for user, assistant in list(history or [])[-HISTORY_TURNS:]:
        msgs.append({"role": "user", "content": user})
        # old markers refer to old sources: drop them so they are not reused
        msgs.append({"role": "assistant", "content": strip_markers(assistant or "")})
    blocks = []
    for n, h in enumerate(sources, 1):
        warn = status_warning(h.chunk.status, h.superseded, h.replaced_by)
        head = f"[{n}] {source_label(h)}" + (f"〔{warn}〕" if warn else "")
        text = h.chunk.text.strip()
        if len(text) > PROMPT_SOURCE_CHARS:
            text = text[:PROMPT_SOURCE_CHARS] + "…"
        blocks.append(f"{head}\n{text}")
    user = "【资料】\n" + "\n\n".join(blocks) + f"\n\n【问题】\n{question}\n\n请依据以上资料回答，每句句末标注资料编号。"
    msgs.append({"role": "user", "content": user})
    return msgs


def prompt_sources(hits: Sequence[Hit]) -> list[Hit]:
    """The hits given to the model: the top few, each chunk once."""
    out: list[Hit] = []
    seen: set[str] = set()
    for h in hits:
        if h.chunk.id in seen:
            continue
        seen.add(h.chunk.id)
        out.append(h)
        if len(out) == PROMPT_SOURCES:
            break
    return out


def _one_line(e: BaseException) -> str:
    return shorten(str(e), 200) or type(e).__name__


def make_openai(settings: Settings) -> Any:
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
        max_retries=LLM_RETRIES,
        temperature=0.1,
        context_window=32768,
    )


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
    try:
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        src = llm._model.metadata.get("tokenizer.chat_template")
        if src:
            env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
            env.globals["raise_exception"] = lambda msg: (_ for _ in ()).throw(ValueError(msg))
            template["t"] = env.from_string(src)
    except Exception:  # no template in the file: ChatML it is
        pass
    return llm


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


_DECLINE = re.compile(
    r"没有找到(?:相关|有关)|未找到(?:相关|有关)|(?:资料|来源)[^。]{0,8}(?:没有|未)(?:提及|涉及|规定|包含|提供)"
    r"|无法(?:根据|依据|从)[^。]{0,12}(?:回答|确定|判断)|不能回答"
)


# ---------------------------------------------------------------------------------------
# the engine
# ---------------------------------------------------------------------------------------


class Answerer:
    """Answers questions from retrieved clauses with the backend ``settings.answer_mode``.

    ``llm`` overrides the backend with any llama-index LLM (``chat``/``stream_chat``).
    Safe to share between threads as long as the retriever is.
    """

    def __init__(self, retriever: SearchBackend, settings: Settings | None = None, llm: Any = None) -> None:
        self.retriever = retriever
        self.settings = settings or Settings()
        self._llm = llm
        self._lock = threading.Lock()
        self._band = dense_band_for(self.settings.embed_model)
        mode = self.settings.answer_mode
        self.mode = mode if (llm is None or mode != "extractive") else "llm"

    # -- public API ---------------------------------------------------------------------

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

    def llm(self) -> Any:
        """The LLM of a generative mode, created on first use."""
        if self._llm is None:
            with self._lock:
                if self._llm is None:
                    if self.mode == "openai":
                        self._llm = make_openai(self.settings)
                    elif self.mode == "llamacpp":
                        self._llm = make_llamacpp(self.settings)
                    else:
                        raise LLMError(f"answer mode {self.mode!r} uses no LLM")
        return self._llm

    # -- pipeline -----------------------------------------------------------------------

    def _run(self, question: str, history: History | None, filters: Any, streaming: bool) -> Iterator[str | Answer]:
        t0 = time.perf_counter()
        resolved = resolve_followup(question, history)
        hits = self.retriever.search(resolved, k=self.settings.top_k, filters=filters)
        t1 = time.perf_counter()
        timings = {"retrieve_ms": (t1 - t0) * 1000}
        rel = assess_relevance(resolved, hits, self.settings.min_relevance, self._band)
        base = {"question": question, "mode": self.mode, "resolved_question": resolved}
        used: list[tuple[Hit, list[str]]] = []
        if rel.ok and self.mode == "extractive":
            text, used = extractive(resolved, hits)
            if not used:  # the clauses have nothing quotable (bare headings)
                rel = Relevance(rel.score, False, "no quotable sentence", rel.features)
        if not rel.ok:
            text, cits, flags = refusal(hits, rel)
            yield text
            timings["answer_ms"] = (time.perf_counter() - t1) * 1000
            yield Answer(answer=text, refused=True, citations=cits, flags=flags, timings=timings, **base)
            return
        if self.mode == "extractive":
            cited = {n: h for n, (h, _) in enumerate(used, 1)}
            quotes = {n: "".join(ss) for n, (_, ss) in enumerate(used, 1)}
            yield from split_sentences(text)
            flags: list[str] = []
        else:
            sources = prompt_sources(hits)
            rewriter = MarkerRewriter(len(sources))
            chunks: list[str] = []
            for delta in self._generate(resolved, sources, history, streaming):
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
                raise LLMError(f"{self.mode} backend returned an empty answer")
            flags = list(rewriter.flags)
            cited = {n: sources[k - 1] for n, k in enumerate(rewriter.order, 1)}
            quotes = {n: _best_quote(h, _sentences_citing(text, n)) for n, h in cited.items()}
        g = check_numbers(text, cited, flag_uncited=self.mode != "extractive")
        flags.extend(g.flags)
        refused = False
        if self.mode != "extractive":
            if not cited and _DECLINE.search(text):
                refused = True
                flags.append("model declined: the sources do not answer")
            elif not cited:
                flags.append("answer cites no source")
        citations = [build_citation(n, h, quotes.get(n, "")) for n, h in cited.items()]
        notes = [f"[{c.n}] {c.label()} {c.warning}" for c in citations if c.warning]
        if notes:
            note = "\n注意：" + "；".join(notes) + "。"
            text += note
            yield note
        timings["answer_ms"] = (time.perf_counter() - t1) * 1000
        yield Answer(answer=text, refused=refused, citations=citations, flags=flags, timings=timings, **base)

    def _generate(self, question: str, sources: Sequence[Hit], history: History | None, streaming: bool) -> Iterator[str]:
        """Raw text deltas from the LLM; every backend failure becomes a one-line LLMError."""
        from llama_index.core.llms import ChatMessage

        llm = self.llm()
        msgs = [ChatMessage(role=m["role"], content=m["content"]) for m in build_messages(question, sources, history)]
        think = _ThinkFilter()
        where = self.settings.llm_base_url if self.mode == "openai" else (self.settings.llm_gguf or self.mode)
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
            raise LLMError(f"{self.mode} backend ({where}) failed: {type(e).__name__}: {_one_line(e)}") from None
        tail = think.flush()
        if tail:
            yield tail


def _sentences_citing(text: str, n: int) -> list[str]:
    return [s for s in split_sentences(text) if n in marker_numbers(s)]


def _best_quote(h: Hit, answer_sentences: list[str]) -> str:
    """The sentence of the source closest to what the answer said with it ("" = default)."""
    if not answer_sentences:
        return ""
    said = bigrams(" ".join(answer_sentences))
    best, best_score = "", 0.0
    for s in _sentences(h):
        g = bigrams(s)
        if not g:
            continue
        score = len(g & said) / len(g)
        if score > best_score:
            best, best_score = s, score
    return best if best_score >= 0.3 else ""
