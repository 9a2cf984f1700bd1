"""Metric code against hand-computed values."""

from __future__ import annotations

import math

import pytest

from assistant.metrics import (
    AnswerRecord,
    RankedItem,
    answer_metrics,
    citation_precision,
    citation_recall,
    decode_docid,
    dedupe_clauses,
    dedupe_ids,
    encode_docid,
    first_gold_rank,
    format_qrels,
    format_run,
    hit_at,
    lcs_length,
    mrr_at,
    ndcg_at,
    percentile,
    question_metrics,
    read_qrels,
    read_run,
    recall_at,
    recall_at_context,
    rouge_l_chars,
    trec_order,
)

C = RankedItem.clause


def chunk(cid: str, score: float, pairs: set[tuple[str, str]], length: int) -> RankedItem:
    return RankedItem(cid, score, frozenset(pairs), length)


# two gold clauses, a tie at rank 2/3
GOLD2 = {("A", "1"), ("B", "2")}
RUN2 = [C("A", "3", 0.9), C("A", "1", 0.8), C("X", "1", 0.8), C("B", "2", 0.5)]


def test_two_gold_clauses_with_tie() -> None:
    # tie 0.8: trec_eval puts the larger docid first: "X#1" > "A#1" → X#1 rank 2, A#1 rank 3
    order = [it.id for it in trec_order(RUN2)]
    assert order == ["A#3", "X#1", "A#1", "B#2"]
    assert recall_at(RUN2, GOLD2, 1) == 0.0
    assert recall_at(RUN2, GOLD2, 3) == 0.5
    assert recall_at(RUN2, GOLD2, 5) == 1.0
    assert hit_at(RUN2, GOLD2, 1) == 0.0
    assert hit_at(RUN2, GOLD2, 3) == 1.0
    assert mrr_at(RUN2, GOLD2, 10) == pytest.approx(1 / 3)
    assert mrr_at(RUN2, GOLD2, 2) == 0.0
    ideal = 1 + 1 / math.log2(3)
    assert ndcg_at(RUN2, GOLD2, 10) == pytest.approx((1 / math.log2(4) + 1 / math.log2(5)) / ideal)
    assert first_gold_rank(RUN2, GOLD2) == 3


def test_tie_order_independent_of_input_order() -> None:
    a = [C("d", "b", 1.0), C("d", "a", 1.0), C("d", "c", 1.0), C("d", "ab", 1.0)]
    for perm in (a, a[::-1], [a[2], a[0], a[3], a[1]]):
        # byte-wise descending; "d#ab" > "d#a" (a longer string sorts first when descending)
        assert [it.id for it in trec_order(perm)] == ["d#c", "d#b", "d#ab", "d#a"]


def test_perfect_and_empty() -> None:
    run = [C("A", "1", 2.0), C("B", "2", 1.0)]
    assert ndcg_at(run, GOLD2) == pytest.approx(1.0)
    assert mrr_at(run, GOLD2) == 1.0
    assert recall_at([], GOLD2, 10) == 0.0
    assert ndcg_at([], GOLD2) == 0.0
    assert recall_at(run, set(), 10) == 0.0


def test_duplicate_parts_of_one_clause_count_once() -> None:
    raw = [
        RankedItem("A#1#0", 0.9, frozenset({("A", "1")}), 300),
        RankedItem("A#1#1", 0.85, frozenset({("A", "1")}), 200),
        RankedItem("C#9#0", 0.84, frozenset({("C", "9")}), 100),
        RankedItem("B#2#0", 0.8, frozenset({("B", "2")}), 100),
    ]
    deduped = dedupe_clauses(raw)
    assert [it.id for it in deduped] == ["A#1", "C#9", "B#2"]
    assert deduped[0].score == 0.9 and deduped[0].length == 500
    assert recall_at(deduped, GOLD2, 3) == 1.0
    assert recall_at(raw, GOLD2, 3) == 0.5  # without collapsing, the second part takes rank 2
    # nDCG: a second part of an already-credited clause gains nothing
    assert ndcg_at(raw, {("A", "1")}) == pytest.approx(1.0)
    m = question_metrics(deduped, GOLD2)
    assert m["recall_at_1"] == 0.5 and m["recall_at_5"] == 1.0
    assert m["ndcg_at_10"] == pytest.approx((1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3)))


def test_dedupe_ids_keeps_best() -> None:
    raw = [C("A", "1", 0.2), C("A", "1", 0.7), C("B", "1", 0.5)]
    assert [(it.id, it.score) for it in dedupe_ids(raw)] == [("A#1", 0.7), ("B#1", 0.5)]


def test_at_equal_context_with_multi_clause_chunks() -> None:
    run = [
        chunk("c1", 0.9, {("A", "1"), ("A", "2")}, 600),
        chunk("c2", 0.8, {("B", "2")}, 500),
        chunk("c3", 0.7, {("C", "1"), ("C", "2"), ("C", "3")}, 3000),
    ]
    gold = {("A", "2"), ("B", "2")}
    assert recall_at_context(run, gold, 500) == 0.0  # c1 does not fit
    assert recall_at_context(run, gold, 1000) == 0.5  # c1 fits, c2 would end at 1,100
    assert recall_at_context(run, gold, 1100) == 1.0
    assert recall_at_context(run, {("C", "3")}, 4000) == 0.0  # c3 would end at 4,100
    assert recall_at_context(run, {("C", "3")}, 16000) == 1.0
    # ranking metrics on chunks: one chunk holding two gold clauses is one hit at rank 1
    two = {("A", "1"), ("A", "2")}
    assert recall_at(run, two, 1) == 1.0
    assert ndcg_at(run, two) == pytest.approx(1 / (1 + 1 / math.log2(3)))
    m = question_metrics(run, gold)
    assert m["recall_at_1k_chars"] == 0.5
    assert m["recall_at_4k_chars"] == 1.0
    assert m["recall_at_16k_chars"] == 1.0


