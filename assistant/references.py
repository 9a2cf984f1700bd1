"""Cross-references between indexed documents, counted into two static priors.

A law or standard that many other documents cite (《民事诉讼法》, GB/T 1.1) is central, and so
is an article that other articles cite ("依照民法典第一千一百八十二条", "违反本法第三十二条").
Retrieval multiplies both in (``settings.centrality_weight``, ``settings.citation_weight``),
as web search uses in-links: between two equally good matches, the one the rest of the
corpus relies on is more often the answer. The counts depend on the whole index, so they
are rebuilt after every ingest that changed it (a few seconds for 70,000 articles).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .identifiers import find_std_numbers, law_article_label, law_key, std_base
from .records import Chunk, DocMeta

# "《中华人民共和国民法典》第五百七十七条", "本法第十条", "民法典第一千零七十九条", "第26条".
# A bare "第X条" after a named law refers to that law ("民法典第一千一百八十二条和第一千一百八十三条"),
# otherwise to the citing document itself.
# Bump when the counting rules change: an index counted by older rules is recounted by
# its next ingest.
REFERENCES_VERSION = "2"

_ARTICLE_REF = re.compile(
    r"(《[^《》]{2,60}》|本(?:法|条例|规定|办法|解释|细则|决定|规则)|[\u4e00-\u9fa5]{1,14}?(?:法典|法))?"
    r"\s*第\s*([零〇一二三四五六七八九十百千\d]{1,8})\s*条"
)
_SELF = re.compile(r"本(?:法|条例|规定|办法|解释|细则|决定|规则)$")
_QUOTED = re.compile(r"《([^《》]{2,60})》")


@dataclass
class References:
    """How many other documents cite each document, and how often each clause is cited."""

    doc_in: dict[str, int] = field(default_factory=dict)
    clause_in: dict[tuple[str, str], int] = field(default_factory=dict)

    def empty(self) -> bool:
        return not (self.doc_in or self.clause_in)


class _Resolver:
    """Law titles and standard numbers → the documents they name."""

    def __init__(self, metas: Iterable[DocMeta], is_current: Callable[[str], bool]) -> None:
        self.by_law: dict[str, list[str]] = {}
        self.by_std: dict[str, list[str]] = {}
        for m in metas:
            if m.std_no:
                self.by_std.setdefault(std_base(m.std_no) or m.std_no, []).append(m.doc)
            elif m.title:
                self.by_law.setdefault(law_key(m.title), []).append(m.doc)
        # Articles are counted on the version in force only: a new version renumbers.
        self.current_law = {k: [d for d in v if is_current(d)] or v for k, v in self.by_law.items()}

    def law(self, name: str, current: bool) -> list[str]:
        """Documents a cited name means; "依照民法典" → 民法典 (longest known suffix)."""
        table = self.current_law if current else self.by_law
        key = law_key(name)
        for i in range(0, max(1, len(key) - 1)):
            hit = table.get(key[i:])
            if hit:
                return hit
        return []


def count_references(metas: Iterable[DocMeta], chunks: Iterable[Chunk],
                     is_current: Callable[[str], bool]) -> References:
    """Count, over ``chunks``, the documents and law articles each text cites."""
    metas = list(metas)
    own_key = {m.doc: law_key(m.title) for m in metas if m.title and not m.std_no}
    own_std = {m.doc: std_base(m.std_no) for m in metas if m.std_no}
    res = _Resolver(metas, is_current)
    citing: dict[str, set[str]] = {}
    clause_of: set[tuple[str, str]] = set()
    article_refs: list[tuple[str, str]] = []

    def cite_laws(text: str, citer: str) -> None:
        for name in _QUOTED.findall(text):
            for d in res.law(name, current=False):
                if own_key.get(d) != own_key.get(citer):
                    citing.setdefault(d, set()).add(citer)

    for m in metas:  # "最高人民法院关于适用《中华人民共和国民法典》…的解释" cites in its title
        cite_laws(m.title, m.doc)
    for c in chunks:
        clause_of.add((c.doc, c.clause))
        last: list[str] | None = None
        for ref in _ARTICLE_REF.finditer(c.text):
            name, label = ref.group(1), law_article_label(ref.group(2))
            if label is None:
                continue
            if name and not _SELF.search(name):  # a named law, not "本法" / "违反本法"
                last = targets = res.law(name.strip("《》"), current=True)
            elif name or last is None:
                targets = [c.doc]
            else:  # "…第X条和第Y条": the law named before
                targets = last
            article_refs.extend((t, label) for t in targets if (t, label) != (c.doc, c.clause))
        cite_laws(c.text, c.doc)
        for no in find_std_numbers(c.text):
            for d in res.by_std.get(std_base(no) or no, []):
                if own_std.get(d) != own_std.get(c.doc):
                    citing.setdefault(d, set()).add(c.doc)
    # only clauses that exist in the index (clause_of is complete only now)
    clause_in = Counter(r for r in article_refs if r in clause_of)
    return References({d: len(s) for d, s in citing.items()}, dict(clause_in))
