"""Exact clause lookups on generated standards (PDF and DOCX), in the ways people write the
reference; a query naming a standard is restricted to it; versions of one standard."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.index import Index
from assistant.ingest import ingest
from assistant.records import Filters
from assistant.retrieve import Retriever

from . import fixtures_std

GBT = "gbt.pdf"
DB50 = "db50.docx"


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    from assistant.config import Settings

    tmp = tmp_path_factory.mktemp("std")
    root = tmp / "stds"
    root.mkdir()
    try:
        fixtures_std.make_standard_pdf(root, "gbt")
        fixtures_std.make_standard_docx(root, "db50")
    except fixtures_std.FixtureUnavailable as e:
        pytest.skip(str(e))
    names = sorted(p.name for p in root.iterdir())
    assert len(names) == 2, names
    s = Settings(index=tmp / "index", cache_dir=tmp / "cache", embed_model="fake")
    report = ingest([root], s, progress=False)
    assert not report.failed, report.failed
    return Retriever(Index.open(s), s)


def _doc(r: Retriever, std_no: str) -> str:
    return next(d for d, i in r.index.documents().items() if i.meta.std_no == std_no)


@pytest.mark.parametrize(
    ("query", "std_no", "clause"),
    [
        ("GB/T 90001.1 的 4.2", "GB/T 90001.1—2023", "4.2"),
        ("GB/T90001.1-2023第4.2条", "GB/T 90001.1—2023", "4.2"),
        ("GBT 90001.1-2023 4.2 是怎么规定的", "GB/T 90001.1—2023", "4.2"),
        ("GB_T_90001.1-2023 5.2.1.1.2", "GB/T 90001.1—2023", "5.2.1.1.2"),
        ("gb/t 90001.1—2023 附录A", "GB/T 90001.1—2023", "附录A"),
        ("GB/T 90001.1—2023 A.2.1", "GB/T 90001.1—2023", "A.2.1"),
        ("GB/T 90001.1 第5.3.1条", "GB/T 90001.1—2023", "5.3.1"),
        ("DB50/T 9123—2022 的 5.2.2.1", "DB50/T 9123—2022", "5.2.2.1"),
        ("DB50T 9123-2022 6.2", "DB50/T 9123—2022", "6.2"),
        ("DB50/T9123 附录A 的 A.2", "DB50/T 9123—2022", "A.2"),
    ],
)
def test_exact_standard_clause(retriever, query, std_no, clause):
    hits = retriever.search(query, k=5)
    top = hits[0].chunk
    assert top.std_no == std_no
    if top.clause != clause:
        # a heading-only clause lives in its first sub-clause's chunk, under its heading
        assert top.clause.startswith(clause + ".") and f"> {clause} " in f"> {top.heading}"
    assert hits[0].evidence.exact


def test_query_naming_a_standard_is_restricted_to_it(retriever):
    hits = retriever.search("DB50/T 9123 维护 要求", k=10)
    assert hits and all(h.chunk.std_no == "DB50/T 9123—2022" for h in hits)


def test_pages_and_heading_paths_in_hits(retriever):
    hit = retriever.search("GB/T 90001.1—2023 4.2", k=1)[0]
    c = hit.chunk
    exp = fixtures_std.expected("gbt").clause("4.2")
    assert (c.page_start, c.page_end) == (exp.page_start, exp.page_end)
    assert c.heading.startswith("4 ") and "4.2" in c.heading


def test_kind_and_doc_filters(retriever):
    gbt = _doc(retriever, "GB/T 90001.1—2023")
    hits = retriever.search("条款 表述", k=10, filters=Filters(docs=[gbt]))
    assert hits and {h.chunk.doc for h in hits} == {gbt}
    assert not retriever.search("条款 表述", k=10, filters=Filters(kinds=["law"]))


def test_withdrawn_version_is_marked(tmp_path: Path):
    """Two versions of one standard: the old one (replaced per the new one's 代替) ranks
    below and carries its replacement."""
    from assistant.config import Settings

    root = tmp_path / "v"
    root.mkdir()
    try:
        fixtures_std.make_two_versions(root)
    except fixtures_std.FixtureUnavailable as e:
        pytest.skip(str(e))
    s = Settings(index=tmp_path / "index", cache_dir=tmp_path / "cache", embed_model="fake")
    assert not ingest([root], s, progress=False).failed
    r = Retriever(Index.open(s), s)
    hits = r.search("GB/T 90001.1 4.2", k=5)
    assert hits[0].chunk.std_no == "GB/T 90001.1—2023"
    hits = r.search("条款表述的要求", k=40)
    old = [h for h in hits if h.chunk.std_no == "GB/T 90001.1—2016"]
    assert old and all(h.superseded and h.replaced_by == "GB/T 90001.1—2023" for h in old)
    assert all(h.chunk.status == "废止" for h in old)
    cur = r.search("条款表述的要求", k=40, filters=Filters(current_only=True))
    assert cur and all(h.chunk.std_no == "GB/T 90001.1—2023" for h in cur)
