"""The optional reranker: what it re-scores, the order it yields (head re-sorted, exact
lookups first, current versions before superseded ones), its errors, and a real
sentence-transformers CrossEncoder folder end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.chunk import passage_text
from assistant.errors import ConfigError, RerankerError
from assistant.index import Index
from assistant.ingest import ingest
from assistant.retrieve import Retriever

from . import fixtures_std

NEW, OLD = "GB/T 90001.1—2023", "GB/T 90001.1—2016"
QUERY = "条款表述的要求"


class WordReranker:
    """Scores a passage by how often ``word`` occurs in it; records what it was given."""

    id = "word-reranker"

    def __init__(self, word: str) -> None:
        self.word = word
        self.calls: list[tuple[str, list[str]]] = []

    def score(self, query: str, passages: list[str]) -> list[float]:
        self.calls.append((query, passages))
        return [float(p.count(self.word)) for p in passages]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    """Two versions of one generated standard (the 2016 one replaced), fake embedder."""
    from assistant.config import Settings

    tmp = tmp_path_factory.mktemp("rerank")
    root = tmp / "stds"
    root.mkdir()
    try:
        assert fixtures_std.make_two_versions(root) == (NEW, OLD)
    except fixtures_std.FixtureUnavailable as e:
        pytest.skip(str(e))
    s = Settings(index=tmp / "index", cache_dir=tmp / "cache", embed_model="fake")
    assert not ingest([root], s, progress=False).failed
    return s


def _retriever(settings, reranker, **over) -> Retriever:
    s = settings.model_copy(update=over)
    return Retriever(Index.open(s), s, reranker=reranker)


def test_head_follows_the_reranker_and_tail_keeps_fusion_order(built):
    plain = Retriever(Index.open(built), built).search(QUERY, k=20)
    rr = WordReranker("附录")
    hits = _retriever(built, rr, rerank_depth=6).search(QUERY, k=20)
    assert len(rr.calls) == 1 and rr.calls[0][0] == QUERY
    seen = rr.calls[0][1]
    assert len(seen) == 6
    # the reranker sees what the embedder saw: document name and heading path first
    assert all(p.startswith("GB/T 90001.1—20") for p in seen)
    assert len(hits) == 20
    head = hits[:6]
    assert all(h.evidence.rerank is not None for h in head)
    assert not any(h.evidence.rerank is not None for h in hits[6:])
    # the fused top 6 are all current here (a head with superseded hits: test_same_text_…)
    assert not any(h.superseded for h in head)
    scores = [h.evidence.rerank for h in head]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) > 1
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # what the reranker was shown is exactly the fused top 6, and the tail is untouched
    assert {passage_text(h.chunk) for h in plain[:6]} == set(seen)
    assert [h.chunk.id for h in hits[6:]] == [h.chunk.id for h in plain[6:]]


def test_reranker_changes_the_order(built):
    plain = Retriever(Index.open(built), built).search(QUERY, k=10)
    texts = [passage_text(h.chunk) for h in plain]
    # favour a character the fused top hit lacks but a lower, current hit has
    word = next(ch for h, t in zip(plain[1:], texts[1:], strict=True) if not h.superseded
                for ch in t if ch not in texts[0] and "\u4e00" <= ch <= "\u9fff")
    hits = _retriever(built, WordReranker(word), rerank_depth=10).search(QUERY, k=10)
    assert hits[0].chunk.id != plain[0].chunk.id
    assert word in passage_text(hits[0].chunk)


def test_same_text_in_two_versions_current_first(built):
    """Old and new versions of a clause score alike; the current one is never below."""
    hits = _retriever(built, WordReranker("条款"), rerank_depth=30).search(QUERY, k=30)
    assert {h.chunk.std_no for h in hits} == {NEW, OLD}
    first_old = min(i for i, h in enumerate(hits) if h.superseded)
    assert first_old > 0 and hits[first_old].evidence.rerank is not None  # within the head
    assert all(not h.superseded for h in hits[:first_old])
    assert all(h.superseded and h.replaced_by == NEW for h in hits[first_old:])


def test_exact_lookup_stays_first(built):
    hits = _retriever(built, WordReranker("附录"), rerank_depth=20).search(
        "GB/T 90001.1 4.2", k=5)
    assert (hits[0].chunk.std_no, hits[0].chunk.clause) == (NEW, "4.2")
    assert hits[0].evidence.exact


def test_only_hybrid_is_reranked(built):
    rr = WordReranker("附录")
    r = _retriever(built, rr)
    for mode in ("bm25", "dense"):
        hits = r.search(QUERY, k=5, mode=mode)
        assert hits and not any(h.evidence.rerank is not None for h in hits)
    assert not rr.calls


def test_bad_depth_and_bad_reranker(built):
    with pytest.raises(ConfigError, match=r"rerank_depth must be greater than 0\. Currently, "
                                          r"rerank_depth is 0"):
        _retriever(built, WordReranker("x"), rerank_depth=0).search(QUERY)

    class Short(WordReranker):
        def score(self, query: str, passages: list[str]) -> list[float]:
            return [1.0]

    with pytest.raises(RerankerError, match="returned 1 scores for 5 passages"):
        _retriever(built, Short("x"), rerank_depth=5).search(QUERY)


# --------------------------------------------------------------------------------------
# A real CrossEncoder folder (tiny random BERT, made here: nothing is downloaded)
# --------------------------------------------------------------------------------------

_CHARS = ("的一是不了在人有我他这中大来上国个到说们为子和你地出道也时年得就那要下以生会"
          "自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十"
          "用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实"
          "回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重"
          "被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水"
          "万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死"
          "条款标准规范术语定义范围要求附录表述引用文件编写结构层次")


def _tiny_cross_encoder(path: Path, num_labels: int = 1) -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    torch.manual_seed(0)
    path.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *dict.fromkeys(_CHARS),
             *"0123456789.—/GBT"]
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", "utf-8")
    tok = BertTokenizerFast(vocab_file=str(path / "vocab.txt"), do_lower_case=False)
    tok.save_pretrained(str(path))
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1,
                     num_attention_heads=2, intermediate_size=64, max_position_embeddings=512,
                     num_labels=num_labels)
    BertForSequenceClassification(cfg).save_pretrained(str(path))
    return path


@pytest.fixture(scope="module")
def tiny_ce(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tiny_cross_encoder(tmp_path_factory.mktemp("ce") / "tiny-ce")


def test_real_cross_encoder_through_the_cli(built, tiny_ce, monkeypatch: pytest.MonkeyPatch):
    from sentence_transformers import CrossEncoder

    from assistant.cli import app

    monkeypatch.setenv("ASSISTANT_EMBED_MODEL", "fake")
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(built.cache_dir))
    monkeypatch.setenv("ASSISTANT_INDEX", str(built.index))
    runner = CliRunner()
    r = runner.invoke(app, ["--reranker", str(tiny_ce), "--rerank-depth", "8",
                            "search", QUERY, "--json", "-k", "12"])
    assert r.exit_code == 0, r.output
    monkeypatch.setenv("ASSISTANT_RERANKER", str(tiny_ce))
    monkeypatch.setenv("ASSISTANT_RERANK_DEPTH", "8")
    assert runner.invoke(app, ["search", QUERY, "--json", "-k", "12"]).output == r.output
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert len(rows) == 12

    # The same model, loaded here on its own, orders the fused top 8 the same way.
    plain = Retriever(Index.open(built), built).search(QUERY, k=12)
    model = CrossEncoder(str(tiny_ce), device="cpu")
    scores = model.predict([(QUERY, passage_text(h.chunk)) for h in plain[:8]])
    expect = sorted(zip(plain[:8], scores, strict=True),
                    key=lambda x: (x[0].superseded, -float(x[1]), x[0].chunk.id))
    key = [(h.chunk.doc, h.chunk.clause) for h, _ in expect]
    assert [(row["doc"], row["clause"]) for row in rows[:8]] == key
    assert [(row["doc"], row["clause"]) for row in rows[8:]] == [
        (h.chunk.doc, h.chunk.clause) for h in plain[8:12]]

    info = json.loads(runner.invoke(app, ["info", "--json"]).output)
    assert info["settings"]["reranker"] == str(tiny_ce)


def test_reranker_errors_are_one_line(built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from assistant.cli import app

    monkeypatch.setenv("ASSISTANT_EMBED_MODEL", "fake")
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(built.cache_dir))
    monkeypatch.setenv("ASSISTANT_INDEX", str(built.index))
    runner = CliRunner()
    missing = tmp_path / "no-such-model"
    r = runner.invoke(app, ["--reranker", str(missing), "search", QUERY])
    assert r.exit_code == 1
    msg = r.output.strip()
    assert "\n" not in msg and "Traceback" not in msg
    assert f"cannot load reranker '{missing}' (no such folder)" in msg

    nli = _tiny_cross_encoder(tmp_path / "nli", num_labels=3)
    monkeypatch.setenv("ASSISTANT_RERANKER", str(nli))
    r = runner.invoke(app, ["search", QUERY])
    assert r.exit_code == 1
    assert "gives 3 scores per pair; use a cross-encoder with one relevance score" in r.output
    assert "\n" not in r.output.strip()
