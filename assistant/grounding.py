"""Grounding checks: every number and standard number an answer sentence states must be
written in a source that sentence cites; claims without a marker are flagged.

Pure Python and deterministic; the findings become ``Answer.flags``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from .cite import MARKER, marker_numbers, strip_markers
from .identifiers import cn_to_int, normalize_std_no, std_number_spans
from .records import Hit
from .text import CJK_RUN, LIST_ITEM, shorten, split_sentences

# ---------------------------------------------------------------------------------------
# numbers and standard numbers
# ---------------------------------------------------------------------------------------

_ARABIC = re.compile(r"(\d+(?:,\d{3})*(?:\.\d+)?)\s*(万|亿)?")
CN_NUM = "零〇○一二两三四五六七八九十百千万亿"
# Chinese numerals count only before a unit or after 第: "统一""一般" are words, not numbers.
_CN_UNITS = "日天年月周个元倍条款项章节次人名岁小时分钟秒克吨米升度%％份户家位件批"
_CN = re.compile(rf"(第)?([{CN_NUM}]+)(?=[{_CN_UNITS}])|(第)([{CN_NUM}]+)")
_PERCENT_CN = re.compile(rf"百分之([{CN_NUM}\d.]+)")


def std_key(no: str) -> str:
    """A standard number as compared here: normalised (``identifiers``), blanks removed:
    "GB/T 1.1-2020" → "GB/T1.1—2020", "ISO 9001:2015" → "ISO9001:2015"."""
    n = normalize_std_no(no) or unicodedata.normalize("NFKC", no)
    return re.sub(r"\s+", "", n)


def std_numbers(text: str) -> list[str]:
    """Standard numbers written in ``text`` (Chinese and ISO/IEC), as :func:`std_key` keys."""
    spans = std_number_spans(unicodedata.normalize("NFKC", text), international=True)
    return list(dict.fromkeys(no.replace(" ", "") for _, _, no in spans))


def blank_std_numbers(t: str, spans: list[tuple[int, int, str]] | None = None) -> str:
    """``t`` with its standard numbers blanked out (their digits are no claims or clauses)."""
    if spans is None:
        spans = std_number_spans(t, international=True)
    for start, end, _ in reversed(spans):
        t = t[:start] + " " + t[end:]
    return t


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def numbers(text: str) -> list[tuple[str, str]]:
    """Numeric claims of a text as (as written, normalised value) pairs.

    Standard numbers, citation markers and list enumerators are not numeric claims and
    are removed first. "三十日" and "30日" both normalise to "30"; "5万元" to "50000".
    """
    t = unicodedata.normalize("NFKC", text)
    t = MARKER.sub(" ", t)
    t = blank_std_numbers(t)
    t = LIST_ITEM.sub(" ", t)
    out: list[tuple[str, str]] = []
    for m in _PERCENT_CN.finditer(t):
        v = cn_to_int(m.group(1)) if not m.group(1)[0].isdigit() else float(m.group(1))
        if v is not None:
            out.append((m.group(0), _fmt(v)))
    t = _PERCENT_CN.sub(" ", t)
    for m in _ARABIC.finditer(t):
        raw = m.group(1).replace(",", "")
        try:
            v = float(raw)
        except ValueError:
            continue
        mult = {"万": 10_000, "亿": 100_000_000}.get(m.group(2) or "", 1)
        out.append((m.group(0).strip(), _fmt(v * mult)))
        if mult != 1:  # "5万" may be compared with a source that writes "5万" or "50000"
            out.append((m.group(0).strip(), _fmt(v)))
    t = _ARABIC.sub(" ", t)  # "5万元": the 万 was read with its digits
    for m in _CN.finditer(t):
        raw = m.group(2) or m.group(4)
        if not re.search("[零〇○一二两三四五六七八九十]", raw):  # "万元" alone is no number
            continue
        v = cn_to_int(raw)
        if v is not None:
            out.append((m.group(0), _fmt(v)))
    return out


def number_values(text: str) -> set[str]:
    return {v for _, v in numbers(text)}


def source_facts(hits: Iterable[Hit]) -> tuple[set[str], set[str]]:
    """(number values, normalised standard numbers) written in the given sources."""
    vals: set[str] = set()
    stds: set[str] = set()
    for h in hits:
        c = h.chunk
        blob = "\n".join([c.text, c.title, c.clause, c.heading, c.std_no, h.replaced_by])
        vals |= number_values(blob)
        stds |= set(std_numbers(blob))
        if c.std_no:
            stds.add(std_key(c.std_no))
    return vals, stds


def std_supported(s: str, stds: set[str]) -> bool:
    """Is standard number ``s`` (a :func:`std_key`) among ``stds``?"""
    # "GB/T 1.1" (no year) is supported by "GB/T 1.1—2020"; a different year is not
    return any(x == s or (x.startswith(s) and x[len(s) : len(s) + 1] in ("—", ":")) for x in stds)


# ---------------------------------------------------------------------------------------
# the check
# ---------------------------------------------------------------------------------------


@dataclass
class Grounding:
    """Findings of the grounding checks on one answer text."""

    flags: list[str] = field(default_factory=list)
    uncited: list[str] = field(default_factory=list)
    unsupported: list[tuple[str, str]] = field(default_factory=list)  # (sentence, token)


def check_numbers(answer: str, cited: dict[int, Hit], flag_uncited: bool = True) -> Grounding:
    """Flag sentences whose numbers or standard numbers appear in none of their cited sources.

    ``cited`` maps the (final) marker numbers to the hits. A sentence without markers is
    checked against all cited sources and, when it makes a claim, flagged as uncited.
    """
    g = Grounding()
    all_hits = list(cited.values())
    for sent in split_sentences(answer):
        ks = [k for k in marker_numbers(sent) if k in cited]
        body = strip_markers(sent).strip()
        if not ks and flag_uncited and _is_claim(body):
            g.uncited.append(body)
            g.flags.append(f"uncited sentence: {shorten(body, 40)}")
        hits = [cited[k] for k in ks] or all_hits
        vals, stds = source_facts(hits)
        bad: list[str] = []
        for s in std_numbers(body):
            if not std_supported(s, stds):
                bad.append(s)
        for raw, v in numbers(body):
            if v not in vals and raw not in bad and not _is_trivial(raw, v):
                bad.append(raw)
        seen: set[str] = set()
        for tok in bad:
            if tok in seen:
                continue
            seen.add(tok)
            g.unsupported.append((body, tok))
            g.flags.append(f"unsupported number {tok} in: {shorten(body, 40)}")
    return g


def _is_claim(body: str) -> bool:
    """A sentence that states something (not a heading, a lead-in ending in "：", or a hedge)."""
    cjk = sum(len(r) for r in CJK_RUN.findall(body))
    return cjk >= 8 and not body.rstrip().endswith(("：", ":"))


def _is_trivial(raw: str, v: str) -> bool:
    # the "一" of "一年内" or a list ordinal is not a claim worth flagging
    return v in {"0", "1"} and not raw.startswith("第")
