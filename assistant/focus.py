"""Whether a retrieved sentence carries what a question asks for.

A clause that shares a question's topic words does not answer it: "家庭医生签约服务覆盖率
达到百分之多少？" is not answered by "扩大家庭医生签约服务覆盖范围", which names the topic but
holds no percentage. Given the question's *focus* (:func:`assistant.asking.question_focus`:
the quantity asked, a list, a comparison between versions, a procedure),
:func:`sentence_evidence` finds, in the sentences of the top hits, the best window that
carries the focus together with the question's own words: for the asked subject (not 墙板
when 叠合板 is asked), the asked property (not 酸价 when 过氧化值 is), under the question's
condition (not "不大于25" when "大于25" is asked), for the item asked rather than a list's
total, at the asked level (not 国家级 when 市级 is asked), not counted from the property
("保质期满后6个月" is no 保质期), and a change of the thing asked, not a bare "本文件代替…" or
a change of something else. A standard that never names the subject a quantity question
opens with (液压马达 against a gear-pump standard) answers nothing of it. The gate
(:mod:`assistant.gate`) weighs what it finds.

Pure Python, deterministic, no model: a few hundred regex matches a question.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from .asking import (
    ANY_DURATION,
    ASK,
    COUNTERS,
    NUM,
    OBJECTS,
    UNIT_ALT,
    Focus,
)
from .records import Hit
from .text import CJK, PUNCT_END, normalize, split_sentences, strip_label

# ---------------------------------------------------------------------------------------
# quantities written in a sentence
# ---------------------------------------------------------------------------------------

_PERCENT = re.compile(r"\d+(?:\.\d+)?\s*%|百分之[\d零〇一二两三四五六七八九十百]+")
# "每周1次": a period; it answers "多久" (any duration unit), "多少小时" only in hours
_EVERY = re.compile(r"每\s*(?:个)?(日|天|周|月|季度|年|半年)")


def carries(focus: Focus, text: str) -> bool:
    """Does ``text`` (normalised) write a quantity of the kind ``focus`` asks for?

    Numbers the question itself writes ("到2027年") do not count: they are its words, not
    the answer.
    """
    if not focus.quantity:
        return True
    if focus.quantity == "percent":
        return any(m.group(0).rstrip("% ") not in focus.numbers for m in _PERCENT.finditer(text))
    if focus.quantity == "duration" and any(
            focus.units == ANY_DURATION or m.group(1) in focus.units for m in _EVERY.finditer(text)):
        return True
    for m in NUM.finditer(text):
        num = m.group(0)
        if num in focus.numbers:
            continue
        after = text[m.end():].lstrip()
        after = after[1:] if after.startswith("个") and focus.units != ("个",) else after
        if focus.units:
            if after.startswith(focus.units):
                return True
        elif num[0].isdigit() or len(num) > 1 or num not in "一两":  # "统一", "一般": words
            return True
    return False


# ---------------------------------------------------------------------------------------
# the evidence in the top hits
# ---------------------------------------------------------------------------------------

_CHANGE = re.compile(r"相比|变化|代替|增加了|删除了|更改了|修改了|调整了|新增了?|取消了|提高了|降低了")
# "本文件代替GB 90201—2018。" announces a new edition; it names no change
_REPLACES_ONLY = re.compile(r"^\s*本(?:文件|标准)代替[^,，;；:：]*$")
# an announced but omitted text ("主要技术变化如下（略）") says nothing
_ELIDED = re.compile(r"[（(]\s*略\s*[)）]|^\s*略\s*[。.]?\s*$|……\s*$")
_PARTS = re.compile(r"(?<=[，,；;])")
# front matter and notes: where a number is about the document, not the subject
_FRONT_CLAUSES = {"前言", "封面", "目次", "引言", "发布", "通知", "附件", "参考文献", "metadata", "元数据"}

Coverage = Callable[[dict[str, float], str], float]


@dataclass(frozen=True)
class SentenceEvidence:
    """The best windows of the top hits' sentences for a question."""

    sentence_cov: float  # best share of the question's words in one window (with its heading)
    focus_cov: float  # best such share among windows that also carry the asked quantity/change/object
    front_only: bool  # the best focus window lies in front matter or a note
    elided: bool  # the best window is an omitted text ("（略）")
    sentence: str = ""  # the window behind focus_cov (for reports and tests)
    foreign: str = ""  # a specific word of the question the hits do not hold ("充电桩")


