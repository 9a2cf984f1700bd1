"""Feedback on cited clauses (👍 / 👎 in the UI), stored as pairs ``assistant tune`` reads.

One append-only JSONL file, ``feedback.jsonl`` in the index directory (or
``settings.cache_dir`` when the index directory is not writable), one row per mark in the
eval dataset format: ``{"id", "question", "gold": [{"doc", "clause"}], "negative": [...],
"source": "feedback", "ts"}`` — 👍 puts the clause in ``gold``, 👎 in ``negative``.
Rows are only ever appended (each under a lock, one ``write`` of one line), so a crash
loses at most the mark being written; ``assistant tune FILE`` merges the rows of one
question.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .config import Settings
from .errors import AssistantError

FILE = "feedback.jsonl"
Vote = Literal["up", "down"]
_LOCK = threading.Lock()


@dataclass
class Feedback:
    """One mark: was ``doc``/``clause`` a right answer to ``question``?"""

    question: str
    doc: str
    clause: str
    vote: Vote

    def to_row(self) -> dict[str, object]:
        item = [{"doc": self.doc, "clause": self.clause}]
        key = f"{self.question}\x00{self.doc}\x00{self.clause}\x00{self.vote}\x00{time.time()}"
        return {"id": "fb-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12],
                "question": self.question,
                "gold": item if self.vote == "up" else [],
                "negative": item if self.vote == "down" else [],
                "source": "feedback", "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def feedback_path(settings: Settings) -> Path:
    """Where marks are stored: the index directory when writable, else the cache dir."""
    idx = Path(settings.index)
    if idx.is_dir() and os.access(idx, os.W_OK):
        return idx / FILE
    return Path(settings.cache_dir).expanduser() / "feedback" / FILE


def record_feedback(settings: Settings, question: str, doc: str, clause: str,
                    vote: str) -> Path:
    """Append one mark; returns the file. The UI's 👍/👎 handler (see :func:`on_vote`)."""
    question, doc, clause = question.strip(), doc.strip(), clause.strip()
    if vote not in ("up", "down"):
        raise AssistantError(f"feedback vote must be 'up' or 'down', not {vote!r}")
    if not (question and doc and clause):
        raise AssistantError("feedback needs the question and the cited document and clause")
    path = feedback_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(Feedback(question, doc, clause, vote).to_row(), ensure_ascii=False) + "\n"
    with _LOCK, open(path, "a", encoding="utf-8") as f:
        f.write(line)
    return path


def on_vote(settings: Settings, question: str, doc: str, clause: str, up: bool,
            label: str = "") -> str:
    """For the UI: store a 👍 (``up``) or 👎 on one cited clause; a one-line status in
    Chinese ("已记录：👍 GB/T 1.1—2020 8.6"; ``label`` is how the clause is cited, by
    default ``doc clause``), saying where the mark went when the index was read-only."""
    mark = "👍" if up else "👎"
    try:
        path = record_feedback(settings, question, doc, clause, "up" if up else "down")
    except AssistantError as e:
        return f"未能记录：{e}"
    except OSError as e:
        return f"未能记录：{e.strerror or type(e).__name__}（{e.filename or feedback_path(settings)}）"
    where = "" if path.parent == Path(settings.index) else f"（文档库目录不可写，已存到 {path}）"
    return f"已记录：{mark} {label or f'{doc} {clause}'}{where}"
