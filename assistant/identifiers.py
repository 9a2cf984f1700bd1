"""Identifiers people write: Chinese numerals, standard numbers, clause and article references."""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
           "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}


def cn_to_int(s: str) -> int | None:
    """'五十四' → 54, '一百零二' → 102, '十' → 10, '26' → 26, '二〇二〇' → 2020 (digits without
    units are read one by one, as years are written), '一亿二千万' → 120000000; None if not a
    number."""
    s = s.strip()
    if not s:
        return None
    if s.isdigit():
        return int(s)
    if "亿" in s:
        head, _, tail = s.partition("亿")
        a = cn_to_int(head) if head else 1
        b = cn_to_int(tail) if tail else 0
        return None if a is None or b is None else a * 100_000_000 + b
    if len(s) > 1 and all(ch in _DIGITS for ch in s):
        return int("".join(str(_DIGITS[ch]) for ch in s))
    total, section, num = 0, 0, 0
    for ch in s:
        if ch in _DIGITS:
            num = _DIGITS[ch]
        elif ch in _UNITS:
            unit = _UNITS[ch]
            if unit == 10000:
                section = (section + num) * unit
                total += section
                section = 0
            else:
                section += (num or 1) * unit
            num = 0
        else:
            return None
    return total + section + num


def int_to_cn(n: int) -> str:
    """54 → '五十四', 10 → '十', 102 → '一百零二', 1010 → '一千零一十' (as law articles are written)."""
    if n < 0:
        raise ValueError(n)
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    out = ""
    units = [(1000, "千"), (100, "百"), (10, "十")]
    zero = False
    rest = n
    for value, name in units:
        d, rest = divmod(rest, value)
        if d:
            if zero:
                out += "零"
                zero = False
            out += digits[d] + name
        elif out:
            zero = True
    if rest:
        if zero:
            out += "零"
        out += digits[rest]
    return out


# ---------------------------------------------------------------------------------------------
# Standard numbers
# ---------------------------------------------------------------------------------------------

EM_DASH = "—"

# Two-letter codes of the Chinese industry standards (行业标准代号), plus the few three-letter
# codes in common use. Used by find_std_numbers (running text); normalize_std_no accepts any
# 2–4 letter code when the string is clearly a standard number.
INDUSTRY_CODES = frozenset(
    re.split(
        r"\s+",
        """AQ BB CB CH CJ CY DA DL DY DZ EJ FZ GA GC GH GM GY HB HG HJ HS HY JB JC JG JR JT JY
        LB LD LS LY MH MT MZ NB NY QB QC QJ QX RB SB SC SF SH SJ SL SN SW SY TB TD TY WB WH WJ
        WM WS WW XB XF YB YC YD YJ YS YY YZ ZY JGJ CJJ JJF JJG GBJ""",
    )
)
NATIONAL_CODES = frozenset({"GB", "GBZ"})  # GBZ: national occupational-health standards
# letter codes that precede numbers on a standard's cover but are not standard numbers
_NOT_CODES = frozenset({"ICS", "CCS", "ISBN", "ISSN", "CN", "UDC", "PDF"})

_DASHES = "-‐‑‒–—―－_~～"
_YEAR = rf"(?:\s*[{_DASHES}]{{1,2}}\s*(?P<year>\d{{4}}|\d{{2}}))?(?!\d)"
_NUMBER = r"(?P<num>\d{1,6}(?:\s?\.\s?\d{1,4}){0,4})"
# prefix forms: T/CAS, Q/ABC, DB50/T, GB/T, GBT, GB_T, GB/Z, JB/T, YY, GBZ
# An organisation code ends in a letter unless a blank follows it, so that a number
# written onto it ("Q/LJ90210", "T/CECS90209-2022") is not read into the code.
_PREFIX = (
    r"(?:(?P<grp>T)\s*[/_／]\s*(?P<org>[A-Z](?:[A-Z0-9]{0,10}[A-Z]|[A-Z0-9]{1,11}(?=\s)))"
    r"|(?P<ent>Q)\s*[/_／]\s*(?P<eorg>[A-Z0-9](?:[A-Z0-9]{0,10}[A-Z]|[A-Z0-9]{0,11}(?=\s))?)"
    r"|(?P<db>DB)\s*(?P<prov>\d{2})(?:\s*[/_／]?\s*(?P<dbf>[TZ]))?"
    r"|(?P<code>[A-Z]{2,4}?)(?:\s*[/_／]\s*(?P<force>[TZ])|(?P<gluedT>T))?)"
)
_STD_RE = re.compile(
    rf"(?<![A-Za-z0-9/_.]){_PREFIX}[\s_]*{_NUMBER}{_YEAR}(?![\d.][\d])", re.IGNORECASE
)


