"""The seeded-defect benchmark of the draft check (issue 17): clean drafts in the shape of real
standards and copies with known injected defects of every kind.

Markdown carries the full benchmark (3 drafts × 33 kinds, 150 defects: fast to write and read);
DOCX and PDF carry the clean drafts and one copy of each with most kinds at once (a PDF costs a
LibreOffice render, so rendered PDFs are cached by content). Targets: recall of injected
defects ≥ 95 %, precision ≥ 90 %, no error finding on a clean draft."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from assistant.parse.catalog import Catalog

from . import drafts as D
from . import drafts_defects as X


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench")


@pytest.fixture(scope="module")
def catalog(work: Path) -> Catalog:
    return Catalog.load(D.write_catalog(work / "catalog.csv"))


@pytest.fixture(scope="module")
def markdown_result(work: Path, catalog: Catalog) -> dict:
    specs = X.seeded_specs()
    return X.run_bench(specs, [D.write_md(s, work) for s in specs], catalog)


def test_benchmark_size() -> None:
    specs = X.seeded_specs()
    kinds = {k for s in specs for k, _ in s.expected}
    assert len(X.INJECTORS) >= 20 and len(kinds) >= 20
    assert sum(len(s.expected) for s in specs) >= 100


def test_recall_precision_and_clean_drafts_markdown(markdown_result: dict) -> None:
    res = markdown_result
    missed = {k: f"{h}/{n}" for k, (h, n) in res["per_kind"].items() if h < n}
    assert X.gate(res) == [], missed
    assert set(res["per_kind"]) >= set(X.INJECTORS)  # every kind was injected and scored


def test_the_gate_fails_when_a_rule_is_disabled(work: Path, catalog: Catalog,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    from assistant.check import language

    monkeypatch.setattr(language, "_PROHIBIT", re.compile(r"(?!)"))  # the rule never fires
    specs = []
    for base in D.clean_drafts():
        s = base.copy("prohibition_form")
        s.expected = X.prohibition_form(s)
        specs += [base, s]
    res = X.run_bench(specs, [D.write_md(s, work) for s in specs], catalog)
    assert res["per_kind"]["prohibition_form"][0] == 0
    assert X.gate(res) != []


def _cached_pdfs(specs: list[D.Spec], work: Path) -> list[Path]:
    """PDFs of ``specs`` rendered once per content (LibreOffice takes seconds a file)."""
    from assistant.config import Settings

    cache = Path(Settings().cache_dir) / "test-drafts"
    cache.mkdir(parents=True, exist_ok=True)
    keys = [hashlib.sha256(D.write_md(s, work).read_bytes()).hexdigest()[:20] for s in specs]
    todo = [s for s, k in zip(specs, keys, strict=True) if not (cache / f"{k}.pdf").is_file()]
    if todo:
        try:
            pdfs = D.write_pdfs([D.write_docx(s, work) for s in todo], work / "pdf")
        except D.PdfUnavailable as e:
            pytest.skip(str(e))
        for s, p in zip(todo, pdfs, strict=True):
            shutil.copy(p, cache / f"{keys[specs.index(s)]}.pdf")
    return [cache / f"{k}.pdf" for k in keys]


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_docx_and_pdf_drafts(fmt: str, work: Path, catalog: Catalog) -> None:
    specs: list[D.Spec] = []
    for base in D.clean_drafts():
        specs += [base, X.combined(base)]
    paths = [D.write_docx(s, work) for s in specs] if fmt == "docx" else _cached_pdfs(specs, work)
    res = X.run_bench(specs, paths, catalog)
    assert res["injected"] >= 60
    assert X.gate(res) == [], {k: v for k, v in res["per_kind"].items() if v[0] < v[1]}
