"""The ``extractive`` backend (the default): the answer is composed of the best-supported
sentences of the retrieved clauses, quoted verbatim, each followed by its marker —
offline, deterministic, no model."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..cite import quotable_sentences
from ..config import Settings
from ..gate import coverage, hit_text, query_terms
from ..grounding import numbers
from ..records import Hit
from ..text import LIST_ITEM, PUNCT_END, bigrams, normalize, split_sentences
from .registry import AnswerBackend, Draft, History, register_backend

MAX_SENTENCES = 4
MAX_ANSWER_CHARS = 420
# a sentence must score this share of the best one: keeps answers to the point
RELATIVE_CUT = 0.8
NEAR_DUPLICATE = 0.6  # bigram Jaccard above which two sentences say the same thing
LIST_ITEMS = 6

_ASKS_NUMBER = re.compile(r"几|多少|多久|多长|多大|何时|什么时候|哪一?年|日期|期限|时限|金额|罚款|比例")

Pick = tuple[int, int, str]  # (hit index, sentence position, sentence)


@register_backend("extractive")
class ExtractiveBackend(AnswerBackend):
    """Quotes the sources; every sentence carries its marker, so none is flagged uncited."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def generate(self, question: str, hits: Sequence[Hit], history: History | None,
                 streaming: bool) -> Iterator[str | Draft]:
        text, used = extractive(question, hits)
        if not used:  # the clauses have nothing quotable (bare headings)
            yield Draft("", unanswerable="no quotable sentence", flag_uncited=False)
            return
        yield from split_sentences(text)
        yield Draft(
            text,
            cited={n: h for n, (h, _) in enumerate(used, 1)},
            quotes={n: "".join(ss) for n, (_, ss) in enumerate(used, 1)},
            flag_uncited=False,
        )


def extractive(query: str, hits: Sequence[Hit]) -> tuple[str, list[tuple[Hit, list[str]]]]:
    """The best-supported sentences of the top clauses, each followed by its marker.

    Returns the answer text and the sources in order of first use with the sentences
    quoted from each.
    """
    cands = list(hits[:6])
    sents = [quotable_sentences(h) for h in cands]
    exact = [i for i, h in enumerate(cands) if h.evidence.exact]
    if exact:  # the question named this clause: give the clause itself
        picked = _whole_clause(exact[0], sents[exact[0]])
    else:
        picked = _complete_lists(_best_sentences(query, cands, sents), sents)
    return _compose(picked, cands)


def _whole_clause(i: int, sents: list[str]) -> list[Pick]:
    """The first sentences of clause ``i``, as many as the answer's length allows."""
    picked: list[Pick] = []
    total = 0
    for j, s in enumerate(sents):
        if len(picked) >= MAX_SENTENCES or (picked and total + len(s) > MAX_ANSWER_CHARS):
            break
        picked.append((i, j, s))
        total += len(s)
    return picked


def _scored_sentences(query: str, cands: list[Hit], sents: list[list[str]]) -> list[tuple[float, int, int, str]]:
    """Every candidate sentence with its score, best first."""
    terms = query_terms(query)
    wants_number = bool(_ASKS_NUMBER.search(query))
    hit_cov = [coverage(terms, hit_text(h)) for h in cands]
    best = max(hit_cov, default=0.0)
    scored: list[tuple[float, int, int, str]] = []
    for i, h in enumerate(cands):
        if i > 0 and hit_cov[i] < 0.5 * best:
            continue  # a clause that shares little with the question only adds noise
        # a sentence is read with its clause's own heading: in "8.6 规范性引用文件",
        # "该要素应设置为文件的第2章" is about 规范性引用文件
        own = h.chunk.heading.split(">")[-1].strip()
        # words of the document's title ("两江新区", "标准化法") pick the document, not
        # the sentence within it
        title = normalize(f"{h.chunk.std_no} {h.chunk.title}")
        local = {t: w for t, w in terms.items() if t not in title} or terms
        for j, s in enumerate(sents[i]):
            s = _focus(local, s)
            cov = coverage(local, f"{own} {s}")
            if cov <= 0 and not (i == 0 and j == 0):
                continue
            # the fused retrieval rank is better evidence than word overlap alone
            score = cov + 0.3 * hit_cov[i] + 0.3 / (1 + i) - (0.1 if h.superseded else 0.0)
            if wants_number and numbers(s):  # "第几章？" "多少日内？" is answered by a number
                score += 0.3
            scored.append((score, i, j, s))
    scored.sort(key=lambda x: (-x[0], x[1], x[2]))
    return scored