def windows(sentence: str, limit: int = 3) -> list[str]:
    """The sentence and its runs of up to ``limit`` comma-separated parts."""
    parts = [p for p in _PARTS.split(sentence) if p.strip()]
    if len(parts) <= 1:
        return [sentence]
    out = [sentence] if len(sentence) <= 120 else []
    for a in range(len(parts)):
        for b in range(a + 1, min(len(parts), a + limit) + 1):
            out.append("".join(parts[a:b]))
    return out


def sentence_evidence(focus: Focus, hits: Sequence[Hit], terms: dict[str, float],
                      coverage: Coverage, seen: Sequence[Hit] = ()) -> SentenceEvidence:
    """The best windows in ``hits`` for a question with ``focus`` and content ``terms``.

    Each hit's sentences are matched against the terms its document's title does not
    hold: words that pick the document ("两江新区") do not pick the sentence within it.
    ``coverage(terms, text)`` is the weighted share of ``terms`` in ``text`` (normalised).
    ``seen`` are all the hits retrieved (``hits`` and the ones after): what is known of
    each document when asking whether a standard ever names the question's subject.
    """
    best = _Best()
    foreign = _foreign_word(focus, terms, hits, seen or hits)
    unnamed = {} if foreign else _unnamed_subjects(focus, terms, hits, seen or hits)
    for h in hits if not foreign else ():
        if h.chunk.doc in unnamed:  # a standard for another product: none of its windows answers
            continue
        title = normalize(f"{h.chunk.std_no} {h.chunk.title}")
        local = {t: w for t, w in terms.items() if t not in title} or terms
        heading = normalize(h.chunk.heading)
        own = heading.split(">")[-1].strip()
        front = _is_front(h)
        for s, context in _sentences(h):
            elided = bool(_ELIDED.search(s))
            for w in windows(s):
                c = coverage(local, f"{own} {context} {w}")
                best.any(c, w, elided)
                # the focus checks only for a window that could beat the best one so far
                if elided or c <= best.fcov or not _has_focus(focus, w, s, local, f"{heading} {context} {w}"):
                    continue
                # a number in front matter or a note is about the document, not the subject
                aside = bool(focus.quantity) and (front or _is_note(s))
                best.focus(c * (0.5 if aside else 1.0), w, aside)
    ev = best.evidence()
    if not foreign and ev.focus_cov == 0.0 and unnamed:
        foreign = next(iter(unnamed.values()))
    return replace(ev, foreign=foreign, sentence_cov=best.cov) if foreign else ev


# between two words of the subject phrase a question opens with, nothing is written: a
# particle, a modal or the asking ends it ("地铁车厢内…", "液压马达在…", "冷藏仓库至少应…")
_SUBJECT_WORDS = 2
_UNIT_END = re.compile(rf"(?:{UNIT_ALT})$")


def subject_words(question: str, terms: dict[str, float]) -> list[str]:
    """The first content words (up to two) of the phrase ``question`` (normalised) opens
    with — its subject: "住宅室内空气中甲醛…" → 住宅, 室内空气; "液压马达在…" → 液压, 马达.
    ``terms`` are the question's content words in their order; what comes before the
    first CJK one (a standard's number, "规定") is passed over; measure words are not
    subjects."""
    out: list[str] = []
    pos = 0
    for t in terms:
        at = question.find(t, pos)
        if at < 0:
            continue
        if out and question[pos:at].strip():
            break
        pos = at + len(t)
        if out and _NOT_SUBJECT.match(t):
            break
        if not (_CJK_WORD.fullmatch(t) and len(t) >= 2 and terms[t] >= 1.0) or _ASKING.search(t) \
                or _UNIT_END.search(t) or _NOT_SUBJECT.match(t):
            if out:
                break
            continue
        if _EVENT_VERB.fullmatch(t):  # "智慧路灯发生一级故障": the subject ends at the verb
            break
        if not out and _DOCUMENT_WORD.fullmatch(t):
            # "标准文件中条的细分层次…": a question about the document itself names no
            # product (and what follows may be a mis-cut word: 中条)
            return []
        out.append(t)
        if len(out) == _SUBJECT_WORDS:
            break
    return out


