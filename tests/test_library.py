"""The standards library (eval/datasets/library/): twelve standards as Markdown with and
without front matter, DOCX, LibreOffice PDF, Chromium PDF and scanned PDF, each parsed to the
same clauses and metadata, and found the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.load import load_file
from assistant.parse import parse

from . import fixtures_library as L

LIB = Path(__file__).resolve().parents[1] / "eval" / "datasets" / "library"
EXT = {"md-front": "md", "md-plain": "md", "docx": "docx", "pdf-lo": "pdf", "pdf-chromium": "pdf",
       "pdf-scan": "pdf"}
TEXT_FORMATS = ["md-front", "md-plain", "docx", "pdf-lo", "pdf-chromium"]
STDS = {L.file_stem(s): s for s in L.standards()}


_CHROMIUM_BUILT: list[Path] = []


def _chromium_pdfs() -> list[Path]:
    """Chromium's PDFs are not committed (Skia writes CJK as Type 3 fonts: 400 KB a file);
    Chromium is a test dependency, so three are printed here when the folder is empty."""
    import shutil
    import subprocess
    import tempfile

    if _CHROMIUM_BUILT:
        return _CHROMIUM_BUILT
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        pytest.skip("no chromium (apt-get install chromium fonts-noto-cjk)")
    out = Path(tempfile.mkdtemp(prefix="library-chromium-"))
    for std in list(STDS.values())[:3]:
        src = out / f"{L.file_stem(std)}.html"
        src.write_text(L.render_html(std), "utf-8")
        subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu",
                        f"--print-to-pdf={out / (L.file_stem(std) + '.pdf')}", src.as_uri()],
                       check=True, capture_output=True, timeout=120)
        src.unlink()
    _CHROMIUM_BUILT.extend(sorted(out.glob("*.pdf")))
    return _CHROMIUM_BUILT


def _files(fmt: str) -> list[Path]:
    files = sorted((LIB / fmt).glob(f"*.{EXT[fmt]}"))
    if not files and fmt == "pdf-chromium":
        return _chromium_pdfs()
    if not files:
        pytest.skip(f"{LIB / fmt} is empty (python scripts/make_library.py)")
    return files


def _parsed(fmt: str, path: Path):
    return parse(load_file(path, path.parent), today="2026-12-01")


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_clause_labels_and_metadata_exact(fmt: str) -> None:
    for path in _files(fmt):
        std = STDS[path.stem]
        doc = _parsed(fmt, path)
        m = doc.meta
        assert [c.label for c in doc.clauses] == L.expected_labels(std), path.name
        assert (m.kind, m.std_no, m.title) == ("standard", std.number, std.title), path.name
        assert (m.issued, m.effective, m.replaces) == (std.issued, std.effective, std.replaces)
        assert (m.adoption, m.issuer) == (std.adoption, " ".join(std.issuer)), path.name
        assert m.status == ("即将实施" if std.effective > "2026-12-01" else "现行"), path.name


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_text_equals_source_modulo_whitespace(fmt: str) -> None:
    """Every character of the body comes back once, in order: no running header, footer,
    page number or browser date line inside a clause, no glyph variant (⻅ for 见, 戶 for 户,
    〜 for ～, ― for —)."""
    for path in _files(fmt):
        std = STDS[path.stem]
        doc = _parsed(fmt, path)
        source = [str(v) if k != "table" else "\n".join(" ".join(r) for r in v)  # type: ignore[union-attr]
                  for k, v in L.blocks(std)]
        assert L.squash("\n".join(c.text for c in doc.clauses)) == L.squash("\n".join(source)), path.name


def test_library_covers_every_kind_of_standard() -> None:
    from assistant.identifiers import std_category

    cats = {std_category(s.number)[0] for s in STDS.values()}
    assert cats == {"national", "industry", "local", "group", "enterprise"}
    assert len(STDS) >= 12 and len(L.questions()) >= 60
    assert all(15 <= len(L.expected_labels(s)) <= 40 for s in STDS.values())


def _index(tmp_path: Path, fmt: str, monkeypatch):  # type: ignore[no-untyped-def]
    from assistant.config import load_settings
    from assistant.service import Assistant

    monkeypatch.setenv("ASSISTANT_EMBED_MODEL", "fake")
    a = Assistant(load_settings(index=tmp_path / fmt))
    report = a.ingest([LIB / fmt], progress=False)
    assert not report.failed, [f.message for f in report.failed]
    return a


def _found(a, mode: str) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    """qid → the gold (stem, clause) when in the top 5, else ("", "")."""
    out = {}
    for qid, question, std, clause in L.questions():
        keys = [(Path(h.chunk.doc).stem, h.chunk.clause) for h in a.search(question, 10, mode=mode)]
        gold = (L.file_stem(std), clause)
        out[qid] = gold if gold in keys[:5] else ("", "")
    return out


@pytest.mark.parametrize("fmt", ["pdf-lo", "docx"])
def test_bm25_and_exact_lookups_find_the_same_clauses(tmp_path: Path, monkeypatch, fmt: str) -> None:
    src = _index(tmp_path, "md-front", monkeypatch)
    other = _index(tmp_path, fmt, monkeypatch)
    a, b = _found(src, "bm25"), _found(other, "bm25")
    assert sum(1 for v in a.values() if v[0]) >= 0.8 * len(a)
    assert a == b
    for std in STDS.values():
        for label in L.chunk_labels(std)[3:]:  # "1" alone is no clause reference to the retriever
            for idx in (src, other):
                hit = idx.search(f"{std.number} {label}", 1)[0].chunk
                assert (Path(hit.doc).stem, hit.clause) == (L.file_stem(std), label)


def test_scanned_pdf_is_ocrd_page_by_page() -> None:
    """A scan without a text layer: every page is OCR'd and named in ``ocr_pages``; number,
    dates, clause labels and most text survive."""
    import difflib

    from assistant.load.ocr import tesseract_missing

    if tesseract_missing():
        pytest.skip(f"{tesseract_missing()} (apt-get install tesseract-ocr tesseract-ocr-chi-sim)")
    path = _files("pdf-scan")[0]
    std = STDS[path.stem]
    lf = load_file(path, path.parent)
    assert lf.ocr_pages == list(range(1, len(lf.pages) + 1))
    doc = parse(lf, today="2026-12-01")
    m = doc.meta
    assert (m.std_no, m.issued, m.effective) == (std.number, std.issued, std.effective)
    got = [c.label for c in doc.clauses]
    want = L.expected_labels(std)
    assert sum(1 for x in want if x in got) >= 0.9 * len(want), (got, want)
    ref = L.squash("".join(load_file(LIB / "pdf-lo" / path.name, LIB, ocr=False).pages))
    ratio = difflib.SequenceMatcher(None, ref, L.squash("".join(lf.pages)), autojunk=False).ratio()
    assert ratio > 0.95, ratio
