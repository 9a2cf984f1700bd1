"""Hybrid retrieval: exact clause lookup + BM25 (jieba) + dense (Chroma), fused; static
priors (legal force, in-links), filters, versions and an optional cross-encoder reranker.

:meth:`Retriever.search` runs named steps: scope (filters, the document or clause a query
names) → candidates (BM25, dense) → fuse → priors → rerank → exact splice → load. Fusion
and priors are pure functions (:mod:`assistant.fusion`); storage stays behind
:class:`~assistant.index.Index`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from . import docrefs
from .chunk import passage_text
from .config import Settings
from .errors import ConfigError
from .fusion import Candidate, Priors, apply_priors, build_priors, collect, fuse, splice_exact
from .identifiers import law_key, normalize_std_no, parse_reference, std_base
from .index import DocInfo, Index
from .learned_scorer import LearnedScorer, QueryTerms, cjk_bigrams, resolve_scorer
from .records import Chunk, Filters, Hit
from .rerank import Reranker, get_reranker, rerank_head
from .versions import CURRENT, Version, version_families

Mode = Literal["hybrid", "bm25", "dense"]
MODES: tuple[Mode, ...] = ("hybrid", "bm25", "dense")


@dataclass
class Scope:
    """Where a query searches: the documents allowed (None: all), the documents it names
    (boosted), the chunks of the clause it names (put first), and the words BM25 searches
    them for: without a loose name of the document, which only the clauses repeating its
    title would match (dense search sees the whole query: every passage carries the title)."""

    allowed: set[str] | None = None
    named: set[str] = field(default_factory=set)
    exact_ids: list[str] = field(default_factory=list)
    keywords: str = ""  # the words BM25 searches them for, when not the whole query


def allowed_docs(docs: Mapping[str, DocInfo], versions: Mapping[str, Version],
                 filters: Filters) -> set[str] | None:
    """The documents ``filters`` lets through (None when it restricts nothing)."""
    if filters.empty():
        return None
    allowed = set()
    for doc, info in docs.items():
        m = info.meta
        if filters.kinds and m.kind not in filters.kinds:
            continue
        if filters.categories and m.category not in filters.categories:
            continue
        if filters.statuses and m.status not in filters.statuses:
            continue
        if filters.docs and doc not in filters.docs:
            continue
        if filters.current_only and not versions.get(doc, CURRENT).current:
            continue
        allowed.add(doc)
    return allowed


class Retriever:
    """Search over one index; the embedder and the reranker load on first use."""

    def __init__(self, index: Index, settings: Settings, embedder: Any = None,
                 reranker: Reranker | None = None) -> None:
        self.index = index
        self.settings = settings
        self._embedder = embedder
        self._reranker = reranker
        self._versions: dict[str, Version] | None = None
        self._versions_gen = -1
        self._priors_cache: Priors | None = None
        self._priors_gen = -1
        self._catalog: docrefs.Catalog | None = None
        self._catalog_gen = -1

    # ----------------------------------------------------------------- helpers
    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from .embed import get_embedder

            self._embedder = get_embedder(self.settings)
        return self._embedder

    @property
    def scorer(self) -> LearnedScorer | None:
        """The learned scorer ``settings.scorer`` names (None: off), for this embedder."""
        name = self.settings.scorer
        if not name or name == "none":
            return None
        # the index's embedder: its vectors gave the dense features (and no model loads)
        emb = self.index.manifest.get("embedder", {}).get("id") or self.embedder.id
        return resolve_scorer(name, emb)

    @property
    def reranker(self) -> Reranker | None:
        """The injected reranker, else the one ``settings.reranker`` names (or None)."""
        return self._reranker if self._reranker is not None else get_reranker(self.settings)

    def versions(self) -> dict[str, Version]:
        """doc → its version family, whether it is current, and its replacement (computed
        once per index generation)."""
        gen = self.index.generation()
        if self._versions is None or self._versions_gen != gen:
            metas = [i.meta for i in self.index.documents().values()]
            self._versions, self._versions_gen = version_families(metas), gen
        return self._versions

    def priors(self) -> Priors:
        """Static priors (see :func:`assistant.fusion.build_priors`), once per generation."""
        gen = self.index.generation()
        if self._priors_cache is None or self._priors_gen != gen:
            refs = self.index.references()
            metas = [i.meta for i in self.index.documents().values()]
            self._priors_cache = build_priors(metas, refs.doc_in, refs.clause_in)
            self._priors_gen = gen
        return self._priors_cache

    def named_docs(self, std_no: str, law: str) -> list[str]:
        """Documents a query names by standard number or law title, current versions first."""
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
        return sorted(hits, key=lambda d: (not versions.get(d, CURRENT).current, d))

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
        """The ``k`` best hits for ``query`` within ``filters``; ``mode`` picks retrievers."""
        k = self.settings.top_k if k is None else k
        if k <= 0:
            raise ConfigError(f"top_k must be greater than 0. Currently, top_k is {k}")
        if mode not in MODES:
            raise ConfigError(f"mode must be hybrid, bm25 or dense. Currently, mode is {mode!r}")
        query = query.strip()
        if not query:
            return []
        ranked, scope = self.fused(query, filters or Filters(), mode, k)
        versions = self.versions()
        scorer = self.scorer if mode == "hybrid" else None
        if scorer is not None:
            ranked = self.learned(scorer, query, ranked, scope)
        reranker = self.reranker if mode == "hybrid" else None
        if reranker is not None:
            ranked = self.rerank(reranker, query, ranked, versions)
        return self.load(splice_exact(ranked, scope.exact_ids), k, versions)

    def fused(self, query: str, filters: Filters, mode: Mode, k: int
              ) -> tuple[list[Candidate], Scope]:
        """Scope, candidates, fusion and priors: the ranking before any learned or
        cross-encoder step (also what :mod:`assistant.train_scorer` learns from)."""
        scope = self.scope(query, filters)
        cands = self.candidates(query, mode, max(self.settings.candidates, k), scope.allowed,
                                scope.keywords)
        ranked = apply_priors(fuse(cands, self.settings), self.priors(), self.settings,
                              scope.named, self.versions())
        return ranked, scope

    def query_terms(self, query: str, scope: Scope) -> QueryTerms:
        """The words BM25 searched for, with their idf, and the query's bigrams."""
        from .tokenize import tokenize

        return QueryTerms(self.index.keyword_idf(tokenize(scope.keywords or query)),
                          cjk_bigrams(query))

    def learned(self, scorer: LearnedScorer, query: str, ranked: list[Candidate],
                scope: Scope) -> list[Candidate]:
        """The learned scorer over the head of the fused ranking."""
        chunks = self.index.get_chunks([c.id for c in ranked[: scorer.head]])
        return scorer.rescore(ranked, chunks, self.query_terms(query, scope), self.priors(),
                              self.versions(), scope.named)

    def scope(self, query: str, filters: Filters) -> Scope:
        """The filters' documents; a query that names a standard by number, or a document
        loosely (:mod:`assistant.docrefs`: "方案", "两江的实施方案", "本办法"; with a law,
        its implementing regulations), is restricted to it, and the clause it names (in the
        current version first) is looked up."""
        scope = Scope(allowed_docs(self.index.documents(), self.versions(), filters))
        ref = parse_reference(query)
        named = self.named_docs(ref.std_no, ref.law) if ref and (ref.std_no or ref.law) else []
        loose, scope.keywords = ([], "") if named else self.loose_docs(query)
        named = named or loose
        if scope.allowed is not None:
            named = [d for d in named if d in scope.allowed]
        if named and ((ref and ref.std_no) or loose):
            extra = self.loose_companions(named) if loose else []
            scope.allowed = set(named) | {d for d in extra
                                          if scope.allowed is None or d in scope.allowed}
        elif loose:
            scope.keywords = ""  # the document named is not among those the filters allow
        scope.named = set(named)
        for doc in named if ref and ref.clause else []:
            exact = self.clause_chunks(doc, ref.clause)
            if exact:
                scope.exact_ids = [c.id for c in exact]
                break  # named_docs puts the current version first
        return scope

    def loose_docs(self, query: str) -> tuple[list[str], str]:
        """Documents the query names by title or kind word, current versions first, and the
        query without those words (``docrefs.resolve``); nothing when they are every
        indexed document (nothing to scope)."""
        gen = self.index.generation()
        if self._catalog is None or self._catalog_gen != gen:
            self._catalog = docrefs.catalog(i.meta for i in self.index.documents().values())
            self._catalog_gen = gen
        found, rest = docrefs.resolve(query, self._catalog)
        if not found or len(set(found)) >= len(self._catalog):
            return [], ""
        versions = self.versions()
        return sorted(found, key=lambda d: (not versions.get(d, CURRENT).current, d)), rest

    def loose_companions(self, named: Sequence[str]) -> list[str]:
        """The implementing regulations of a law named loosely (searched, not boosted)."""
        return docrefs.companions(named, self._catalog) if self._catalog is not None else []

    def candidates(self, query: str, mode: Mode, n: int, allowed: set[str] | None,
                   keywords: str = "") -> list[Candidate]:
        """Up to ``n`` candidates from each retriever the mode uses (BM25 on ``keywords``
        when given), located in the store (document and clause: ranking needs no more,
        whole chunks are read for the hits)."""
        from .tokenize import tokenize

        bm25 = (self.index.keyword_search(tokenize(keywords or query), n, allowed)
                if mode in ("hybrid", "bm25") else [])
        dense = self._dense(query, n, allowed) if mode in ("hybrid", "dense") else []
        cands = collect(bm25, dense)
        keys = self.index.chunk_keys(c.id for c in cands)
        for c in cands:
            if c.id in keys:
                c.doc, c.clause = keys[c.id]
        return cands

    def _dense(self, query: str, n: int, allowed: set[str] | None) -> list[tuple[str, float]]:
        if (allowed is not None and not allowed) or not self.index.has_vectors():
            return []  # nothing to search, or nothing embedded yet (keyword search works)
        pair = getattr(self.embedder, "embed_query_pair", None)  # a query adapter's
        if pair is None:
            return self.index.dense_search(self.embedder.embed_query(query), n, allowed)
        plain, adapted = pair(query)
        hits = self.index.dense_search(adapted, n, allowed)
        best = self.index.dense_search(plain, 1, allowed)
        # Rank by the adapted query, at the plain query's cosine level: the answer gate's
        # band is calibrated on plain cosines, and fusion is blind to a common shift.
        shift = best[0][1] - hits[0][1] if hits and best else 0.0
        return [(cid, sim + shift) for cid, sim in hits]

    def rerank(self, reranker: Reranker, query: str, ranked: list[Candidate],
               versions: Mapping[str, Version]) -> list[Candidate]:
        """The cross-encoder over the first ``rerank_depth`` candidates, on the text the
        embedder saw (see :func:`assistant.rerank.rerank_head`)."""
        depth = self.settings.rerank_depth
        if depth <= 0:
            raise ConfigError("rerank_depth must be greater than 0. "
                              f"Currently, rerank_depth is {depth}")
        chunks = self.index.get_chunks([c.id for c in ranked[:depth]])
        passages = {cid: passage_text(ch) for cid, ch in chunks.items()}

        def superseded(c: Candidate) -> bool:
            return not versions.get(c.doc or "", CURRENT).current

        return rerank_head(reranker, query, ranked, passages, depth, superseded)

    def load(self, final: Sequence[Candidate], k: int, versions: Mapping[str, Version]
             ) -> list[Hit]:
        """The first ``k`` candidates as hits, with their chunks and version marks."""
        chunks = self.index.get_chunks([c.id for c in final[: k + 5]])
        hits: list[Hit] = []
        for c in final:
            if len(hits) == k:
                break
            ch = chunks.get(c.id) or self.index.get_chunks([c.id]).get(c.id)
            if ch is None:  # removed by a concurrent ingest since it was ranked
                continue
            v = versions.get(ch.doc)
            hits.append(Hit(ch, c.score, len(hits) + 1, c.evidence,
                            superseded=bool(v and not v.current),
                            replaced_by=v.replaced_by if v else ""))
        return hits