# verbs that follow a subject and start what happens to it
_EVENT_VERB = re.compile(r"发生|出现|产生|进行|开展|使用|安装|采用|设置|实施|开始|完成|达到|具有|包括|"
                         r"属于|需要|要求|允许|超过|低于|高于|运行|工作|存放|储存|运输|销售|生产|检测|检验")
_DOCUMENT_WORD = re.compile(r"(?:本|该|标准|规范)?(?:文件|标准|标准文件|规范|规程|条款|附录|章|条|段|本文件)")


# where something is placed: asks for a content of the text as much as a quantity does
_WHERE = re.compile(r"什么位置|哪个位置|什么地方|哪里|何处")


def _unnamed_subjects(focus: Focus, terms: dict[str, float], hits: Sequence[Hit],
                      seen: Sequence[Hit]) -> dict[str, str]:
    """The top hits' standards (doc → word) that never write a subject word of a quantity
    question in anything retrieved of them: title, headings, texts. A standard is scoped
    to its products and places (智能门锁 for 住宅和办公场所), so a limit in it is not one
    for 液压马达, 地铁车厢 or 冷藏仓库 when it names none of them. Laws and policy are left
    out: they are written in general terms a question paraphrases ("房东" for 出租人).

    The same for a question asking a procedure, a list or a place ("地下车库照明灯具的巡检
    内容包括哪些", "冷藏仓库的温度探头应安装在什么位置") when it opens with its subject:
    what comes first is then the thing asked about, not a mis-cut word ("哪些情况下…",
    "GB 90201—2024与2018年版相比…")."""
    asks = focus.quantity or focus.procedure or focus.asked_object or focus.wants_list \
        or bool(_WHERE.search(focus.question))
    subject = subject_words(focus.question, terms) if asks else []
    if subject and not focus.quantity and not focus.question.startswith(subject[0]):
        subject = []
    if not subject:
        return {}
    out: dict[str, str] = {}
    for doc in dict.fromkeys(h.chunk.doc for h in hits if h.chunk.std_no):
        blob = normalize(" ".join(f"{h.chunk.std_no} {h.chunk.title} {h.chunk.heading} {h.chunk.text}"
                                  for h in seen if h.chunk.doc == doc))
        missing = [w for w in subject if _pairs_share(w, blob) < 0.5]
        if missing:
            out[doc] = missing[0]
    return out


_ASKING = re.compile(r"多|几|什么|哪|怎|如何|百分|工作日")  # asking words and units: no subject


def _foreign_word(focus: Focus, terms: dict[str, float], hits: Sequence[Hit],
                  seen: Sequence[Hit] = ()) -> str:
    """For a quantity question: a specific word of it (three CJK characters or more) of
    which the hits — titles, headings and texts — hold under half the character pairs.
    A limit for 电动汽车充电桩 is not in a street-lamp standard, however on topic the rest.
    A word their documents write whole elsewhere in what was retrieved (``seen``: the
    scope's "住宅小区和公共停车场") is not foreign. For a procedure question answered only
    by standards the same: "应如何向监管部门报告", "竣工验收的程序" are another
    regulation's when the standards never write 监管部门 or 建设项目 (laws and policy
    are left out, as for the subject check)."""
    if not focus.quantity and not ((focus.procedure or focus.asked_object) and hits
                                   and all(h.chunk.std_no for h in hits)):
        return ""
    blob = normalize(" ".join(f"{h.chunk.std_no} {h.chunk.title} {h.chunk.heading} {h.chunk.text}"
                              for h in hits))
    docs = {h.chunk.doc for h in hits}
    whole = normalize(" ".join(f"{h.chunk.title} {h.chunk.heading} {h.chunk.text}"
                               for h in (seen or hits) if h.chunk.doc in docs))
    for t, w in terms.items():
        if (w >= 1.5 and len(t) >= 3 and _CJK_WORD.fullmatch(t) and not _ASKING.search(t)
                and _pairs_share(t, blob) < 0.5 and t not in whole):
            return t
    return ""


