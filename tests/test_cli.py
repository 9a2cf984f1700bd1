"""The command line through typer's runner: help, ingest, search --json, info, docs, show,
and one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app

from .conftest import CORPUS

runner = CliRunner()
POLICY = next(CORPUS.glob("*.txt"))


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ASSISTANT_EMBED_MODEL", "fake")
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ASSISTANT_INDEX", str(tmp_path / "index"))
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(POLICY, docs / POLICY.name)
    return docs


def test_help_lists_subcommands():
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0
    for cmd in ("ingest", "search", "ask", "batch", "eval", "ui", "info", "docs", "show"):
        assert cmd in r.output
    for cmd in ("ingest", "search", "ask", "batch", "eval", "ui", "info", "docs", "show"):
        assert runner.invoke(app, [cmd, "--help"]).exit_code == 0


def test_ingest_search_info_docs_show(env: Path, tmp_path: Path):
    r = runner.invoke(app, ["ingest", "-q", str(env)])
    assert r.exit_code == 0, r.output
    assert "1 added" in r.output

    r = runner.invoke(app, ["ingest", "--json", str(env)])
    assert json.loads(r.output)["unchanged"] == 1

    r = runner.invoke(app, ["search", "质量基础设施一站式服务", "--json", "-k", "3"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert len(rows) == 3 and rows[0]["rank"] == 1
    assert rows[0]["doc"] == POLICY.name and rows[0]["kind"] == "policy"

    r = runner.invoke(app, ["search", "质量基础设施一站式服务"])
    assert r.exit_code == 0 and " 1. " in r.output

    r = runner.invoke(app, ["info"])
    assert r.exit_code == 0 and "fake-ngram-256" in r.output and "documents:  1" in r.output
    info = json.loads(runner.invoke(app, ["info", "--json"]).output)
    assert info["manifest"]["documents"] == 1 and info["stats"]["chunks"] > 5

    r = runner.invoke(app, ["docs"])
    assert POLICY.name in r.output and "policy" in r.output

    r = runner.invoke(app, ["show", POLICY.name])
    assert r.exit_code == 0 and "（一）" in r.output
    r = runner.invoke(app, ["show", POLICY.name, "（一）"])
    assert r.exit_code == 0 and "指导思想" in r.output


def test_errors_are_one_line(env: Path, tmp_path: Path):
    r = runner.invoke(app, ["info"])
    assert r.exit_code == 1
    assert r.output.strip().count("\n") == 0 and "assistant ingest" in r.output

    r = runner.invoke(app, ["ingest", str(tmp_path / "nope")])
    assert r.exit_code == 1 and "no such file" in r.output

    bad = env / "empty.txt"
    bad.write_text("")
    r = runner.invoke(app, ["ingest", "-q", str(env)])
    assert r.exit_code == 1 and "empty.txt" in r.output and "1 added" in r.output

    r = runner.invoke(app, ["search", "x", "-k", "0"])
    assert r.exit_code == 1 and "top_k must be greater than 0" in r.output

    r = runner.invoke(app, ["show", "missing.md"])
    assert r.exit_code == 1 and "not in the index" in r.output


@pytest.mark.parametrize("cmd", ["search", "ask"])
@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_query_is_a_usage_error(env: Path, cmd: str, text: str) -> None:
    r = runner.invoke(app, [cmd, text])
    assert r.exit_code == 2, r.output
    assert "is empty" in r.output
    assert "no matching clauses" not in r.output


def test_docs_listing_keeps_one_line_per_document(env: Path) -> None:
    odd = env / "通知\n第二行\t.md"
    odd.write_text("# 关于开展质量提升行动的通知\n\n一、总体要求\n\n各单位应当落实质量主体责任。\n",
                   encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(env), "-q"]).exit_code == 0
    r = runner.invoke(app, ["docs"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert len(lines) == 2  # the policy text and the odd file name, one line each
    odd_line = next(x for x in lines if "第二行" in x)
    assert odd_line.startswith("通知\\n第二行\\t.md\t")


def test_page_ranges() -> None:
    from assistant.cli import page_ranges

    assert page_ranges([5, 1, 2, 3, 3]) == "1–3, 5"
    assert page_ranges([4]) == "4"


@pytest.mark.slow
def test_ingest_names_the_pages_it_ocrd(env: Path) -> None:
    """A scanned PDF is OCR'd page by page, and the ingest says which pages."""
    from assistant.load.ocr import tesseract_missing

    if tesseract_missing():
        pytest.skip(f"{tesseract_missing()} (apt-get install tesseract-ocr tesseract-ocr-chi-sim)")
    scan = Path(__file__).parent.parent / "eval/datasets/library/pdf-scan/DB50_T_90206-2022.pdf"
    shutil.copy(scan, env / scan.name)
    r = runner.invoke(app, ["ingest", str(env), "-q"])
    assert r.exit_code == 0, r.output
    assert f"OCR: {scan.name} pages 1–3" in r.output
    j = runner.invoke(app, ["ingest", str(env / scan.name), "--json"])
    assert j.exit_code == 0 and json.loads(j.output)["ocr"] == {}  # unchanged: not OCR'd again


def test_ingest_recipe_flag_is_recorded_and_a_bad_one_is_one_line(env: Path, tmp_path: Path) -> None:
    r = runner.invoke(app, ["ingest", "-q", "--recipe", "passage", str(env)])
    assert r.exit_code == 0, r.output
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["vectors"] == "passage/1"
    assert "recipe:     passage" in runner.invoke(app, ["info"]).output
    assert json.loads(runner.invoke(app, ["info", "--json"]).output)["recipe"] == "passage"
    r = runner.invoke(app, ["ingest", "-q", "--recipe", "three-view", str(env)])
    assert r.exit_code != 0
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "embed_recipe" in lines[0], r.output
