"""The 设置 tab: the session's answer mode and LLM endpoint, and the Markdown export."""

from __future__ import annotations

import gradio as gr

from ..handlers import ChatApp
from . import Shared


def settings_tab(app: ChatApp, ui: Shared) -> None:
    """Build the tab and wire applying settings and exporting the conversation."""
    s = app.settings
    # Off loopback the endpoint is the administrator's (ui_allow_endpoint_change).
    fixed = not s.endpoint_change_allowed()
    with gr.Tab("设置", id="settings"):
        mode = gr.Radio(app.answer_modes(), value=s.answer_mode, label="回答方式",
                        elem_id="sa-mode")
        base_url = gr.Textbox(
            value=s.llm_base_url, label="接口地址（base URL）", elem_id="sa-base-url",
            placeholder="http://127.0.0.1:8000/v1", interactive=not fixed,
            info="本服务器不允许修改接口地址（由管理员配置）" if fixed else None)
        model = gr.Textbox(value=s.llm_model, label="模型名称", elem_id="sa-model")
        api_key = gr.Textbox(
            type="password", label="API 密钥", elem_id="sa-api-key",
            placeholder="留空：服务器配置的接口地址用服务器的密钥，其他地址不发送密钥")
        timeout = gr.Number(value=s.llm_timeout, label="超时（秒）", minimum=1, maximum=600)
        apply_btn = gr.Button("应用设置", variant="primary", elem_id="sa-apply")
        status = gr.Markdown(elem_id="sa-settings-status")
        gr.Markdown("#### 导出对话\n把本次对话（问题、回答和来源条文）导出为 Markdown 文件。")
        export_btn = gr.Button("导出为 Markdown", elem_id="sa-export")
        export_file = gr.File(label="下载", interactive=False, elem_id="sa-export-file")

    apply_btn.click(app.apply, [mode, base_url, model, api_key, timeout], [ui.llm, status],
                    api_visibility="private")
    export_btn.click(app.export, [ui.turns], [export_file], api_visibility="private")