def _std_from_match(m: re.Match[str], strict: bool) -> str | None:
    num = re.sub(r"\s", "", m.group("num"))
    year = m.group("year") or ""
    if m.group("grp"):
        prefix = "T/" + m.group("org").upper()
    elif m.group("ent"):
        prefix = "Q/" + m.group("eorg").upper()
    elif m.group("db"):
        prefix = "DB" + m.group("prov") + ("/" + m.group("dbf").upper() if m.group("dbf") else "")
    else:
        code = m.group("code").upper()
        force = (m.group("force") or "").upper()
        if m.group("gluedT"):
            # "GBT 1.1" = GB/T; "JGJT" is not a thing, but "GBZT" = GBZ/T
            force = "T"
        known = code in NATIONAL_CODES or code in INDUSTRY_CODES
        if (not known and not force and len(code) == 3 and code[2] in "TZ"
                and code[:2] in INDUSTRY_CODES | {"GB"}):
            # "JBZ 1" = JB/Z 1 ("GBZ" itself is known: occupational health)
            code, force = code[:2], code[2]
            known = True
        if strict and not known:
            return None
        if strict and m.group(0)[:2].islower() and code != "GB" and not code.startswith("GB"):
            return None  # lower-case industry codes in running text are words, not numbers
        prefix = code + ("/" + force if force else "")
    if year:
        if len(year) == 2:
            year = "19" + year  # two-digit years were used until the late 1990s
        return f"{prefix} {num}{EM_DASH}{year}"
    return f"{prefix} {num}"


def normalize_std_no(s: str) -> str | None:
    """Any common spelling of a standard number → ``"GB/T 1.1—2020"`` (None if it is not one).

    ``GB/T1.1-2020``, ``GBT 1.1-2020``, ``GB_T_1.1-2020``, ``gb/t 1.1–2020`` → ``GB/T 1.1—2020``;
    without a year → ``GB/T 1.1``; two-digit years are expanded (``GB 4943-95`` → ``GB 4943—1995``).
    The whole string (surrounding blanks, a file suffix and an identical-adoption tail such as
    ``/ISO 9001:2015`` aside) must be the number.
    """
    if not s:
        return None
    t = s.strip().strip("《》「」\"'")
    t = re.sub(r"\.(pdf|docx?|txt|md|html?)$", "", t, flags=re.IGNORECASE)
    t = t.replace("／", "/").replace("\u3000", " ")
    m = _STD_RE.match(t)
    if not m:
        return None
    rest = t[m.end():].strip()
    # allowed tails: an identical adoption ("/ISO 9001:2015"), or after "_" or a blank a
    # title, as in file names ("GB_T_1.1-2020_标准化工作导则")
    if (rest and not re.match(r"^(/|\(|（)?\s*(ISO|IEC|ITU|EN|IEEE|OIML|CAC)\b", rest, re.I)
            and not re.match(r"^[_\s]", t[m.end():])):
        return None
    no = _std_from_match(m, strict=False)
    if no and not (m.group("grp") or m.group("ent") or m.group("db")):
        code = no.split(" ", 1)[0].split("/", 1)[0]
        known = code in NATIONAL_CODES or code in INDUSTRY_CODES
        # an unknown letter code is a standard number only with /T, /Z or a year
        if code in _NOT_CODES or not (known or "/" in no.split(" ", 1)[0] or EM_DASH in no):
            return None
    return no


