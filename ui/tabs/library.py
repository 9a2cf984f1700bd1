"""The 文档库 tab: the indexed documents, uploads with per-file results, removal."""

from __future__ import annotations

import gradio as gr

from .. import render
from ..handlers import ChatApp
from . import Shared


def library_tab(app: ChatApp, ui: Shared) -> None:
    """Build the tab (after the chat tab, whose filters it refreshes) and wire its events."""
    docs, _ = app.documents()
    with gr.Tab("文档库", id="library"):
        table = gr.Dataframe(
            value=render.doc_rows(docs), headers=render.DOC_COLUMNS, type="array",
            interactive=False, wrap=True, label="已收录文档", elem_id="sa-docs-table",
            max_height=420)
        with gr.Row():
            refresh_btn = gr.Button("刷新列表", size="sm", scale=0, min_width=100)
        gr.Markdown(f"#### 上传文件\nPDF、DOCX、TXT、MD、HTML，每个不超过 "
                    f"{app.settings.upload_max_mb} MB；同名文件会更新已有文档。")
        upload = gr.File(file_count="multiple", type="filepath", label="选择文件",
                         file_types=list(render.UPLOAD_SUFFIXES), elem_id="sa-upload")
        ingest_btn = gr.Button("导入", variant="primary", elem_id="sa-ingest")
        ingest_status = gr.Markdown(elem_id="sa-ingest-status")
        results = gr.Dataframe(headers=render.RESULT_COLUMNS, type="array", interactive=False,
                               wrap=True, label="导入结果", elem_id="sa-results")
        gr.Markdown("#### 移除文档")
        with gr.Row():
            remove_sel = gr.Dropdown(choices=app.doc_choices(docs), label="选择文档", value=None,
                                     scale=4, elem_id="sa-remove-sel")
            remove_btn = gr.Button("移除", variant="stop", scale=1, elem_id="sa-remove")
        remove_status = gr.Markdown()

    # in the order of ChatApp.refresh
    library = [table, ui.only_docs, ui.categories, remove_sel, ui.lib_status]
    selected = [ui.only_docs, ui.categories, remove_sel]
    for trigger in (refresh_btn.click, ui.demo.load):
        trigger(app.refresh, selected, library, api_visibility="private")
    # one library change at a time (Assistant.ingest/remove also lock against each other)
    ingest_btn.click(app.ingest, [upload, *selected], [results, ingest_status, upload, *library],
                     api_visibility="private", concurrency_limit=1, concurrency_id="ingest")
    remove_btn.click(app.remove, [remove_sel, ui.only_docs, ui.categories],
                     [remove_status, *library], api_visibility="private",
                     concurrency_limit=1, concurrency_id="ingest")
