"""Related provisions: for each technical requirement clause of the draft, the nearest clauses
of the indexed standards and laws (what a reviewer reads for conflicts). A separate section of
the report, not findings."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .draft import REFS, SCOPE, TERMS, Draft
from .language import is_requirement
from .records import RelatedHit, RelatedProvision

HITS_PER_CLAUSE = 3
_QUERY_CHARS = 160
CANDIDATES = 40  # per retriever, before fusion (Settings.candidates is 500 for answers)
# Up to this many clauses the search is hybrid; beyond it keyword-only: embedding hundreds of
# queries costs about half a second each on the default embedder's query engine (more than
# the whole check of a 50-page draft), while BM25 answers in milliseconds.
DENSE_LIMIT = 40
MODES = ("auto", "hybrid", "bm25")
_NOT_PROVISIONS = frozenset({"前言", "引言", "目次", "参考文献", "索引"})


def technical_clauses(draft: Draft) -> list[tuple[str, str]]:
    """(label, query text) of each clause that states requirements, outside the fixed elements
    and informative annexes; the query is its heading and first requirement sentences."""
    fixed = {c.label for c in (draft.chapter(SCOPE), draft.chapter(REFS), draft.chapter(TERMS)) if c}
    out: list[tuple[str, str]] = []
    for c in draft.clauses:
        top = c.label.split(".")[0]
        if (not re.fullmatch(r"\d{1,2}(?:\.\d{1,3})*|[A-Z](?:\.\d{1,3})+", c.label)
                or top in fixed or draft.in_informative_annex(c.label)):
            continue
        reqs = [p.text for p in draft.paras_of(c.label)
                if p.role in ("body", "list", "table") and is_requirement(p.text)]
        if reqs:
            query = f"{c.heading} {' '.join(reqs)}".strip()[:_QUERY_CHARS]
            out.append((c.label, query))
    return out


def search_mode(n_clauses: int, mode: str = "auto") -> str:
    """"hybrid" or "bm25" for a draft with ``n_clauses`` technical clauses."""
    if mode not in MODES:
        raise ValueError(f"related mode {mode!r}: one of {', '.join(MODES)}")
    if mode == "auto":
        return "hybrid" if n_clauses <= DENSE_LIMIT else "bm25"
    return mode


def related_provisions(draft: Draft, assistant: Any,
                       progress: Callable[[str, int, int], None] | None = None,
                       k: int = HITS_PER_CLAUSE, mode: str = "auto") -> list[RelatedProvision]:
    """Search the index once per technical clause (``mode``: see :func:`search_mode`); hits
    from the draft itself are left out."""
    todo = technical_clauses(draft)
    search = _searcher(assistant, [q for _, q in todo], search_mode(len(todo), mode))
    out: list[RelatedProvision] = []
    own = draft.meta.std_no
    for i, (label, query) in enumerate(todo, 1):
        hits = search(query, k + 2)
        rel = RelatedProvision(clause=label, snippet=query[:80])
        for h in hits:
            c = h.chunk
            if (own and c.std_no == own) or c.clause in _NOT_PROVISIONS:
                continue
            name = c.std_no or c.title or c.doc
            rel.hits.append(RelatedHit(citation=f"{name} {c.clause}".strip(), title=c.title,
                                       status=c.status, text=" ".join(c.text.split())[:240],
                                       score=round(float(h.score), 4)))
            if len(rel.hits) >= k:
                break
        out.append(rel)
        if progress:
            progress("related", i, len(todo))
    return out


def _searcher(assistant: Any, queries: list[str], mode: str) -> Callable[[str, int], list[Any]]:
    """``search(query, k)`` over the assistant's index with fewer candidates per retriever; in
    hybrid mode the queries are embedded in one batch up front. A stand-in without a
    retriever is searched as it is."""
    retriever = getattr(assistant, "retriever", None)
    if retriever is None or not queries:
        return lambda q, k: assistant.search(q, k, None, mode)
    from ..retrieve import Retriever

    emb = retriever.embedder
    if mode == "hybrid" and assistant.index.has_vectors():
        from ..tune import CachedQueries

        emb = CachedQueries(emb, queries, emb.embed_queries(queries))
    # a few hits per clause need far fewer candidates than an answer does
    settings = assistant.settings.with_overrides(candidates=CANDIDATES)
    fast = Retriever(assistant.index, settings, embedder=emb)
    return lambda q, k: fast.search(q, k, None, mode)  # type: ignore[arg-type]