@dataclass
class _Best:
    """Running maxima of :func:`sentence_evidence`."""

    cov: float = 0.0
    cov_window: str = ""
    cov_elided: bool = False
    fcov: float = 0.0
    window: str = ""
    aside: bool = False

    def any(self, c: float, w: str, elided: bool) -> None:
        if c > self.cov:
            self.cov, self.cov_window, self.cov_elided = c, w, elided

    def focus(self, c: float, w: str, aside: bool) -> None:
        if c > self.fcov:
            self.fcov, self.window, self.aside = c, w, aside

    def evidence(self) -> SentenceEvidence:
        if self.fcov == 0.0 and self.cov_elided:
            return SentenceEvidence(round(self.cov, 4), 0.0, False, True, self.cov_window)
        return SentenceEvidence(round(self.cov, 4), round(self.fcov, 4), self.aside, False,
                                self.window)


_CAPTION = re.compile(r"^表\s*[A-Z]?\d")


def _sentences(h: Hit) -> list[tuple[str, str]]:
    """The sentences of a hit, each with its context: a table row with its caption and
    header ("表1 巡检周期 设施类别|日常巡检…"), anything else with nothing."""
    out: list[tuple[str, str]] = []
    caption = header = ""
    for s in split_sentences(normalize(strip_label(h.chunk.text, h.chunk.clause))):
        if _CAPTION.match(s):
            caption, header = s, ""
        elif "|" in s and caption:
            if not header:
                header = s
            out.append((s, f"{caption} {header}"))
            continue
        else:
            caption = header = ""
        out.append((s, ""))
    return out


# properties a quantity is stated for: "食品抽检合格率大于98.2%" gives 合格率 for 食品 only
_PROPERTY = re.compile(r"率|温度|浓度|期限|周期|时限|限值|高度|宽度|距离|面积|金额|保存|校准|检定|复审")
# the asking of a quantity after the property it is asked of ("合格率要大于多少",
# "过氧化值不应超过多少", "吊点不应少于几个"); groups ``mod``/``cmp``: a modal or a
# comparison is written (the word before it is then a property, not a verb)
_MODALS = r"不应|不得|不宜|应当|应|宜|要|需|须|是|为"
_COMPARES = (r"达到|不低于|不高于|不超过|不小于|不大于|不少于|不多于|大于|小于|高于|低于|超过|少于|多于"
             r"|控制在|保持")
_COMPARE_WORDS = re.compile(_COMPARES)
_ASKING_PHRASE = (r"(?:提出的|规定的|设定的|定的|定了|提出了|的)?(?:目标|指标|要求|标准)?"
                  rf"(?P<mod>{_MODALS})?(?P<cmp>{_COMPARES})?"
                  r"(?:在)?(?:多少|几|什么|怎样|如何|多高|多大|多长|多久|分别|百分之)")
_ASKED_AFTER = re.compile("^" + _ASKING_PHRASE)
# modals, comparisons and degree words: they end a question's subject phrase
_NOT_SUBJECT = re.compile(rf"^(?:{_MODALS}|{_COMPARES}|至少|最多|最少|一般|通常|必须|需要)")
_ASKING_AT = re.compile(_ASKING_PHRASE)
# a modal, a verb of one or two characters (no asking character), the asking:
# "就位后应设置几道", "应安装几个" (the verb is what is done, the property is before the modal)
_MODAL_VERB_ASK = re.compile(rf"(?:应当|应|宜|须|需|要)(?:[{CJK}](?<![多几什怎哪如在]))(?:[{CJK}](?<![多几什怎哪如]))?"
                             rf"(?:不少于|至少)?\s*{ASK}")
_MODAL_TAIL = re.compile(r"(?:至少|最多|最少|一般|通常|必须|应当|需要|要|应|需|须)+$")
_HEAD_CUT = re.compile(r"[对为给在将把的、和及与,，下中时后里内上]")


def _asked_ends(question: str) -> list[tuple[int, int]]:
    """Where the property a quantity is asked of ends in ``question``: after a word of
    :data:`_PROPERTY` followed by the asking, or before an asking phrase that writes a
    modal or a comparison ("吊点不应少于几个"; not "运转多少小时": a verb, not a property)."""
    ends = {m.end(): m.end() - m.start() for m in _PROPERTY.finditer(question)
            if _ASKED_AFTER.match(question[m.end():])}
    for m in _ASKING_AT.finditer(question):
        if m.start() >= 2 and (m.group("mod") or m.group("cmp")):
            ends.setdefault(m.start(), 2)
    for m in _MODAL_VERB_ASK.finditer(question):
        if m.start() >= 2:
            ends.setdefault(m.start(), 2)
    return sorted(ends.items())


