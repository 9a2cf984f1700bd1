"""Fusion and static priors: pure functions over candidate records.

Retrieval gathers :class:`Candidate` s from BM25 and dense search, then these functions turn
them into one ranking: each retriever's evidence fused into one score (:func:`fuse_weighted`
or :func:`fuse_rrf`), document-level evidence and static priors applied
(:func:`apply_priors`), and the clauses a query names spliced in front
(:func:`splice_exact`). Nothing here reads the index; each returns new records.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .config import Settings
from .records import DocMeta, Evidence
from .versions import Version

# Static prior by legal force (法律位阶) and standard level: between two equally good
# matches the higher authority is the one a user means first. Scaled by
# settings.authority_weight (0 turns it off); a level not listed counts 0.5.
AUTHORITY = {
    "宪法": 1.0, "法律": 1.0, "司法解释": 0.7, "行政法规": 0.6, "部门规章": 0.3,
    "地方性法规": 0.2, "national": 1.0, "industry": 0.6, "local": 0.4, "group": 0.3,
    "enterprise": 0.2,
}
NAMED_DOC_BOOST = 1.5  # a document the query names (by standard number or law title)
SUPERSEDED_FACTOR = 0.7  # old versions stay findable, below the current one


@dataclass
class Candidate:
    """A chunk some retriever returned, with its evidence and current score. ``doc`` and
    ``clause`` come from the chunk store; ``doc`` is None for a chunk no longer stored."""

    id: str
    evidence: Evidence = field(default_factory=Evidence)
    score: float = 0.0
    doc: str | None = None
    clause: str = ""


@dataclass
class Priors:
    """Static priors: each document's authority, documents other documents cite, and
    clauses other clauses cite (in-links scaled to [0, 1] on a log scale)."""

    authority: dict[str, float] = field(default_factory=dict)
    centrality: dict[str, float] = field(default_factory=dict)
    citation: dict[tuple[str, str], float] = field(default_factory=dict)


def collect(bm25: Sequence[tuple[str, float]], dense: Sequence[tuple[str, float]]
            ) -> list[Candidate]:
    """One candidate per chunk id, with each retriever's rank (1-based) and score."""
    cands: dict[str, Candidate] = {}
    for rank, (cid, score) in enumerate(bm25, 1):
        ev = cands.setdefault(cid, Candidate(cid)).evidence
        ev.bm25_rank, ev.bm25_score = rank, score
    for rank, (cid, sim) in enumerate(dense, 1):
        ev = cands.setdefault(cid, Candidate(cid)).evidence
        ev.dense_rank, ev.dense_sim = rank, sim
    return list(cands.values())


def fuse(cands: Sequence[Candidate], settings: Settings) -> list[Candidate]:
    """The fusion ``settings.fusion`` names, with its weights."""
    if settings.fusion == "rrf":
        return fuse_rrf(cands, settings.bm25_weight, settings.dense_weight, settings.rrf_k)
    return fuse_weighted(cands, settings.bm25_weight, settings.dense_weight)


def fuse_weighted(cands: Sequence[Candidate], bm25_weight: float, dense_weight: float
                  ) -> list[Candidate]:
    """Each retriever's score scaled to [0, 1] over the candidates, then weighted and summed.

    A single retriever ranks by its own normalised score too: on reciprocal ranks, which
    differ by a few percent over the top ten, the static priors would decide."""
    bmax = max((c.evidence.bm25_score or 0.0 for c in cands), default=0.0) or 1.0
    sims = [c.evidence.dense_sim for c in cands if c.evidence.dense_sim is not None]
    lo, hi = (min(sims), max(sims)) if sims else (0.0, 1.0)
    span = (hi - lo) or 1.0
    out = []
    for c in cands:
        b = (c.evidence.bm25_score or 0.0) / bmax
        sim = c.evidence.dense_sim
        d = (sim - lo) / span if sim is not None else 0.0
        out.append(replace(c, score=bm25_weight * b + dense_weight * d))
    return out


