"""Retrieval and answer metrics, TREC conventions (pure functions, no I/O but the TREC writers).

A *run* for one question is a list of :class:`RankedItem`: what a system returned, each with
the set of ``(doc, clause)`` pairs it contains (one pair for clause-level chunks, several for
the chunks of a fixed-size splitter) and its length in characters. Items are ordered the way
trec_eval orders them: by score descending, ties broken by docid in *descending* byte order
(trec_eval's ``comp_sim_docno`` compares ``strcmp(ptr2->docno, ptr1->docno)``); the rank
column of a run file is ignored, as trec_eval ignores it.

Gold (qrels) for one question is a set of ``(doc, clause)``; binary relevance. A docid is
``f"{doc}#{clause}"``. Several parts of one clause count once (:func:`dedupe_clauses`).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Pair = tuple[str, str]  # (doc, clause)

RECALL_KS: tuple[int, ...] = (1, 5, 10, 100)
CONTEXT_BUDGETS: tuple[int, ...] = (1000, 4000, 16000)
RUN_DEPTH = 100


def docid(doc: str, clause: str) -> str:
    """The TREC document id of one clause: ``"<doc>#<clause>"``."""
    return f"{doc}#{clause}"


def split_docid(d: str) -> Pair:
    """Inverse of :func:`docid` (the doc path may itself contain ``#``; the clause may not)."""
    doc, _, clause = d.rpartition("#")
    return doc, clause


@dataclass(frozen=True)
class RankedItem:
    """One returned unit: a clause (or a part of one) or a multi-clause chunk."""

    id: str  # docid for clause-level items, chunk id otherwise
    score: float
    contains: frozenset[Pair] = field(default_factory=frozenset)
    length: int = 0  # characters of text, for recall at equal context size

    @classmethod
    def clause(cls, doc: str, clause: str, score: float, length: int = 0) -> RankedItem:
        return cls(docid(doc, clause), float(score), frozenset({(doc, clause)}), length)


# ---------------------------------------------------------------------------------- ordering

def encode_docid(d: str) -> str:
    """Percent-encode whitespace (and ``%``) so trec_eval reads the id as one field."""
    out = []
    for ch in d:
        if ch == "%" or ch.isspace() or not ch.isprintable():
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "".join(out)


def decode_docid(d: str) -> str:
    """Inverse of :func:`encode_docid`."""
    from urllib.parse import unquote

    return unquote(d, encoding="utf-8")


def _desc_key(s: str) -> tuple[int, ...]:
    # strcmp order on UTF-8 bytes, reversed; the extra trailing element makes a prefix
    # sort after its extensions when negated (as strcmp(b, a) does).
    return (*(-b for b in s.encode("utf-8")), 1)


def trec_order(items: Iterable[RankedItem]) -> list[RankedItem]:
    """Order items as trec_eval does: score desc, then (encoded) docid desc, byte-wise."""
    return sorted(items, key=lambda it: (-it.score, _desc_key(encode_docid(it.id))))


def dedupe_clauses(items: Iterable[RankedItem]) -> list[RankedItem]:
    """Collapse parts of one clause into one clause-level item with the best score and the
    summed length, in trec order. Items that contain several clauses are left alone."""
    best: dict[str, RankedItem] = {}
    order: list[str] = []
    for it in items:
        if len(it.contains) == 1:
            (pair,) = tuple(it.contains)
            key = docid(*pair)
        else:
            key = it.id
        prev = best.get(key)
        if prev is None:
            order.append(key)
            best[key] = RankedItem(key, it.score, it.contains, it.length)
        else:
            best[key] = RankedItem(
                key, max(prev.score, it.score), prev.contains | it.contains, prev.length + it.length
            )
    return trec_order(best[k] for k in order)


def dedupe_ids(items: Iterable[RankedItem]) -> list[RankedItem]:
    """Drop repeated item ids (keep the best-scored), in trec order."""
    best: dict[str, RankedItem] = {}
    for it in items:
        if it.id not in best or it.score > best[it.id].score:
            best[it.id] = it
    return trec_order(best.values())


# -------------------------------------------------------------------------- ranking metrics

def _ranked(run: Sequence[RankedItem]) -> list[RankedItem]:
    return trec_order(run)


def found_at(run: Sequence[RankedItem], gold: set[Pair], k: int) -> set[Pair]:
    """Gold pairs contained in the first ``k`` items (items in trec order)."""
    seen: set[Pair] = set()
    for it in _ranked(run)[:k]:
        seen |= it.contains & gold
    return seen


def recall_at(run: Sequence[RankedItem], gold: set[Pair], k: int) -> float:
    """Share of the gold pairs contained in the top ``k`` items."""
    if not gold:
        return 0.0
    return len(found_at(run, gold, k)) / len(gold)


def hit_at(run: Sequence[RankedItem], gold: set[Pair], k: int) -> float:
    """1.0 when any gold pair is in the top ``k`` items."""
    return 1.0 if found_at(run, gold, k) else 0.0


def mrr_at(run: Sequence[RankedItem], gold: set[Pair], k: int = 10) -> float:
    """Reciprocal rank of the first item containing a gold pair, 0 beyond rank ``k``."""
    for rank, it in enumerate(_ranked(run)[:k], start=1):
        if it.contains & gold:
            return 1.0 / rank
    return 0.0


def ndcg_at(run: Sequence[RankedItem], gold: set[Pair], k: int = 10) -> float:
    """nDCG@k with binary gains and a log2(rank+1) discount.

    An item gains 1 when it contains a gold pair not credited to an earlier item (so a
    multi-clause chunk cannot score above the ideal ranking); the ideal ranking puts one gold
    pair at each of the first ``min(|gold|, k)`` ranks.
    """
    if not gold:
        return 0.0
    dcg = 0.0
    credited: set[Pair] = set()
    for rank, it in enumerate(_ranked(run)[:k], start=1):
        new = (it.contains & gold) - credited
        if new:
            credited |= new
            dcg += 1.0 / math.log2(rank + 1)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(len(gold), k) + 1))
    return dcg / ideal