def sibling_subject(question: str, window: str, terms: dict[str, float]) -> bool:
    """Does ``window`` state the asked property for another subject than the question's?

    "医疗器械抽检合格率是多少" against "食品抽检合格率大于98.2%": the run "抽检合格率" both
    share is preceded in the question by a content word ("医疗器械") of which the window's
    comma part holding the run has under half the character pairs. Texts normalised;
    ``terms`` are the question's content words (the document's title words left out).
    """
    for end, k in _asked_ends(question):
        if question[end - k : end] not in window:
            continue
        while k < end and question[end - k - 1 : end] in window:
            k += 1
        run = question[end - k : end]
        # the comma parts stating a quantity for the run, each with another subject before it
        parts = [p for p in _PARTS.split(window)
                 if run in p and NUM.search(p) and not p.lstrip().startswith(run)]
        if not parts:
            continue
        before = _MODAL_TAIL.sub("", question[max(0, end - k - 8) : end - k]).rstrip("的之")
        # the words of the subject phrase before the shared run (a word may end inside
        # the run: 农产品 against 食品, sharing 品)
        head = _HEAD_CUT.split(before)[-1] + run
        mods = [t for t, w in terms.items()
                if w >= 1.0 and len(t) >= 2 and _CJK_WORD.fullmatch(t) and t in head and t not in run]
        if any(_pairs_share(t, p) < 0.5 for t in mods for p in parts):
            return True
    return _other_counted(question, window, terms)


_COUNTED = re.compile(rf"{ASK}\s*(?:批次|[{COUNTERS}])([^，,。？?；;]{{2,12}})")


def _other_counted(question: str, window: str, terms: dict[str, float]) -> bool:
    """"多少个国家技术标准创新基地" against "集成服务基地1个": the window counts something
    else — under half the weight of the counted noun's content words is in it."""
    m = _COUNTED.search(question)
    if m is None:
        return False
    noun = {t: w for t, w in terms.items() if w >= 1.0 and len(t) >= 2 and t in m.group(1)}
    total = sum(noun.values())
    found = sum(w for t, w in noun.items() if _pairs_share(t, window) >= 0.5)
    return total >= 1.0 and found < 0.5 * total


_COND = re.compile(r"(不大于|不小于|不超过|不低于|不高于|不少于|大于|小于|超过|高于|低于|少于|多于)\s*(\d+(?:\.\d+)?)")
_UPWARD = {"大于", "超过", "高于", "多于", "不小于", "不低于", "不少于"}


def _other_condition(question: str, window: str) -> bool:
    """"排量大于25 mL/r的…" against "排量不大于25 mL/r的…": the window writes the question's
    condition number with a comparison the other way."""
    asked = {m.group(2): m.group(1) in _UPWARD for m in _COND.finditer(question)}
    return any(m.group(2) in asked and (m.group(1) in _UPWARD) != asked[m.group(2)]
               for m in _COND.finditer(window))


_ENUM = re.compile(rf"[{CJK}]+(?:、[{CJK}]+)+(?:和|及|与)[{CJK}]+|[{CJK}]+(?:、[{CJK}]+){{2,}}")
_EACH = re.compile(r"各|分别|均|每")


def _list_total(question: str, window: str) -> bool:
    """"国际标准不少于多少项" against "国际标准、国家标准、行业标准和地方标准不少于200项": the
    window's number is for a list of which the question names only some items (not with
    各/分别: a number for each)."""
    for part in _PARTS.split(window):
        m = _ENUM.search(part)
        if m is None or _EACH.search(part) or not NUM.search(part[m.end():]):
            continue
        items = m.group(0).split("、")
        items[-1:] = re.split(r"和|及|与", items[-1], maxsplit=1)
        # what the items but the last share at their end ("标准"): not what tells them
        # apart; the last item runs on into the sentence ("地方标准不少于") and ends there
        suffix = ""
        while len(suffix) < min(map(len, items[:-1])) and len({i[-len(suffix) - 1] for i in items[:-1]}) == 1:
            suffix = items[0][-len(suffix) - 1] + suffix
        cut = items[-1].find(suffix) if suffix else -1
        if len(items) < 3 or cut < 0:
            continue
        items[-1] = items[-1][: cut + len(suffix)]
        keys = [i[: len(i) - len(suffix)][-2:] for i in items]
        named = sum(len(k) == 2 and k in question for k in keys)
        if 0 < named < len(items):
            return True
    return False


