"""The browser chat (Gradio 6): streaming answers with numbered, openable clause sources,
retrieval filters, a document library with upload/remove, per-session answer settings and
Markdown export.

``build(settings)`` makes the Blocks; ``launch(settings)`` checks the binding (a login is
required off loopback), queues and serves it. Gradio is imported here only, never by
``assistant``.
"""

from __future__ import annotations

import contextlib
import html
import ipaddress
import logging
import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from assistant.config import Settings
from assistant.errors import AssistantError, ConfigError, IndexMissing
from assistant.records import Answer, Citation
from assistant.records import Filters
from assistant.service import Assistant

from . import render

log = logging.getLogger("ui")

CONCURRENCY = 4  # answers computed at once (Gradio queue); ingestion runs one at a time
HISTORY_TURNS = 6
STREAM_EVERY = 0.08  # seconds between chat updates while an answer streams
EXAMPLES = [
    "两江新区质量强区建设的主要目标是什么？",
    "两江新区如何推进标准化建设？",
    "质量强区建设有哪些保障措施？",
]

CSS = """
.sa-msg { line-height: 1.65; }
.sa-sources { margin-top: 10px; }
.sa-sources-title { font-weight: 600; font-size: 0.9em; margin: 6px 0 4px;
  color: var(--body-text-color-subdued); }
.sa-src { border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 4px 8px; margin: 4px 0; }
.sa-src > summary { cursor: pointer; }
.sa-src-warn { border-color: #cf222e; background: rgba(207, 34, 46, 0.05); }
.sa-src-body { margin-top: 6px; }
.sa-meta, .sa-path, .sa-file { font-size: 0.85em; color: var(--body-text-color-subdued); }
.sa-heading { color: var(--body-text-color-subdued); font-size: 0.9em; }
.sa-clause { background: var(--background-fill-secondary); border-radius: 4px;
  padding: 6px 10px; margin-top: 6px; max-height: 26em; overflow: auto; }
.sa-flash { outline: 2px solid #0969da; }
.sa-cursor { opacity: 0.6; }
#sa-status { font-size: 0.9em; }
"""

# Clicking a marker [n] opens source n of the same message (Gradio's sanitizer drops data-*,
# so n is carried in a class name).
HEAD = """<script>
document.addEventListener("click", function (e) {
  var t = e.target;
  if (!t || !t.closest) { return; }
  var m = t.closest(".sa-cite");
  if (!m) { return; }
  var cls = Array.prototype.find.call(m.classList, function (c) {
    return c.indexOf("sa-cite-n-") === 0; });
  if (!cls) { return; }
  e.preventDefault();
  var root = m.closest(".sa-msg") || document;
  var d = root.querySelector("details.sa-n-" + cls.slice(10));
  if (!d) { return; }
  d.open = true;
  d.classList.add("sa-flash");
  d.scrollIntoView({block: "nearest"});
  setTimeout(function () { d.classList.remove("sa-flash"); }, 1500);
}, true);
</script>"""


