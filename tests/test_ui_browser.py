"""End to end in headless Chromium (Playwright driving Debian's /usr/bin/chromium): ask about
the built-in Liangjiang plan and open the cited section; upload a fictional standard plus
broken files and unsafe names and see per-file results; ask about one of the standard's
clauses and get it cited; export the conversation. Screenshots go to test-artifacts/
(gitignored)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .browser import ARTIFACTS, NEEDS_CHROMIUM, ROOT, free_port, open_page

CORPUS = ROOT / "corpus"
ANSWERS = "#sa-chat .sa-answer, #sa-chat .sa-refusal, #sa-chat .sa-error"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(180),
    NEEDS_CHROMIUM,
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """The app on the built-in corpus (fake embedder), on a free loopback port."""
    from assistant.config import Settings
    from assistant.service import Assistant
    from ui.app import launch

    tmp = tmp_path_factory.mktemp("ui-browser")
    s = Settings(embed_model="fake", index=tmp / "index", cache_dir=tmp / "cache",
                 data_dir=tmp / "data", port=free_port())
    a = Assistant(s)
    a.ingest([CORPUS], progress=False)
    demo = launch(s, prevent_thread_lock=True, quiet=True, assistant=a)
    try:
        yield demo.local_url, s
    finally:
        demo.close()


@pytest.fixture(scope="module")
def page(server: tuple[str, Any]) -> Iterator[Any]:
    with open_page(server[0], "#sa-question textarea") as pg:
        yield pg


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def ask(page: Any, question: str) -> Any:
    """Type a question, send it and wait for the finished answer; returns its element."""
    n = page.locator(ANSWERS).count()
    page.fill("#sa-question textarea", question)
    page.click("#sa-send")
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length > n", arg=[ANSWERS, n])
    return page.locator(ANSWERS).nth(n)


def open_tab(page: Any, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def _fixtures() -> Any:
    """tests/fixtures_std.py, whether tests/ is a package or not."""
    try:
        from . import fixtures_std
    except ImportError:
        fixtures_std = pytest.importorskip("fixtures_std")
    return fixtures_std


def test_answer_with_openable_citation(page: Any) -> None:
    msg = ask(page, "两江新区质量强区建设的主要目标是什么？")
    assert "sa-answer" in (msg.get_attribute("class") or ""), msg.inner_text()
    assert msg.locator(".sa-cite").count() >= 1
    assert msg.locator("details.sa-src").count() >= 1
    shot(page, "ui-1-answer.png")

    marker = msg.locator(".sa-cite").first
    n = re.search(r"\d+", marker.inner_text()).group(0)  # type: ignore[union-attr]
    marker.click()
    src = msg.locator(f"details.sa-n-{n}")
    page.wait_for_function("el => el.open", arg=src.element_handle())
    clause = src.locator(".sa-clause")
    assert clause.is_visible()
    text = clause.inner_text().strip()
    corpus = " ".join((CORPUS / "两江新区质量强区建设实施方案(2024-2027).txt")
                      .read_text("utf-8").split())
    assert len(text) > 20 and " ".join(text.split())[-20:] in corpus
    meta = src.locator(".sa-meta").inner_text()
    assert "两江新区质量强区建设实施方案" in meta and "状态" in meta
    assert src.locator(".sa-badge").count() >= 1
    shot(page, "ui-2-source-open.png")


def test_thumbs_up_on_a_citation_is_stored(page: Any, server: tuple[str, Any]) -> None:
    """👍 on a cited clause of the last answer: the selector lists the answer's citations,
    the click confirms in one line and appends the pair to the index's feedback.jsonl."""
    question = "两江新区如何推进标准化建设？"
    msg = ask(page, question)
    assert "sa-answer" in (msg.get_attribute("class") or ""), msg.inner_text()
    labels = msg.locator("details.sa-src > summary b").all_inner_texts()  # Citation.label()
    want = [f"[{i}] {t}" for i, t in enumerate(labels, 1)]
    page.wait_for_function(  # the selector is refreshed once the answer is finished
        "(want) => JSON.stringify(Array.from(document.querySelectorAll('#sa-vote-cite label'),"
        " l => l.innerText.trim())) === JSON.stringify(want)", arg=want)
    choice = page.locator("#sa-vote-cite label").filter(has_text=want[0])
    cited = labels[0]
    choice.click()
    page.click("#sa-vote-up")
    page.wait_for_function(
        "() => (document.querySelector('#sa-vote-status')?.innerText || '').includes('已记录')")
    status = page.inner_text("#sa-vote-status").strip()
    assert status == f"已记录：👍 {cited}", status
    shot(page, "ui-2c-feedback.png")
    rows = [json.loads(line) for line in
            (Path(server[1].index) / "feedback.jsonl").read_text("utf-8").splitlines()]
    mine = [r for r in rows if r["question"] == question]
    assert len(mine) == 1 and mine[0]["negative"] == [] and mine[0]["source"] == "feedback"
    (gold,) = mine[0]["gold"]
    assert gold["doc"] == "两江新区质量强区建设实施方案(2024-2027).txt" and gold["clause"]
    assert f"{gold['clause']}" in cited