# International standards, cited beside Chinese ones ("等同采用ISO 9001:2015"): the year
# follows a colon, a dash separates parts ("IEC 60335-1:2020").
_INTL_RE = re.compile(
    r"(?<![A-Za-z0-9_.])(?P<org>ISO/IEC|ISO/TS|ISO/TR|IEC/TS|IEC/TR|ISO|IEC|EN|IEEE)"
    r"\s*(?P<num>\d{1,6}(?:\.\d{1,4}){0,4}(?:-\d{1,4}){0,3})(?:\s*:\s*(?P<year>\d{4}))?(?!\.?\d)"
)


def std_number_spans(text: str, international: bool = False) -> list[tuple[int, int, str]]:
    """``(start, end, normalised number)`` of every standard number in running text, in order.

    Chinese numbers as :func:`find_std_numbers` takes them; ``international`` adds ISO, IEC,
    ISO/IEC, EN and IEEE numbers, normalised as ``"ISO 9001:2015"``.
    """
    t = text.replace("／", "/")  # same length: the spans hold for ``text``
    spans: list[tuple[int, int, str]] = []
    for m in _STD_RE.finditer(t):
        no = _std_from_match(m, strict=True)
        if no:
            spans.append((m.start(), m.end(), no))
    if international:
        for m in _INTL_RE.finditer(t):
            if any(s < m.end() and m.start() < e for s, e, _ in spans):
                continue
            year = f":{m.group('year')}" if m.group("year") else ""
            spans.append((m.start(), m.end(), f"{m.group('org')} {m.group('num')}{year}"))
        spans.sort()
    return spans


def find_std_numbers(text: str, international: bool = False) -> list[str]:
    """All standard numbers in running text, normalised, in order of appearance, no repeats.

    Only known prefixes are taken (GB, GB/T, GB/Z, GBZ, the industry codes, DBnn, T/…, Q/…), so
    dates ("2020-03-31"), clause numbers ("5.2.3"), sizes ("16GB") are not numbers;
    ``international`` adds ISO/IEC/EN/IEEE numbers (see :func:`std_number_spans`).
    """
    return list(dict.fromkeys(no for _, _, no in std_number_spans(text, international)))


def split_std_no(no: str) -> tuple[str, str, str] | None:
    """``"GB/T 1.1—2020"`` → ``("GB/T", "1.1", "2020")``; year "" when absent."""
    n = normalize_std_no(no)
    if not n:
        return None
    prefix, _, rest = n.partition(" ")
    num, _, year = rest.partition(EM_DASH)
    return prefix, num, year


def std_base(no: str) -> str:
    """The number without its year, for grouping versions: ``GB/T 1.1—2020`` → ``GB/T 1.1``."""
    parts = split_std_no(no)
    if not parts:
        return no.strip()
    return f"{parts[0]} {parts[1]}"


def std_year(no: str) -> str:
    parts = split_std_no(no)
    return parts[2] if parts else ""


def std_category(no: str) -> tuple[str, str]:
    """(category, force) of a standard number.

    category: national / industry / local / group / enterprise; force: mandatory /
    recommended / guidance for national, industry and local standards (no suffix = mandatory,
    /T = recommended, /Z = guidance); group and enterprise standards → "" (they bind only
    those who adopt them). ("", "") when ``no`` is not a standard number.
    """
    parts = split_std_no(no)
    if not parts:
        return "", ""
    prefix = parts[0]
    if prefix.startswith("T/"):
        return "group", ""
    if prefix.startswith("Q/"):
        return "enterprise", ""
    code, _, suffix = prefix.partition("/")
    force = {"T": "recommended", "Z": "guidance"}.get(suffix, "mandatory")
    if code.startswith("DB"):
        return "local", force
    if code in NATIONAL_CODES:
        return "national", force
    return "industry", force


# ---------------------------------------------------------------------------------------------
# Clause labels and references in questions
# ---------------------------------------------------------------------------------------------

