"""The cover of a standard → title, dates, replaced numbers, issuing body, adoption.

A cover is written one item a line in a PDF ("中华人民共和国国家标准" / "GB/T 1.1—2020" /
"代替 GB/T 1.1—2009" / title lines / English title / "2020-03-31 发布" …), but web pages,
Markdown conversions and browser prints often run several items into one line
("中华人民共和国国家标准 GB/T 40001—2026 数字标准 通用要求 Digital … 2026-01-10发布 …") or write
them as "发布日期：2022-12-30｜实施日期：2023-07-01". The cover is therefore first cut into
*items* — at standard numbers, kind phrases, dates, "key：value" labels and the start of an
English title — and the title is the run of Chinese items after the number.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from ..identifiers import find_std_numbers, normalize_std_no, std_number_spans
from .catalog import field_of

_DATE = (r"(?P<y>(?:19|20)\d{2})\s*(?:年|[-－—–./])\s*(?P<m>\d{1,2})\s*(?:月|[-－—–./])\s*"
         r"(?P<d>\d{1,2})\s*日?")
ISSUED_RE = re.compile(_DATE + r"\s*发\s*布")
EFFECTIVE_RE = re.compile(_DATE + r"\s*实\s*施")
_DATED = re.compile(_DATE + r"\s*(?:发\s*布|实\s*施)")
_KIND = re.compile(r"^(?:中华人民共和国)?\S{0,14}?(?:国家|行业|地方|团体|企业|国家军用|国家职业卫生)标准"
                   r"(?:化指导性技术文件)?(?=\s|$|[A-Z])")
# "发布日期：2022-12-30", "标准状态: 现行" (a label of at most 8 characters before a colon)
_LABEL = re.compile(r"(?:(?<=\s)|^)(?P<key>[\u4e00-\u9fffA-Za-z_\- ]{2,12}?)\s*[:：]\s*")
_ENGLISH = re.compile(r"(?<=[\u4e00-\u9fff）)\s])\s*(?=[A-Z][a-z]+(?:[\s,—–\-:]+[A-Za-z]+){1,})")
_SKIP = re.compile(
    r"^(?:ICS|CCS|备案号|中国标准文献分类号|[A-Z]\s?\d{2}\b|DB\s?\d{2}$|[A-Z]{1,4}$"
    r"|[（(]?(?:征求意见稿|送审稿|报批稿|草案|发布稿)[)）]?$|在提交反馈意见时)"
)
_ORG = re.compile(r"(?:总局|委员会|管理局|监督局|人民政府|协会|学会|联合会|公司|厂|研究院|中心|部|厅|局)"
                  r"(?:\s*(?:发\s*布|联合发布))?$")
_ADOPT_CODE = re.compile(
    r"[（(]\s*(?P<ref>(?:ISO|IEC|ITU|EN|IEEE|ASTM|JIS|DIN|BS|API|OIML|CAC)[^()（）]{1,60}?)"
    r"\s*[,，]\s*(?P<code>IDT|MOD|NEQ|EQV)\s*[)）]")
_ADOPT_TEXT = re.compile(
    r"(?P<how>等同采用|修改采用|非等效采用|参照采用|等效采用)\s*(?P<ref>(?:ISO|IEC|ITU|EN|IEEE|ASTM|JIS|DIN|BS|API|OIML|CAC)"
    r"[A-Za-z/ ]*\s*[\d.:：\-—–]+\d)")
_CJK_LATIN_GAP = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[0-9])|(?<=[0-9])\s+(?=[\u4e00-\u9fff])")
_ADOPT_CODES = {"等同采用": "IDT", "修改采用": "MOD", "非等效采用": "NEQ", "参照采用": "NEQ",
                "等效采用": "EQV"}


@dataclass
class Cover:
    title: str = ""
    issued: str = ""
    effective: str = ""
    replaces: list[str] = field(default_factory=list)
    issuer: str = ""
    adoption: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # "key：value" items (key as written)


def iso(m: re.Match[str]) -> str:
    y, mo, d = int(m.group("y")), int(m.group("m")), int(m.group("d"))
    if 1 <= mo <= 12 and 1 <= d <= 31:
        return f"{y:04d}-{mo:02d}-{d:02d}"
    return ""


def read_cover(lines: list[str], std_no: str) -> Cover:
    """Title, dates, replaced numbers, issuer and adoption written on a cover."""
    cover = Cover()
    text = "\n".join(lines)
    m = ISSUED_RE.search(text)
    cover.issued = iso(m) if m else ""
    m = EFFECTIVE_RE.search(text)
    cover.effective = iso(m) if m else ""
    items: list[str] = []
    for line in lines:
        items.extend(split_items(line, cover.fields))
    _replaces(items, std_no, cover)
    cover.title = _title(items)
    cover.issuer = " ".join(dict.fromkeys(_issuers(items)))
    cover.adoption = adoption(text)
    return cover


def split_items(line: str, fields: dict[str, str]) -> list[str]:
    """One cover line → its items; "key：value" items go into ``fields``."""
    out: list[str] = []
    for piece in re.split(r"\s*[｜|]\s*|\s{3,}", line):
        for part in _cut(piece):
            lm = _LABEL.match(part)
            if lm and field_of(lm.group("key")) and part[lm.end():].strip():
                fields.setdefault(lm.group("key").strip(), part[lm.end():].strip())
                continue
            if part.strip():
                out.append(part.strip())
    return _pair_html_rows(out, fields)


def _cut(piece: str) -> list[str]:
    """Cut at standard numbers, kind phrases, dated 发布/实施 and an English title."""
    marks = {0, len(piece)}
    for s, e, _ in std_number_spans(piece):
        marks.update((s, e))
    for m in _DATED.finditer(piece):
        marks.update((m.start(), m.end()))
    for m in re.finditer(r"(?:(?<=\s)|^)[\u4e00-\u9fffA-Za-z]{2,12}\s*[:：]", piece):
        if field_of(m.group(0)):
            marks.add(m.start())
    km = _KIND.match(piece)
    if km:
        marks.add(km.end())
    em = _ENGLISH.search(piece)
    if em and re.search(r"[\u4e00-\u9fff]", piece[:em.start()]):
        marks.add(em.start())
    cuts = sorted(marks)
    return [piece[a:b].strip() for a, b in itertools.pairwise(cuts) if piece[a:b].strip()]


def _pair_html_rows(items: list[str], fields: dict[str, str]) -> list[str]:
    """"发布日期", "2022-12-30" as two items (a "key | value" row): a field, not text."""
    out: list[str] = []
    i = 0
    while i < len(items):
        if field_of(items[i]) and i + 1 < len(items) and not field_of(items[i + 1]):
            fields.setdefault(items[i], items[i + 1])
            i += 2
            continue
        out.append(items[i])
        i += 1
    return out


def _replaces(items: list[str], std_no: str, cover: Cover) -> None:
    for i, s in enumerate(items):
        if "代替" in s or "替代" in s:
            tail = re.split(r"代替|替代", s, maxsplit=1)[1]
            # "代替" alone, or ending with "、": the numbers are the next items
            j = i + 1
            while j < len(items) and (not find_std_numbers(tail) or tail.rstrip().endswith(
                    ("、", ",", "，", "和"))) and normalize_std_no(items[j].strip("、,，和 ")):
                tail += " " + items[j]
                j += 1
            for no in find_std_numbers(tail):
                if no != std_no and no not in cover.replaces:
                    cover.replaces.append(no)


def _is_number(s: str) -> bool:
    return not re.search(r"[\u4e00-\u9fff]", s) and bool(normalize_std_no(s))


def _not_title(s: str) -> bool:
    """Cover items that are never part of the title."""
    km = _KIND.match(s)
    return bool(_SKIP.match(s) or (km and km.end() == len(s)) or _DATED.search(s)
                or "代替" in s or "替代" in s or _ascii_ratio(s) > 0.6
                or not re.search(r"[\u4e00-\u9fff]", s) or (_ORG.search(s) and len(s) <= 40)
                or normalize_std_no(s))


def _title(items: list[str]) -> str:
    """The Chinese items between the number (and its 代替 item) and the English title,
    the dates or the issuers."""
    after = 0
    for i, s in enumerate(items):
        if "代替" in s or "替代" in s or _is_number(s):
            after = i + 1
        elif after and not _not_title(s):
            break
    parts: list[str] = []
    for s in items[after:]:
        if _not_title(s):
            if parts:
                break
            continue
        parts.append(s)
    if not parts:
        return ""
    # "第 2 部分": the blanks an office suite's Asian–Latin spacing leaves in a PDF
    parts = [_CJK_LATIN_GAP.sub("", p) for p in parts]
    title = parts[0]
    for p in parts[1:]:
        sep = " " if (re.match(r"第\s*\d+\s*部分", p) or len(parts[0]) <= 12) else ""
        title += sep + p
    return title.strip()


def _issuers(items: list[str]) -> list[str]:
    out = []
    for s in items:
        if _ORG.search(s) and not _DATED.search(s) and len(s) <= 60 and not _ascii_ratio(s) > 0.6:
            name = re.sub(r"\s*(?:联合)?发\s*布$", "", s).strip()
            out.extend(x for x in name.split() if x)
    return out


def _ascii_ratio(s: str) -> float:
    chars = [ch for ch in s if not ch.isspace()]
    if not chars:
        return 0.0
    return sum(1 for ch in chars if ch.isascii() and ch.isalpha()) / len(chars)


def adoption(text: str) -> str:
    """"ISO 9001:2015, IDT" from a cover's "(ISO 9001:2015, IDT)" or a foreword's
    "本文件等同采用ISO 9001:2015"; "" when the text adopts nothing."""
    m = _ADOPT_CODE.search(text)
    if m:
        return f"{' '.join(m.group('ref').split())}, {m.group('code')}"
    m = _ADOPT_TEXT.search(text)
    if m:
        ref = " ".join(m.group("ref").replace("：", ":").split())
        return f"{ref}, {_ADOPT_CODES[m.group('how')]}"
    return ""