def _best_sentences(query: str, cands: list[Hit], sents: list[list[str]]) -> list[Pick]:
    """The top-scoring sentences within the answer's length, near-duplicates left out."""
    scored = _scored_sentences(query, cands, sents)
    picked: list[Pick] = []
    total = 0
    chosen: list[set[str]] = []
    for score, i, j, s in scored:
        if len(picked) >= MAX_SENTENCES or score < RELATIVE_CUT * scored[0][0]:
            break
        if picked and total + len(s) > MAX_ANSWER_CHARS:
            continue
        g = bigrams(s)
        # the same rule in another law or version ("销售者应当建立并执行进货检查验收制度")
        if any(len(g & o) / max(1, len(g | o)) >= NEAR_DUPLICATE for o in chosen):
            continue
        chosen.append(g)
        picked.append((i, j, s))
        total += len(s)
    return picked


def _compose(picked: list[Pick], cands: list[Hit]) -> tuple[str, list[tuple[Hit, list[str]]]]:
    """The answer text from the picked sentences in source order, each with its marker."""
    picked = sorted(picked, key=lambda x: (x[0], x[1]))
    order: list[int] = []
    used: dict[int, list[str]] = {}
    last: dict[int, int] = {}
    parts: list[str] = []
    if picked:  # name the main source up front, as a compliance answer does (and so a
        # follow-up question can find the document in the conversation history)
        parts.append(f"根据{_cite_name(cands[picked[0][0]])}：")
    for i, j, s in picked:
        if i not in order:
            order.append(i)
        elif last[i] != j - 1:  # the quote skips part of the clause
            used[i].append("……")
        used.setdefault(i, []).append(s)
        last[i] = j
        body = PUNCT_END.sub("", s)
        end = s[len(body) :].strip()
        end = "：" if end.startswith(("：", ":")) else "。"
        parts.append(f"{body}[{order.index(i) + 1}]{end}")
    return "".join(parts), [(cands[i], used[i]) for i in order]


def _cite_name(h: Hit) -> str:
    """"《中华人民共和国标准化法》第十条" / "GB/T 1.1—2020 8.6"."""
    c = h.chunk
    if c.std_no:
        return f" {c.std_no} {c.clause}".rstrip()
    name = c.title or Path(c.doc).stem
    return f"《{name}》{c.clause}"


def _complete_lists(picked: list[Pick], sents: list[list[str]]) -> list[Pick]:
    """A list item needs its lead-in ("有下列情形之一的：") and a lead-in its items."""
    have = {(i, j) for i, j, _ in picked}
    out = list(picked)
    budget = MAX_ANSWER_CHARS * 3 // 2 - sum(len(s) for _, _, s in picked)
    for i, j, s in picked:
        ss = sents[i]
        if LIST_ITEM.match(s):
            for k in range(j - 1, -1, -1):
                if ss[k].rstrip().endswith(("：", ":")):
                    if (i, k) not in have:
                        have.add((i, k))
                        out.append((i, k, ss[k]))
                        budget -= len(ss[k])
                    break
                if not LIST_ITEM.match(ss[k]):
                    break
        if s.rstrip().endswith(("：", ":")):
            for k in range(j + 1, min(len(ss), j + 1 + LIST_ITEMS)):
                if not LIST_ITEM.match(ss[k]) or budget < len(ss[k]):
                    break
                if (i, k) not in have:
                    have.add((i, k))
                    out.append((i, k, ss[k]))
                    budget -= len(ss[k])
    return out


def _focus(terms: dict[str, float], s: str, limit: int = 150) -> str:
    """A long sentence cut to its best window of comma-separated parts (verbatim), so the
    answer quotes "制造业产品质量合格率大于95%" rather than the whole 300-character target list."""
    if len(s) <= limit:
        return s
    parts = [p for p in re.split(r"(?<=[，,])", s) if p]
    best, best_cov = s, -1.0
    for a in range(len(parts)):
        for b in range(a + 1, min(len(parts), a + 3) + 1):
            window = "".join(parts[a:b])
            cov = coverage(terms, window) - 0.0005 * len(window)  # shorter wins a tie
            if cov > best_cov:
                best, best_cov = window, cov
    return best if coverage(terms, best) > 0 else s
