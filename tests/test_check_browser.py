"""The 草案检查 tab in headless Chromium (Playwright driving Debian's /usr/bin/chromium), in a
minimal Blocks with only this tab (independent of ui/app.py): upload a DOCX draft with seeded
defects, see the findings grouped by kind, click one to see the draft's snippet and the cited
rule side by side (its text taken from the index), open the related provisions, export the
report. The index is real (fake embedder): the test library of tests/drafts.py.
Screenshots go to test-artifacts/ (gitignored)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import drafts as D
from . import drafts_defects as X
from .browser import ARTIFACTS, NEEDS_CHROMIUM, free_port, open_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(300),
    NEEDS_CHROMIUM,
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    gr = pytest.importorskip("gradio")
    from assistant.config import Settings
    from assistant.parse.catalog import Catalog
    from assistant.service import Assistant
    from ui.check_tab import CheckHandlers, build_check_tab

    tmp = tmp_path_factory.mktemp("check-browser")
    lib = D.write_library(tmp / "library")
    s = Settings(embed_model="fake", index=tmp / "index", cache_dir=tmp / "cache",
                 data_dir=tmp / "data")
    a = Assistant(s)
    a.ingest([lib], catalog=lib / "catalog.csv", progress=False)
    handlers = CheckHandlers(a, Catalog.load(D.write_catalog(tmp / "catalog.csv")), tmp / "out")
    with gr.Blocks(title="草案检查") as demo, gr.Tab("草案检查"):
        build_check_tab(handlers)
    demo.queue().launch(server_name="127.0.0.1", server_port=free_port(),
                        prevent_thread_lock=True, quiet=True)
    try:
        yield demo.local_url
    finally:
        demo.close()


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[Any]:
    with open_page(server, "#chk-run", height=1100, timeout_ms=60_000, downloads=True) as pg:
        yield pg


def test_upload_findings_detail_export(page: Any, tmp_path: Path) -> None:
    spec = X.combined(D.lamp())
    draft = D.write_docx(spec, tmp_path)
    page.get_by_role("tab", name="草案检查").click()
    page.set_input_files("#chk-upload input[type=file]", str(draft))
    page.wait_for_selector(f"#chk-upload :text('{draft.name}')")
    page.click("#chk-run")
    page.wait_for_selector("#chk-findings details.chk-kind")

    # grouped by kind: one <details> per kind, every seeded kind among them
    grouped = page.locator("#chk-findings")
    for kind, _ in spec.expected:
        assert grouped.locator(f"details.chk-kind-{kind}").count() == 1, kind
    assert "个错误" in page.locator("#chk-summary").inner_text()
    page.screenshot(path=str(ARTIFACTS / "check-1-findings.png"), full_page=True)

    # click a finding: draft snippet and cited rule side by side, the rule's text from the index
    page.locator("#chk-table [role=gridcell]", has_text="第2章缺少或改写了规定的引导语").first.click()
    page.wait_for_selector("#chk-detail #chk-rule-pane")
    draft_pane = page.locator("#chk-draft-pane").inner_text()
    rule_pane = page.locator("#chk-rule-pane").inner_text()
    assert "本文件引用了下列文件" in draft_pane
    assert "GB/T 1.1—2020 8.6" in rule_pane and "测试替身" in rule_pane
    box_d = page.locator("#chk-draft-pane").bounding_box()
    box_r = page.locator("#chk-rule-pane").bounding_box()
    assert box_d["x"] + box_d["width"] <= box_r["x"] + 1  # side by side, draft on the left
    page.screenshot(path=str(ARTIFACTS / "check-2-detail.png"), full_page=True)

    # related provisions of the indexed library
    page.get_by_text("相关条款（文库参考，非检查结论）").click()
    assert "GB/T 90011—2021" in page.locator("#chk-related").inner_text()

    # export: a downloadable Markdown report
    page.click("#chk-export")
    link = page.locator("#chk-download a").first
    link.wait_for()
    with page.expect_download() as dl:
        link.click()
    text = Path(dl.value.path()).read_text("utf-8")
    assert text.startswith("# 草案检查报告") and "GB/T 1.1—2020 8.6" in text