def first_gold_rank(run: Sequence[RankedItem], gold: set[Pair]) -> int | None:
    """1-based rank of the first item containing a gold pair, None when absent."""
    for rank, it in enumerate(_ranked(run), start=1):
        if it.contains & gold:
            return rank
    return None


def recall_at_context(run: Sequence[RankedItem], gold: set[Pair], budget: int) -> float:
    """Share of gold pairs found within the first ``budget`` characters of the context made by
    concatenating the items in rank order. An item counts only when it fits entirely within
    the budget (without offsets inside a chunk, a truncated chunk cannot be credited)."""
    if not gold:
        return 0.0
    used = 0
    seen: set[Pair] = set()
    for it in _ranked(run):
        used += it.length
        if used > budget:
            break
        seen |= it.contains & gold
    return len(seen) / len(gold)


def question_metrics(
    run: Sequence[RankedItem],
    gold: set[Pair],
    context_run: Sequence[RankedItem] | None = None,
) -> dict[str, float]:
    """All ranking metrics of one answerable question.

    ``run`` is ranked for recall/hit/MRR/nDCG (parts of one clause already collapsed by the
    caller, see :func:`dedupe_clauses`); ``context_run`` (default ``run``) lists each
    retrieved chunk with its own length, for recall at equal context size.
    """
    ranked = _ranked(run)
    out: dict[str, float] = {}
    for k in RECALL_KS:
        out[f"recall_at_{k}"] = recall_at(ranked, gold, k)
    for k in (1, 5, 10):
        out[f"hit_at_{k}"] = hit_at(ranked, gold, k)
    out["mrr_at_10"] = mrr_at(ranked, gold, 10)
    out["ndcg_at_10"] = ndcg_at(ranked, gold, 10)
    ctx = ranked if context_run is None else _ranked(context_run)
    for b in CONTEXT_BUDGETS:
        out[f"recall_at_{b // 1000}k_chars"] = recall_at_context(ctx, gold, b)
    return out


