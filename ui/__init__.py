"""Browser chat for the assistant (Gradio). ``ui.app.build`` / ``ui.app.launch``.

Gradio is imported only by ``ui.app``; ``ui.render`` is plain Python (HTML and Markdown).
"""
