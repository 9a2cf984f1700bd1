"""Plain-text helpers shared by citations, grounding, the relevance gate and the answer
backends: normalisation, character bigrams, sentences, shortening.

Pure Python, deterministic, nothing imported beyond the standard library.
"""

from __future__ import annotations

import re
import unicodedata

CJK = "\u3400-\u4dbf\u4e00-\u9fff"
CJK_RUN = re.compile(f"[{CJK}]+")
ASCII_TOKEN = re.compile(r"[a-z0-9]+(?:[./][a-z0-9]+)*")
# a list enumerator at the start of a line or sentence: "1." "2、" "（三）" "四、"
LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}[.、)）]|[（(][一二三四五六七八九十\d]{1,3}[)）]|[一二三四五六七八九十]{1,3}、)")
# the stop and blanks at the end of a sentence, before a marker is put there
PUNCT_END = re.compile(r"[。！？；!?;：:，,、\s]+$")


def normalize(text: str) -> str:
    """NFKC (full-width digits/letters → ASCII), lower case; Chinese punctuation is kept."""
    return unicodedata.normalize("NFKC", text).lower()


def bigrams(text: str) -> set[str]:
    """Character bigrams of the CJK runs plus ASCII tokens (numbers, GB/T, ISO…)."""
    t = normalize(text)
    out: set[str] = set(ASCII_TOKEN.findall(t))
    for run in CJK_RUN.findall(t):
        if len(run) == 1:
            out.add(run)
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out


def shorten(text: str, n: int) -> str:
    """``text`` on one line (blanks collapsed), cut to ``n`` characters with "…"."""
    t = " ".join(text.split())
    return t if len(t) <= n else t[:n].rstrip() + "…"


def strip_label(text: str, clause: str) -> str:
    """The clause text without its leading label ("第十条 …" → "…")."""
    t = text.lstrip()
    # NFKC maps "（二）" to "(二)" char for char: policy texts mix both widths
    if clause and unicodedata.normalize("NFKC", t[: len(clause)]) == unicodedata.normalize("NFKC", clause):
        t = t[len(clause) :].lstrip(" \u3000:：.")
    return t


_MARKS = r"(?:\s*\[\d+\])*"
# a sentence runs to 。！？；!?; or a line break; markers right after the stop stay with it
_SENT = re.compile(rf"[^。！？；!?;\n]+(?:[。！？；!?;]+{_MARKS}|\n|$)|[。！？；!?;]+{_MARKS}")


def split_sentences(text: str) -> list[str]:
    """Chinese sentences (split on 。；！？ and line breaks), stripped, empty ones dropped."""
    return [s.strip() for s in _SENT.findall(text) if s.strip()]
