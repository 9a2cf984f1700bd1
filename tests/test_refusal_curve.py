"""The eval's refusal curve (assistant.evaluation.refusal) and the split report, on
hand-made answer results; the eval gate's thresholds for the in-domain sets."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from assistant.evaluation.datasets import load_manifest, load_questions
from assistant.evaluation.refusal import THRESHOLDS, refusal_curve
from assistant.evaluation.reporting import finish
from assistant.evaluation.scoring import AnswerResult, DatasetRun, summarize_answers
from assistant.metrics import AnswerRecord

ROOT = Path(__file__).resolve().parents[1]


def _ans(qid: str, gold: bool, score: float | None, refused: bool, split: str = "") -> AnswerResult:
    g = {("d.txt", "1")} if gold else set()
    cited = set() if refused else {("d.txt", "1")}
    return AnswerResult(qid, "k", AnswerRecord(g, cited, refused), 5.0, gate_score=score, split=split)


def _runs() -> list[DatasetRun]:
    answerable = DatasetRun("ok", "c", [], answers=[
        _ans("a1", True, 0.9, False), _ans("a2", True, 0.5, False), _ans("a3", True, 0.3, True)])
    unanswerable = DatasetRun("no", "c", [], answers=[
        _ans("u1", False, 0.0, True, "calibration"), _ans("u2", False, 0.2, True, "held-out"),
        _ans("u3", False, 0.7, False, "held-out"), _ans("u4", False, None, True)])
    return [answerable, unanswerable]


def test_refusal_curve_counts_scores_below_each_threshold() -> None:
    c = refusal_curve(_runs(), 0.4)
    assert c is not None and c["thresholds"] == list(THRESHOLDS) and c["operating"] == 0.4
    at = {t: i for i, t in enumerate(c["thresholds"])}
    assert c["answerable"] == 3 and c["unanswerable"] == {"no": 3}  # None scores are left out
    assert c["false_refusal"][at[0.4]] == pytest.approx(1 / 3, abs=1e-4)
    assert c["refusal"]["no"][at[0.4]] == pytest.approx(2 / 3, abs=1e-4)
    assert c["false_refusal"][at[0.0]] == 0.0 and c["refusal"]["no"][at[1.0]] == 1.0
    assert refusal_curve([DatasetRun("x", "c", [], answers=[])], 0.4) is None


def test_report_has_the_curve_plot_and_the_held_out_part(tmp_path: Path) -> None:
    m = finish(_runs(), tmp_path, thresholds={}, info={"min_relevance": 0.0})
    assert "refusal_curve" in json.loads((tmp_path / "metrics.json").read_text("utf-8"))
    assert (tmp_path / "refusal_curve.png").stat().st_size > 1000
    report = (tmp_path / "report.md").read_text("utf-8")
    assert "## Refusal curve (gate threshold)" in report and "refusal_curve.png" in report
    split = m["datasets"]["no"]["answers"]["by_split"]
    assert split["held-out"]["refusal_accuracy"] == 0.5 and split["calibration"]["refusal_accuracy"] == 1.0
    assert "by_split" not in summarize_answers(_runs()[0].answers or [])


def test_in_domain_sets_are_in_the_manifest_and_the_gate() -> None:
    manifest = load_manifest()
    thresholds = tomllib.loads((ROOT / "eval" / "thresholds.toml").read_text("utf-8"))
    total = 0
    for name in ("unanswerable-indomain", "unanswerable-indomain-std", "unanswerable-indomain-laws"):
        qs = load_questions(manifest[name].file)
        assert qs and all(q.gold == [] and q.kind and q.split in ("calibration", "held-out") for q in qs)
        assert {q.kind for q in qs} <= {"missing-value", "other-procedure", "version-comparison",
                                        "wrong-product"}
        assert any(q.split == "held-out" for q in qs)
        total += len(qs)
    assert total >= 60
    assert thresholds["unanswerable-indomain"]["answers"]["refusal_accuracy"] >= 0.9
    assert thresholds["unanswerable-indomain-std"]["answers"]["refusal_accuracy"] >= 0.8
