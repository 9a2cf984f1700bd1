"""The 草案检查 tab: review a draft standard against GB/T 1.1 and the library
(layout and handlers in ``ui.check_tab``)."""

from __future__ import annotations

import gradio as gr

from ..check_tab import build_check_tab
from ..handlers import ChatApp
from . import Shared


def check_tab(app: ChatApp, ui: Shared) -> None:
    """Build the tab on the app's assistant: related provisions come from its index."""
    with gr.Tab("草案检查", id="check"):
        build_check_tab(app.assistant)
