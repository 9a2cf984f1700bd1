"""Keyword tokens for BM25 (assistant.tokenize): identifiers whole, words, character pairs."""

from __future__ import annotations

from assistant.tokenize import PAIR_MARK, STOPWORDS, std_token, tokenize


def _pairs(tokens: list[str]) -> list[str]:
    return [t for t in tokens if t.startswith(PAIR_MARK)]


def test_identifiers_stay_whole_and_yield_no_pairs():
    toks = tokenize("GB/T 1.1—2020 的 8.6 和产品质量法第二十六条")
    assert toks[:2] == ["gb/t1.1-2020", "gb/t1.1"]  # with and without the year
    assert "8.6" in toks and "第26条" in toks
    # blanked identifiers end a run: no pair spans "条" and a number
    assert not any(p[1:] in ("二十", "十六", "六条") for p in _pairs(toks))
    assert std_token("GB/T 1.1—2020") == "gb/t1.1-2020"


def test_words_then_pairs_of_each_chinese_run():
    toks = tokenize("计量器具的检定周期，是多久？")
    words = [t for t in toks if not t.startswith(PAIR_MARK)]
    assert words == ["计量", "器具", "检定", "周期", "多久"]  # stopwords 的/是 dropped
    # pairs overlap within a run and stop at punctuation: none across "，"
    assert _pairs(toks) == [PAIR_MARK + p for p in
                            ["计量", "量器", "器具", "具的", "的检", "检定", "定周", "周期", "是多", "多久"]]
    assert "#期是" not in toks


def test_pairs_never_equal_words():
    toks = tokenize("检定周期 检定")
    assert toks.count("检定") == 2 and toks.count(PAIR_MARK + "检定") == 2
    assert all(not w.startswith(PAIR_MARK) for w in STOPWORDS)
    assert tokenize("# ＃ ，。") == []  # punctuation only: nothing
    assert _pairs(tokenize("Hello world 2024")) == []  # no Chinese run, no pair