def test_uncovered_question_is_a_distinct_notice(page: Any) -> None:
    msg = ask(page, "火星探测器着陆时的速度是多少？")
    assert "sa-refusal" in (msg.get_attribute("class") or ""), msg.inner_text()
    assert "未涵盖" in msg.inner_text()
    shot(page, "ui-2b-refusal.png")


def test_upload_shows_per_file_results(page: Any, tmp_path: Path) -> None:
    fx = _fixtures()
    try:
        pdf = fx.make_standard_pdf(tmp_path, "db50")
    except fx.FixtureUnavailable as e:
        pytest.skip(str(e))
    bad = tmp_path / "bad"
    bad.mkdir()
    broken = bad / "not_a_pdf.pdf"
    broken.write_bytes("这不是PDF文件，只是改了扩展名的文本。\n".encode())
    empty = bad / "empty.txt"
    empty.write_bytes(b"")

    # Regression: unsafe names fail on their own rows; the rest of the batch goes in.
    files = [{"name": f.name, "mimeType": "application/octet-stream", "buffer": f.read_bytes()}
             for f in (pdf, broken, empty)]
    files += [{"name": n, "mimeType": "text/markdown", "buffer": "第一条 内容。\n".encode()}
              for n in ("..\\..\\x.md", "..md")]

    open_tab(page, "文档库")
    page.set_input_files("#sa-upload input[type=file]", files)
    page.wait_for_function(
        "() => (document.querySelector('#sa-upload')?.innerText || '').includes('not_a_pdf')")
    page.click("#sa-ingest")
    page.wait_for_function(
        "() => (document.querySelector('#sa-ingest-status')?.innerText || '').includes('导入完成')",
        timeout=90_000)
    shot(page, "ui-3-upload.png")
    rows = {}
    for tr in page.locator("#sa-results [role=row]:has([role=gridcell])").all():
        cells = [c.strip() for c in tr.locator("[role=gridcell]").all_inner_texts()]
        if cells and cells[0]:
            rows[cells[0]] = cells
    assert rows[pdf.name][1] == "已添加", rows
    assert rows["not_a_pdf.pdf"][1] == "失败" and rows["not_a_pdf.pdf"][3], rows
    assert rows["empty.txt"][1] == "失败" and "空" in rows["empty.txt"][3], rows
    renamed = [r for r in rows.values() if "改名" in r[3]]
    assert len(renamed) == 2 and all(r[1] == "失败" and ".." in r[0] for r in renamed), rows
    page.wait_for_function(
        "() => (document.querySelector('#sa-docs-table')?.innerText || '').includes('DB50/T 9123')")
    shot(page, "ui-3-upload.png")


def test_uploaded_clause_is_cited_and_export(page: Any) -> None:
    open_tab(page, "问答")
    msg = ask(page, "DB50/T 9123—2022 的 6.2.1 规定了什么？")
    assert "sa-answer" in (msg.get_attribute("class") or ""), msg.inner_text()
    summaries = msg.locator("details.sa-src > summary").all_inner_texts()
    hit = [i for i, s in enumerate(summaries) if "DB50/T 9123—2022 6.2.1" in s]
    assert hit, summaries
    src = msg.locator("details.sa-src").nth(hit[0])
    src.locator("summary").click()
    assert "24 h内修复" in src.locator(".sa-clause").inner_text()
    shot(page, "ui-4-uploaded-clause.png")

    open_tab(page, "设置")
    page.click("#sa-export")
    page.locator("#sa-export-file a").first.wait_for()
    assert ".md" in page.inner_text("#sa-export-file")
    shot(page, "ui-5-settings-export.png")


def test_remove_document(page: Any) -> None:
    open_tab(page, "文档库")
    page.click("#sa-remove-sel input")
    page.fill("#sa-remove-sel input", "DB50")
    page.locator("#sa-remove-sel [role=option], ul.options li").filter(
        has_text="DB50/T 9123").first.click()
    page.click("#sa-remove")
    page.wait_for_function(
        "() => !(document.querySelector('#sa-docs-table')?.innerText || '').includes('DB50/T 9123')")
    assert "已移除" in page.inner_text("body")
    assert "两江新区" in page.inner_text("#sa-docs-table")
    shot(page, "ui-6-removed.png")
