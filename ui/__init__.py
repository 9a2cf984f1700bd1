"""Browser chat for the assistant (Gradio). ``ui.app.build`` / ``ui.app.launch``.

``ui.handlers`` holds the event handlers (``ChatApp``), ``ui.tabs`` one builder per tab;
``ui.render``, ``ui.uploads`` and ``ui.auth`` are plain Python (no gradio).
"""
