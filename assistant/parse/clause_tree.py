"""The clause tree of a standard: which lines open a clause (numbered clauses, 前言/引言,
annexes, 参考文献), which are body text, and how wrapped lines are rejoined (see
:mod:`assistant.parse.standard`, whose lines it walks)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..records import Clause

# ---------------------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------------------

_CLAUSE_RE = re.compile(
    r"^(?P<label>(?:N?[A-Z]|\d{1,2})(?:\.\d{1,3}){0,5})(?![\d.])(?P<sep>\s*)(?P<rest>.*)$"
)
_ANNEX_RE = re.compile(
    r"^附\s*录\s*(?P<letter>N?[A-Z])(?![A-Za-z])\s*"
    r"(?P<marker>[（(]\s*(?:规范性|资料性|参考性|提示性|标准的|提示的|补充件|参考件)[^)）]{0,6}[)）])?"
    r"\s*(?P<rest>.*)$"
)
_MARKER_RE = re.compile(r"^[（(]\s*(?:规范性|资料性|参考性|提示性|标准的|提示的|补充件|参考件)[^)）]{0,6}[)）]$")
_SENTENCE_PUNCT = re.compile(r"[。；;！!？?，,：:]")
_SENTENCE_END = ("。", "；", ";", "！", "!", "？", "?", "：", ":")
# a heading's title never starts with these (they start cross-references and measurements)
_NOT_TITLE_START = re.compile(
    r"^(?:的|之|和|或|及(?!时)|与|至|所(?!有)"
    r"|中(?:规定|的|所|给出|列出|提及|要求|描述|确定|指定)"
    r"|规定的|要求的|给出的|所述|进行|应(?!用|急|答|变|力)|不应|不得|宜|均|即|以及|以上|以下|以内"
    r"|[~～\-—–%‰×*/:：，。、；;）)」』”’.,+=<>≤≥±]|个|倍"
    r"|(?:mm|cm|km|m|kg|g|mg|t|L|mL|℃|°|V|kV|A|mA|W|kW|Hz|h|min|s|d|Pa|kPa|MPa|dB|lx|cd|N)"
    r"(?=$|[\s,，。;；)）/内以后前的和或及至~～\-\d]))"
)
# a previous line ending with one of these continues into the next line
_CONTINUES = re.compile(r"(?:见|按|按照|依据|根据|参照|参见|符合|满足|遵守|执行|采用|引用|和|与|或|及|的|在|、|，|,|（|\()$")
_LIST_ITEM = re.compile(r"^(?:[a-z][)）]|\d{1,2}[)）]|[（(]\d{1,2}[)）]|——|—|•|·|[-*] )")
_BLOCK_START = re.compile(
    r"^(?:注\s*\d*\s*[：:]|注\s*\d+|示例\s*\d*\s*[：:]?|表\s*[A-Z]?\.?\d+|图\s*[A-Z]?\.?\d+|\[\d+\]"
    r"|[a-z][)）]|\d{1,2}[)）]|[（(]\d{1,2}[)）]|——|•"
    r"|(?:GB|DB\d{2}|[A-Z]{2,4}|T/[A-Z0-9]+|Q/[A-Z0-9]+)(?:/[TZ])?\s?\d[\d.]*(?:\s*[—–-]\s*\d{4})?\s"
    r"|ISO(?:/IEC)?\s|IEC\s)"
)
_TABLE_CAPTION = re.compile(r"^表\s*(?:[A-Z]\s*\.\s*)?\d+(?:\s|$|[\u4e00-\u9fff（(])")
_TOC_LEADER = re.compile(r"(?:…{1,}|\.{3,}|·{3,}|-{4,}|_{4,}|\s{4,})")
_TOC_PAGE = re.compile(r"(?:\s|…|\.|·)(?:[IVXLC]{1,6}|\d{1,3})$")
_FRONT = {"前言": "前言", "引言": "引言"}
_BACK = {"参考文献": "参考文献", "索引": "索引"}
_TERMS_CHAPTER = re.compile(r"术语|定义")
_TERM_SPLIT = re.compile(r"^(?P<zh>.*?[\u4e00-\u9fff）)\]］0-9])\s+(?P<en>[A-Za-z][A-Za-z0-9 ,;'()\-/.]*)$")


@dataclass
class _Line:
    text: str
    page: int
    blank_before: bool = False


@dataclass
class _Open:
    label: str
    heading: str
    path: list[str]
    page_start: int
    lines: list[_Line] = field(default_factory=list)  # heading lines first, then body
    n_head: int = 1  # how many of ``lines`` are heading lines (never joined)



def _compact(s: str) -> str:
    return re.sub(r"\s+", "", s)


_TOC_ENTRY = re.compile(
    r"^(?:前\s*言|引\s*言|参\s*考\s*文\s*献|索\s*引|附\s*录\s*N?[A-Z].*|(?:N?[A-Z]|\d{1,2})(?:\.\d{1,3})*\s*\S.*?)"
    r"\s+(?:[IVXLC]{1,6}|\d{1,3})$"
)


def _is_toc_line(s: str) -> bool:
    """An entry of the 目次: leaders and a page number, or (inside the 目次) an entry with a
    page number only."""
    return bool(_TOC_LEADER.search(s) and _TOC_PAGE.search(s)) or bool(
        re.search(r"[\u4e00-\u9fff）)]\s*(?:…+|\.{3,}|·{3,})\s*(?:[IVXLC]+|\d+)?$", s)) or bool(
        _TOC_ENTRY.match(s))


# ---------------------------------------------------------------------------------------------
# clause tree
# ---------------------------------------------------------------------------------------------

def _title_like(rest: str, max_len: int = 40, strict: bool = True) -> bool:
    s = rest.strip()
    if not s or len(s) > max_len:
        return False
    if _SENTENCE_PUNCT.search(re.sub(r"(?<=\d)[:,](?=\d)", "", s)):  # "ISO 9001:2015" is no colon
        return False
    if strict and _NOT_TITLE_START.match(s):
        return False
    return bool(re.search(r"[\u4e00-\u9fffA-Za-z]", s))


def _heading_like(s: str) -> bool:
    """"5 要素", "A.1 通则": a line shaped like a heading (even where it is not one)."""
    m = _CLAUSE_RE.match(s)
    return bool(m and m.group("sep") and _title_like(m.group("rest"), 30))


def _next_annexes(cur: str) -> set[str]:
    """Annex letters that may follow ``cur``: A, B, C … then the national annexes NA, NB …"""
    if not cur:
        return {"A", "NA"}
    if len(cur) == 1:
        return {chr(ord(cur) + 1), "NA"}
    return {"N" + chr(ord(cur[1]) + 1)}


def _key(label: str) -> tuple:
    parts = label.split(".")
    head = parts[0]
    nums = tuple(int(x) for x in parts[1:])
    if head.isdigit():
        return (int(head), *nums)
    return (head, *nums)


def _next_keys(prev: tuple | None, annex: str) -> tuple[set[tuple], set[tuple]]:
    """(valid next keys, keys valid only when one heading was missed)."""
    if prev is None:
        if annex:
            return {(annex, 1)}, {(annex, 2)}
        return {(1,), (0,)}, {(2,)}
    ok: set[tuple] = set()
    skip: set[tuple] = set()
    if len(prev) < 6:
        ok.add((*prev, 1))
        skip.add((*prev, 2))
        if len(prev) < 5:
            skip.add((*prev, 1, 1))  # the heading of the first child was lost
    for k in range(len(prev)):
        if isinstance(prev[k], str):
            continue
        ok.add((*prev[:k], prev[k] + 1))
        skip.add((*prev[:k], prev[k] + 2))
        if k + 1 < 6:
            skip.add((*prev[:k], prev[k] + 1, 1))  # the heading of the next sibling was lost
    return ok, skip - ok


class _Parser:
    def __init__(self, lines: list[_Line], start: int, title: str, joinable: bool) -> None:
        self.lines = lines
        self.start = start
        self.title = _compact(title)
        self.joinable = joinable
        self.clauses: list[Clause] = []
        self.cur: _Open | None = None
        self.prev_key: tuple | None = None
        self.stack: list[tuple[tuple, str]] = []  # (key, "label heading") of open numbered clauses
        self.annex = ""  # current annex letter
        self.annex_path = ""
        self.chapter_seen = False
        self.in_terms = False
        self.in_table = False
        self.body_title = ""
        self.in_back = False  # after 参考文献 / 索引: no more clauses or annexes

    # -- driver ---------------------------------------------------------------------------
    def run(self) -> list[Clause]:
        i = self.start
        n = len(self.lines)
        if i < n and _compact(self.lines[i].text) in ("目次", "目录"):
            i += 1
            while i < n and (_is_toc_line(self.lines[i].text) or self._toc_entry(i)):
                i += 1
        while i < n:
            i = self._step(i)
        self._close()
        return self.clauses

    def _toc_entry(self, i: int) -> bool:
        """A TOC entry "前言"/"引言" without leaders or page number: followed by another entry."""
        s = self.lines[i].text
        if _compact(s) in ("前言", "引言"):
            # the real 前言 is followed by text, a TOC entry by another entry
            nxt = self.lines[i + 1].text if i + 1 < len(self.lines) else ""
            return _is_toc_line(nxt) or _compact(nxt) in ("引言",) or bool(
                _CLAUSE_RE.match(nxt) and _title_like(_CLAUSE_RE.match(nxt).group("rest")))
        return False

    def _step(self, i: int) -> int:
        ln = self.lines[i]
        s = ln.text
        c = _compact(s)
        # 前言 / 引言
        if c in _FRONT and not self.chapter_seen and not self.annex:
            self._open(_FRONT[c], _FRONT[c], [], ln)
            return i + 1
        # 参考文献 / 索引
        if c in _BACK and (self.chapter_seen or self.annex):
            self._open(_BACK[c], _BACK[c], [], ln)
            self.annex, self.prev_key, self.stack = "", None, []
            self.in_back = True
            return i + 1
        if self.in_back:
            self._body(ln)
            return i + 1
        # 附录A（规范性） title
        m = _ANNEX_RE.match(s)
        if m and self._annex_ok(m, i):
            return self._open_annex(m, i)
        # numbered clause
        m = _CLAUSE_RE.match(s)
        if m:
            j = self._try_clause(m, i)
            if j is not None:
                return j
        self._body(ln)
        return i + 1

    # -- annexes --------------------------------------------------------------------------
    def _annex_ok(self, m: re.Match[str], i: int) -> bool:
        letter = m.group("letter")
        if letter not in _next_annexes(self.annex) or not (self.chapter_seen or self.annex):
            return False
        rest = m.group("rest").strip()
        if rest and not _title_like(rest, 60):
            return False
        if not m.group("marker") and not rest:
            nxt = self.lines[i + 1].text if i + 1 < len(self.lines) else ""
            if not (_MARKER_RE.match(nxt) or _title_like(nxt, 60)):
                return False
        return not self._mid_sentence(i) or bool(m.group("marker"))

    def _open_annex(self, m: re.Match[str], i: int) -> int:
        letter = m.group("letter")
        head_lines = [self.lines[i]]
        j = i + 1
        if not m.group("marker") and j < len(self.lines) and _MARKER_RE.match(self.lines[j].text):
            head_lines.append(self.lines[j])
            j += 1
        title = m.group("rest").strip()
        if not title and j < len(self.lines):
            nxt = self.lines[j].text
            cm = _CLAUSE_RE.match(nxt)
            is_clause = bool(cm and cm.group("label").startswith(letter + "."))
            if _title_like(nxt, 60) and not is_clause:
                title = nxt
                head_lines.append(self.lines[j])
                j += 1
        label = "附录" + letter
        self._close()
        self.cur = _Open(label, title, [], head_lines[0].page, list(head_lines), len(head_lines))
        self.annex = letter
        self.annex_path = f"{label} {title}".strip()
        self.prev_key, self.stack = None, []
        self.in_terms = self.in_table = False
        return j

    # -- numbered clauses ----------------------------------------------------------------
    def _try_clause(self, m: re.Match[str], i: int) -> int | None:
        label, sep, rest = m.group("label"), m.group("sep"), m.group("rest").strip()
        if label[0].isalpha():
            if "." not in label or label.split(".", 1)[0] != self.annex:
                return None
        elif self.annex:
            return None  # body chapters do not come back after the annexes
        key = _key(label)
        ok, skip = _next_keys(self.prev_key, self.annex)
        in_tree = key in ok
        near_tree = key in skip
        if (self.prev_key is None and not self.annex and self.cur is None and len(key) == 1
                and sep and _title_like(rest, 30)):
            near_tree = True  # an excerpt that starts at a later chapter
        if not (in_tree or near_tree):
            return None
        # what follows the label
        if not rest:
            # the label alone: its title (a term, a heading) is on the next line
            if not in_tree:
                return None
            title, consumed = "", 1
            if i + 1 < len(self.lines):
                nxt = self.lines[i + 1].text
                if self.in_terms:  # "特种设备；设备 special equipment": the first term names it
                    nxt = re.split(r"[；;]", nxt, maxsplit=1)[0].strip()
                zh = self._term_zh(nxt)
                nm = _CLAUSE_RE.match(nxt)
                if _title_like(zh or nxt, 40) and not (nm and nm.group("sep") and nm.group("label")[0].isdigit()):
                    title, consumed = (zh or nxt), 2
            head = self.lines[i:i + consumed]
            self._open_numbered(label, key, title, head)
            return i + consumed
        if self.in_table and re.search(r"\s", rest) and not self._term_zh(rest):
            return None  # "6 可选 资料性": a table row
        alone = in_tree and self._alone(i, sep, rest)
        if _NOT_TITLE_START.match(rest) and not alone:
            return None
        if not sep and re.match(r"[条款章节项](?![款文目件例形码])", rest):
            return None  # "5.3条的规定", "第5章"-like references glued to the number
        title_rest = self._term_zh(rest) if self.in_terms else ""
        if _title_like(title_rest or rest, strict=not alone):
            if not sep and not re.match(r"[\u4e00-\u9fff]", rest):
                return None
            if self._mid_sentence(i) and self._continues(i):
                return None
            if near_tree and self._mid_sentence(i):
                return None
            self._open_numbered(label, key, title_rest or rest, [self.lines[i]])
            return i + 1
        # an untitled clause: "5.2.1 本文件规定了……"
        if not sep or not in_tree or self._mid_sentence(i):
            return None
        self._open_numbered(label, key, "", [self.lines[i]], n_head=0)
        return i + 1

    def _alone(self, i: int, sep: str, rest: str) -> bool:
        """A line standing alone between blank lines (a Markdown heading), or a short one
        after a finished sentence (a PDF/DOCX heading: a paragraph's first line is full
        unless it ends the paragraph with punctuation): a heading even where its title starts
        like a cross-reference ("4.3 要求的标记")."""
        if self.lines[i].blank_before and (i + 1 >= len(self.lines)
                                           or self.lines[i + 1].blank_before):
            return True
        return (bool(sep) and len(rest) <= 12 and not self._mid_sentence(i)
                and (i == 0 or self.lines[i - 1].text.endswith(_SENTENCE_END)))

    def _term_zh(self, s: str) -> str:
        """"要求 requirement" → "要求" (terms carry their English equivalent)."""
        m = _TERM_SPLIT.match(s.strip())
        if m and re.search(r"[\u4e00-\u9fff]", m.group("zh")):
            return m.group("zh").strip()
        return ""

    def _open_numbered(self, label: str, key: tuple, title: str, head: list[_Line],
                       n_head: int | None = None) -> None:
        if len(key) == 1 and isinstance(key[0], int):
            self._strip_body_title()
            self.chapter_seen = True
            self.in_terms = bool(_TERMS_CHAPTER.search(title))
        self._close()
        while self.stack and not (len(self.stack[-1][0]) < len(key)
                                  and key[:len(self.stack[-1][0])] == self.stack[-1][0]):
            self.stack.pop()
        path = ([self.annex_path] if self.annex else []) + [p for _, p in self.stack]
        self.cur = _Open(label, title, path, head[0].page, list(head),
                         len(head) if n_head is None else n_head)
        self.stack.append((key, f"{label} {title}".strip()))
        self.prev_key = key
        self.in_table = False

    def _strip_body_title(self) -> None:
        """The title printed again above chapter 1 is not part of 前言/引言."""
        if self.chapter_seen or self.cur is None or not self.cur.lines:
            return
        body = self.cur.lines[self.cur.n_head:]
        removed: list[str] = []
        while body:
            t = _compact(body[-1].text)
            if body[-1].text[-1:] in _SENTENCE_END:
                break
            if (self.title and len(t) >= 2 and t in self.title) or (
                    not self.title and _title_like(body[-1].text, 60) and len(removed) < 3):
                removed.insert(0, body[-1].text)
                body.pop()
                continue
            break
        if removed:
            self.body_title = " ".join(removed) if not self.title else self.body_title
            self.cur.lines = self.cur.lines[:self.cur.n_head] + body

    # -- body ---------------------------------------------------------------------------
    def _mid_sentence(self, i: int) -> bool:
        """The line before ``i`` ends inside a sentence (a wrapped line follows)."""
        if not self.joinable or i == 0:
            return False
        ln = self.lines[i]
        if ln.blank_before:
            return False
        prev = self.lines[i - 1].text
        if (self.cur is not None and self.cur.lines and self.cur.lines[-1] is self.lines[i - 1]
                and len(self.cur.lines) <= self.cur.n_head):
            return False  # right after a heading
        if " | " in prev or self.in_table:
            return False
        return not prev.endswith(_SENTENCE_END)

    def _continues(self, i: int) -> bool:
        return bool(_CONTINUES.search(self.lines[i - 1].text)) if i > 0 else False

    def _body(self, ln: _Line) -> None:
        s = ln.text
        if _TABLE_CAPTION.match(s) and len(s) <= 60 and not s.endswith("。"):
            self.in_table = True
        elif self.in_table:
            if not (" | " in s or (" " in s and not s.endswith(("。", "；")))):
                if not _TABLE_CAPTION.match(s):
                    self.in_table = False
            elif " | " not in s and not re.match(r"^注\s*\d*\s*[：:]", s):
                ln = _Line(" | ".join(s.split(" ")), ln.page, ln.blank_before)
        if re.match(r"^注\s*\d*\s*[：:]", s):
            self.in_table = False
        if self.cur is None:
            return  # text before 前言 / chapter 1 that is not cover: dropped
        self.cur.lines.append(ln)

    # -- output -------------------------------------------------------------------------
    def _open(self, label: str, heading: str, path: list[str], ln: _Line) -> None:
        self._close()
        self.cur = _Open(label, heading, path, ln.page, [ln], 1)
        self.in_table = False

    def _close(self) -> None:
        cur = self.cur
        if cur is None:
            return
        self.cur = None
        head = [x.text for x in cur.lines[:cur.n_head]]
        if cur.label in _FRONT or cur.label in _BACK:
            head = [cur.label]
        paras = self._paragraphs(cur.lines[cur.n_head:])
        text = "\n".join(head + paras)
        pages = [x.page for x in cur.lines if x.page]
        self.clauses.append(Clause(
            label=cur.label, heading=cur.heading, text=text, path=list(cur.path),
            page_start=cur.page_start, page_end=max(pages) if pages else cur.page_start))

    def _paragraphs(self, body: list[_Line]) -> list[str]:
        paras: list[str] = []
        prev: _Line | None = None
        for ln in body:
            s = ln.text
            is_row = " | " in s
            if (prev is None or not self.joinable or ln.blank_before or is_row
                    or " | " in prev.text or prev.text.endswith(_SENTENCE_END)
                    or _heading_like(prev.text)
                    or _BLOCK_START.match(s) or _LIST_ITEM.match(s)
                    or _TABLE_CAPTION.match(prev.text)):
                paras.append(s)
            else:
                last = paras[-1]
                sep = " " if (last[-1:].isascii() and last[-1:].isalnum()
                              and s[:1].isascii() and s[:1].isalnum()) else ""
                paras[-1] = last + sep + s
            prev = ln
        return paras