def fuse_rrf(cands: Sequence[Candidate], bm25_weight: float, dense_weight: float, k: int
             ) -> list[Candidate]:
    """Weighted reciprocal rank fusion: the sum of ``weight / (k + rank)``."""
    return [replace(c, score=sum(w / (k + rank)
                                 for rank, w in ((c.evidence.bm25_rank, bm25_weight),
                                                 (c.evidence.dense_rank, dense_weight))
                                 if rank is not None))
            for c in cands]


def build_priors(metas: Iterable[DocMeta], doc_in: Mapping[str, int],
                 clause_in: Mapping[tuple[str, str], int]) -> Priors:
    """Priors from the documents' levels and the cross-reference counts
    (see :mod:`assistant.references`)."""

    def scaled(counts: Mapping[Any, int]) -> dict[Any, float]:
        top = max(counts.values(), default=0)
        if top <= 0:
            return {}
        return {k: math.log1p(n) / math.log1p(top) for k, n in counts.items()}

    return Priors({m.doc: AUTHORITY.get(m.category, 0.5) for m in metas},
                  scaled(doc_in), scaled(clause_in))


def doc_evidence(cands: Sequence[Candidate], weight: float) -> dict[str, float]:
    """Document-level evidence: the sum of a document's three best chunk scores, scaled
    so the best document adds ``weight`` × the best chunk score. A law whose several
    articles match is more likely the one the question is about."""
    if not weight:
        return {}
    per_doc: dict[str, list[float]] = {}
    for c in cands:
        if c.doc is not None:
            per_doc.setdefault(c.doc, []).append(c.score)
    if not per_doc:
        return {}
    agg = {d: sum(sorted(v, reverse=True)[:3]) for d, v in per_doc.items()}
    top_doc = max(agg.values()) or 1.0
    top_chunk = max(max(v) for v in per_doc.values())
    return {d: weight * a / top_doc * top_chunk for d, a in agg.items()}


def apply_priors(cands: Sequence[Candidate], priors: Priors, settings: Settings,
                 named: set[str], versions: Mapping[str, Version]) -> list[Candidate]:
    """Fused scores with document evidence, the boost of documents the query ``named``,
    the static priors and the superseded-version penalty; best first, ties by chunk id.
    Candidates no longer stored are left out."""
    bonus = doc_evidence(cands, settings.doc_weight)
    out = []
    for c in cands:
        doc = c.doc
        if doc is None:
            continue
        score = c.score + bonus.get(doc, 0.0)
        if named and doc in named:
            score *= NAMED_DOC_BOOST
        score *= (1.0 + settings.authority_weight * priors.authority.get(doc, 0.5)
                  + settings.centrality_weight * priors.centrality.get(doc, 0.0))
        score *= 1.0 + settings.citation_weight * priors.citation.get((doc, c.clause), 0.0)
        v = versions.get(doc)
        if v is not None and not v.current:
            score *= SUPERSEDED_FACTOR
        out.append(replace(c, score=score))
    out.sort(key=lambda c: (-c.score, c.id))
    return out


def splice_exact(ranked: Sequence[Candidate], exact_ids: Sequence[str]) -> list[Candidate]:
    """The chunks of the clause the query names first, in their order, above every other
    candidate; each keeps the evidence it had in ``ranked``."""
    if not exact_ids:
        return list(ranked)
    top = max((c.score for c in ranked), default=1.0)
    by_id = {c.id: c for c in ranked}
    first = []
    for i, cid in enumerate(exact_ids):
        ev = Evidence(exact=True)
        old = by_id.get(cid)
        if old is not None:
            ev.merge(old.evidence)
        first.append(Candidate(cid, ev, top + 1.0 + (len(exact_ids) - i) * 1e-6,
                               old.doc if old else None, old.clause if old else ""))
    seen = set(exact_ids)
    return first + [c for c in ranked if c.id not in seen]