_FULLWIDTH = str.maketrans("０１２３４５６７８９．ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ",
                           "0123456789.ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_CN_NUM = "零〇○一二三四五六七八九十百千万两"


def normalize_clause_label(label: str) -> str:
    """Canonical spelling of a standard's clause label: ``"附 录 A"`` → ``"附录A"``,
    ``"８．６"`` → ``"8.6"``, ``"a.1"`` → ``"A.1"``, ``"第8.6条"`` → ``"8.6"``."""
    s = label.translate(_FULLWIDTH).strip()
    s = re.sub(r"\s+", "", s)
    m = re.fullmatch(r"第?(\d+(?:\.\d+)*)[条章节款]?", s)
    if m:
        return m.group(1)
    m = re.fullmatch(r"附录([A-Za-z])", s)
    if m:
        return "附录" + m.group(1).upper()
    m = re.fullmatch(r"([A-Za-z])(\.\d+)+", s)
    if m:
        return s[0].upper() + s[1:]
    return s


def law_key(title: str) -> str:
    """'中华人民共和国标准化法' and '标准化法' name the same law; a trailing "(2018年修正)" is
    dropped."""
    t = re.sub(r"^中华人民共和国", "", title.strip().strip("《》"))
    return re.sub(r"[（(]\d{4}.*?[)）]$", "", t)


def law_article_label(s: str) -> str | None:
    """``"26"``, ``"第26条"``, ``"二十六条"``, ``"第二十六条之一"`` → ``"第二十六条"`` /
    ``"第二十六条之一"`` (Chinese numerals, as articles are written in laws)."""
    t = re.sub(r"\s+", "", s.translate(_FULLWIDTH))
    m = re.fullmatch(rf"第?([\d{_CN_NUM}]+)条?(?:之([\d{_CN_NUM}]+))?", t)
    if not m:
        return None
    n = cn_to_int(m.group(1))
    if n is None or n <= 0:
        return None
    out = f"第{int_to_cn(n)}条"
    if m.group(2):
        k = cn_to_int(m.group(2))
        if k:
            out += f"之{int_to_cn(k)}"
    return out


@dataclass
class Reference:
    """An explicit reference in a question: a standard (and clause) or a law article."""

    std_no: str = ""
    law: str = ""
    clause: str = ""


_LAW_SUFFIX = (r"(?:实施方案|实施细则|实施办法|实施条例|条例|规定|办法|细则|解释|决定|规则|方案|"
               r"准则|章程|规程|纲要|意见|通知|公约|法典|法)")
_ARTICLE = (rf"(?:第\s*(?P<n1>[\d{_CN_NUM}]+)\s*条|(?<![\d.第])(?P<n2>\d{{1,4}})\s*条)"
            rf"(?:\s*之\s*(?P<sub>[\d一二三四五六七八九十]+))?")
_LAW_QUOTED = re.compile(rf"《(?P<name>[^《》]{{2,60}})》\s*(?:的|中的?|里的?)?\s*{_ARTICLE}")
_LAW_BARE = re.compile(
    rf"(?P<name>[\u4e00-\u9fff（）()〔〕·、]{{1,40}}?{_LAW_SUFFIX})\s*(?:的|中的?|里的?)?\s*{_ARTICLE}"
)
_FILLERS = ("请问一下", "请问", "请教", "我想知道", "想知道", "我想问", "想问", "我想了解",
            "了解一下", "查一下", "查询", "查看", "看看", "看一下", "根据", "依据", "按照", "依照",
            "对照", "对于", "关于", "说说", "讲讲", "解释一下", "告诉我", "请", "问", "在", "那么", "那",
            "按")
_PRC = "中华人民共和国"

_STD_CLAUSE = re.compile(
    r"\s*(?:《[^》]{0,80}》)?\s*(?:标准|文件)?\s*(?:的|中的?|之|里的?|是)?\s*(?:第\s*)?"
    r"(?P<clause>附\s*录\s*[A-Za-z](?![A-Za-z])(?:\s*[.．]\s*\d+)*|[A-Z]\s*[.．]\s*\d+(?:\s*[.．]\s*\d+)*"
    r"|\d{1,2}(?:\s*[.．]\s*\d{1,3}){0,5})(?![\d.])\s*(?P<unit>条|款|章|节|项)?"
)


def _clean_law_name(name: str, keep_prc: bool = False) -> str:
    name = name.strip().strip("《》")
    changed = True
    while changed:
        changed = False
        for f in _FILLERS:
            if name.startswith(f) and len(name) > len(f) + 1:
                name = name[len(f):]
                changed = True
    # "安全生产法和产品质量法第26条": the article belongs to the last law named (split after
    # "中华人民共和国", whose 和 is no conjunction)
    prc = _PRC if name.startswith(_PRC) and len(name) > len(_PRC) + 1 else ""
    name = name[len(prc):]
    parts = [p for p in re.split(r"以及|[、，,；;和与及或]", name) if p]
    if len(parts) > 1 and re.search(f"{_LAW_SUFFIX}$", parts[-1]) and len(parts[-1]) >= 2:
        name, prc = parts[-1], ""
        if name.startswith(_PRC) and len(name) > len(_PRC) + 1:
            name, prc = name[len(_PRC):], _PRC
    return prc + name if keep_prc else name


def _article_from(m: re.Match[str]) -> str | None:
    n = m.group("n1") or m.group("n2")
    label = law_article_label(n)
    if label and m.group("sub"):
        sub = cn_to_int(m.group("sub"))
        if sub:
            label += f"之{int_to_cn(sub)}"
    return label


# Without an article to anchor it, a bare name must end in one of the suffixes that are
# rarely a plain word ("决定", "意见", "通知" are), and is cut at the question around it.
_NAMED_SUFFIX = r"(?:法典|法|条例|细则|办法|规定|规则|导则|纲要|方案)"
_LAW_NAMED = re.compile(
    rf"《(?P<quoted>[^《》]{{2,60}})》|(?P<bare>[\u3400-\u4dbf\u4e00-\u9fff]{{2,20}}?{_NAMED_SUFFIX})"
)
# what stands before a bare name in a question: "…的", "关于印发…", "怎样规定" (not 对外贸易法)
_NAME_LEAD = re.compile(r"^.*(?:的|是|在|知道|关于|印发|对(?!外)|哪[里些个儿]?|怎[样么]?|如何|什么|为何)")
# words that end like a law's name but are not one
_NOT_LAW_NAMES = frozenset({"方法", "办法", "合法", "违法", "依法", "非法", "用法", "说法", "做法",
                            "立法", "执法", "司法", "守法", "想法", "看法", "规定", "有关规定",
                            "相关规定"})


def find_law_name(text: str) -> str:
    """The first law, regulation, policy or guideline named in ``text``, with or without an
    article, as written; "" when none.

    A title in 《》 is taken whole (``"根据《中华人民共和国标准化法》"`` →
    ``"中华人民共和国标准化法"``); a bare name ends in 法/条例/办法/规定/方案/… and loses the
    question in front of it (``"我想知道食品安全法的规定"`` → ``"食品安全法"``). Words such as
    方法, 违法, 依法 are not names. Unlike :func:`parse_reference`, "中华人民共和国" is kept.
    """
    for m in _LAW_NAMED.finditer(text.translate(_FULLWIDTH)):
        if m.group("quoted"):
            return m.group("quoted").strip()
        bare = m.group("bare")
        name = _NAME_LEAD.sub("", bare)
        name = _clean_law_name(name if len(name) >= 2 else bare, keep_prc=True)
        if name not in _NOT_LAW_NAMES:
            return name
    return ""


def parse_reference(text: str) -> Reference | None:
    """An explicit reference in a question, or None.

    ``"GB/T 1.1 的 8.6"`` → ``Reference("GB/T 1.1", "", "8.6")``; ``"GB/T1.1-2020第8.6条"`` →
    ``("GB/T 1.1—2020", "", "8.6")``; ``"GB/T 1.1—2020 附录A"`` → clause ``"附录A"``;
    ``"标准化法第十条"`` / ``"《中华人民共和国标准化法》第十条"`` → ``("", "标准化法", "第十条")``;
    ``"产品质量法 26条"`` → ``("", "产品质量法", "第二十六条")``. A standard number without a
    clause gives ``Reference(std_no=…)`` with ``clause == ""``; a dotted clause alone
    (``"第8.6条"``) gives ``Reference(clause="8.6")``. Law names lose a leading
    "中华人民共和国" and question fillers ("请问", "根据" …).
    """
    if not text or not text.strip():
        return None
    t = text.translate(_FULLWIDTH).replace("／", "/")
    # 1. a standard number, maybe followed by a clause
    std_hit: Reference | None = None
    for m in _STD_RE.finditer(t):
        no = _std_from_match(m, strict=True)
        if not no:
            continue
        ref = Reference(std_no=no)
        cm = _STD_CLAUSE.match(t, m.end())
        if cm:
            raw = cm.group("clause")
            bare_int = re.fullmatch(r"\d+", raw.strip()) is not None
            # "GB/T 1.1 中的 3 个要素": a bare integer is a chapter only with 第 … or … 章/条
            if not bare_int or cm.group("unit") or "第" in cm.group(0):
                ref.clause = normalize_clause_label(raw)
        if ref.clause.startswith("附录"):
            # "附录A 的 A.2": the clause inside the annex is the more specific reference
            letter = ref.clause[-1]
            inner = re.search(rf"(?<![A-Za-z0-9.]){letter}(?:\.\d{{1,3}}){{1,4}}(?![\d.])",
                              t[cm.end():] if cm else "")
            if inner:
                ref.clause = inner.group(0)
        if ref.clause:
            return ref
        std_hit = std_hit or ref
    # 2. a law article
    lm = _LAW_QUOTED.search(t) or _LAW_BARE.search(t)
    if lm:
        art = _article_from(lm)
        name = _clean_law_name(lm.group("name"))
        if art and name:
            return Reference(law=name, clause=art)
    if std_hit:
        return std_hit
    # 3. a clause alone: "第8.6条", "8.6条", "附录A"
    m = re.search(r"(?<![\d.A-Za-z])第?\s*(\d{1,2}(?:\.\d{1,3}){1,5})\s*条", t)
    if m:
        return Reference(clause=m.group(1))
    m = re.search(r"附\s*录\s*([A-Z])(?![A-Za-z])", t)
    if m:
        return Reference(clause="附录" + m.group(1))
    return None


_FRONT = {"封面": 0, "目次": 1, "目录": 1, "前言": 2, "引言": 3}
_BACK = {"参考文献": 7, "索引": 8}


def clause_sort_key(label: str) -> tuple[int, tuple[int, ...], str]:
    """Order of clauses as they appear in a document: 前言 < 引言 < 1 < 1.1 < 2 … < 附录A <
    A.1 < 附录B < 参考文献 < 索引; law articles 第一条 < 第二条 < 第二条之一 < 第十条;
    policy items （一） < （二）. Unknown labels sort last, by text."""
    s = re.sub(r"\s+", "", label.translate(_FULLWIDTH))
    if s in _FRONT:
        return (_FRONT[s], (), s)
    if s in _BACK:
        return (_BACK[s], (), s)
    m = re.fullmatch(r"\d+(?:\.\d+)*", s)
    if m:
        return (4, tuple(int(x) for x in s.split(".")), s)
    m = re.fullmatch(r"附录([A-Za-z])", s)
    if m:
        return (6, (ord(m.group(1).upper()) - 64,), s)
    m = re.fullmatch(r"([A-Za-z])((?:\.\d+)+)", s)
    if m:
        return (6, (ord(m.group(1).upper()) - 64, *(int(x) for x in m.group(2)[1:].split("."))), s)
    m = re.fullmatch(rf"第([\d{_CN_NUM}]+)(条|章|节|编|款)(?:之([\d{_CN_NUM}]+))?", s)
    if m:
        n = cn_to_int(m.group(1)) or 0
        sub = cn_to_int(m.group(3)) if m.group(3) else 0
        return (5, (n, sub or 0), s)
    m = re.fullmatch(rf"[（(]([\d{_CN_NUM}]+)[)）]", s)
    if m:
        return (5, (cn_to_int(m.group(1)) or 0,), s)
    m = re.fullmatch(rf"([{_CN_NUM}]+)、?", s)
    if m:
        return (5, (cn_to_int(m.group(1)) or 0,), s)
    return (9, (), s)