def test_question_metrics_separate_context_run() -> None:
    ranked = [C("A", "1", 1.0, 5000)]
    parts = [RankedItem("A#1#0", 1.0, frozenset({("A", "1")}), 900)]
    m = question_metrics(ranked, {("A", "1")}, context_run=parts)
    assert m["recall_at_1k_chars"] == 1.0
    assert question_metrics(ranked, {("A", "1")})["recall_at_1k_chars"] == 0.0


def test_rouge_l_chinese_pair() -> None:
    # chars kept: 质量强区建设 / 质量强国建设; LCS 质量强建设 = 5 → P = R = 5/6
    assert lcs_length(list("质量强区建设"), list("质量强国建设")) == 5
    assert rouge_l_chars("质量强区，建设。", "质量 强国建设") == pytest.approx(5 / 6)
    # P = 2/2, R = 2/4 → F = 2/3
    assert rouge_l_chars("标准", "国家标准") == pytest.approx(2 / 3)
    assert rouge_l_chars("", "国家标准") == 0.0
    assert rouge_l_chars("“标准”！", "标准") == 1.0


def test_citation_metrics() -> None:
    assert citation_precision({("A", "1"), ("B", "1")}, {("A", "1")}) == 0.5
    assert citation_precision(set(), {("A", "1")}) is None
    assert citation_recall({("A", "1")}, GOLD2) == 0.5
    assert citation_recall({("A", "1")}, set()) is None
    recs = [
        AnswerRecord(GOLD2, {("A", "1"), ("Z", "9")}, False, flagged=True,
                     answer="质量强区建设", reference="质量强国建设"),
        # refused, listing the gold clause as "nearby": not a citation
        AnswerRecord({("C", "1")}, {("C", "1")}, True, answer="无法回答", reference=""),
        AnswerRecord(set(), set(), True),
        AnswerRecord(set(), {("Z", "1")}, False),
    ]
    m = answer_metrics(recs)
    assert m["answers"] == 4
    assert m["citation_precision"] == pytest.approx((0.5 + 0.0) / 2)
    assert m["citation_recall"] == pytest.approx((0.5 + 0.0) / 2)
    assert m["gold_cited_share"] == 0.5
    assert m["refusal_accuracy"] == 0.5
    assert m["false_refusal_rate"] == 0.5
    assert m["rouge_l"] == pytest.approx(5 / 6)
    assert m["flagged_share"] == 0.5  # of the two answers given
    assert answer_metrics([])["refusal_accuracy"] is None


def test_percentile_linear() -> None:
    xs = [10.0, 20.0, 30.0, 40.0]
    assert percentile(xs, 50) == 25.0
    assert percentile(xs, 95) == pytest.approx(38.5)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_docid_encoding_roundtrip() -> None:
    d = "GB T 1.1\t2020.pdf#8.6"
    enc = encode_docid(d)
    assert enc == "GB%20T%201.1%092020.pdf#8.6"
    assert " " not in enc and decode_docid(enc) == d
    assert encode_docid("100%.txt#一") == "100%25.txt#一"
    assert decode_docid(encode_docid("100%.txt#一")) == "100%.txt#一"
    assert encode_docid("民法典/总则.md#第五十四条") == "民法典/总则.md#第五十四条"


def test_trec_file_formats() -> None:
    qrels = {"q1": {("GB T 1.pdf", "8.6"), ("law.md", "第十条")}, "q2": set()}
    text = format_qrels(qrels)
    assert text.splitlines() == ["q1 0 GB%20T%201.pdf#8.6 1", "q1 0 law.md#第十条 1"]
    assert read_qrels(text) == {"q1": qrels["q1"]}

    runs = {
        "q1": [C("law.md", "第十条", 0.5), C("GB T 1.pdf", "8.6", 0.75), C("a.md", "1", 0.5)],
        "q2": [chunk("n1", 1.0, {("x.md", "2"), ("x.md", "1")}, 10)],
    }
    lines = format_run(runs, "hybrid").splitlines()
    assert lines == [
        "q1 Q0 GB%20T%201.pdf#8.6 1 0.75 hybrid",
        "q1 Q0 law.md#第十条 2 0.5 hybrid",
        "q1 Q0 a.md#1 3 0.5 hybrid",
        "q2 Q0 x.md#1 1 1.0 hybrid",
        "q2 Q0 x.md#2 2 1.0 hybrid",
    ]
    back = read_run("\n".join(lines))
    assert [it.id for it in back["q1"]] == ["GB T 1.pdf#8.6", "law.md#第十条", "a.md#1"]


def test_run_depth_and_score_precision() -> None:
    run = [C("d", str(i), 1.0 - i * 1e-12) for i in range(150)]
    lines = format_run({"q": run}, "t").splitlines()
    assert len(lines) == 100
    scores = [float(line.split()[4]) for line in lines]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 100
