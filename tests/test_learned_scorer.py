"""The learned scorer over fused candidates: features, re-ordering of the head, the
artefact's checks (version, features, embedder), the Retriever step and the trainer
(fake embedder, corpus/)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.embed import FakeEmbedder
from assistant.errors import ConfigError
from assistant.fusion import Candidate, Priors
from assistant.index import Index
from assistant.ingest import ingest
from assistant.learned_scorer import (
    FEATURES,
    QueryTerms,
    _cn_number,
    describe,
    features,
    load_scorer,
    resolve_scorer,
    save_scorer,
)
from assistant.records import Chunk, Evidence, Filters
from assistant.retrieve import Retriever

from .conftest import CORPUS

FAKE_ID = FakeEmbedder(256).id
COL = {name: i for i, name in enumerate(FEATURES)}


def _booster_preferring(feature: str, sign: float = 1.0, seed: int = 0) -> str:
    """A LambdaRank model trained on random groups (features in [0, 10)) graded 0–4 by
    ``sign * feature``: it learns to rank by that feature."""
    import lightgbm as lgb

    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for _ in range(60):
        x = (10 * rng.random((20, len(FEATURES)))).astype(np.float32)
        order = np.argsort(np.argsort(sign * x[:, COL[feature]]))  # 0 = lowest
        xs.append(x)
        ys.append((order * 5 // 20).astype(np.int32))
    data = lgb.Dataset(np.vstack(xs), np.concatenate(ys), group=[20] * 60)
    params = {"objective": "lambdarank", "num_leaves": 4, "min_data_in_leaf": 5,
              "seed": seed, "deterministic": True, "num_threads": 1, "verbose": -1}
    return lgb.train(params, data, num_boost_round=60).model_to_string()


def _save(path: Path, feature: str, sign: float = 1.0, embedder: str = FAKE_ID,
          **meta: object) -> Path:
    save_scorer(path, _booster_preferring(feature, sign), {"embedder": embedder, "head": 200,
                                                           "trees": 30, **meta})
    return path


def _cand(i: int, score: float, doc: str = "d", clause: str = "", bm25: int | None = 1,
          dense: int | None = 1) -> Candidate:
    ev = Evidence(bm25_rank=bm25, bm25_score=score if bm25 else None, dense_rank=dense,
                  dense_sim=0.8 + score / 100 if dense else None)
    return Candidate(f"c{i}", ev, score, doc, clause)


def test_chinese_article_numbers() -> None:
    assert [_cn_number(s) for s in ("一", "十", "十二", "二十", "一百二十三", "一千零五", "45")] \
        == [1, 10, 12, 20, 123, 1005, 45]
    assert _cn_number("第") == 0


def test_features_read_evidence_priors_and_text() -> None:
    ranked = [_cand(0, 2.0, "a", "第三条"), _cand(1, 1.0, "b", "第十条", dense=None),
              _cand(2, 0.5, "a", "4.1", bm25=None)]
    chunks = {"c0": Chunk("c0", "a", "第三条", "产品质量应当检验合格", title="产品质量法"),
              "c1": Chunk("c1", "b", "第十条", "其他内容", title="标准化法", part=1)}
    terms = QueryTerms({"产品质量": 2.0, "检验": 1.0, "标准": 1.0}, {"产品", "质量"})
    priors = Priors({"a": 1.0, "b": 0.6}, {"a": 0.5}, {("b", "第十条"): 0.25})
    x = features(ranked, chunks, terms, priors, {}, {"b"})
    assert x.shape == (3, len(FEATURES))
    row = dict(zip(FEATURES, x[0], strict=True))
    assert row["fused_rel"] == 1.0 and row["fused_rank"] == 0.0
    assert row["cover_text"] == pytest.approx(0.75)  # 产品质量 + 检验 of 4.0
    assert row["cover_title"] == pytest.approx(0.5)
    assert row["bigrams"] == 1.0
    assert row["article_no"] == pytest.approx(np.log1p(3))
    assert row["doc_chunks"] == pytest.approx(np.log1p(2))  # c0 and c2 are of "a"
    assert row["authority"] == 1.0 and row["centrality"] == 0.5
    b = dict(zip(FEATURES, x[1], strict=True))
    assert b["named"] == 1.0 and b["citation"] == 0.25 and b["part"] == 1.0
    assert b["dense_rank"] == pytest.approx(np.log1p(1000))  # dense did not return it
    assert b["both"] == 0.0 and row["both"] == 1.0
    c = dict(zip(FEATURES, x[2], strict=True))
    assert c["bm25_rel"] == 0.0 and c["length"] == 0.0  # no chunk text (removed)
    assert features([], {}, terms, priors, {}, set()).shape == (0, len(FEATURES))


def test_rescore_reorders_the_head_only(tmp_path: Path) -> None:
    scorer = load_scorer(_save(tmp_path / "s.json", "fused_rank"))
    scorer.head = 5
    scorer.predict = lambda x: x[:, COL["fused_rank"]]  # type: ignore[method-assign]
    ranked = [_cand(i, 10.0 - i) for i in range(8)]
    out = scorer.rescore(ranked, {}, QueryTerms({}), Priors(), {}, set())
    assert [c.id for c in out[:5]] == ["c4", "c3", "c2", "c1", "c0"]
    assert [c.id for c in out[5:]] == ["c5", "c6", "c7"]
    scores = [c.score for c in out]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == len(scores)
    assert min(scores[:5]) > scores[5]  # the head stays above the rest
    # the fused score levels are kept (the gate and the citation cut read them)
    assert scores == pytest.approx([c.score for c in ranked], abs=1e-6)
    # each keeps its evidence, marked with the rank it had in the fused order
    assert [c.evidence.fused_rank for c in out[:5]] == [5, 4, 3, 2, 1]
    assert [c.evidence.bm25_score for c in out[:5]] == [6.0, 7.0, 8.0, 9.0, 10.0]
    assert ranked[4].evidence.fused_rank is None  # the input is not changed
    assert all(c.evidence.fused_rank is None for c in out[5:])


def test_the_numpy_forest_predicts_what_lightgbm_does() -> None:
    import lightgbm as lgb

    from assistant.learned_scorer import DEFAULT_PATH, Forest

    rng = np.random.default_rng(1)
    x = rng.normal(0, 4, (300, len(FEATURES)))
    x[::5, 3] = np.nan
    x[::7, 4] = 0.0
    for text in (_booster_preferring("cover_text"),
                 json.loads(DEFAULT_PATH.read_text("utf-8"))["model"]):
        want = lgb.Booster(model_str=text).predict(x)
        assert np.allclose(Forest(text).predict(x), want, rtol=0, atol=1e-9)
    with pytest.raises(ConfigError, match="no trees"):
        Forest("tree\nversion=v4\n")


def test_the_shipped_scorer_is_for_the_default_embedder() -> None:
    from assistant.embed.base import DEFAULT_EMBEDDER_ID
    from assistant.learned_scorer import DEFAULT_PATH

    assert DEFAULT_PATH.stat().st_size < 5_000_000
    scorer = resolve_scorer("default", DEFAULT_EMBEDDER_ID)
    assert scorer is not None and scorer.meta["features"] == list(FEATURES)
    assert "validation" in scorer.meta["split"]  # what it was (not) trained on is recorded
    assert Settings().scorer == "default"


def test_artefact_checks(tmp_path: Path) -> None:
    path = _save(tmp_path / "s.json", "cover_text")
    assert resolve_scorer("none", FAKE_ID) is None
    # the shipped one is for the default embedder: another embedder simply has none
    assert resolve_scorer("default", FAKE_ID) is None
    assert describe("default", FAKE_ID).startswith("none (default")
    assert resolve_scorer(str(path), FAKE_ID) is not None
    with pytest.raises(ConfigError, match="trained for embedder"):
        resolve_scorer(str(path), "other-embedder")
    with pytest.raises(ConfigError, match="not found"):
        resolve_scorer(str(tmp_path / "missing.json"), FAKE_ID)
    data = json.loads(path.read_text("utf-8"))
    (tmp_path / "v0.json").write_text(json.dumps({**data, "version": "0"}), "utf-8")
    with pytest.raises(ConfigError, match="version 0"):
        load_scorer(tmp_path / "v0.json")
    (tmp_path / "f.json").write_text(json.dumps({**data, "features": ["a"]}), "utf-8")
    with pytest.raises(ConfigError, match="other features"):
        load_scorer(tmp_path / "f.json")
    (tmp_path / "bad.json").write_text("{", "utf-8")
    with pytest.raises(ConfigError, match="cannot read"):
        load_scorer(tmp_path / "bad.json")
    assert describe("none", FAKE_ID) == "none"
    assert str(path) in describe(str(path), FAKE_ID)
    assert describe(str(path), "other").startswith("refused: ")


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    tmp = tmp_path_factory.mktemp("ls")
    s = Settings(index=tmp / "index", cache_dir=tmp / "cache", embed_model="fake")
    report = ingest([CORPUS], s, progress=False)
    assert not report.failed
    return s


def test_retriever_applies_the_scorer_in_hybrid_mode_only(small_index: Settings,
                                                         tmp_path: Path) -> None:
    path = _save(tmp_path / "s.json", "length")  # longest first
    idx = Index.open(small_index)
    q = "质量基础设施一站式服务"
    plain = Retriever(idx, small_index).search(q, k=200)
    r = Retriever(idx, small_index.with_overrides(scorer=str(path)))
    tuned = r.search(q, k=200)
    assert len(tuned) == len(plain) and {h.chunk.id for h in tuned} == {h.chunk.id for h in plain}
    ranked, scope = r.fused(q, Filters(), "hybrid", 200)
    chunks = idx.get_chunks([c.id for c in ranked[:200]])
    pred = r.scorer.predict(features(ranked[:200], chunks, r.query_terms(q, scope),
                                     r.priors(), r.versions(), scope.named))
    expect = [ranked[i].id for i in sorted(range(len(pred)), key=lambda i: (-pred[i], i))]
    assert [h.chunk.id for h in tuned] == expect[: len(tuned)]
    assert [h.chunk.id for h in tuned] != [h.chunk.id for h in plain]
    lengths = [len(h.chunk.text) for h in tuned[:10]]
    assert np.corrcoef(lengths, range(10))[0, 1] < 0  # it did learn "longest first"
    assert [h.rank for h in tuned[:3]] == [1, 2, 3]
    bm25 = Retriever(idx, small_index.with_overrides(scorer=str(path))).search(
        q, k=5, mode="bm25")
    assert [h.chunk.id for h in bm25] == [h.chunk.id for h in Retriever(idx, small_index)
                                          .search(q, k=5, mode="bm25")]
    other = _save(tmp_path / "o.json", "fused_rank", embedder="another")
    with pytest.raises(ConfigError, match="trained for embedder"):
        Retriever(idx, small_index.with_overrides(scorer=str(other))).search(q)


def test_trainer_writes_an_artefact_for_the_index_embedder(
        small_index: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.train_scorer import build_groups, evaluate, main

    from .conftest import ROOT

    questions = ROOT / "eval" / "datasets" / "liangjiang.jsonl"
    from assistant.evaluation.datasets import load_questions

    idx = Index.open(small_index)
    groups = build_groups(Retriever(idx, small_index), load_questions(questions), head=50,
                          progress=False)
    assert len(groups) == 38 and all(g.x.shape[1] == len(FEATURES) for g in groups)
    assert any(g.label.any() for g in groups)
    # Ranking by the fused score reproduces the fused order; the reverse is worse.
    base = evaluate(groups)
    assert evaluate(groups, lambda x: x[:, COL["fused_rel"]]) == base
    assert evaluate(groups, lambda x: -x[:, COL["fused_rel"]])["mrr_at_10"] < base["mrr_at_10"]
    monkeypatch.setenv("ASSISTANT_EMBED_MODEL", "fake")
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(small_index.cache_dir))
    out = tmp_path / "trained.json"
    rc = main(["--index", str(small_index.index), "--questions", str(questions),
               "--out", str(out), "--trees", "20", "--min-data", "5",
               "--cache", str(tmp_path / "groups.pkl")])
    printed = capsys.readouterr().out
    assert rc == 0 and "before" in printed and "after" in printed
    meta = json.loads(out.read_text("utf-8"))
    assert meta["embedder"] == FAKE_ID and meta["features"] == list(FEATURES)
    assert (tmp_path / "groups.pkl").exists()