# --------------------------------------------------------------------------- safety
def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and "localhost"."""
    h = host.strip().strip("[]").lower()
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def parse_auth(auth: str) -> list[tuple[str, str]]:
    """``user:password``, or a path to a file of such lines (blank and # lines ignored)."""
    auth = (auth or "").strip()
    if not auth:
        return []
    p = Path(auth).expanduser()
    if p.is_file():
        pairs = []
        try:
            lines = p.read_text("utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"cannot read the auth file {p}: {e}") from None
        for i, line in enumerate(lines, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            user, sep, pw = line.partition(":")
            if not sep or not user.strip() or not pw:
                raise ConfigError(f"{p}:{i}: expected user:password")
            pairs.append((user.strip(), pw))
        if not pairs:
            raise ConfigError(f"the auth file {p} has no user:password lines")
        return pairs
    user, sep, pw = auth.partition(":")
    if not sep or not user.strip() or not pw:
        raise ConfigError("ASSISTANT_AUTH must be user:password or the path of a file of such lines")
    return [(user.strip(), pw)]


def check_bind(settings: Settings) -> list[tuple[str, str]]:
    """The login pairs to use; refuses a non-loopback address without a login."""
    pairs = parse_auth(settings.auth)
    if not pairs and not is_loopback(settings.host):
        raise ConfigError(
            f"refusing to serve on {settings.host} without a login: set ASSISTANT_AUTH=user:password "
            "(or a file of such lines), or bind 127.0.0.1"
        )
    return pairs


# --------------------------------------------------------------------------- helpers
@dataclass
class Row:
    """One line of the upload result table."""

    path: str
    status: str
    reason: str = ""
    chunks: int = 0


def _short(e: BaseException) -> str:
    """One line for the user: domain errors as they are, others by type only."""
    if isinstance(e, IndexMissing):
        return "文档库为空：请先在“文档库”页上传文件"
    if isinstance(e, AssistantError):
        text = str(e).strip().splitlines()
        return text[0] if text else type(e).__name__
    return f"内部错误（{type(e).__name__}），详情见服务器日志"


def warn(message: str) -> None:
    """A warning toast (Chinese title, one line)."""
    gr.Warning(html.escape(message), duration=8, title="注意")


def info(message: str) -> None:
    """An information toast."""
    gr.Info(html.escape(message), duration=4, title="提示")


def _filters(kinds: list[str] | None, categories: list[str] | None, current_only: bool | None,
             docs: list[str] | None) -> Filters | None:
    f = Filters(kinds=list(kinds or []) or None, categories=list(categories or []) or None,
                current_only=bool(current_only), docs=list(docs or []) or None)
    return None if f.empty() else f


def _history(turns: list[Answer]) -> list[tuple[str, str]]:
    return [(a.question, a.answer) for a in turns[-HISTORY_TURNS:]]


class UIState:
    """Server-side state shared by all sessions: the Assistant and the upload folder."""

    def __init__(self, settings: Settings, assistant: Assistant | None = None) -> None:
        self.settings = settings
        self.assistant = assistant or Assistant(settings)
        self.uploads = Path(settings.data_dir) / "uploads"
        self.exports = Path(tempfile.gettempdir()) / "standards-assistant-exports"

    # -- library --------------------------------------------------------------------
    def documents(self) -> tuple[dict[str, Any], str]:
        """(doc → DocInfo, a one-line note); an absent index is an empty library."""
        try:
            docs = self.assistant.index.documents()
        except IndexMissing:
            return {}, ""
        except AssistantError as e:
            return {}, _short(e)
        except Exception as e:
            log.exception("reading the document list failed")
            return {}, _short(e)
        return docs, ""

    def clause_text(self, c: Citation) -> str:
        """The whole clause of a citation (all its parts), for sources that came without it."""
        try:
            return "\n".join(ch.text for ch in self.assistant.clause(c.doc, c.clause))
        except Exception:
            return ""

    def settings_for(self, llm: dict[str, Any] | None) -> Settings:
        """The base settings with a session's answer settings applied."""
        over = {k: v for k, v in (llm or {}).items() if v not in (None, "")}
        return self.settings.with_overrides(**over)

    # -- answering ------------------------------------------------------------------
    def stream(self, question: str, history: list[tuple[str, str]], filters: Filters | None,
               llm: dict[str, Any] | None = None) -> Iterator[str | Answer]:
        answerer = self.assistant.answerer(self.settings_for(llm))
        if hasattr(answerer, "stream"):
            yield from answerer.stream(question, history, filters)
        else:  # pragma: no cover - an answerer without streaming
            yield answerer.ask(question, history=history, filters=filters)

    def complete(self, answer: Answer) -> dict[int, str]:
        """Clause texts for citations without one (by marker number)."""
        return {c.n: self.clause_text(c) for c in answer.citations if not c.text}

    # -- uploads --------------------------------------------------------------------
    def stage_uploads(self, files: list[str]) -> tuple[list[Path], list[Row]]:
        """Check and copy uploaded files to ``data_dir/uploads`` under safe names."""
        self.uploads.mkdir(parents=True, exist_ok=True)
        limit = self.settings.upload_max_mb * 1024 * 1024
        staged: list[Path] = []
        rows: list[Row] = []
        used: set[str] = set()
        for f in files:
            src = Path(str(f))
            name = render.safe_filename(getattr(f, "orig_name", None) or src.name)
            suffix = Path(name).suffix.lower()
            if suffix not in render.UPLOAD_SUFFIXES:
                rows.append(Row(name, "failed", f"不支持的文件类型“{suffix or '无扩展名'}”"
                                "（支持 PDF、DOCX、TXT、MD、HTML）"))
                continue
            try:
                size = src.stat().st_size
            except OSError:
                rows.append(Row(name, "failed", "上传的文件已不存在，请重新上传"))
                continue
            if size > limit:
                rows.append(Row(name, "failed", f"文件过大（{size / 1048576:.1f} MB，"
                                f"上限 {self.settings.upload_max_mb} MB）"))
                continue
            if size == 0:
                rows.append(Row(name, "failed", "文件为空"))
                continue
            stem, k = Path(name).stem, 2
            while name in used:
                name, k = f"{stem}-{k}{suffix}", k + 1
            used.add(name)
            dest = self.uploads / name
            if dest.resolve().parent != self.uploads.resolve():  # belt and braces
                rows.append(Row(name, "failed", "文件名不安全"))
                continue
            shutil.copyfile(src, dest)
            staged.append(dest)
            rows.append(Row(name, "pending"))
        return staged, rows

    def remove_upload(self, doc: str) -> None:
        """Delete the uploaded copy of a removed document, if it is one."""
        p = (self.uploads / doc).resolve()
        if p.parent == self.uploads.resolve() and p.is_file():
            p.unlink()

    def export(self, turns: list[Answer]) -> Path:
        self.exports.mkdir(parents=True, exist_ok=True)
        path = self.exports / f"对话-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{id(turns) % 10000}.md"
        path.write_text(render.export_markdown(turns, self.clause_text), "utf-8")
        return path


# --------------------------------------------------------------------------- build
def build(settings: Settings, assistant: Assistant | None = None) -> gr.Blocks:
    """The Gradio app on ``settings`` (not launched; see ``launch``)."""
    st = UIState(settings, assistant)
    docs0, note0 = st.documents()

    def lib_info(docs: dict[str, Any], note: str = "") -> str:
        if note:
            return f"⚠ {note}"
        chunks = sum(i.n_chunks for i in docs.values())
        return f"已收录 {len(docs)} 份文档，{chunks} 个条文块。" if docs else "文档库为空：请在“文档库”页上传文件。"

    def category_choices(docs: dict[str, Any]) -> list[tuple[str, str]]:
        cats = sorted({i.meta.category for i in docs.values() if i.meta.category})
        return [(render.category_label(c), c) for c in cats]

    def doc_choices(docs: dict[str, Any]) -> list[tuple[str, str]]:
        return [render.doc_choice(d, i.meta) for d, i in sorted(docs.items())]

    def refresh(sel_docs: list[str] | None, sel_cats: list[str] | None,
                sel_remove: str | None = None) -> tuple[Any, ...]:
        """Library table, filter choices and the info line, keeping valid selections."""
        docs, note = st.documents()
        dch, cch = doc_choices(docs), category_choices(docs)
        dvals, cvals = {v for _, v in dch}, {v for _, v in cch}
        return (
            render.doc_rows(docs),
            gr.update(choices=dch, value=[d for d in (sel_docs or []) if d in dvals]),
            gr.update(choices=cch, value=[c for c in (sel_cats or []) if c in cvals]),
            gr.update(choices=dch, value=sel_remove if sel_remove in dvals else None),
            lib_info(docs, note),
        )

    with gr.Blocks(title="标准与政策文件问答助手", analytics_enabled=False) as demo:
        turns = gr.State([])
        llm_state = gr.State({})
        gr.Markdown("## 标准与政策文件问答助手\n"
                    "依据已收录的标准、法律法规和政策文件回答，逐条注明出处（如 `GB/T 1.1—2020 8.6`、"
                    "`标准化法 第十条`）；文档没有涉及的问题会明确说明。")
        with gr.Tabs():
            # ------------------------------------------------------------------ chat
            with gr.Tab("问答", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label="对话", show_label=False, elem_id="sa-chat", height=600,
                        latex_delimiters=[],
                        buttons=["copy"], feedback_options=None, autoscroll=True,
                        placeholder="请在下方输入问题。回答后列出编号来源，点击 [1] 等编号或来源条目可查看条文全文。",
                    )
                    with gr.Row():
                        question = gr.Textbox(
                            show_label=False, placeholder="输入问题，例如：" + EXAMPLES[0],
                            lines=1, max_lines=5, scale=6, elem_id="sa-question",
                            autofocus=True,
                        )
                        send = gr.Button("提问", variant="primary", scale=1, min_width=80,
                                         elem_id="sa-send")
                        clear = gr.Button("清空对话", scale=0, min_width=120, elem_id="sa-clear")
                    gr.Examples(EXAMPLES, inputs=question, label="示例问题")
                with gr.Column(scale=1, min_width=260):
                    gr.Markdown("#### 检索范围")
                    kinds = gr.CheckboxGroup(
                        choices=[(v, k) for k, v in render.KIND_LABELS.items()],
                        label="文档类型", elem_id="sa-kinds")
                    categories = gr.CheckboxGroup(choices=category_choices(docs0), label="类别",
                                                  elem_id="sa-categories")
                    current_only = gr.Checkbox(label="只用现行有效的版本", elem_id="sa-current")
                    only_docs = gr.Dropdown(choices=doc_choices(docs0), multiselect=True,
                                            label="只在这些文档中检索", value=[],
                                            elem_id="sa-docs")
                    lib_status = gr.Markdown(lib_info(docs0, note0), elem_id="sa-status")

            # ------------------------------------------------------------------ library
            with gr.Tab("文档库", id="library"):
                docs_table = gr.Dataframe(
                    value=render.doc_rows(docs0), headers=render.DOC_COLUMNS, type="array",
                    interactive=False, wrap=True, label="已收录文档", elem_id="sa-docs-table",
                    max_height=420)
                with gr.Row():
                    refresh_btn = gr.Button("刷新列表", size="sm", scale=0, min_width=100)
                gr.Markdown(f"#### 上传文件\nPDF、DOCX、TXT、MD、HTML，每个不超过 "
                            f"{settings.upload_max_mb} MB；同名文件会更新已有文档。")
                upload = gr.File(file_count="multiple", type="filepath", label="选择文件",
                                 file_types=list(render.UPLOAD_SUFFIXES), elem_id="sa-upload")
                ingest_btn = gr.Button("导入", variant="primary", elem_id="sa-ingest")
                ingest_status = gr.Markdown(elem_id="sa-ingest-status")
                results = gr.Dataframe(headers=render.RESULT_COLUMNS, type="array",
                                       interactive=False, wrap=True, label="导入结果",
                                       elem_id="sa-results")
                gr.Markdown("#### 移除文档")
                with gr.Row():
                    remove_sel = gr.Dropdown(choices=doc_choices(docs0), label="选择文档",
                                             value=None, scale=4, elem_id="sa-remove-sel")
                    remove_btn = gr.Button("移除", variant="stop", scale=1, elem_id="sa-remove")
                remove_status = gr.Markdown()

            # ------------------------------------------------------------------ settings
            with gr.Tab("设置", id="settings"):
                modes = [("抽取式（不用大模型，直接摘录条文）", "extractive"),
                         ("OpenAI 兼容接口（vLLM、Ollama、DeepSeek、通义千问等）", "openai")]
                if settings.llm_gguf or settings.answer_mode == "llamacpp":
                    modes.append(("本地 GGUF 模型（llama.cpp）", "llamacpp"))
                mode = gr.Radio(modes, value=settings.answer_mode, label="回答方式",
                                elem_id="sa-mode")
                base_url = gr.Textbox(value=settings.llm_base_url, label="接口地址（base URL）",
                                      placeholder="http://127.0.0.1:8000/v1")
                model = gr.Textbox(value=settings.llm_model, label="模型名称")
                api_key = gr.Textbox(type="password", label="API 密钥",
                                     placeholder="留空则使用服务器上配置的密钥")
                timeout = gr.Number(value=settings.llm_timeout, label="超时（秒）", minimum=1,
                                    maximum=600)
                apply_btn = gr.Button("应用设置", variant="primary", elem_id="sa-apply")
                settings_status = gr.Markdown(elem_id="sa-settings-status")
                gr.Markdown("#### 导出对话\n把本次对话（问题、回答和来源条文）导出为 Markdown 文件。")
                export_btn = gr.Button("导出为 Markdown", elem_id="sa-export")
                export_file = gr.File(label="下载", interactive=False, elem_id="sa-export-file")

        lib_outputs = [docs_table, only_docs, categories, remove_sel, lib_status]

        # ---------------------------------------------------------------- chat events
        def chat(q: str, msgs: list[dict[str, Any]] | None, hist: list[Answer],
                 k: list[str], c: list[str], cur: bool, d: list[str],
                 llm: dict[str, Any]) -> Iterator[tuple[Any, Any, Any]]:
            q = (q or "").strip()
            msgs = list(msgs or [])
            if not q:
                warn("请输入问题")
                yield gr.skip(), gr.skip(), gr.skip()
                return
            msgs = [*msgs, {"role": "user", "content": render.esc(q)},
                    {"role": "assistant", "content": render.render_partial("")}]
            yield "", msgs, gr.skip()
            text, final, last = "", None, 0.0
            try:
                for item in st.stream(q, _history(hist), _filters(k, c, cur, d), llm):
                    if isinstance(item, Answer):
                        final = item
                        continue
                    text += item
                    if time.monotonic() - last >= STREAM_EVERY:
                        last = time.monotonic()
                        msgs[-1] = {"role": "assistant", "content": render.render_partial(text)}
                        yield gr.skip(), msgs, gr.skip()
                if final is None:
                    raise AssistantError("回答没有完成")
            except Exception as e:
                if not isinstance(e, AssistantError):
                    log.exception("answering failed")
                warn(_short(e))
                msgs[-1] = {"role": "assistant", "content": render.render_error(_short(e))}
                yield gr.skip(), msgs, gr.skip()
                return
            msgs[-1] = {"role": "assistant",
                        "content": render.render_answer(final, st.complete(final))}
            yield gr.skip(), msgs, [*hist, final]

        chat_inputs = [question, chatbot, turns, kinds, categories, current_only, only_docs,
                       llm_state]
        for trigger in (send.click, question.submit):
            trigger(chat, chat_inputs, [question, chatbot, turns], api_name="chat",
                    api_visibility="private", concurrency_id="answer", show_progress="minimal")

        def reset() -> tuple[list[Any], list[Answer]]:
            return [], []

        clear.click(reset, None, [chatbot, turns], api_visibility="private")
        chatbot.clear(reset, None, [chatbot, turns], api_visibility="private")

        # ---------------------------------------------------------------- library events
        refresh_btn.click(refresh, [only_docs, categories, remove_sel], lib_outputs,
                          api_visibility="private")
        demo.load(refresh, [only_docs, categories, remove_sel], lib_outputs,
                  api_visibility="private")

        def do_ingest(files: list[str] | None, sel_docs: list[str], sel_cats: list[str],
                      sel_remove: str | None,
                      progress: gr.Progress = gr.Progress()) -> Iterator[tuple[Any, ...]]:
            skip5 = (gr.skip(),) * 5
            if not files:
                warn("请先选择要上传的文件")
                yield (gr.skip(), gr.skip(), None, *skip5)
                return
            staged, rows = st.stage_uploads(list(files))
            by_name = {r.path: r for r in rows}
            if not staged:
                warn("没有可导入的文件")
                yield (render.results_rows(rows), "没有可导入的文件，原因见下表。", None, *skip5)
                return
            q: queue.Queue[Any] = queue.Queue()
            outcome: dict[str, Any] = {}

            def work() -> None:
                try:
                    outcome["report"] = st.assistant.ingest(staged, on_file=q.put, progress=False)
                except BaseException as e:
                    outcome["error"] = e
                finally:
                    q.put(None)

            threading.Thread(target=work, name="ui-ingest", daemon=True).start()
            total, done = len(staged), 0
            progress((0, total), desc="解析文件")
            yield (render.results_rows(rows), f"正在导入 {total} 个文件……", None, *skip5)
            while True:
                fr = q.get()
                if fr is None:
                    break
                r = by_name.get(fr.path) or by_name.setdefault(fr.path, Row(fr.path, ""))
                if r not in rows:
                    rows.append(r)
                r.status, r.reason, r.chunks = fr.status, fr.reason, fr.chunks
                done += 1
                progress((done, total), desc="解析文件")
                msg = (f"已处理 {done}/{total} 个文件" +
                       ("，正在生成向量……" if done == total else "……"))
                yield (render.results_rows(rows), msg, gr.skip(), *skip5)
            err = outcome.get("error")
            for r in rows:
                if r.status == "pending":
                    r.status, r.reason = "failed", (_short(err) if err else "未处理")
            for r in rows:  # failed files are not kept
                if r.status == "failed" and (st.uploads / r.path).is_file():
                    (st.uploads / r.path).unlink()
            if err is not None:
                if not isinstance(err, AssistantError):
                    log.error("ingest failed: %s: %s", type(err).__name__, err)
                warn(_short(err))
                summary = f"导入失败：{_short(err)}"
            else:
                counts: dict[str, int] = {}
                for r in rows:
                    counts[r.status] = counts.get(r.status, 0) + 1
                summary = "导入完成：" + "，".join(
                    f"{render.RESULT_LABELS.get(s, s)} {n} 个" for s, n in counts.items())
                if counts.get("failed"):
                    warn(f"{counts['failed']} 个文件导入失败，原因见结果表")
                else:
                    info(summary)
            yield (render.results_rows(rows), summary, None,
                   *refresh(sel_docs, sel_cats, sel_remove))

        ingest_btn.click(do_ingest, [upload, only_docs, categories, remove_sel],
                         [results, ingest_status, upload, *lib_outputs], api_visibility="private",
                         concurrency_limit=1, concurrency_id="ingest")

        def do_remove(doc: str | None, sel_docs: list[str], sel_cats: list[str]
                      ) -> tuple[Any, ...]:
            if not doc:
                warn("请先选择要移除的文档")
                return (gr.skip(),) * 6
            try:
                ok = st.assistant.remove(doc)
            except Exception as e:
                if not isinstance(e, AssistantError):
                    log.exception("remove failed")
                warn(_short(e))
                return (f"移除失败：{_short(e)}", *(gr.skip(),) * 5)
            if ok:
                st.remove_upload(doc)
                info(f"已移除 {doc}")
            msg = f"已移除：{doc}" if ok else f"文档库里没有 {doc}"
            return (msg, *refresh(sel_docs, sel_cats, None))

        remove_btn.click(do_remove, [remove_sel, only_docs, categories],
                         [remove_status, *lib_outputs], api_visibility="private",
                         concurrency_limit=1, concurrency_id="ingest")

        # ---------------------------------------------------------------- settings events
        def apply(m: str, url: str, mdl: str, key: str, tmo: float | None
                  ) -> tuple[dict[str, Any], str]:
            llm = {"answer_mode": m, "llm_base_url": (url or "").strip(),
                   "llm_model": (mdl or "").strip(), "llm_api_key": (key or "").strip(),
                   "llm_timeout": float(tmo) if tmo else None}
            try:
                s = st.settings_for(llm)
            except ConfigError as e:
                warn(str(e))
                return gr.skip(), f"⚠ {e}"
            if s.answer_mode == "openai" and not (s.llm_base_url and s.llm_model):
                msg = "OpenAI 兼容接口需要填写接口地址和模型名称"
                warn(msg)
                return gr.skip(), f"⚠ {msg}"
            if s.answer_mode == "llamacpp" and not s.llm_gguf:
                msg = "本地模型需要在服务器上配置 ASSISTANT_LLM_GGUF"
                warn(msg)
                return gr.skip(), f"⚠ {msg}"
            label = dict((v, k) for k, v in modes).get(s.answer_mode, s.answer_mode)
            where = f"：{s.llm_model} @ {s.llm_base_url}" if s.answer_mode == "openai" else ""
            info("设置已应用")
            return llm, f"当前回答方式：{label}{where}（只影响本次会话）"

        apply_btn.click(apply, [mode, base_url, model, api_key, timeout],
                        [llm_state, settings_status], api_visibility="private")

        def do_export(hist: list[Answer]) -> Any:
            if not hist:
                warn("还没有对话可以导出")
                return None
            return str(st.export(hist))

        export_btn.click(do_export, [turns], [export_file], api_visibility="private")

        # ---------------------------------------------------------------- API
        def ask(question: str, kinds: list[str] | None = None,
                categories: list[str] | None = None, current_only: bool = False,
                docs: list[str] | None = None,
                history: list[list[str]] | None = None) -> dict[str, Any]:
            """Answer a question from the indexed documents, with numbered clause citations."""
            if not (question or "").strip():
                raise gr.Error("question is empty")
            hist = [(str(h[0]), str(h[1])) for h in (history or []) if len(h) >= 2]
            try:
                a = st.assistant.ask(question.strip(), history=hist,
                                     filters=_filters(kinds, categories, current_only, docs))
            except Exception as e:
                if not isinstance(e, AssistantError):
                    log.exception("ask failed")
                raise gr.Error(_short(e)) from None
            out = a.to_json()
            for c, j in zip(a.citations, out["citations"], strict=True):
                j["label"] = c.label()
            return out

        def search(query: str, k: int = 10) -> list[dict[str, Any]]:
            """Hybrid retrieval: the top-k clauses for a query."""
            try:
                return [h.to_json() for h in st.assistant.search(query, int(k))]
            except Exception as e:
                if not isinstance(e, AssistantError):
                    log.exception("search failed")
                raise gr.Error(_short(e)) from None

        def documents() -> list[dict[str, Any]]:
            """The indexed documents with their metadata."""
            docs, note = st.documents()
            if note and not docs:
                raise gr.Error(note)
            return [{**i.meta.to_dict(), "chunks": i.n_chunks} for i in docs.values()]

        gr.api(ask, api_name="ask", concurrency_id="answer")
        gr.api(search, api_name="search", concurrency_id="answer")
        gr.api(documents, api_name="documents")

    demo.ui_state = st  # type: ignore[attr-defined]
    return demo


# --------------------------------------------------------------------------- launch
def theme() -> Any:
    """Default theme with local CJK fonts (no web fonts: the app works offline)."""
    return gr.themes.Default(
        primary_hue="blue",
        font=["Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
              "system-ui", "sans-serif"],
        font_mono=["Noto Sans Mono CJK SC", "DejaVu Sans Mono", "monospace"],
    )


def launch(settings: Settings, *, prevent_thread_lock: bool = False, quiet: bool = False,
           concurrency: int = CONCURRENCY, assistant: Assistant | None = None) -> gr.Blocks:
    """Check the binding, build, queue and serve the app; returns the running Blocks."""
    auth = check_bind(settings)
    assistant = assistant or Assistant(settings)
    # One query engine for the server's life (embed.DefaultEmbedder._native_engine); a
    # broken model is reported in the chat instead, where the user sees it.
    with contextlib.suppress(AssistantError):
        assistant.warm()
    demo = build(settings, assistant)
    demo.queue(default_concurrency_limit=concurrency, max_size=256)
    try:
        _serve(demo, settings, auth)
    except OSError as e:
        raise ConfigError(f"cannot serve on {settings.host}:{settings.port}: "
                          f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    if not quiet:
        login = "，需要登录" if auth else ""
        print(f"问答界面已启动：{demo.local_url}{login}（Ctrl+C 停止）", flush=True)
    if not prevent_thread_lock:
        demo.block_thread()
    return demo


def _serve(demo: gr.Blocks, settings: Settings, auth: list[tuple[str, str]]) -> None:
    demo.launch(
        server_name=settings.host,
        server_port=settings.port,
        auth=auth or None,
        auth_message="请输入用户名和密码" if auth else None,
        max_file_size=f"{settings.upload_max_mb}mb",
        share=False,
        inbrowser=False,
        show_error=False,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        enable_monitoring=False,
        run_history=False,
        footer_links=["api"],
        prevent_thread_lock=True,
        quiet=True,
        theme=theme(),
        css=CSS,
        head=HEAD,
    )