_ORDINAL = "一二三四五六七八九十甲乙丙丁"
_CJK_WORD = re.compile(rf"[{CJK}]+")


# administrative levels: "市级质量标准实验室" is not the "国家级质量标准实验室" a target counts
_LEVEL = re.compile(r"国家级|国际级|省级|市级|区级|县级|镇级|乡级|部级|院级|企业级")


def _other_level(terms: dict[str, float], window: str, question: str = "") -> bool:
    """"二级故障…到达现场" against "一级故障应在2 h内到达现场": the question names one
    level (二级, 乙类, 市级) and the window the same word with another (国家级)."""
    for t in terms:
        if len(t) >= 2 and t[0] in _ORDINAL and t not in window and any(
                o + t[1:] in window for o in _ORDINAL if o != t[0]):
            return True
    for m in _LEVEL.finditer(question):
        after = question[m.end() : m.end() + 2]
        if len(after) == 2 and m.group(0) + after not in window and any(
                o.group(0) != m.group(0) and window.startswith(after, o.end())
                for o in _LEVEL.finditer(window)):
            return True
    return False


# actions and properties a quantity is asked of ("保存多少年", "多少日内进行抽查"): a window
# that states a quantity for another action (巡检, not 保存) does not answer
_ACTIONS = ("保存|修复|到达|到场|校准|检定|巡检|检测|报告|报警|抽查|更换|复审|办结|公示|备案|召回|培训|"
            "升级换代|整改|复查|追究|办理|冷却|记录")
_ACTION_BEFORE = re.compile(rf"({_ACTIONS})(?:期限|时间|周期)?(?:应|要|需|须)?(?:不少于|至少|最多)?\s*{ASK}")
_ACTION_AFTER = re.compile(
    rf"{ASK}[^，,。?？]{{0,6}}?(?:以内|之内|内|后)?(?:必须|应当|应|要|需要|需|才能|进行|完成|一次)*({_ACTIONS})")


def _names_property(question: str, context: str, terms: dict[str, float]) -> bool:
    """Does the window (with its headings) name at least one action the quantity is asked
    of, and the property asked with a modal or a comparison ("过氧化值不应超过多少": not
    a window on 酸价)? True when the question names none."""
    asked = [m.group(1) for m in _ACTION_BEFORE.finditer(question)]
    asked += [m.group(1) for m in _ACTION_AFTER.finditer(question)]
    if asked and not any(a in context for a in asked):
        return False
    # half its characters: "电量" is "荷电状态" paraphrased; "过氧化值" is not "酸价", nor
    # "油烟排放浓度不应超过": the comparison words are no part of a property's name (过)
    named = _COMPARE_WORDS.sub(" ", context)
    return all(sum(ch in named for ch in p) >= 0.5 * len(p)
               for p in _asked_properties(question, terms))


# the asking's own nouns ("上限是多少"): they name no property
_ASKING_NOUNS = {"上限", "下限", "限值", "数值", "要求", "指标", "目标", "标准", "时间", "范围", "大小", "多少"}
_ASKING_ADVERBS = re.compile(r"(?:分别|最低|最高|最少|最多|至少|一般|通常|大约|大概|的|之)+$")
_TAIL_WORD = re.compile(rf"[{CJK}]{{2,4}}$")


