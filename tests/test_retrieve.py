"""Retrieval on real law files (fake embedder): exact clause lookups in the common variants,
versions, filters, output records; ties across processes."""

from __future__ import annotations

import shutil

import pytest

from assistant.errors import ConfigError
from assistant.index import Index
from assistant.ingest import ingest
from assistant.records import Filters
from assistant.retrieve import Retriever

from .conftest import LAWS, copy_laws

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

    if not LAWS.is_dir():
        pytest.skip("../shared/corpus/laws not present")
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
    olds = [h for h in hits if h.chunk.doc == old]
    news = [h for h in hits if h.chunk.doc == new]
    assert olds and news
    assert all(h.superseded and "道路运输条例" in h.replaced_by for h in olds)
    assert not any(h.superseded for h in news)
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


# Six files with the same text: every chunk ties with five others. Searched here and in
# two fresh processes with other string hashing (set and dict iteration orders change with
# PYTHONHASHSEED): the same ranking each time, ties by chunk id.
_SAME = "# 某某办法\n\n第一条 检验报告由授权签字人签发。\n\n第二条 检验机构应当保存检验报告。\n"
_NAMES = ["己.md", "丁.md", "乙.md", "戊.md", "丙.md", "甲.md"]
_SOME = ["丁.md", "丙.md", "己.md"]
_CHILD = ("import json, sys; from tests.test_retrieve import _tied_runs; "
          "print(json.dumps(_tied_runs(sys.argv[1], sys.argv[2])))")


def _tied_runs(index: str, cache: str) -> list[list[list[object]]]:
    """(chunk id, score) of each mode, unfiltered and within _SOME; in BM25 also with one
    candidate per retriever, so that its own cut falls among tied chunks."""
    from assistant.config import Settings

    out = []
    for mode, n in (("bm25", 1), ("bm25", 500), ("dense", 500), ("hybrid", 500)):
        s = Settings(index=index, cache_dir=cache, embed_model="fake", candidates=n)
        r = Retriever(Index.open(s), s)
        for f in (None, Filters(docs=_SOME)):
            hits = r.search("检验报告 签字人", k=8, filters=f, mode=mode)  # type: ignore[arg-type]
            out.append([[h.chunk.id, h.score] for h in hits])
    return out


def test_ties_are_deterministic(settings, tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = tmp_path / "same"
    root.mkdir()
    for name in _NAMES:
        (root / name).write_text(_SAME, "utf-8")
    assert not ingest([root], settings, progress=False).failed
    idx = Index.open(settings)
    keys = idx.chunk_keys(c.id for c in idx.iter_chunks())
    first = sorted(c for c, (_, clause) in keys.items() if clause == "第一条")
    second = sorted(c for c, (_, clause) in keys.items() if clause == "第二条")
    assert len(first) == len(second) == 6
    within = [c for c in first + second if keys[c][0] in _SOME]
    here = _tied_runs(str(settings.index), str(settings.cache_dir))
    assert len(here) == 8
    for i, hits in enumerate(here):
        assert [c for c, _ in hits] == (within if i % 2 else first + second[:2]), i
        if i:  # (in run 0 the two documents whose 第二条 made BM25's cut gain evidence)
            assert len({sc for c, sc in hits if c in first}) == 1, i
    outs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", _CHILD, str(settings.index),
                               str(settings.cache_dir)], env=env, capture_output=True,
                              cwd=Path(__file__).parents[1], text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        outs.append(json.loads(done.stdout))
    assert outs[0] == outs[1] == here
