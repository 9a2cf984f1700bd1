"""Hybrid retrieval: exact clause lookup + BM25 (jieba) + dense (Chroma), fused; static
priors (legal force, in-links), filters, versions and an optional cross-encoder reranker."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .chunk import passage_text
from .config import Settings
from .errors import ConfigError, RerankerError
from .identifiers import law_key
from .index import Index
from .records import WITHDRAWN, Chunk, DocMeta, Evidence, Filters, Hit
from .rerank import Reranker, get_reranker

Mode = Literal["hybrid", "bm25", "dense"]
# Static prior by legal force (法律位阶) and standard level: between two equally good
# matches the higher authority is the one a user means first. Scaled by
# settings.authority_weight (0 turns it off).
AUTHORITY = {
    "宪法": 1.0, "法律": 1.0, "司法解释": 0.7, "行政法规": 0.6, "部门规章": 0.3,
    "地方性法规": 0.2, "national": 1.0, "industry": 0.6, "local": 0.4, "group": 0.3,
    "enterprise": 0.2,
}
_PATH_DATE = re.compile(r"\((\d{4}-\d{2}-\d{2})\)\.\w+$")
# (authority by doc, centrality by doc, citation by (doc, clause)), see Retriever._priors
_Priors = tuple[dict[str, float], dict[str, float], dict[tuple[str, str], float]]


@dataclass
class Version:
    family: str
    current: bool
    replaced_by: str = ""


@dataclass
class _Cand:
    id: str
    evidence: Evidence = field(default_factory=Evidence)
    score: float = 0.0


def version_date(m: DocMeta) -> str:
    """The date that orders versions: a file name's "(2023-07-20)" suffix (how law
    collections name amended versions), else the standard's year or the dates of the text."""
    found = _PATH_DATE.search(m.doc)
    if found:
        return found.group(1)
    if m.std_no:
        from .identifiers import std_year

        year = std_year(m.std_no)
        if year:
            return f"{year}"
    return m.effective or m.issued


