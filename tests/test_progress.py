"""Plain progress lines when stderr is not a terminal (an ingest redirected to a log)."""

from __future__ import annotations

import io
import subprocess
import sys

from assistant.progress import PlainProgress


class _Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_plain_progress_prints_a_line_per_interval_with_rate_and_eta() -> None:
    out, clock = io.StringIO(), _Clock()
    with PlainProgress("/s", stream=out, clock=clock, interval=5.0) as bar:
        task = bar.add_task("embed", total=1000)
        bar.advance(task, 10)  # no time has passed: no line yet
        assert out.getvalue() == ""
        clock.t += 5.0
        bar.advance(task, 90)  # 100 done in 5 s: 20/s, 900 left → 45 s
        clock.t += 1.0
        bar.advance(task, 20)  # within the interval: no second line
    lines = out.getvalue().splitlines()
    assert lines[0] == "embed 100/1,000 (10.0%) 20.0 /s elapsed 0:05 ETA 0:45"
    # the closing line reports the final count
    assert len(lines) == 2 and lines[1].startswith("embed 120/1,000 (12.0%)")


def test_plain_progress_update_and_title_field() -> None:
    out, clock = io.StringIO(), _Clock()
    bar = PlainProgress("q/s", stream=out, clock=clock, interval=1.0)
    task = bar.add_task("", total=4, title="convert")
    clock.t += 2.0
    bar.update(task, completed=4)
    bar.stop()
    bar.stop()  # idempotent: one final line only
    lines = out.getvalue().splitlines()
    assert lines == ["convert 4/4 (100.0%) 2.0 q/s elapsed 0:02 ETA 0:00"] * 2


def test_make_progress_is_plain_when_stderr_is_not_a_tty() -> None:
    code = ("import sys; from assistant.progress import make_progress; "
            "print(type(make_progress()).__name__)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)  # stderr is a pipe here, not a terminal
    assert res.stdout.strip() == "PlainProgress"
