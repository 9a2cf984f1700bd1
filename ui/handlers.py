"""The UI's behaviour: ``ChatApp``, whose methods are the Gradio event handlers (streamed
answers, library refresh, upload and removal, session settings, export) and the public API
endpoints. They take and return plain values (Gradio updates at most), so tests call them
without a browser; ``ui.tabs`` wires them to components.

Domain errors become one-line messages here, at the edge; the library goes through
``Assistant.ingest`` / ``Assistant.remove`` only (they serialise writers).
"""

from __future__ import annotations

import html
import logging
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from assistant import feedback
from assistant.config import Settings
from assistant.errors import AssistantError, ConfigError, IndexMissing
from assistant.records import Answer, Citation, Filters
from assistant.service import Assistant

from . import render, uploads
from .uploads import Row, Upload

log = logging.getLogger("ui")

HISTORY_TURNS = 6
STREAM_EVERY = 0.08  # seconds between chat updates while an answer streams
Notify = Callable[[str, str], None]  # (level "warning" | "info", one-line message)


def toast(level: str, message: str) -> None:
    """A Gradio toast: a warning (Chinese title, 8 s) or an information (4 s)."""
    if level == "warning":
        gr.Warning(html.escape(message), duration=8, title="注意")
    else:
        gr.Info(html.escape(message), duration=4, title="提示")


def short(e: BaseException) -> str:
    """One line for the user: domain errors as they are, others by type only."""
    if isinstance(e, IndexMissing):
        return "文档库为空：请先在“文档库”页上传文件"
    if isinstance(e, AssistantError):
        text = str(e).strip().splitlines()
        return text[0] if text else type(e).__name__
    return f"内部错误（{type(e).__name__}），详情见服务器日志"


def logged(e: BaseException, what: str) -> str:
    """``short(e)``, after logging an unexpected exception with its traceback (domain errors
    are expected and say all there is)."""
    if not isinstance(e, AssistantError):
        log.error("%s: %s", what, type(e).__name__, exc_info=e)
    return short(e)


def filters_of(kinds: list[str] | None, categories: list[str] | None,
               current_only: bool | None, docs: list[str] | None) -> Filters | None:
    """The retrieval filters of the chat's side panel (None when nothing is selected)."""
    f = Filters(kinds=list(kinds or []) or None, categories=list(categories or []) or None,
                current_only=bool(current_only), docs=list(docs or []) or None)
    return None if f.empty() else f


def paced(items: Iterable[str | Answer], every: float = STREAM_EVERY) -> Iterator[str | Answer]:
    """The text streamed so far, at most once per ``every`` seconds; the Answer as it comes."""
    text, last = "", 0.0
    for item in items:
        if isinstance(item, Answer):
            yield item
            continue
        text += item
        if time.monotonic() - last >= every:
            last = time.monotonic()
            yield text


