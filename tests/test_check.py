"""The draft check, piece by piece: references, structure, language, the library's part (rule
texts, statuses, terms, related provisions), the report and the ``check`` command.

The library is a stand-in object over parsed fixture documents (the same records the index
returns), so these tests need no index; tests/test_check_browser.py runs on a real one."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from assistant.check import check_draft
from assistant.check.records import CheckReport
from assistant.check.report import to_markdown, to_text
from assistant.check.rules import RULES, STANDARD, cite
from assistant.errors import DraftCheckError, InputFileError
from assistant.parse.catalog import Catalog
from assistant.records import Hit

from . import drafts as D
from . import drafts_defects as X


class FakeAssistant:
    """What the check uses of :class:`assistant.service.Assistant`, over parsed documents."""

    def __init__(self, folder: Path) -> None:
        from assistant.chunk import chunk_document
        from assistant.load import load_file
        from assistant.parse import merge_meta, parse

        cat = Catalog.load(folder / "catalog.csv")
        self.docs, self.chunks = {}, {}
        for p in sorted(folder.glob("*.md")):
            doc = parse(load_file(p, folder))
            merge_meta(doc.meta, cat.lookup(doc.meta.doc, doc.meta.std_no))
            self.docs[doc.meta.doc] = SimpleNamespace(meta=doc.meta)
            self.chunks[doc.meta.doc] = chunk_document(doc)
        self.index = SimpleNamespace(documents=lambda: self.docs)
        self.queries: list[str] = []
        self.modes: list[str] = []

    def clause(self, doc: str, clause: str | None = None) -> list:
        return [c for c in self.chunks[doc] if clause is None or c.clause == clause]

    def search(self, query: str, k: int | None = None, filters=None, mode: str = "hybrid") -> list[Hit]:  # type: ignore[no-untyped-def]
        self.queries.append(query)
        self.modes.append(mode)
        pairs = {query[i:i + 2] for i in range(len(query) - 1)}
        scored = [(sum(c.text.count(p) for p in pairs), c) for cs in self.chunks.values() for c in cs]
        scored = sorted((x for x in scored if x[0]), key=lambda x: -x[0])[:k or 10]
        return [Hit(chunk=c, score=float(s), rank=i) for i, (s, c) in enumerate(scored, 1)]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("check")


@pytest.fixture(scope="module")
def catalog(work: Path) -> Catalog:
    return Catalog.load(D.write_catalog(work / "catalog.csv"))


@pytest.fixture(scope="module")
def library(work: Path) -> FakeAssistant:
    return FakeAssistant(D.write_library(work / "library"))


def kinds(report: CheckReport) -> set[tuple[str, str]]:
    return {(f.kind, f.clause) for f in report.findings}


def md(spec: D.Spec, work: Path) -> Path:
    return D.write_md(spec, work)


# -- the clean drafts ---------------------------------------------------------------------

def test_clean_draft_has_no_findings(work: Path, catalog: Catalog) -> None:
    r = check_draft(md(D.lamp(), work), catalog=catalog)
    assert r.findings == [], to_text(r)
    assert r.std_no == "DB50/T 1999—2025" and "智慧灯杆" in r.title
    by_no = {s.std_no: s for s in r.references}
    assert by_no["GB/T 90013"].status == "现行" and by_no["GB/T 90013"].current == "GB/T 90013—2022"
    assert all(s.listed and s.normative for s in r.references)


# -- references ---------------------------------------------------------------------------

def test_status_of_cited_standards_named_with_replacement(work: Path, catalog: Catalog) -> None:
    spec = D.lamp().copy("status")
    X._swap_entry(spec, "GB/T 90011—2021", "GB/T 90011—2015", "城市公共设施 维护管理通用要求")
    X._swap_entry(spec, "GB/T 90014—2018", "GB/T 90019—2010", "户外设施 巡检记录格式")
    r = check_draft(md(spec, work), catalog=catalog)
    f = {x.kind: x for x in r.findings}
    assert "GB/T 90011—2021" in f["ref_superseded"].message
    assert "GB/T 90011—2021" in f["ref_superseded"].fix
    assert f["ref_withdrawn"].severity == "error" and f["ref_withdrawn"].clause == "2"
    assert f["ref_withdrawn"].rule.citation == f"{STANDARD} 8.6"


def test_without_a_catalogue_numbers_are_unknown_notes(work: Path) -> None:
    r = check_draft(md(D.lamp(), work))
    unknown = [f for f in r.findings if f.kind == "ref_unknown"]
    assert {f.severity for f in r.findings} == {"note"}
    assert len(unknown) == len(D.ENTRIES)


def test_informative_and_normative_mentions(work: Path, catalog: Catalog) -> None:
    spec = D.lamp().copy("mentions")
    i = X._para_in(spec, "7.1")
    spec.blocks[i].text += "通信接口参见GB/T 90016—2019。"
    r = check_draft(md(spec, work), catalog=catalog)
    assert not any(f.kind == "ref_unlisted" for f in r.findings), to_text(r)
    spec.blocks[i].text = spec.blocks[i].text.replace("参见GB/T 90016", "按GB/T 90016")
    r = check_draft(md(spec, work), catalog=catalog)
    assert ("ref_unlisted", "7.1") in kinds(r)


# -- structure and language ---------------------------------------------------------------

@pytest.mark.parametrize("kind", ["numbering_gap", "hanging_paragraph", "annex_kind_mismatch",
                                  "requirement_in_note", "must", "term_unused"])
def test_injected_defect_is_found_where_it_is(kind: str, work: Path, catalog: Catalog) -> None:
    spec = D.charge().copy(kind)
    expected = X.INJECTORS[kind](spec)
    r = check_draft(md(spec, work), catalog=catalog)
    assert set(expected) <= kinds(r), to_text(r)


def test_quoted_verbal_forms_are_mentions_not_requirements(work: Path, catalog: Catalog) -> None:
    spec = D.lamp().copy("quoted")
    i = next(i for i, b in enumerate(spec.blocks) if b.kind == "note")
    spec.blocks[i].text = "注：推荐型条款通常使用“宜”或“不宜”，要求型条款使用“应”。"
    assert check_draft(md(spec, work), catalog=catalog).findings == []


# -- the library --------------------------------------------------------------------------

def test_rule_text_comes_from_the_index_when_gbt_1_1_is_indexed(
        work: Path, catalog: Catalog, library: FakeAssistant) -> None:
    spec = D.lamp().copy("leadin")
    X.ref_leadin(spec)
    r = check_draft(md(spec, work), library, catalog=catalog)
    f = next(x for x in r.findings if x.kind == "ref_leadin")
    assert f.rule.citation == "GB/T 1.1—2020 8.6"
    assert "规定的引导语" in f.rule.text and f.rule.doc == "GB_T_1.1-2020.md"
    assert cite("ref_leadin").text == ""  # without the index: number and clause only


def test_terms_an_indexed_standard_defines_must_be_defined(
        work: Path, catalog: Catalog, library: FakeAssistant) -> None:
    spec = D.lamp().copy("libterm")
    X._append(spec, "5.1", "灯杆倾斜度超过限值时应立即处置。")
    r = check_draft(md(spec, work), library, catalog=catalog)
    f = next(x for x in r.findings if x.kind == "term_undefined")
    assert f.clause == "5.1" and "GB/T 90011—2021 3.1" in f.fix
    spec.blocks[next(i for i, b in enumerate(spec.blocks) if b.text.startswith("下列术语"))].text = \
        "GB/T 90011界定的以及下列术语和定义适用于本文件。"
    r = check_draft(md(spec, work), library, catalog=catalog)
    assert not any(x.kind == "term_undefined" for x in r.findings)


def test_related_provisions_one_per_technical_clause(
        work: Path, catalog: Catalog, library: FakeAssistant) -> None:
    progress: list[tuple[str, int, int]] = []
    r = check_draft(md(D.lamp(), work), library, catalog=catalog,
                    progress=lambda *a: progress.append(a))
    labels = [x.clause for x in r.related]
    assert labels == ["4.1", "4.2", "5.1", "5.2", "5.3", "6.1", "6.2", "7.1", "7.2", "A.1", "A.2"]
    assert not any(lab.startswith(("1", "2", "3", "B")) for lab in labels)
    rel = {x.clause: x for x in r.related}
    assert any(h.citation.startswith("GB/T 90011—2021") for h in rel["5.1"].hits)
    assert all(h.citation.split()[-1] not in ("前言", "引言") for x in r.related for h in x.hits)
    assert ("related", len(labels), len(labels)) in progress and progress[-1][0] == "check"
    r = check_draft(md(D.lamp(), work), None, catalog=catalog)
    assert r.related is None and "索引" in r.related_note


# -- records, report, command line --------------------------------------------------------

def test_every_kind_has_a_real_rule() -> None:
    assert len(RULES) >= 20
    for rule in RULES.values():
        assert rule.severity in ("error", "warning", "note")
        assert rule.clause[0].isdigit() or rule.clause == "附录C"
        assert rule.summary and rule.fix


def test_report_json_and_markdown(work: Path, catalog: Catalog) -> None:
    spec = X.combined(D.kitchen())
    r = check_draft(md(spec, work), catalog=catalog)
    data = json.loads(json.dumps(r.to_json(), ensure_ascii=False))
    assert data["counts"]["error"] == sum(1 for f in r.findings if f.severity == "error") > 0
    f0 = data["findings"][0]
    assert {"kind", "severity", "clause", "snippet", "message", "rule", "fix"} <= set(f0)
    assert f0["rule"]["citation"].startswith(STANDARD)
    text = to_markdown(r)
    assert "## 检查结果" in text and "【条款表述】" in text and "## 相关条款" in text
    assert text.index("### 【规范性引用】") < text.index("### 【结构】") < text.index("### 【条款表述】")


def test_unreadable_or_unparsable_drafts_raise_domain_errors(work: Path) -> None:
    with pytest.raises(InputFileError):
        check_draft(work / "missing.docx")
    bad = work / "bad.docx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(InputFileError):
        check_draft(bad)
    assert issubclass(DraftCheckError, Exception)


def test_cli_check(work: Path, catalog: Catalog, tmp_path: Path) -> None:
    from assistant.cli import app

    spec = X.combined(D.lamp())
    draft = D.write_md(spec, tmp_path)
    cat = D.write_catalog(tmp_path / "catalog.csv")
    runner = CliRunner()
    env = {"ASSISTANT_INDEX": str(tmp_path / "no-index"), "ASSISTANT_EMBED_MODEL": "fake"}
    res = runner.invoke(app, ["check", str(draft), "--json", "--catalog", str(cat)], env=env)
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["counts"]["error"] > 0 and data["related"] is None
    out = tmp_path / "report.md"
    res = runner.invoke(app, ["check", str(draft), "-q", "--out", str(out)], env=env)
    assert res.exit_code == 0 and "[must]" in res.stdout and out.read_text("utf-8").startswith("# 草案检查报告")
    res = runner.invoke(app, ["check", str(tmp_path / "nope.pdf")], env=env)
    assert res.exit_code == 1 and res.stderr.strip().count("\n") == 0
    assert res.stderr.startswith("error: nope.pdf")


def test_an_assistant_without_an_index_is_no_library(work: Path, settings) -> None:  # type: ignore[no-untyped-def]
    from assistant.service import Assistant

    r = check_draft(md(D.lamp(), work), Assistant(settings))  # nothing ingested yet
    assert r.related is None and {f.kind for f in r.findings} == {"ref_unknown"}


def test_long_drafts_search_related_provisions_by_keyword(work: Path, library: FakeAssistant) -> None:
    library.modes.clear()
    r = check_draft(md(D.lamp(), work), library)
    assert set(library.modes) == {"hybrid"} and "混合" in r.related_note
    library.modes.clear()
    r = check_draft(md(D.big_draft(12), work), library)
    assert len(r.related) > 40 and set(library.modes) == {"bm25"} and "关键词检索" in r.related_note
    library.modes.clear()
    check_draft(md(D.big_draft(12), work), library, related_mode="hybrid")
    assert set(library.modes) == {"hybrid"}
