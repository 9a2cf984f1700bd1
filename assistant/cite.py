"""Citations: source labels and status warnings, building ``Citation`` records and their
quotes, parsing and renumbering the [n] markers of an answer (also as it streams).

Pure Python and deterministic; every answer backend goes through it. Checking an answer's
numbers against its sources is :mod:`assistant.grounding`; deciding whether to answer at
all is :mod:`assistant.gate`.
"""

from __future__ import annotations

import re

from .records import Citation, Hit
from .text import PUNCT_END, bigrams, normalize, shorten, split_sentences, strip_label

# ---------------------------------------------------------------------------------------
# labels, status warnings, citations
# ---------------------------------------------------------------------------------------

_OLD_STATUS = {"废止": "已废止", "已失效": "已失效", "失效": "已失效", "被代替": "已被代替"}


def status_warning(status: str, superseded: bool = False, replaced_by: str = "") -> str:
    """The warning a withdrawn, superseded or not-yet-effective source carries ("" if none)."""
    head = _OLD_STATUS.get(status.strip())
    if head is None and superseded:
        head = "已有新版本"
    if head is not None:
        return f"{head}，现行版本：{replaced_by}" if replaced_by else f"{head}，请核对现行版本"
    if status.strip() == "即将实施":
        return "尚未实施，请注意实施日期"
    return ""


def doc_name(std_no: str, title: str, doc: str) -> str:
    """"GB/T 1.1—2020 标准化工作导则" for a standard, the title (or file) of anything else."""
    return f"{std_no} {title}".strip() if std_no else (title or doc)


def source_label(hit: Hit) -> str:
    """The prompt/CLI label of a source: "GB/T 1.1—2020 标准化工作导则 8.6 · 8 要素的编写 > …"."""
    c = hit.chunk
    label = f"{doc_name(c.std_no, c.title, c.doc)} {c.clause}".strip()
    if c.heading:
        label += f"（{c.heading}）"
    return label


def build_citation(n: int, hit: Hit, quote: str = "") -> Citation:
    """A Citation for ``hit`` under marker [n]; the quote defaults to the first ~120 chars."""
    c = hit.chunk
    if not quote:
        quote = shorten(strip_label(c.text, c.clause), 120)
    return Citation(
        n=n,
        doc=c.doc,
        title=c.title,
        std_no=c.std_no,
        clause=c.clause,
        heading=c.heading,
        page=c.page,
        status=c.status,
        quote=quote,
        text=c.text,
        warning=status_warning(c.status, hit.superseded, hit.replaced_by),
    )


# ---------------------------------------------------------------------------------------
# quotes
# ---------------------------------------------------------------------------------------

_LATIN = re.compile(r"[\sa-z\-,;'()/]*")
_HEAD_NO = re.compile(r"^(?:[a-z]?\d+(?:\.\d+)*|第[^\s]{1,6}[章节条]|[（(][一二三四五六七八九十]+[)）]|[一二三四五六七八九十]+、)\s*")


def quotable_sentences(h: Hit) -> list[str]:
    """Sentences of a clause worth quoting: not its bare label or heading."""
    c = h.chunk
    text = strip_label(c.text, c.clause)
    # the heading's own words, without its number: "8.6 规范性引用文件" → "规范性引用文件"
    heading = _HEAD_NO.sub("", normalize(c.heading.split(">")[-1]).strip()) if c.heading else ""
    out = []
    for s in split_sentences(text):
        core = PUNCT_END.sub("", s)
        n = _HEAD_NO.sub("", normalize(core)).strip()
        # a bare heading, or a term entry's "要求 requirement" line, is no sentence
        if len(core) < 6 or (heading and n.startswith(heading) and _LATIN.fullmatch(n[len(heading) :])):
            continue
        out.append(s)
    return out


def sentences_citing(text: str, n: int) -> list[str]:
    """The sentences of an answer that carry marker [n]."""
    return [s for s in split_sentences(text) if n in marker_numbers(s)]


