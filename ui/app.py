"""The browser chat (Gradio 6): streaming answers with numbered, openable clause sources,
retrieval filters, a document library with upload/remove, per-session answer settings and
Markdown export.

``build(settings)`` makes the Blocks from one builder per tab (``ui.tabs``) wired to the
handlers of ``ui.handlers.ChatApp``; ``launch(settings)`` checks the binding (a login is
required off loopback), queues and serves it. Gradio is imported in ``ui`` only, never by
``assistant``.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from assistant.config import Settings, is_loopback
from assistant.errors import AssistantError, ConfigError
from assistant.service import Assistant

from .auth import Login, check_bind, parse_auth
from .handlers import ChatApp
from .tabs import Shared
from .tabs.chat import chat_tab
from .tabs.check import check_tab
from .tabs.library import library_tab
from .tabs.settings import settings_tab

__all__ = ["ChatApp", "build", "check_bind", "is_loopback", "launch", "parse_auth"]

CONCURRENCY = 4  # answers computed at once (Gradio queue); ingestion runs one at a time
INTRO = ("## 标准与政策文件问答助手\n"
         "依据已收录的标准、法律法规和政策文件回答，逐条注明出处（如 `GB/T 1.1—2020 8.6`、"
         "`标准化法 第十条`）；文档没有涉及的问题会明确说明。")

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


# --------------------------------------------------------------------------- build
def build(settings: Settings, assistant: Assistant | None = None) -> gr.Blocks:
    """The Gradio app on ``settings`` (not launched; see ``launch``)."""
    app = ChatApp(settings, assistant)
    with gr.Blocks(title="标准与政策文件问答助手", analytics_enabled=False) as demo:
        ui = Shared(demo=demo, turns=gr.State([]), llm=gr.State({}))
        gr.Markdown(INTRO)
        with gr.Tabs():
            chat_tab(app, ui)
            library_tab(app, ui)
            settings_tab(app, ui)
            check_tab(app, ui)
        gr.api(app.api_ask, api_name="ask", concurrency_id="answer")
        gr.api(app.api_search, api_name="search", concurrency_id="answer")
        gr.api(app.api_documents, api_name="documents")
    demo.ui_app = app  # type: ignore[attr-defined]
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
        auth=Login(auth) if auth else None,  # throttles failed logins
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
