"""The 问答 tab: the conversation, the question box, 👍/👎 on the last answer's cited clauses
and the retrieval filters."""

from __future__ import annotations

import gradio as gr

from .. import render
from ..handlers import ChatApp
from . import Shared

EXAMPLES = [
    "两江新区质量强区建设的主要目标是什么？",
    "两江新区如何推进标准化建设？",
    "质量强区建设有哪些保障措施？",
]
VOTE_LABEL = "上一个回答引用的条文：选一条，标记它是否答对了问题（用于 assistant tune）"
PLACEHOLDER = "请在下方输入问题。回答后列出编号来源，点击 [1] 等编号或来源条目可查看条文全文。"


def chat_tab(app: ChatApp, ui: Shared) -> None:
    """Build the tab and wire asking, clearing and marking cited clauses."""
    docs, note = app.documents()
    with gr.Tab("问答", id="chat"), gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                label="对话", show_label=False, elem_id="sa-chat", height=600,
                latex_delimiters=[], buttons=["copy"], feedback_options=None, autoscroll=True,
                placeholder=PLACEHOLDER)
            with gr.Row():
                question = gr.Textbox(
                    show_label=False, placeholder="输入问题，例如：" + EXAMPLES[0], lines=1,
                    max_lines=5, scale=6, elem_id="sa-question", autofocus=True)
                send = gr.Button("提问", variant="primary", scale=1, min_width=80,
                                 elem_id="sa-send")
                clear = gr.Button("清空对话", scale=0, min_width=120, elem_id="sa-clear")
            cited, vote_status = feedback_row(app, ui)
            gr.Examples(EXAMPLES, inputs=question, label="示例问题")
        with gr.Column(scale=1, min_width=260):
            gr.Markdown("#### 检索范围")
            kinds = gr.CheckboxGroup(choices=[(v, k) for k, v in render.KIND_LABELS.items()],
                                     label="文档类型", elem_id="sa-kinds")
            ui.categories = gr.CheckboxGroup(choices=app.category_choices(docs), label="类别",
                                             elem_id="sa-categories")
            current_only = gr.Checkbox(label="只用现行有效的版本", elem_id="sa-current")
            ui.only_docs = gr.Dropdown(choices=app.doc_choices(docs), multiselect=True,
                                       label="只在这些文档中检索", value=[], elem_id="sa-docs")
            ui.lib_status = gr.Markdown(app.library_info(docs, note), elem_id="sa-status")

    inputs = [question, chatbot, ui.turns, kinds, ui.categories, current_only, ui.only_docs,
              ui.llm]
    marks = {"fn": app.vote_choices, "inputs": [ui.turns], "outputs": [cited, vote_status],
             "api_visibility": "private", "show_progress": "hidden"}
    for trigger in (send.click, question.submit):
        trigger(app.chat, inputs, [question, chatbot, ui.turns], api_name="chat",
                api_visibility="private", concurrency_id="answer",
                show_progress="minimal").then(**marks)
    for trigger in (clear.click, chatbot.clear):
        trigger(app.reset, None, [chatbot, ui.turns], api_visibility="private").then(**marks)


def feedback_row(app: ChatApp, ui: Shared) -> tuple[gr.Radio, gr.Markdown]:
    """👍/👎 on one clause the last answer cited (stored for ``assistant tune``); returns
    (the citation selector, the status line), which the answer events refresh."""
    cited = gr.Radio(choices=[], value=None, label=VOTE_LABEL, elem_id="sa-vote-cite")
    with gr.Row(equal_height=True, elem_id="sa-feedback"):
        up = gr.Button("👍 答对了", scale=0, min_width=110, size="sm", elem_id="sa-vote-up")
        down = gr.Button("👎 不对", scale=0, min_width=110, size="sm", elem_id="sa-vote-down")
        vote_status = gr.Markdown("", elem_id="sa-vote-status")
    for button, fn in ((up, app.vote_up), (down, app.vote_down)):
        button.click(fn, [cited, ui.turns], vote_status, api_visibility="private",
                     show_progress="hidden")
    return cited, vote_status
