"""The index's query methods with document filters (real Chroma and bm25s on disk, fake
embedder), and documents whose path contains '#': a chunk id is "doc#clause#part", and
retrieval once took the document to be the id up to its first '#', so such a document
vanished from every filtered or standard-restricted search."""

from __future__ import annotations

import numpy as np
import pytest

import assistant.index as index_module
from assistant.index import Index
from assistant.ingest import ingest
from assistant.records import Filters
from assistant.retrieve import Retriever
from assistant.scoring import DocColumn, top_scores
from assistant.tokenize import tokenize

from . import fixtures_std

SHARP = "第2#批/GB_T_90001.1-2023.txt"
DB50 = "DB50_T_9123-2022.txt"
LAW = "甲法.md"
QUERY = "条款表述的要求"
MODES = ("bm25", "dense", "hybrid")


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    from assistant.config import Settings

    tmp = tmp_path_factory.mktemp("sharp")
    root = tmp / "docs"
    (root / "第2#批").mkdir(parents=True)
    fixtures_std.make_standard_txt(root / "第2#批", "gbt")
    fixtures_std.make_standard_txt(root, "db50")
    (root / LAW).write_text("# 中华人民共和国甲法\n\n第一条 条款表述应当准确。\n\n"
                            "第二条 要求应当明确。\n", "utf-8")
    s = Settings(index=tmp / "index", cache_dir=tmp / "cache", embed_model="fake")
    report = ingest([root], s, progress=False)
    assert not report.failed, report.failed
    r = Retriever(Index.open(s), s)
    assert set(r.index.documents()) == {SHARP, DB50, LAW}
    assert r.index.documents()[SHARP].meta.std_no == "GB/T 90001.1—2023"
    return r


@pytest.mark.parametrize("mode", MODES)
def test_doc_filter_finds_a_path_with_sharp(retriever, mode):
    hits = retriever.search(QUERY, k=10, filters=Filters(docs=[SHARP]), mode=mode)
    assert hits and {h.chunk.doc for h in hits} == {SHARP}


@pytest.mark.parametrize("mode", MODES)
def test_kind_filter_keeps_a_path_with_sharp(retriever, mode):
    hits = retriever.search(QUERY, k=30, filters=Filters(kinds=["standard"]), mode=mode)
    docs = {h.chunk.doc for h in hits}
    assert SHARP in docs and LAW not in docs


@pytest.mark.parametrize("mode", MODES)
def test_query_naming_the_standard_finds_a_path_with_sharp(retriever, mode):
    hits = retriever.search("GB/T 90001.1 " + QUERY, k=10, mode=mode)
    assert hits and {h.chunk.doc for h in hits} == {SHARP}
    top = retriever.search("GB/T 90001.1 的 4.2", k=3, mode=mode)[0]
    assert (top.chunk.doc, top.chunk.clause) == (SHARP, "4.2") and top.evidence.exact


def test_keyword_search_within_documents(retriever):
    idx, toks = retriever.index, tokenize(QUERY)
    everything = dict(idx.keyword_search(toks, 1000))
    within = idx.keyword_search(toks, 1000, docs={SHARP, LAW})
    assert within and {idx.chunk_keys([c])[c][0] for c, _ in within} == {SHARP, LAW}
    # the same scores as unfiltered, only the other documents' chunks left out
    assert {c: everything[c] for c, _ in within} == dict(within)
    assert len(everything) > len(within)
    assert idx.keyword_search(toks, 10, docs=set()) == []
    assert idx.keyword_search(toks, 10, docs={"not indexed.md"}) == []


def test_dense_search_within_documents_in_chroma_or_after(retriever, monkeypatch):
    idx = retriever.index
    vec = retriever.embedder.embed_query(QUERY)
    docs = {SHARP, DB50}
    in_chroma = idx.dense_search(vec, 8, docs)
    assert len(in_chroma) == 8
    assert {idx.chunk_keys([c])[c][0] for c, _ in in_chroma} <= docs
    # over the $in limit: over-fetched and filtered by each vector's document
    monkeypatch.setattr(index_module, "_WHERE_MAX_DOCS", 1)
    after = idx.dense_search(vec, 8, docs)
    assert after and after == in_chroma[: len(after)]
    # one document: the same as an unfiltered search deep enough to hold its chunks
    deep = idx.dense_search(vec, idx.count())
    keys = idx.chunk_keys(c for c, _ in deep)
    assert idx.dense_search(vec, 8, {SHARP}) == [(c, s) for c, s in deep
                                                  if keys[c][0] == SHARP][:8]
    assert idx.dense_search(vec, 8, set()) == []


def test_passages_are_the_embedded_texts(retriever):
    passages = retriever.index.passages()
    assert len(passages) == retriever.index.count() > 0
    assert any(p.startswith("GB/T 90001.1—2023") for p in passages)


def test_top_scores_breaks_ties_by_chunk_id():
    # five tied chunks, ids out of order, and a cut through them
    ids = ["d", "c", "e", "b", "a", "x", "z"]
    scores = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 0.0])
    assert top_scores(ids, scores, 3) == [("x", 2.0), ("a", 1.0), ("b", 1.0)]
    assert top_scores(ids, scores, 10) == [("x", 2.0), ("a", 1.0), ("b", 1.0), ("c", 1.0),
                                           ("d", 1.0), ("e", 1.0)]
    assert top_scores(ids, np.zeros(7), 3) == []
    assert top_scores([], np.zeros(0), 3) == []


def test_doc_column_masks_by_document():
    col = DocColumn(["a#1.md", "b.md", None, "a#1.md", "a"])
    assert col.mask({"a#1.md"}).tolist() == [True, False, False, True, False]
    assert col.mask({"a", "b.md", "gone.md"}).tolist() == [False, True, False, False, True]
    assert not col.mask(set()).any()


def test_keyword_index_scores_equal_bm25s_built_from_strings(retriever):
    """The rebuild reads tokens as int32 ids row by row (for memory); its scores must be
    bm25s's own from lists of strings, bit for bit."""
    import bm25s

    kw = retriever.index._keywords
    ids, tokenized = kw._read_tokens()
    corpus = [t.split(" ") if t else [] for _, t in
              kw._db.execute("SELECT id, tokens FROM chunks ORDER BY seq")]
    assert len(ids) == len(corpus) > 5
    ours, theirs = bm25s.BM25(k1=1.2, b=0.75), bm25s.BM25(k1=1.2, b=0.75)
    ours.index(tokenized, show_progress=False)
    theirs.index(corpus, show_progress=False)
    queries = [doc[:4] for doc in corpus if doc] + [tokenize(QUERY)]
    for q in queries:
        q = [t for t in q if t in theirs.vocab_dict]
        if q:
            assert np.array_equal(ours.get_scores(q), theirs.get_scores(q))
    assert sorted(ours.vocab_dict) == sorted(theirs.vocab_dict)
