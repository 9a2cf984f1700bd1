"""Progress bars that know their total: count, rate, elapsed and ETA, on stderr."""

from __future__ import annotations

from typing import Any


def make_progress(unit: str = "/s") -> Any:
    """A rich ``Progress`` whose tasks show description, bar, n/total, rate and ETA."""
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
