"""One builder per tab of the UI. Each ``*_tab(app, ui)`` makes its components inside a
``gr.Tab`` and wires their events to ``ChatApp`` methods; a new tab is one such function
(in a module here) plus one line in ``ui.app.build``.

``Shared`` carries what tabs use from each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Shared:
    """Components more than one tab uses. Gradio components are typed ``Any``: this module
    stays importable without gradio."""

    demo: Any  # the gr.Blocks (for its load event)
    turns: Any  # gr.State: the session's finished answers (list of Answer)
    llm: Any  # gr.State: the session's answer settings (ChatApp.apply)
    # made by the chat tab (built first), kept up to date by the library tab
    categories: Any = None
    only_docs: Any = None
    lib_status: Any = None
