"""The 草案检查 tab's handlers, called directly (the browser test drives the same tab)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.parse.catalog import Catalog

from . import drafts as D
from . import drafts_defects as X

gr = pytest.importorskip("gradio")


@pytest.fixture
def handlers(tmp_path: Path):  # type: ignore[no-untyped-def]
    from ui.check_tab import CheckHandlers

    cat = Catalog.load(D.write_catalog(tmp_path / "catalog.csv"))
    return CheckHandlers(None, cat, export_dir=tmp_path / "out")


def test_upload_select_export(handlers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    draft = D.write_md(X.combined(D.charge()), tmp_path)
    summary, grouped, rows, report, _detail, related = handlers.run(str(draft))
    assert "个错误" in summary and report is not None
    # grouped by kind, in the catalogue's groups
    assert grouped.index("【规范性引用】") < grouped.index("【结构】") < grouped.index("【条款表述】")
    assert "chk-kind-must" in grouped and "chk-kind-requirement_in_note" in grouped
    assert len(rows) == len(report.findings) and rows[0][0] == "1"
    # a row opens the snippet and the rule side by side
    i = next(k for k, r in enumerate(rows) if r[1] == "使用“必须”")
    html = handlers.select(report, i)
    assert "chk-draft-pane" in html and "chk-rule-pane" in html
    assert "必须" in html and "GB/T 1.1—2020 附录C" in html
    assert handlers.select(report, len(rows)) == "" and handlers.select(None, 0) == ""
    assert "索引" in related
    out = Path(handlers.export(report))
    assert out.suffix == ".md" and out.read_text("utf-8").startswith("# 草案检查报告")


def test_unreadable_upload_is_one_line(handlers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 nothing")
    summary, _grouped, rows, report, *_ = handlers.run(str(bad))
    assert "无法检查" in summary and report is None and rows == []
    assert handlers.run(None)[3] is None and handlers.export(None) is None


def test_tab_builds_inside_blocks() -> None:
    from ui.check_tab import CheckHandlers, build_check_tab

    with gr.Blocks() as demo, gr.Tab("草案检查"):
        h = build_check_tab(None)
    assert isinstance(h, CheckHandlers)
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert {"chk-upload", "chk-run", "chk-table", "chk-detail", "chk-download"} <= ids