def best_quote(h: Hit, answer_sentences: list[str]) -> str:
    """The sentence of the source closest to what the answer said with it ("" = default)."""
    if not answer_sentences:
        return ""
    said = bigrams(" ".join(answer_sentences))
    best, best_score = "", 0.0
    for s in quotable_sentences(h):
        g = bigrams(s)
        if not g:
            continue
        score = len(g & said) / len(g)
        if score > best_score:
            best, best_score = s, score
    return best if best_score >= 0.3 else ""


# ---------------------------------------------------------------------------------------
# markers: parsing, validation, first-use renumbering (also incrementally, for streaming)
# ---------------------------------------------------------------------------------------

# [1] [1,2] [1、3] [1-3] 【1】 ［1］ and "[来源1]"-style variants some models write
MARKER = re.compile(r"[\[【［]\s*(?:来源|资料|source)?\s*(\d+(?:\s*[,，、\-–~]\s*\d+)*)\s*[\]】］]", re.I)
_OPEN = "[【［"


def strip_markers(text: str) -> str:
    """``text`` without its citation markers."""
    return MARKER.sub("", text)


def marker_numbers(text: str) -> list[int]:
    """The source numbers cited in ``text``, in order (ranges expanded)."""
    out: list[int] = []
    for m in MARKER.finditer(text):
        out.extend(_expand(m.group(1)))
    return out


def _expand(spec: str) -> list[int]:
    nums: list[int] = []
    for part in re.split(r"\s*[,，、]\s*", spec.strip()):
        if re.fullmatch(r"\d+\s*[\-–~]\s*\d+", part):
            a, b = (int(x) for x in re.split(r"\s*[\-–~]\s*", part))
            if 0 < b - a < 20:
                nums.extend(range(a, b + 1))
                continue
        nums.extend(int(x) for x in re.findall(r"\d+", part))
    return nums


class MarkerRewriter:
    """Rewrites citation markers as text arrives: keeps markers of given sources, renumbers
    them in order of first use, drops invented ones (recording a flag).

    Works on a stream of deltas, holding back only a possibly unfinished "[12" so the text
    streamed to the UI is exactly the final answer text.
    """

    def __init__(self, n_sources: int) -> None:
        self.n_sources = n_sources
        self.order: list[int] = []  # original source numbers, in order of first use
        self.flags: list[str] = []
        self._buf = ""
        self._invented: set[int] = set()

    def _sub(self, m: re.Match[str]) -> str:
        out = []
        for k in _expand(m.group(1)):
            if 1 <= k <= self.n_sources:
                if k not in self.order:
                    self.order.append(k)
                new = f"[{self.order.index(k) + 1}]"
                if new not in out:
                    out.append(new)
            elif k not in self._invented:
                self._invented.add(k)
                self.flags.append(f"removed invented citation [{k}]")
        return "".join(out)

    def feed(self, delta: str) -> str:
        """Return the part of the text that can be emitted now."""
        self._buf += delta
        cut = len(self._buf)
        i = max(self._buf.rfind(ch) for ch in _OPEN)
        # an opening bracket without its closing one, near the end: wait for more text
        if i >= 0 and not re.search(r"[\]】］]", self._buf[i:]) and len(self._buf) - i < 16:
            cut = i
        ready, self._buf = self._buf[:cut], self._buf[cut:]
        return MARKER.sub(self._sub, ready)

    def flush(self) -> str:
        ready, self._buf = self._buf, ""
        return MARKER.sub(self._sub, ready)

    def rewrite(self, text: str) -> str:
        return self.feed(text) + self.flush()


def tidy_markers(text: str) -> str:
    """Cosmetics after markers were removed: no doubled spaces or space before punctuation."""
    text = re.sub(r"[ \t]+([。，；！？、,.;!?])", r"\1", text)
    text = re.sub(r"(\[\d+\])(?:\1)+", r"\1", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()
