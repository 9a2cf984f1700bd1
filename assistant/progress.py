"""Progress bars that know their total: count, rate, elapsed and ETA, on stderr.

On a terminal this is a rich bar. When stderr is not a terminal (an ingest redirected to a
log file, CI, ``nohup``) a bar draws nothing until it ends, so a plain line is printed
every few seconds instead: ``embed 1,234/71,627 (1.7%) 26.1/s elapsed 0:47 ETA 45:12``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

# Seconds between two plain progress lines of one task.
PLAIN_INTERVAL = 5.0


def make_progress(unit: str = "/s") -> Any:
    """A progress display with rich's ``add_task``/``update``/``advance`` calls: a rich bar
    on a terminal, :class:`PlainProgress` lines otherwise."""
    if not sys.stderr.isatty():
        return PlainProgress(unit)
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.1f} {unit}" if speed else f"– {unit}",
                        style="progress.data.speed")

    return Progress(TextColumn("{task.description:>9}"), BarColumn(), MofNCompleteColumn(),
                    Rate(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                    console=Console(stderr=True))


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


@dataclass
class _Task:
    description: str
    total: float | None
    completed: float = 0.0
    started: float = 0.0
    last_line: float = 0.0
    fields: dict[str, Any] = field(default_factory=dict)


class PlainProgress:
    """Plain progress lines for a non-terminal stderr, with the calls of rich's
    ``Progress`` that the pipeline uses. ``clock`` and ``stream`` are injectable for tests."""

    def __init__(self, unit: str = "/s", stream: IO[str] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 interval: float = PLAIN_INTERVAL) -> None:
        self.unit = unit
        self.stream = stream
        self.clock = clock
        self.interval = interval
        self.tasks: list[_Task] = []

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Nothing to draw until the first interval has passed."""

    def stop(self) -> None:
        for t in self.tasks:
            if t.last_line >= 0:  # a final line for each task still open
                self._line(t)
                t.last_line = -1.0

    def add_task(self, description: str, total: float | None = None, **fields: Any) -> int:
        now = self.clock()
        self.tasks.append(_Task(description, total, started=now, last_line=now, fields=fields))
        return len(self.tasks) - 1

    def update(self, task: int, *, description: str | None = None,
               completed: float | None = None, advance: float | None = None,
               total: float | None = None, **fields: Any) -> None:
        t = self.tasks[task]
        if description is not None:
            t.description = description
        if total is not None:
            t.total = total
        if completed is not None:
            t.completed = completed
        if advance:
            t.completed += advance
        t.fields.update(fields)
        self._maybe_line(t)

    def advance(self, task: int, advance: float = 1) -> None:
        self.update(task, advance=advance)

    def _maybe_line(self, t: _Task) -> None:
        now = self.clock()
        if t.last_line >= 0 and now - t.last_line >= self.interval:
            self._line(t)
            t.last_line = now

    def format(self, t: _Task) -> str:
        elapsed = max(self.clock() - t.started, 0.0)
        rate = t.completed / elapsed if elapsed > 0 else 0.0
        name = (t.description or str(t.fields.get("title", ""))).strip() or "progress"
        parts = [name]
        if t.total:
            parts.append(f"{t.completed:,.0f}/{t.total:,.0f} ({100 * t.completed / t.total:.1f}%)")
        else:
            parts.append(f"{t.completed:,.0f}")
        parts.append(f"{rate:,.1f} {self.unit}" if rate else f"– {self.unit}")
        parts.append(f"elapsed {_clock(elapsed)}")
        if t.total and rate > 0:
            parts.append(f"ETA {_clock(max(t.total - t.completed, 0) / rate)}")
        return " ".join(parts)

    def _line(self, t: _Task) -> None:
        out = self.stream or sys.stderr
        print(self.format(t), file=out, flush=True)