def recall_curve(
    runs: Sequence[Sequence[RankedItem]], golds: Sequence[set[Pair]], ks: Iterable[int]
) -> dict[int, float]:
    """Mean recall@k over answerable questions, for each k (for plots)."""
    pairs = [(r, g) for r, g in zip(runs, golds, strict=True) if g]
    if not pairs:
        return {k: 0.0 for k in ks}
    return {k: sum(recall_at(r, g, k) for r, g in pairs) / len(pairs) for k in ks}


def mean_metrics(rows: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Macro-average of per-question metric dicts (keys of the first row)."""
    if not rows:
        return {}
    keys = list(rows[0])
    return {k: sum(float(r[k]) for r in rows) / len(rows) for k in keys}


# ---------------------------------------------------------------------------- answer metrics

def citation_precision(cited: set[Pair], gold: set[Pair]) -> float | None:
    """Share of the cited (doc, clause) that are gold; None when nothing is cited."""
    if not cited:
        return None
    return len(cited & gold) / len(cited)


def citation_recall(cited: set[Pair], gold: set[Pair]) -> float | None:
    """Share of the gold (doc, clause) that are cited; None for unanswerable questions."""
    if not gold:
        return None
    return len(cited & gold) / len(gold)


def _rouge_chars(s: str) -> list[str]:
    return [
        ch for ch in s
        if not ch.isspace() and not unicodedata.category(ch).startswith(("P", "Z", "C"))
    ]


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (O(len(a)·len(b)) time, O(len(b)) memory)."""
    if not a or not b:
        return 0
    if len(b) > len(a):
        a, b = b, a
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            cur[j] = prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1])
        prev = cur
    return prev[-1]


def rouge_l_chars(candidate: str, reference: str) -> float:
    """Character-level ROUGE-L F1 (LCS over characters, whitespace and punctuation ignored)."""
    c, r = _rouge_chars(candidate), _rouge_chars(reference)
    lcs = lcs_length(c, r)
    if lcs == 0:
        return 0.0
    p, rec = lcs / len(c), lcs / len(r)
    return 2 * p * rec / (p + rec)


@dataclass
class AnswerRecord:
    """What one answer looked like, reduced to what the answer metrics need."""

    gold: set[Pair]
    cited: set[Pair]
    refused: bool
    flagged: bool = False
    answer: str = ""
    reference: str = ""


def answer_metrics(records: Sequence[AnswerRecord]) -> dict[str, float | None]:
    """Aggregate answer metrics; a value is None where no question qualifies.

    - citation_precision: mean over answers given (not refused) that cite anything,
      answerable or not (a refusal that lists nearby clauses cites nothing, here and in
      citation_recall / gold_cited_share);
    - citation_recall, gold_cited_share, false_refusal_rate, rouge_l: over answerable
      questions (rouge_l only where a reference answer exists);
    - refusal_accuracy: share of unanswerable questions (gold ``[]``) that were refused;
    - flagged_share: share of answers given (not refused) with grounding flags.
    """
    def mean(xs: list[float]) -> float | None:
        return sum(xs) / len(xs) if xs else None

    answerable = [r for r in records if r.gold]
    unanswerable = [r for r in records if not r.gold]
    given = [r for r in records if not r.refused]
    prec = [p for r in given if (p := citation_precision(r.cited, r.gold)) is not None]
    def cited(r: AnswerRecord) -> set[Pair]:
        return set() if r.refused else r.cited

    rec = [x for r in answerable if (x := citation_recall(cited(r), r.gold)) is not None]
    return {
        "answers": float(len(records)),
        "citation_precision": mean(prec),
        "citation_recall": mean(rec),
        "gold_cited_share": mean([1.0 if cited(r) & r.gold else 0.0 for r in answerable]),
        "refusal_accuracy": mean([1.0 if r.refused else 0.0 for r in unanswerable]),
        "false_refusal_rate": mean([1.0 if r.refused else 0.0 for r in answerable]),
        "rouge_l": mean([rouge_l_chars(r.answer, r.reference) for r in answerable if r.reference]),
        "flagged_share": mean([1.0 if r.flagged else 0.0 for r in given]),
    }