class Retriever:
    def __init__(self, index: Index, settings: Settings, embedder: Any = None,
                 reranker: Reranker | None = None) -> None:
        self.index = index
        self.settings = settings
        self._embedder = embedder
        self._reranker = reranker
        self._versions: dict[str, Version] | None = None
        self._versions_gen = -1
        self._priors_cache: _Priors | None = None
        self._priors_gen = -1

    # ----------------------------------------------------------------- helpers
    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from .embed import get_embedder

            self._embedder = get_embedder(self.settings)
        return self._embedder

    @property
    def reranker(self) -> Reranker | None:
        """The injected reranker, else the one ``settings.reranker`` names (or None)."""
        return self._reranker if self._reranker is not None else get_reranker(self.settings)

    def versions(self) -> dict[str, Version]:
        """doc → its version family, whether it is current, and its replacement."""
        gen = self.index.generation()
        if self._versions is not None and self._versions_gen == gen:
            return self._versions
        from .identifiers import std_base

        fams: dict[str, list[Any]] = {}
        for doc, info in self.index.documents().items():
            m = info.meta
            if m.std_no:
                fam = "std:" + (std_base(m.std_no) or m.std_no)
            elif m.kind == "law" and m.title:
                fam = "law:" + law_key(m.title)
            else:
                fam = "doc:" + doc
            fams.setdefault(fam, []).append(m)
        out: dict[str, Version] = {}
        for fam, metas in fams.items():
            # Files sharing a title are versions only when dates or statuses tell them apart
            # (the eight parts of 民法典 share one title and are all in force).
            live = [m for m in metas if m.status not in WITHDRAWN]
            newest = max(live or metas, key=lambda m: (version_date(m), m.doc))
            name = newest.std_no or (f"{newest.title}（{newest.issued}）" if newest.issued
                                     else newest.title)
            for m in metas:
                if m.status in WITHDRAWN:
                    repl = m.replaced_by or (name if newest is not m and newest in live else "")
                    out[m.doc] = Version(fam, False, repl)
                elif m is not newest and version_date(m) and version_date(newest) > version_date(m):
                    out[m.doc] = Version(fam, False, m.replaced_by or name)
                else:
                    out[m.doc] = Version(fam, True, "")
        self._versions, self._versions_gen = out, gen
        return out

    def _allowed_docs(self, filters: Filters) -> set[str] | None:
        if filters.empty():
            return None
        versions = self.versions()
        allowed = set()
        for doc, info in self.index.documents().items():
            m = info.meta
            if filters.kinds and m.kind not in filters.kinds:
                continue
            if filters.categories and m.category not in filters.categories:
                continue
            if filters.statuses and m.status not in filters.statuses:
                continue
            if filters.docs and doc not in filters.docs:
                continue
            if filters.current_only and not versions.get(doc, Version("", True)).current:
                continue
            allowed.add(doc)
        return allowed

    def named_docs(self, std_no: str, law: str) -> list[str]:
        """Documents a query names by standard number or law title, current versions first."""
        from .identifiers import normalize_std_no, std_base

        docs = self.index.documents()
        hits: list[str] = []
        if std_no:
            norm = normalize_std_no(std_no) or std_no
            base = std_base(norm) or norm
            exact = [d for d, i in docs.items() if i.meta.std_no == norm]
            hits = exact or [d for d, i in docs.items()
                             if i.meta.std_no and std_base(i.meta.std_no) == base]
        elif law:
            key = law_key(law)
            hits = [d for d, i in docs.items() if i.meta.title and law_key(i.meta.title) == key]
            if not hits:
                hits = [d for d, i in docs.items()
                        if i.meta.title and key and law_key(i.meta.title).endswith(key)]
        versions = self.versions()
        return sorted(hits, key=lambda d: (not versions.get(d, Version("", True)).current, d))

    def clause_chunks(self, doc: str, clause: str) -> list[Chunk]:
        """The chunks of one clause; for a heading-only clause (merged into its children
        by the chunker) or an annex, the chunks of its sub-clauses."""
        exact = self.index.find_clause(clause, [doc])
        if exact:
            return exact
        prefix = clause[2:] + "." if clause.startswith("附录") else clause + "."
        return [c for c in self.index.chunks_of(doc) if c.clause.startswith(prefix)]

    # ----------------------------------------------------------------- search
    def search(self, query: str, k: int | None = None, filters: Filters | None = None,
               mode: Mode = "hybrid") -> list[Hit]:
        from .identifiers import parse_reference

        k = self.settings.top_k if k is None else k
        if k <= 0:
            raise ConfigError(f"top_k must be greater than 0. Currently, top_k is {k}")
        if mode not in ("hybrid", "bm25", "dense"):
            raise ConfigError(f"mode must be hybrid, bm25 or dense. Currently, mode is {mode!r}")
        filters = filters or Filters()
        query = query.strip()
        if not query:
            return []
        allowed = self._allowed_docs(filters)

        # A query that names a standard is restricted to it; a named clause comes first.
        ref = parse_reference(query)
        exact_ids: list[str] = []
        boost_docs: set[str] = set()
        if ref is not None and (ref.std_no or ref.law):
            named = self.named_docs(ref.std_no, ref.law)
            if allowed is not None:
                named = [d for d in named if d in allowed]
            if named and ref.std_no:
                allowed = set(named)
            boost_docs = set(named)
            if ref.clause and named:
                for doc in named:
                    exact = self.clause_chunks(doc, ref.clause)
                    if exact:
                        exact_ids = [c.id for c in exact]
                        break  # current version first (named_docs is ordered)

        n_cand = max(self.settings.candidates, k)
        cands: dict[str, _Cand] = {}
        if mode in ("hybrid", "bm25"):
            for rank, (cid, score) in enumerate(self._bm25(query, n_cand, allowed), 1):
                c = cands.setdefault(cid, _Cand(cid))
                c.evidence.bm25_rank, c.evidence.bm25_score = rank, score
        if mode in ("hybrid", "dense"):
            for rank, (cid, sim) in enumerate(self._dense(query, n_cand, allowed, filters), 1):
                c = cands.setdefault(cid, _Cand(cid))
                c.evidence.dense_rank, c.evidence.dense_sim = rank, sim
        self._fuse(list(cands.values()), mode)

        # Ranking needs only each candidate's document and clause; whole chunks (JSON
        # decoding) are read for the hits returned, not for the ~1,000 candidates.
        keys = self.index.chunk_keys(cands)
        versions = self.versions()
        doc_bonus = self._doc_scores(cands.values(), keys)
        authority, central, cited = self._priors()
        ranked: list[_Cand] = []
        for c in cands.values():
            key = keys.get(c.id)
            if key is None:
                continue
            doc = key[0]
            c.score += doc_bonus.get(doc, 0.0)
            if boost_docs and doc in boost_docs:
                c.score *= 1.5
            c.score *= (1.0 + self.settings.authority_weight * authority.get(doc, 0.5)
                        + self.settings.centrality_weight * central.get(doc, 0.0))
            c.score *= 1.0 + self.settings.citation_weight * cited.get(key, 0.0)
            v = versions.get(doc)
            if v is not None and not v.current:
                c.score *= 0.7  # old versions stay findable, below the current one
            ranked.append(c)
        ranked.sort(key=lambda c: (-c.score, c.id))
        reranker = self.reranker if mode == "hybrid" else None
        if reranker is not None:
            ranked = self._rerank(reranker, query, ranked, keys, versions)

        top = max((c.score for c in ranked), default=1.0)
        exact = [_Cand(cid, Evidence(exact=True), top + 1.0 + (len(exact_ids) - i) * 1e-6)
                 for i, cid in enumerate(exact_ids)]
        seen = set(exact_ids)
        final = exact + [c for c in ranked if c.id not in seen]
        chunks = self.index.get_chunks([c.id for c in final[: k + 5]])
        hits: list[Hit] = []
        for c in final:
            if len(hits) == k:
                break
            ch = chunks.get(c.id) or self.index.get_chunks([c.id]).get(c.id)
            if ch is None:  # removed by a concurrent ingest since it was ranked
                continue
            old = c.evidence.exact and cands.get(c.id)
            if old:
                c.evidence.merge(old.evidence)
            v = versions.get(ch.doc)
            hits.append(Hit(ch, c.score, len(hits) + 1, c.evidence,
                            superseded=bool(v and not v.current),
                            replaced_by=v.replaced_by if v else ""))
        return hits

    def _priors(self) -> _Priors:
        """Static priors: each document's authority (legal force, standard level), and
        in-links scaled to [0, 1] on a log scale: documents other documents cite, and
        clauses other clauses cite (see :mod:`assistant.references`)."""
        gen = self.index.generation()
        if self._priors_cache is not None and self._priors_gen == gen:
            return self._priors_cache
        refs = self.index.references()
        authority = {d: AUTHORITY.get(i.meta.category, 0.5)
                     for d, i in self.index.documents().items()}

        def scaled(counts: dict[Any, int]) -> dict[Any, float]:
            top = max(counts.values(), default=0)
            if top <= 0:
                return {}
            return {k: math.log1p(n) / math.log1p(top) for k, n in counts.items()}

        self._priors_cache = (authority, scaled(refs.doc_in), scaled(refs.clause_in))
        self._priors_gen = gen
        return self._priors_cache

    def _doc_scores(self, cands: Any, keys: dict[str, tuple[str, str]]) -> dict[str, float]:
        """Document-level evidence: the sum of a document's three best chunk scores, scaled
        so the best document adds ``doc_weight`` × the best chunk score. A law whose several
        articles match is more likely the one the question is about."""
        w = self.settings.doc_weight
        if not w:
            return {}
        per_doc: dict[str, list[float]] = {}
        for c in cands:
            key = keys.get(c.id)
            if key is not None:
                per_doc.setdefault(key[0], []).append(c.score)
        if not per_doc:
            return {}
        agg = {d: sum(sorted(v, reverse=True)[:3]) for d, v in per_doc.items()}
        top_doc = max(agg.values()) or 1.0
        top_chunk = max(max(v) for v in per_doc.values())
        return {d: w * a / top_doc * top_chunk for d, a in agg.items()}

    def _bm25(self, query: str, n: int, allowed: set[str] | None) -> list[tuple[str, float]]:
        from .tokenize import tokenize

        ids, scores = self.index.keyword_scores(tokenize(query))
        if not ids:
            return []
        if allowed is not None:
            mask = self._doc_mask(ids, allowed)
            scores = np.where(mask, scores, 0.0)
        n = min(n, len(ids))
        top = np.argpartition(-scores, n - 1)[:n]
        # ties broken by chunk id so that runs are reproducible
        order = sorted(top, key=lambda i: (-float(scores[i]), ids[i]))
        return [(ids[i], float(scores[i])) for i in order if scores[i] > 0]

    def _doc_mask(self, ids: list[str], allowed: set[str]) -> np.ndarray:
        return np.fromiter((cid.split("#", 1)[0] in allowed for cid in ids), bool, len(ids))

    def _dense(self, query: str, n: int, allowed: set[str] | None,
               filters: Filters) -> list[tuple[str, float]]:
        if not self.index.has_vectors():
            return []  # nothing embedded yet: keyword search still works
        vec = self.embedder.embed_query(query)
        where: dict[str, Any] | None = None
        if allowed is not None and len(allowed) <= 200:
            where = {"doc": {"$in": sorted(allowed)}} if len(allowed) > 1 else (
                {"doc": next(iter(allowed))} if allowed else None)
            if not allowed:
                return []
        res = self.index.dense_search(vec, n if where or allowed is None else n * 4, where)
        if allowed is not None:
            res = [(cid, s) for cid, s in res if cid.split("#", 1)[0] in allowed]
        return res[:n]

    def _fuse(self, cands: list[_Cand], mode: Mode) -> None:
        s = self.settings
        # A single retriever ranks by its own normalised score too: on reciprocal ranks,
        # which differ by a few percent over the top ten, the static priors would decide.
        if self.settings.fusion == "rrf":
            for c in cands:
                c.score = sum(w / (s.rrf_k + rank)
                              for rank, w in ((c.evidence.bm25_rank, s.bm25_weight),
                                              (c.evidence.dense_rank, s.dense_weight))
                              if rank is not None)
            return
        # weighted: each retriever's score scaled to [0, 1] over its candidates
        bmax = max((c.evidence.bm25_score or 0.0 for c in cands), default=0.0) or 1.0
        sims = [c.evidence.dense_sim for c in cands if c.evidence.dense_sim is not None]
        lo, hi = (min(sims), max(sims)) if sims else (0.0, 1.0)
        span = (hi - lo) or 1.0
        for c in cands:
            b = (c.evidence.bm25_score or 0.0) / bmax
            sim = c.evidence.dense_sim
            d = (sim - lo) / span if sim is not None else 0.0
            c.score = s.bm25_weight * b + s.dense_weight * d

    def _rerank(self, reranker: Reranker, query: str, ranked: list[_Cand],
                keys: dict[str, tuple[str, str]], versions: dict[str, Version]) -> list[_Cand]:
        """Re-score the first ``rerank_depth`` candidates with the cross-encoder, on the same
        text the embedder saw (document name and heading path give the clause its context).

        A superseded version's clause reads like its current one's and scores alike, so
        within the head current versions come first, as in the fused ranking. The head
        keeps scores above the tail's; each hit's ``evidence.rerank`` has the model's."""
        depth = self.settings.rerank_depth
        if depth <= 0:
            raise ConfigError("rerank_depth must be greater than 0. "
                              f"Currently, rerank_depth is {depth}")
        chunks = self.index.get_chunks([c.id for c in ranked[:depth]])
        head = [c for c in ranked[:depth] if c.id in chunks]
        tail = ranked[depth:]
        scores = reranker.score(query, [passage_text(chunks[c.id]) for c in head])
        if len(scores) != len(head):
            raise RerankerError(f"reranker {reranker.id!r} returned {len(scores)} scores "
                                f"for {len(head)} passages")
        for c, sc in zip(head, scores, strict=True):
            c.evidence.rerank = float(sc)

        def superseded(c: _Cand) -> bool:
            v = versions.get(keys[c.id][0])
            return v is not None and not v.current

        head.sort(key=lambda c: (superseded(c), -(c.evidence.rerank or 0.0), c.id))
        base = max((c.score for c in tail), default=0.0)
        for i, c in enumerate(head):
            c.score = base + len(head) - i
        return head + tail
