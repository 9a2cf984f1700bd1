"""What the browser tests share: Debian's Chromium driven by Playwright, a free loopback
port, and one page opened on a served app."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"  # screenshots (gitignored)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
NEEDS_CHROMIUM = pytest.mark.skipif(not CHROMIUM.exists(),
                                    reason="/usr/bin/chromium is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def open_page(url: str, ready: str, *, height: int = 1000, timeout_ms: int = 30_000,
              downloads: bool = False) -> Iterator[Any]:
    """A headless Chromium page on ``url``, once the element ``ready`` is there."""
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": 1400, "height": height}, locale="zh-CN",
                                  accept_downloads=downloads)
        pg = ctx.new_page()
        pg.set_default_timeout(timeout_ms)
        pg.goto(url)
        pg.wait_for_selector(ready)
        try:
            yield pg
        finally:
            ctx.close()
            browser.close()