class ChatApp:
    """Server-wide UI state (the Assistant, the upload folder) and every handler."""

    def __init__(self, settings: Settings, assistant: Assistant | None = None,
                 notify: Notify = toast) -> None:
        self.settings = settings
        self.assistant = assistant or Assistant(settings)
        self.notify = notify
        self.uploads = Path(settings.data_dir) / "uploads"
        self.exports = Path(tempfile.gettempdir()) / "standards-assistant-exports"

    def _failed(self, e: BaseException, what: str) -> str:
        """Warn the user of ``e`` in one line (logged if unexpected) and return the line."""
        msg = logged(e, what)
        self.notify("warning", msg)
        return msg

    # -- library view -----------------------------------------------------------------
    def documents(self) -> tuple[dict[str, Any], str]:
        """(doc → DocInfo, a one-line note); an absent index is an empty library."""
        try:
            return self.assistant.index.documents(), ""
        except IndexMissing:
            return {}, ""
        except Exception as e:
            return {}, logged(e, "reading the document list failed")

    @staticmethod
    def library_info(docs: dict[str, Any], note: str = "") -> str:
        if note:
            return f"⚠ {note}"
        chunks = sum(i.n_chunks for i in docs.values())
        return (f"已收录 {len(docs)} 份文档，{chunks} 个条文块。" if docs
                else "文档库为空：请在“文档库”页上传文件。")

    @staticmethod
    def category_choices(docs: dict[str, Any]) -> list[tuple[str, str]]:
        cats = sorted({i.meta.category for i in docs.values() if i.meta.category})
        return [(render.category_label(c), c) for c in cats]

    @staticmethod
    def doc_choices(docs: dict[str, Any]) -> list[tuple[str, str]]:
        return [render.doc_choice(d, i.meta) for d, i in sorted(docs.items())]

    def refresh(self, sel_docs: list[str] | None, sel_cats: list[str] | None,
                sel_remove: str | None = None) -> tuple[Any, ...]:
        """(library table, document filter, category filter, removal choice, info line),
        keeping the selections that are still valid."""
        docs, note = self.documents()
        dch, cch = self.doc_choices(docs), self.category_choices(docs)
        dvals, cvals = {v for _, v in dch}, {v for _, v in cch}
        return (
            render.doc_rows(docs),
            gr.update(choices=dch, value=[d for d in (sel_docs or []) if d in dvals]),
            gr.update(choices=cch, value=[c for c in (sel_cats or []) if c in cvals]),
            gr.update(choices=dch, value=sel_remove if sel_remove in dvals else None),
            self.library_info(docs, note),
        )

    # -- chat -------------------------------------------------------------------------
    def session_settings(self, llm: dict[str, Any] | None) -> Settings:
        """The server's settings with a session's answer settings (see ``apply``) applied."""
        return self.settings.for_user_endpoint(**llm) if llm else self.settings

    def stream(self, question: str, history: list[tuple[str, str]], filters: Filters | None,
               llm: dict[str, Any] | None = None) -> Iterator[str | Answer]:
        """Text pieces of the answer, then the Answer."""
        answerer = self.assistant.answerer(self.session_settings(llm))
        yield from answerer.stream(question, history, filters)

    def clause_text(self, c: Citation) -> str:
        """The whole clause of a citation (all its parts), for sources that came without it."""
        try:
            return "\n".join(ch.text for ch in self.assistant.clause(c.doc, c.clause))
        except Exception:
            return ""

    def complete(self, answer: Answer) -> dict[int, str]:
        """Clause texts for citations without one (by marker number)."""
        return {c.n: self.clause_text(c) for c in answer.citations if not c.text}

    def chat(self, question: str, messages: list[dict[str, Any]] | None,
             turns: list[Answer] | None, kinds: list[str] | None, categories: list[str] | None,
             current_only: bool | None, docs: list[str] | None,
             llm: dict[str, Any] | None) -> Iterator[tuple[Any, Any, Any]]:
        """Answer in the chat, streaming; yields (question box, messages, finished answers)."""
        q, turns = (question or "").strip(), list(turns or [])
        if not q:
            self.notify("warning", "请输入问题")
            yield gr.skip(), gr.skip(), gr.skip()
            return
        msgs = [*(messages or []), {"role": "user", "content": render.esc(q)},
                {"role": "assistant", "content": render.render_partial("")}]
        yield "", msgs, gr.skip()
        history = [(a.question, a.answer) for a in turns[-HISTORY_TURNS:]]
        final = None
        try:
            for item in paced(self.stream(q, history, filters_of(kinds, categories, current_only,
                                                                 docs), llm)):
                if isinstance(item, Answer):
                    final = item
                    continue
                msgs[-1] = {"role": "assistant", "content": render.render_partial(item)}
                yield gr.skip(), msgs, gr.skip()
            if final is None:
                raise AssistantError("回答没有完成")
        except Exception as e:
            msgs[-1] = {"role": "assistant",
                        "content": render.render_error(self._failed(e, "answering failed"))}
            yield gr.skip(), msgs, gr.skip()
            return
        msgs[-1] = {"role": "assistant", "content": render.render_answer(final, self.complete(final))}
        yield gr.skip(), msgs, [*turns, final]

    @staticmethod
    def reset() -> tuple[list[Any], list[Answer]]:
        """An empty chat and no finished answers."""
        return [], []

    # -- feedback on cited clauses (👍 / 👎) -------------------------------------------
    @staticmethod
    def vote_choices(turns: list[Answer] | None) -> tuple[Any, str]:
        """(the citation selector, status line) for the session's last answer: one choice
        per cited clause, "[n] GB/T 1.1—2020 8.6", valued by its marker number."""
        last = turns[-1] if turns else None
        choices = [(f"[{c.n}] {c.label()}", str(c.n)) for c in last.citations] if last else []
        return gr.update(choices=choices, value=None), ""

    def vote(self, choice: str | None, turns: list[Answer] | None, up: bool) -> str:
        """Store a 👍 (``up``) or 👎 on one clause the last answer cited, as a pair for
        ``assistant tune`` (``assistant.feedback``); a one-line status."""
        last = turns[-1] if turns else None
        cited = next((c for c in last.citations if str(c.n) == str(choice)), None) if last else None
        if last is None:
            problem = "还没有回答可以标记：请先提问"
        elif not last.citations:
            problem = "上一个回答没有引用条文，无可标记"
        elif cited is None:
            problem = "请先选择要标记的来源条文"
        else:
            msg = feedback.on_vote(self.settings, last.resolved_question or last.question,
                                   cited.doc, cited.clause, up, label=cited.label())
            self.notify("info" if msg.startswith("已记录") else "warning", msg)
            return msg
        self.notify("warning", problem)
        return f"⚠ {problem}"

    def vote_up(self, choice: str | None, turns: list[Answer] | None) -> str:
        return self.vote(choice, turns, up=True)

    def vote_down(self, choice: str | None, turns: list[Answer] | None) -> str:
        return self.vote(choice, turns, up=False)

    # -- library changes --------------------------------------------------------------
    def ingest(self, files: list[Any] | None, sel_docs: list[str] | None,
               sel_cats: list[str] | None, sel_remove: str | None,
               progress: gr.Progress = gr.Progress()) -> Iterator[tuple[Any, ...]]:
        """Check, stage and ingest uploaded files, one result row each; yields (result rows,
        status line, upload box, *``refresh``)."""
        keep = (gr.skip(),) * 5
        if not files:
            self.notify("warning", "请先选择要上传的文件")
            yield (gr.skip(), gr.skip(), None, *keep)
            return
        staged, rows = uploads.stage([Upload.of(f) for f in files], self.uploads,
                                     self.settings.upload_max_mb)
        if not staged:
            self.notify("warning", "没有可导入的文件")
            yield (render.results_rows(rows), "没有可导入的文件，原因见下表。", None, *keep)
            return
        total = len(staged)
        progress((0, total), desc="解析文件")
        yield (render.results_rows(rows), f"正在导入 {total} 个文件……", None, *keep)
        outcome: dict[str, BaseException] = {}
        for done in self._ingest_staged(staged, rows, outcome):
            progress((done, total), desc="解析文件")
            msg = f"已处理 {done}/{total} 个文件" + ("，正在生成向量……" if done == total else "……")
            yield (render.results_rows(rows), msg, gr.skip(), *keep)
        summary = self._ingest_summary(rows, {p.name for p in staged}, outcome.get("error"))
        yield (render.results_rows(rows), summary, None, *self.refresh(sel_docs, sel_cats, sel_remove))

    def _ingest_staged(self, staged: list[Path], rows: list[Row],
                       outcome: dict[str, BaseException]) -> Iterator[int]:
        """Run ``Assistant.ingest`` in a thread, filling ``rows`` as files finish; yields the
        number of files done after each; an exception ends up in ``outcome["error"]``."""
        q: queue.Queue[Any] = queue.Queue()

        def work() -> None:
            try:
                self.assistant.ingest(staged, on_file=q.put, progress=False)
            except BaseException as e:
                outcome["error"] = e
            finally:
                q.put(None)

        threading.Thread(target=work, name="ui-ingest", daemon=True).start()
        by_name = {r.path: r for r in rows}
        done = 0
        while (fr := q.get()) is not None:
            r = by_name.get(fr.path)
            if r is None:
                r = by_name[fr.path] = Row(fr.path, "")
                rows.append(r)
            r.status, r.reason, r.chunks = fr.status, fr.reason, fr.chunks
            done += 1
            yield done

    def _ingest_summary(self, rows: list[Row], staged: set[str], err: BaseException | None) -> str:
        """Settle the rows (files never reported failed; failed copies deleted) and say how
        it went, in a toast and the returned status line."""
        reason = self._failed(err, "ingest failed") if err is not None else "未处理"
        for r in rows:
            if r.status == "pending":
                r.status, r.reason = "failed", reason
            if r.status == "failed" and r.path in staged:
                uploads.discard(self.uploads, r.path)
        if err is not None:
            return f"导入失败：{reason}"
        counts: dict[str, int] = {}
        for r in rows:
            counts[r.status] = counts.get(r.status, 0) + 1
        summary = "导入完成：" + "，".join(
            f"{render.RESULT_LABELS.get(s, s)} {n} 个" for s, n in counts.items())
        if counts.get("failed"):
            self.notify("warning", f"{counts['failed']} 个文件导入失败，原因见结果表")
        else:
            self.notify("info", summary)
        return summary

    def remove(self, doc: str | None, sel_docs: list[str] | None,
               sel_cats: list[str] | None) -> tuple[Any, ...]:
        """Remove a document (and its uploaded copy); returns (status line, *``refresh``)."""
        if not doc:
            self.notify("warning", "请先选择要移除的文档")
            return (gr.skip(),) * 6
        try:
            ok = self.assistant.remove(doc)
        except Exception as e:
            return (f"移除失败：{self._failed(e, 'remove failed')}", *(gr.skip(),) * 5)
        if ok:
            uploads.discard(self.uploads, doc)
            self.notify("info", f"已移除 {doc}")
        msg = f"已移除：{doc}" if ok else f"文档库里没有 {doc}"
        return (msg, *self.refresh(sel_docs, sel_cats, None))

    # -- settings and export ----------------------------------------------------------
    def answer_modes(self) -> list[tuple[str, str]]:
        """(label, mode) of the answer modes this server offers."""
        modes = [("抽取式（不用大模型，直接摘录条文）", "extractive"),
                 ("OpenAI 兼容接口（vLLM、Ollama、DeepSeek、通义千问等）", "openai")]
        if self.settings.llm_gguf or self.settings.answer_mode == "llamacpp":
            modes.append(("本地 GGUF 模型（llama.cpp）", "llamacpp"))
        return modes

    def apply(self, mode: str, base_url: str | None, model: str | None, api_key: str | None,
              timeout: float | None) -> tuple[Any, str]:
        """Check a session's answer settings; returns (the session's state, status line).

        The state holds what the user typed; ``session_settings`` turns it into settings
        each time, so the server's API key reaches the server's endpoint only.
        """
        llm = {"mode": mode, "base_url": (base_url or "").strip(), "model": (model or "").strip(),
               "api_key": (api_key or "").strip(), "timeout": float(timeout) if timeout else None}
        try:
            s = self.session_settings(llm)
        except ConfigError as e:
            problem = str(e)
        else:
            problem = ""
            if s.answer_mode not in {m for _, m in self.answer_modes()}:
                problem = "这个服务器没有这种回答方式"
            elif s.answer_mode == "openai" and not (s.llm_base_url and s.llm_model):
                problem = "OpenAI 兼容接口需要填写接口地址和模型名称"
            elif s.answer_mode == "llamacpp" and not s.llm_gguf:
                problem = "本地模型需要在服务器上配置 ASSISTANT_LLM_GGUF"
        if problem:
            self.notify("warning", problem)
            return gr.skip(), f"⚠ {problem}"
        label = dict((v, k) for k, v in self.answer_modes()).get(s.answer_mode, s.answer_mode)
        where = f"：{s.llm_model} @ {s.llm_base_url}" if s.answer_mode == "openai" else ""
        self.notify("info", "设置已应用")
        return llm, f"当前回答方式：{label}{where}（只影响本次会话）"

    def export(self, turns: list[Answer] | None) -> str | None:
        """The conversation as a Markdown file to download (None when there is none)."""
        if not turns:
            self.notify("warning", "还没有对话可以导出")
            return None
        self.exports.mkdir(parents=True, exist_ok=True)
        stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{id(turns) % 10000}"
        path = self.exports / f"对话-{stamp}.md"
        path.write_text(render.export_markdown(turns, self.clause_text), "utf-8")
        return str(path)

    # -- public API (gr.api) ----------------------------------------------------------
    def api_ask(self, question: str, kinds: list[str] | None = None,
                categories: list[str] | None = None, current_only: bool = False,
                docs: list[str] | None = None,
                history: list[list[str]] | None = None) -> dict[str, Any]:
        """Answer a question from the indexed documents, with numbered clause citations."""
        if not (question or "").strip():
            raise gr.Error("question is empty")
        hist = [(str(h[0]), str(h[1])) for h in (history or []) if len(h) >= 2]
        try:
            a = self.assistant.ask(question.strip(), history=hist,
                                   filters=filters_of(kinds, categories, current_only, docs))
        except Exception as e:
            raise gr.Error(logged(e, "ask failed")) from None
        out = a.to_json()
        for c, j in zip(a.citations, out["citations"], strict=True):
            j["label"] = c.label()
        return out

    def api_search(self, query: str, k: int = 10) -> list[dict[str, Any]]:
        """Hybrid retrieval: the top-k clauses for a query."""
        try:
            return [h.to_json() for h in self.assistant.search(query, int(k))]
        except Exception as e:
            raise gr.Error(logged(e, "search failed")) from None

    def api_documents(self) -> list[dict[str, Any]]:
        """The indexed documents with their metadata."""
        docs, note = self.documents()
        if note and not docs:
            raise gr.Error(note)
        return [{**i.meta.to_dict(), "chunks": i.n_chunks} for i in docs.values()]
