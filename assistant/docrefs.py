"""Documents a question names loosely, resolved against the index's documents.

Standard numbers and law articles are :func:`identifiers.parse_reference`'s; this module
takes what people write instead: a title or its short form ("重庆市产品质量条例",
"标准化法实施条例"), a kind word with a qualifier ("两江的实施方案", "充电桩安装验收规范",
"电饭煲标准", "重庆的条例"), or a kind word alone or after a determiner ("方案", "实施条例",
"本办法", "该标准"), which names the index's only document of that kind. A follow-up's
"该标准" is rewritten to the previous answer's document before it gets here
(:func:`assistant.answer.followup.resolve_followup`).

Never a guess: a mention that fits several documents (other versions of one law aside), or
whose qualifier fits another document better than any of its kind, resolves to nothing.
Pure functions over :class:`~assistant.records.DocMeta`; the retriever scopes its search to
the documents resolved, and searches them by keyword without the words that named them
(:meth:`assistant.retrieve.Retriever.scope`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .identifiers import law_key
from .records import DocMeta
from .versions import family_of

# Kind words a title ends in, longest first; "法" and "标准" are kinds only after a
# determiner or with a qualifier (a bare "标准" is the word, not a document).
_TITLE_HEADS = ("实施方案", "实施细则", "实施办法", "实施条例", "管理办法", "管理规定",
                "技术规程", "技术规范", "方案", "规划", "办法", "细则", "条例", "规定", "规范",
                "规程", "导则", "指南", "决定")
_STD_HEADS = {"国家标准": "national", "国标": "national", "行业标准": "industry",
              "地方标准": "local", "团体标准": "group", "企业标准": "enterprise", "标准": ""}
_OTHER_HEADS = ("法律", "法规", "文件", "政策")
# heads that name a document standing alone ("方案的目标"); the others are common words
# ("办法" = a way, "规定" = a rule, "规范" = to regulate) and need a determiner or qualifier
_BARE = frozenset({"实施方案", "实施细则", "实施办法", "实施条例", "方案", "规划", "条例", "细则"})
_HEAD_RE = re.compile(
    "|".join([*(re.escape(h) for h in sorted(_TITLE_HEADS, key=len, reverse=True)),
              "国家标准|行业标准|地方标准|团体标准|企业标准|国标", r"标准(?![化件样值物差])",
              *_OTHER_HEADS, r"法(?![律规定人院官治学典])"]))
_HEAD_END = re.compile(f"(?:{_HEAD_RE.pattern})$")
_DETERMINER = re.compile(r"(?:该|此|上述|这(?:一|个|部|份|项|本)?|本)$")
# words that end the qualifier in front of a head: question words, prepositions
_LEAD = re.compile(r"^.*(?:如何|怎样|怎么|什么|哪些|哪个|哪部|是否|关于|对于|根据|依据|按照|依照|"
                   r"请问|介绍|说说|讲讲|查询|查看|了解|知道|和|或|对|在|按|从|把|被|给|向|由|是|有)")
_PUNCT = re.compile(r"[^\w]")  # punctuation and blanks (CJK, letters, digits are \w)
# a parenthesis after a title holding a date, a period or 试行/修正: "(2024—2027年)"
_LEADING = re.compile(r"[(\[](?:[^()\[\]]*\d[^()\[\]]*|试行|暂行|修正|修订|草案)[)\]]")
_TRAILING = re.compile(_LEADING.pattern + "$")
_NOT_A_WORD = {"法": "(?![律规定人院官治学典])"}  # "标准化法律" does not name 标准化法
MIN_QUALIFIER = 2  # characters a qualifier must share with a title
_DROP = re.compile(r"[\s《》「」『』“”\"'‘’〈〉]")


def fold(text: str) -> str:
    """NFKC, without blanks and the quotes around titles: what is compared."""
    return _fold_map(text)[0]


def _fold_map(text: str) -> tuple[str, list[int]]:
    """``fold(text)``, with the index in ``text`` of each folded character (to cut a
    mention found in the folded text out of the question); NFKC character by character,
    so that the two always agree."""
    out, where = [], []
    for i, ch in enumerate(text or ""):
        for c in _DROP.sub("", unicodedata.normalize("NFKC", ch)):
            out.append(c)
            where.append(i)
    return "".join(out), where


def short_title(title: str) -> str:
    """A title as questions write it: folded, without "中华人民共和国" and without trailing
    parentheses holding a date, a period or 试行/修正 ("(2024—2027年)", "(2018年修正)")."""
    t = fold(title)
    t = re.sub(r"^中华人民共和国", "", t)
    while True:
        s = _TRAILING.sub("", t)
        if s == t:
            return t
        t = s


@dataclass(frozen=True)
class Named:
    """One indexed document as questions may name it."""

    doc: str
    family: str  # its version family: all versions answer to one name
    kind: str
    category: str
    title: str  # short_title of its title ("" when it has none)

    def has_head(self, head: str) -> bool:
        """Whether the document is of the kind ``head`` names."""
        if head in _STD_HEADS:
            return self.kind == "standard" and _STD_HEADS[head] in ("", self.category)
        if head in ("法", "法律", "法规"):
            return self.kind == "law" and (head != "法" or (self.title.endswith("法")
                                                            and not self.title.endswith("办法")))
        if head == "文件":
            return True
        if head == "政策":
            return self.kind == "policy"
        return self.title.endswith(head)


class Catalog:
    """The index's documents as questions may name them, with what makes resolving a
    question cheap on thousands of documents: the documents of each kind word, and the
    documents each pair of characters of a title occurs in."""

    def __init__(self, docs: Iterable[Named]) -> None:
        self.docs = list(docs)
        self._kinds: dict[str, list[Named]] = {}
        self._pairs: dict[str, set[int]] = {}
        for i, d in enumerate(self.docs):
            for k in range(len(d.title) - 1):
                self._pairs.setdefault(d.title[k:k + 2], set()).add(i)

    def __len__(self) -> int:
        return len(self.docs)

    def of_kind(self, head: str) -> list[Named]:
        if head not in self._kinds:
            self._kinds[head] = [d for d in self.docs if d.has_head(head)]
        return self._kinds[head]

    def sharing(self, text: str) -> list[Named]:
        """The documents whose title shares two characters in a row with ``text`` (the
        only ones a qualifier can fit)."""
        rows = set().union(*(self._pairs.get(text[k:k + 2], ()) for k in range(len(text) - 1)))
        return [self.docs[i] for i in sorted(rows)]


def catalog(metas: Iterable[DocMeta]) -> Catalog:
    """The documents as questions may name them."""
    out = []
    for m in metas:
        title = short_title(law_key(m.title) if m.kind == "law" else m.title)
        out.append(Named(m.doc, family_of(m), m.kind, m.category, title))
    return Catalog(out)


@dataclass
class Mention:
    """A document named in a question: the text as written, and what it resolved to
    (empty when ambiguous)."""

    text: str
    how: str  # "title", "qualified", "kind"
    docs: list[str]
    span: tuple[int, int] = (0, 0)  # where it is written, in the folded question


def mentions(question: str, docs: Catalog | Sequence[Named]) -> list[Mention]:
    """The documents ``question`` names by title or kind word, in order of appearance
    (a mention that fits several documents, or none for sure, has no ``docs``)."""
    docs = docs if isinstance(docs, Catalog) else Catalog(docs)
    q = fold(question)
    found, taken = _titles(q, docs)
    for m in _HEAD_RE.finditer(q):
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        mention = _kind_mention(q, m, docs)
        if mention is not None:
            found.append(mention)
    return sorted(found, key=lambda mn: mn.span)


def resolve(question: str, docs: Catalog | Sequence[Named]) -> tuple[list[str], str]:
    """Every document the question names (all versions of each), and the question without
    the words that name them (the keywords to search those documents for; the question
    itself when little else is left). ([], question) when it names none, or names one that
    does not resolve (scoping to the others could leave it out)."""
    found = mentions(question, docs)
    if not found or any(not m.docs for m in found):
        return [], question
    out: list[str] = []
    for m in found:
        out += [d for d in m.docs if d not in out]
    _, where = _fold_map(question)
    rest, last = [], 0
    for m in found:
        a, b = where[m.span[0]], where[m.span[1] - 1] + 1
        rest.append(question[last:a])
        last = b
    rest.append(question[last:])
    left = re.sub(r"《\s*》", "", "".join(rest))
    return out, (left if len(re.findall(r"[\u4e00-\u9fff]", left)) >= 4 else question)


def companions(named: Sequence[str], docs: Catalog) -> list[str]:
    """Documents that implement a named law: "著作权法实施条例" for 著作权法 (searched
    with it: a question on a law is often answered by its implementing regulation too)."""
    titles = {d.title for d in docs.docs if d.doc in set(named) and d.kind == "law"}
    return [d.doc for d in docs.docs if d.doc not in set(named) and d.kind == "law"
            and any(d.title.startswith(t + "实施") for t in titles)]


def _titles(q: str, docs: Catalog) -> tuple[list[Mention], list[tuple[int, int]]]:
    """Whole (short) titles written in the question; a title inside a longer one written
    there ("标准化法" in "标准化法实施条例") is not named by itself."""
    spans: dict[tuple[int, int], list[Named]] = {}
    for d in docs.docs:
        if len(d.title) >= 4 and d.title in q:
            for m in re.finditer(re.escape(d.title) + _NOT_A_WORD.get(d.title[-1], ""), q):
                spans.setdefault((m.start(), m.end()), []).append(d)
    keep = [s for s in spans if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o in spans)]
    found = [Mention(q[s[0]:s[1]], "title", _one_family(spans[s]), _whole(q, *s)) for s in keep]
    return found, keep


def _whole(q: str, start: int, end: int) -> tuple[int, int]:
    """A title's span with what short_title left out around it: "中华人民共和国" before,
    "(2024—2027年)" after."""
    if q[:start].endswith("中华人民共和国"):
        start -= len("中华人民共和国")
    after = _LEADING.match(q, end)
    return start, after.end() if after else end


def _one_family(docs: Sequence[Named]) -> list[str]:
    """The documents when they are versions of one document, else [] (none or several)."""
    return [d.doc for d in docs] if len({d.family for d in docs}) == 1 else []


def _kind_mention(q: str, m: re.Match[str], docs: Catalog) -> Mention | None:
    """A kind word with what stands before it: a qualifier, a determiner, or nothing;
    None when it names no document ("有什么办法", "依法", "专项方案", "办法规定")."""
    head = m.group(0)
    before = q[:m.start()]
    attached = True
    if before.endswith(("的", "之")):
        before, attached = before[:-1], False
    tail = _PUNCT.split(before)[-1][-16:]
    if attached and _HEAD_END.search(tail):
        return None  # a kind word right after another is a verb: "本办法规定"
    det = _DETERMINER.search(tail)
    # "本" is a determiner where it starts the phrase ("按本办法"), not in "基本方案"
    determiner = det.group(0) if det and (det.group(0) != "本"
                                          or _LEAD.sub("", tail) == "本") else ""
    written = determiner or _LEAD.sub("", tail)  # as written before the kind word
    qualifier = "" if determiner else written.replace("的", "")
    if not qualifier and not determiner and head not in _BARE:
        return None  # "办法", "标准", "法" alone are words
    kind = docs.of_kind(head)
    span = (len(before) - len(written), m.end())
    if qualifier and _shared(before[:len(before) - len(tail)], tail, written):
        return Mention(qualifier + head, "qualified", [], span)  # "电饭煲和门锁标准": two
    if qualifier:
        return _qualified(qualifier, head, kind, docs, attached, span)
    return Mention(determiner + head, "kind", _one_family(kind), span)


def _shared(rest: str, tail: str, written: str) -> bool:
    """Whether the kind word is shared by several qualifiers ("电饭煲、门锁标准",
    "电饭煲和门锁标准"): a list mark or a conjunction just before the qualifier."""
    lead = tail[:len(tail) - len(written)]
    return rest.endswith("、") or lead.endswith(("和", "或", "及", "与"))


def _qualified(qualifier: str, head: str, kind: Sequence[Named], docs: Catalog,
               attached: bool, span: tuple[int, int]) -> Mention | None:
    """A kind word with a qualifier: the documents of that kind whose title shares the
    most with the qualifier (at least half of it), when no document of another kind shares
    more. A qualifier written onto the kind word that fits no title is another word
    ("专项方案", "依法": None); set apart by 的 ("火锅的方案", "公司的方案") it leaves the
    mention unresolved."""
    score = {d.doc: _common(qualifier, d.title) for d in docs.sharing(qualifier)}
    best_all = max(score.values(), default=0)
    best = max((score.get(d.doc, 0) for d in kind), default=0)
    weak = best < MIN_QUALIFIER or 2 * best < len(qualifier)
    if weak and attached:
        return None
    fit = [] if weak or best < best_all else [d for d in kind if score.get(d.doc) == best]
    return Mention(qualifier + head, "qualified", _one_family(fit), span)


def _common(a: str, b: str) -> int:
    """Length of the longest common substring of ``a`` and ``b``."""
    best = 0
    prev = [0] * (len(b) + 1)
    for ca in a:
        cur = [0] * (len(b) + 1)
        for j, cb in enumerate(b, 1):
            if ca == cb:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best