def _asked_properties(question: str, terms: dict[str, float]) -> list[str]:
    """The property right before an asking phrase that writes a modal or a comparison:
    up to four characters after the last particle ("过氧化值不应超过多少" → 过氧化值), and
    the longest content word ending there ("齿轮泵噪声应不大于" → 轮泵噪声, 噪声)."""
    out = []
    for m in _ASKING_AT.finditer(question):
        if not (m.group("mod") or m.group("cmp")):
            continue
        before = _HEAD_CUT.split(_ASKING_ADVERBS.sub("", question[: m.start()]))[-1]
        w = _TAIL_WORD.search(before)
        words = [t for t in terms if len(t) >= 2 and _CJK_WORD.fullmatch(t) and before.endswith(t)]
        if words:
            out.append(max(words, key=len))
        if w:
            out.append(w.group(0))
    return [p for p in out if p not in _ASKING_NOUNS]


def _offset_from_property(focus: Focus, window: str, terms: dict[str, float]) -> bool:
    """"保质期一般为多少个月" against "保存至产品保质期满后6个月": every quantity of the
    asked kind in the window counts from the asked property's end ("保质期满后",
    "有效期届满前"), so none is the property's own value."""
    asked = [n for n in NUM.finditer(window) if n.group(0) not in focus.numbers
             and (not focus.units or window[n.end():].lstrip().startswith(focus.units))]
    for prop in _asked_properties(focus.question, terms):
        offsets = [m.end() for m in re.finditer(rf"{re.escape(prop)}(?:满|届满|到期)?[后前]", window)]
        if offsets and asked and all(any(0 <= n.start() - e <= 1 for e in offsets) for n in asked):
            return True
    return False


def _pairs_share(word: str, text: str) -> float:
    pairs = [word[i : i + 2] for i in range(len(word) - 1)]
    return sum(p in text for p in pairs) / len(pairs)


def _has_focus(focus: Focus, window: str, sentence: str, terms: dict[str, float],
               context: str = "") -> bool:
    """Does a window carry what the question asks: its quantity (for the asked subject and
    action), the materials or conditions of a procedure, a change between versions?
    ``context`` is the window with its heading path and table caption."""
    context = context or window
    if focus.quantity and not carries(focus, window):
        return False
    if focus.quantity and (sibling_subject(focus.question, window, terms)
                           or _other_level(terms, window, focus.question)
                           or _other_condition(focus.question, window)
                           or _list_total(focus.question, window)
                           or _offset_from_property(focus, window, terms)
                           or not _names_property(focus.question, context, terms)):
        return False
    if focus.asked_object and not any(
            w in window for w in OBJECTS.get(focus.asked_object, (focus.asked_object,))):
        return False
    return not (focus.comparison and (not _CHANGE.search(sentence) or _REPLACES_ONLY.match(sentence)
                                      or not _names_changed_topic(focus.question, window, terms)))


# the words of a comparison question that say *that* versions are compared, not *what*
_VERSION_WORDS = re.compile(r"相比|比较|对比|变化|变动|区别|不同|差异|版|修订|修改|调整|增加|删除|更改|新增|"
                            r"一轮|上一|技术|目标|哪些|内容|方面")
_BOOK_TITLE = re.compile(r"《[^》]*》")
_ASKS_CHANGE = re.compile(r"相比|比较|对比|变化|变动|区别|不同|差异|调整|改了|提高了|降低了")


def _names_changed_topic(question: str, window: str, terms: dict[str, float]) -> bool:
    """Does a change window name what the question asks to compare? "外部短路试验的要求有
    什么变化" is not answered by "更改了过充电试验的充电电压": under half the weight of the
    question's topic words (not its version words, not a document it names in 《》) is
    in the window. True when the question names no topic ("有哪些变化") or asks no change
    ("修订后…应怎样处理被代替的版本": a procedure of versions)."""
    if not _ASKS_CHANGE.search(question):
        return True
    named = _BOOK_TITLE.sub(" ", question)
    topic = {t: w for t, w in terms.items()
             if w >= 1.0 and _CJK_WORD.fullmatch(t) and t in named and not _VERSION_WORDS.search(t)}
    total = sum(topic.values())
    found = sum(w for t, w in topic.items() if _pairs_share(t, window) >= 0.5)
    return total == 0 or found >= 0.5 * total


def _is_front(h: Hit) -> bool:
    c = h.chunk.clause.strip()
    return c in _FRONT_CLAUSES or PUNCT_END.sub("", c) in _FRONT_CLAUSES


def _is_note(s: str) -> bool:
    return s.lstrip().startswith(("注：", "注:", "注1", "注 ", "备注"))
