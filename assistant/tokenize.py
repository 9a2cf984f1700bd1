"""Keyword tokenization for BM25: jieba words and character pairs, identifiers kept whole.

Standard numbers ("GB/T 1.1—2020"), clause numbers ("8.6", "A.1.2") and article labels
("第十条") are pulled out before jieba sees the text, so that a query naming them matches
exactly; defined terms from standards are added to jieba's dictionary (``add_terms``).
Each run of Chinese characters also gives its overlapping character pairs, marked apart
from words (``#检定``), because jieba cuts a short lay question and a long article
independently and does not always cut the same words the same way.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from functools import lru_cache

TOKENIZER_VERSION = "jieba-search+ids+pairs-3"

_lock = threading.Lock()
_jieba = None

_CLAUSE_RE = re.compile(r"(?<![A-Za-z0-9.])((?:[A-Z]|\d{1,2})(?:\.\d{1,3}){1,4})(?![A-Za-z0-9.])")
_ARTICLE_RE = re.compile(r"(?:第[零〇一二三四五六七八九十百千\d]+|(?<![\d.])\d{1,4})条(?:之[一二三四五六七八九十]+)?")
_ANNEX_RE = re.compile(r"附录\s*([A-Z])")
_WORD_RE = re.compile(r"[\w\u4e00-\u9fff]")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
PAIR_MARK = "#"  # a pair token never equals a word token (jieba cuts "#" off as punctuation)

# Function words that carry no retrieval signal; kept short on purpose: legal wording
# like "应当", "不得" and "可以" is meaningful and stays.
STOPWORDS = frozenset(
    ["的", "了", "和", "与", "及", "或", "是", "在", "对", "为", "以", "等", "将", "把", "被", "由", "从", "向", "于", "其", "之", "也", "就", "都", "而", "并", "这", "那", "这个", "那个", "什么", "怎么", "如何", "吗", "呢", "吧", "啊", "哪些", "哪", "我", "你", "他", "她", "它", "我们", "你们", "请问", "一下", "一个", "有", "没有", "能", "会", "要", "想", "问", "该", "该当", "时候", "怎样", "谁", "多少", "哪里"]
)


def _get_jieba():  # type: ignore[no-untyped-def]
    global _jieba
    if _jieba is None:
        with _lock:
            if _jieba is None:
                import logging

                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


def add_terms(terms: Iterable[str]) -> None:
    """Keep defined terms (from 术语和定义 clauses) as single tokens."""
    jb = _get_jieba()
    for t in terms:
        t = t.strip()
        if 2 <= len(t) <= 20:
            jb.add_word(t, freq=50000)
    _cut_cached.cache_clear()


def _identifier_tokens(text: str) -> tuple[list[str], str]:
    """Return identifier tokens found in text and the text with them blanked out."""
    from .identifiers import cn_to_int, std_number_spans

    toks: list[str] = []

    def art(m: re.Match[str]) -> str:
        label = m.group(0)
        n = cn_to_int(label.lstrip("第").split("条")[0])
        toks.append(f"第{n}条" if n is not None else label)
        return " "

    # standard numbers: one token with the year, one without (a query often omits it)
    spans = std_number_spans(text)
    for start, end, no in reversed(spans):
        key = std_token(no)
        toks.extend([key, key.split("-")[0]] if "-" in key else [key])
        text = text[:start] + " " + text[end:]
    text = _CLAUSE_RE.sub(lambda m: (toks.append(m.group(1).upper()), " ")[1], text)
    text = _ARTICLE_RE.sub(art, text)
    text = _ANNEX_RE.sub(lambda m: (toks.append("附录" + m.group(1).upper()), " ")[1], text)
    return toks, text


def std_token(no: str) -> str:
    """The token form of a normalised standard number: "GB/T 1.1—2020" → "gb/t1.1-2020"."""
    return no.lower().replace(" ", "").replace("—", "-")


@lru_cache(maxsize=4096)
def _cut_cached(text: str) -> tuple[str, ...]:
    return tuple(_cut(text))


def _cut(text: str) -> list[str]:
    ids, rest = _identifier_tokens(text)
    jb = _get_jieba()
    words = [w.strip().lower() for w in jb.cut_for_search(rest)]
    out = ids + [w for w in words if w and w not in STOPWORDS and _WORD_RE.search(w)]
    return out + _pairs(rest)


def _pairs(text: str) -> list[str]:
    """Overlapping character pairs of each Chinese run ("检定周期" → #检定 #定周 #周期).

    On STARD they lift BM25 alone by 0.030 R@10 and the hybrid by 0.013 MRR@10
    (eval/README.md), for 0.2 ms more scoring a query.
    """
    return [PAIR_MARK + run[i:i + 2] for run in _CJK_RUN.findall(text) for i in range(len(run) - 1)]


def tokenize(text: str) -> list[str]:
    """Tokens of one passage or query (lower-cased, stopwords and punctuation dropped)."""
    if len(text) <= 200:  # queries repeat (UI, eval); passages don't
        return list(_cut_cached(text))
    return _cut(text)
