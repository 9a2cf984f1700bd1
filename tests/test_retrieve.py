"""Retrieval on real law files (fake embedder): exact clause lookups in the common variants,
versions, filters, output records."""

from __future__ import annotations

import shutil

import pytest

from assistant.errors import ConfigError
from assistant.index import Index
from assistant.ingest import ingest
from assistant.records import Filters
from assistant.retrieve import Retriever

from .conftest import LAWS, copy_laws, needs_shared

pytestmark = needs_shared()

RELS = [
    "经济法/标准化法(2017-11-04).md",
    "经济法/产品质量法(2018-12-29).md",
    "行政法规/标准化法实施条例(1990-04-06).md",
    "行政法规/道路运输条例(2019-03-02).md",
    "行政法规/道路运输条例(2023-07-20).md",
]


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    from assistant.config import Settings

    tmp = tmp_path_factory.mktemp("retr")
    root = copy_laws(tmp / "laws", RELS)
    shutil.copy(LAWS / "catalog.csv", root / "catalog.csv")
    s = Settings(index=tmp / "index", cache_dir=tmp / "cache", embed_model="fake")
    report = ingest([root], s, progress=False)
    assert not report.failed, report.failed
    return Retriever(Index.open(s), s)


@pytest.mark.parametrize(
    ("query", "doc", "clause"),
    [
        ("标准化法第十条", "经济法/标准化法(2017-11-04).md", "第十条"),
        ("标准化法 第十条", "经济法/标准化法(2017-11-04).md", "第十条"),
        ("《中华人民共和国标准化法》第十条", "经济法/标准化法(2017-11-04).md", "第十条"),
        ("中华人民共和国标准化法第10条", "经济法/标准化法(2017-11-04).md", "第十条"),
        ("产品质量法 26条", "经济法/产品质量法(2018-12-29).md", "第二十六条"),
        ("产品质量法第二十六条规定了什么", "经济法/产品质量法(2018-12-29).md", "第二十六条"),
        ("标准化法实施条例第十八条", "行政法规/标准化法实施条例(1990-04-06).md", "第十八条"),
        ("道路运输条例第十条", "行政法规/道路运输条例(2023-07-20).md", "第十条"),
    ],
)
def test_exact_lookup_variants(retriever, query, doc, clause):
    hits = retriever.search(query, k=5)
    assert (hits[0].chunk.doc, hits[0].chunk.clause) == (doc, clause)
    assert hits[0].evidence.exact


def test_current_version_first_and_old_marked(retriever):
    hits = retriever.search("道路运输经营许可", k=20)
    docs = [h.chunk.doc for h in hits]
    old = "行政法规/道路运输条例(2019-03-02).md"
    new = "行政法规/道路运输条例(2023-07-20).md"
    assert new in docs
    for h in hits:
        if h.chunk.doc == old:
            assert h.superseded and "道路运输条例" in h.replaced_by
        if h.chunk.doc == new:
            assert not h.superseded
    if old in docs:
        assert docs.index(new) < docs.index(old)
    only = retriever.search("道路运输经营许可", k=20, filters=Filters(current_only=True))
    assert only and all(h.chunk.doc != old for h in only)


def test_doc_filter_and_hit_json(retriever):
    doc = "经济法/产品质量法(2018-12-29).md"
    hits = retriever.search("生产者的产品质量责任", k=5, filters=Filters(docs=[doc]))
    assert hits and all(h.chunk.doc == doc for h in hits)
    j = hits[0].to_json()
    assert set(j) == {"rank", "score", "doc", "title", "std_no", "clause", "heading", "page",
                      "kind", "status", "text"}
    assert j["rank"] == 1 and j["title"] == "中华人民共和国产品质量法" and j["status"] == "有效"


def test_modes_and_bad_k(retriever):
    for mode in ("bm25", "dense", "hybrid"):
        assert retriever.search("强制性国家标准", k=3, mode=mode)
    with pytest.raises(ConfigError, match="top_k must be greater than 0"):
        retriever.search("x", k=-1)


def test_ties_are_deterministic(retriever):
    a = [h.chunk.id for h in retriever.search("标准", k=30, mode="bm25")]
    b = [h.chunk.id for h in retriever.search("标准", k=30, mode="bm25")]
    assert a == b