# ----------------------------------------------------------------------------------- latency

def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100) with linear interpolation between order statistics
    (numpy's default); None for no values."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def latency_summary(ms: Sequence[float], prefix: str = "latency_ms") -> dict[str, float | None]:
    """p50/p95/mean of latencies in milliseconds."""
    return {
        f"{prefix}_p50": percentile(ms, 50),
        f"{prefix}_p95": percentile(ms, 95),
        f"{prefix}_mean": (sum(ms) / len(ms)) if ms else None,
    }


# ------------------------------------------------------------------------------ TREC files

def format_qrels(qrels: Mapping[str, Iterable[Pair]]) -> str:
    """TREC qrels text: ``qid 0 docid 1`` per gold pair, in the given question order."""
    lines = []
    for qid, gold in qrels.items():
        for doc, clause in sorted(set(gold)):
            lines.append(f"{encode_docid(qid)} 0 {encode_docid(docid(doc, clause))} 1")
    return "\n".join(lines) + ("\n" if lines else "")


def _fmt_score(s: float) -> str:
    return repr(float(s))  # shortest text that reads back as the same double


def format_run(runs: Mapping[str, Sequence[RankedItem]], tag: str, depth: int = RUN_DEPTH) -> str:
    """TREC run text: ``qid Q0 docid rank score tag``, top ``depth`` per question.

    Clause-level items are written with their docid; an item containing several clauses is
    expanded into its clauses (sorted), each with the item's score, first occurrence kept.
    """
    lines = []
    safe_tag = encode_docid(tag) or "run"
    for qid, run in runs.items():
        rows: list[tuple[str, float]] = []
        seen: set[str] = set()
        for it in trec_order(run):
            ids = [it.id] if len(it.contains) <= 1 else [docid(*p) for p in sorted(it.contains)]
            for d in ids:
                if d not in seen:
                    seen.add(d)
                    rows.append((d, it.score))
        rows = rows[:depth]
        for rank, (d, score) in enumerate(rows, start=1):
            lines.append(
                f"{encode_docid(qid)} Q0 {encode_docid(d)} {rank} {_fmt_score(score)} {safe_tag}"
            )
    return "\n".join(lines) + ("\n" if lines else "")


def write_qrels(path: Path, qrels: Mapping[str, Iterable[Pair]]) -> None:
    path.write_text(format_qrels(qrels), encoding="utf-8")


def write_run(
    path: Path, runs: Mapping[str, Sequence[RankedItem]], tag: str, depth: int = RUN_DEPTH
) -> None:
    path.write_text(format_run(runs, tag, depth), encoding="utf-8")


def read_qrels(text: str) -> dict[str, set[Pair]]:
    """Parse qrels text back into ``{qid: {(doc, clause)}}`` (relevance > 0 only)."""
    out: dict[str, set[Pair]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        qid, _, d, rel = parts
        bucket = out.setdefault(decode_docid(qid), set())
        if float(rel) > 0:
            bucket.add(split_docid(decode_docid(d)))
    return out


def read_run(text: str) -> dict[str, list[RankedItem]]:
    """Parse run text into ``{qid: [RankedItem]}`` in trec order (rank column ignored)."""
    out: dict[str, list[RankedItem]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 6:
            continue
        qid, _, d, _rank, score, _tag = parts
        doc, clause = split_docid(decode_docid(d))
        out.setdefault(decode_docid(qid), []).append(RankedItem.clause(doc, clause, float(score)))
    return {q: trec_order(items) for q, items in out.items()}


def summary(values: Mapping[str, Any]) -> str:
    """One line ``key=value`` for logs."""
    return " ".join(
        f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items()
    )
