"""Laws, regulations, rules and judicial interpretations → one clause per article (第X条).

The loader hands over plain lines (Markdown heading marks and comments already dropped), so
the structure is found from the text itself:

* title: the first line (with 民法典-style part names such as "总则" on the lines after it);
  promulgation history: dated lines ("2020年5月28日 …通过") or a ``（…通过 …修订）`` block;
* headings: 第X编/分编/章/节 lines, 一、-numbered section lines directly followed by an
  article (judicial interpretations), 序言, 附则, 附件…;
* articles: a paragraph that *starts* with 第X条 followed by whitespace. Laws quote each
  other's articles all the time ("依照本法第十条规定"); such quotes never start an article.
  Everything up to the next article or heading belongs to the article (its items （一）（二）…
  and further paragraphs).

Raw LawRefBook Markdown (``# title`` … ``<!-- INFO END -->`` … ``## 第X章``) is read as well.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from ..identifiers import cn_to_int
from ..records import Clause, DocMeta, LoadedFile, ParsedDocument
from . import Line, find_dates, join_wrapped, paged_lines, paragraph_groups, title_from_path

_NUM = r"(?:[一二三四五六七八九十百千零〇○两]+|\d+)"
# "第五十四条", "第一百零二条之一", "第10条"; the whitespace after it is what tells an article
# from a quotation of one.
ARTICLE_RE = re.compile(rf"^(第({_NUM})条(?:之({_NUM}))?)(?=\s)")
# Some plain texts drop the space ("第一条为了…"): accepted only as the next number in sequence.
_ARTICLE_LOOSE = re.compile(rf"^(第({_NUM})条(?:之({_NUM}))?)(?![款项的规中至、，,和或及与第（(])")
# A run of articles on one line ("…制定本规则。 第二条 凡…"), as some sources have them.
_INLINE_ARTICLE = re.compile(rf"(?<=[。；;：:！？”])\s+(第({_NUM})条(?:之({_NUM}))?)\s")
# "第一章 总则", "第一章总则"; not "第三章规定的…" (a sentence quoting a chapter)
_STRUCT_RE = re.compile(
    rf"^第{_NUM}(分编|编|章|节|目)(?:\s+\S.{{0,40}}|[^\s规的中所至和及或、，,].{{0,40}})?$")
_SECTION_RE = re.compile(r"^([一二三四五六七八九十]+)、\s*\S.{0,30}$")
_SUBSECTION_RE = re.compile(r"^[（(]([一二三四五六七八九十]+)[）)]\s*\S.{0,30}$")
# "附件一", "附件：矿产资源分类细目", "附表一 …", "附：电信业务分类目录"
_ANNEX_RE = re.compile(r"^附(?:\s*[件表录]\s*[一二三四五六七八九十\d]*|\s*[：:])\s*[：:]?\s*(.{0,40})$")
_PLAIN_HEADINGS = {"序言": 4, "前言": 4, "总则": 4, "附则": 4}
# plain-text heading ranks: an annex is outside every chapter; 一、 sections sit where
# chapters do (LawRefBook files that have both give them the same level)
_RANK = {"annex": 1, "编": 2, "分编": 3, "章": 4, "section": 4, "节": 5, "subsection": 5,
         "目": 6}
_PUNCT = re.compile(r"[。；;，,：:！？]")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)[\s#]*$")
_INFO_END = "<!-- INFO END -->"
_TOC_RE = re.compile(r"^目\s*录$")
_LAW_TITLE = re.compile(
    r"(法|条例|规定|办法|细则|解释|决定|规则|批复|答复|命令|修正案|章程|准则|通则|决议|安排|意见|通知)$")
_HISTORY = re.compile(r"(通过|公布|发布|施行|修正|修订|批准|颁布|废止)")
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}[〔\[［]\d{4}[〕\]］]\s*\d+\s*号|令第\s*\d+\s*号")
_BLOCK_START = re.compile(
    rf"^(?:第{_NUM}[条章节编]|#|[（(]|[一二三四五六七八九十]+、|\d+[.．、]|目\s*录|序\s*言|附\s*[则件])"
)
_DATED_LINE = re.compile(r"^[（(]?\s*(?:\d{4}|[一二〇○零三四五六七八九]{4})\s*年")
_EFFECTIVE = re.compile(r"自(.{4,16}?)起施行")
_PART_NAME = re.compile(r"(编|总则|附则)$")


@dataclass
class _Block:
    """An article being collected (or loose text under a heading after the articles began)."""

    label: str
    lines: list[Line]
    path: list[str]


@dataclass
class _State:
    prefix: list[str] = field(default_factory=list)  # 民法典 part ("总则") under the title
    stack: list[tuple[int, str]] = field(default_factory=list)  # (rank, heading) ancestors
    current: _Block | None = None
    preamble: list[Line] = field(default_factory=list)
    clauses: list[Clause] = field(default_factory=list)
    last_number: int = 0
    last_section: int = 0  # number of the last 一、 section heading
    last_subsection: int = 0  # number of the last （一） subsection heading
    seen_article: bool = False


def _norm_heading(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def _first_text(loaded: LoadedFile) -> str:
    return loaded.pages[0] if loaded.pages else ""


def looks_like_markdown_law(loaded: LoadedFile) -> bool:
    """Raw LawRefBook-style Markdown: ``# title`` and the INFO END marker or articles."""
    text = _first_text(loaded)
    if _INFO_END in text:
        return True
    first = next((x.strip() for x in text.splitlines() if x.strip()), "")
    return first.startswith("# ") and any(ARTICLE_RE.match(x) for x in text.splitlines())


def _nonempty(loaded: LoadedFile, limit: int | None = None) -> list[str]:
    out: list[str] = []
    for p in loaded.pages:
        for x in p.splitlines():
            if x.strip():
                out.append(x.strip())
                if limit is not None and len(out) >= limit:
                    return out
    return out


def law_signal(loaded: LoadedFile) -> int:
    """2: certainly article-structured law text; 1: probably a law-like text (a decision, an
    order, a reply without articles, or one article under a law's title); 0: no sign."""
    if looks_like_markdown_law(loaded):
        return 2
    lines = _nonempty(loaded)
    numbers = [cn_to_int(m.group(2)) or 0 for x in lines if (m := ARTICLE_RE.match(x))]
    # article starts from 第一条 on, or in order: a standard or a plan never reads like that
    in_order = sum(1 for a, b in itertools.pairwise(numbers) if b == a + 1)
    if len(numbers) >= 3 and (in_order >= 2 or numbers[0] == 1):
        return 2
    if not lines:
        return 0
    title = re.sub(r"[（(][^）)]*[）)]$", "", lines[0].lstrip("#").strip())
    if not _LAW_TITLE.search(title) or len(title) > 80:
        return 0
    if numbers:
        return 1
    head = lines[1:8]
    dated = any(find_dates(x) and _HISTORY.search(x) and len(x) <= 200 for x in head)
    return 1 if dated else 0


def looks_like_law(loaded: LoadedFile) -> bool:
    """Text of a law, regulation, rule or judicial interpretation."""
    return law_signal(loaded) > 0


def _number(m: re.Match[str]) -> int:
    return cn_to_int(m.group(2)) or 0


def _split_runon(line: Line, last_number: int) -> list[Line]:
    """Split a line holding several consecutive articles; only the next number in sequence
    counts, so a quoted article reference is never mistaken for an article start."""
    text = line.text
    if text.count("条") < 2:
        return [line]
    pieces: list[str] = []
    start = 0
    first = ARTICLE_RE.match(text)
    expected = _number(first) if first else last_number
    for m in _INLINE_ARTICLE.finditer(text):
        n = _number(m)
        sub = m.group(3) is not None
        if (sub and n == expected) or (not sub and n == expected + 1):
            pieces.append(text[start:m.start()].rstrip())
            start = m.start(1)
            expected = n
    if not pieces:
        return [line]
    pieces.append(text[start:])
    return [Line(p, line.page, line.end_page) for p in pieces if p.strip()]


def _article_start(text: str, state: _State, strict: bool) -> re.Match[str] | None:
    m = ARTICLE_RE.match(text)
    if m or strict:
        return m
    m = _ARTICLE_LOOSE.match(text)
    if m and m.group(3) is None and _number(m) == state.last_number + 1:
        return m
    return None


def _close(state: _State) -> None:
    block = state.current
    if block is None:
        return
    state.clauses.append(Clause(
        label=block.label, heading="", text="\n".join(x.text.strip() for x in block.lines),
        path=list(block.path), page_start=block.lines[0].page,
        page_end=block.lines[-1].last_page,
    ))
    state.current = None


def _plain_heading(text: str, prev: str, nxt: str, state: _State) -> tuple[int, str] | None:
    """(rank, heading) when a plain line is a heading; ``prev``/``nxt``: the non-empty lines
    around it."""
    if len(text) > 48:
        return None
    m = _STRUCT_RE.match(text)
    # "第三章 审查和批准决算，听取…" and "第五节 生活、卫生。" occur; a sentence does not
    if m and not re.search(r"[。；;：:！？]", text.rstrip("。")):
        return _RANK[m.group(1)], _norm_heading(text)
    squashed = re.sub(r"\s+", "", text)
    if squashed in _PLAIN_HEADINGS:
        return _PLAIN_HEADINGS[squashed], _norm_heading(text)
    m = _ANNEX_RE.match(text)
    if m and not re.search(r"[。；;，,]", m.group(1)) and state.seen_article:
        return _RANK["annex"], _norm_heading(text)
    m = _SECTION_RE.match(text)
    if m and not _PUNCT.search(text):
        n = cn_to_int(m.group(1)) or 0
        # an item list inside an article ("一、电力") is neither in sequence with earlier
        # section headings nor directly followed by an article (or a （一） subsection)
        if (n == state.last_section + 1 or n == 1) and (
                ARTICLE_RE.match(nxt) or (_SUBSECTION_RE.match(nxt) and not _PUNCT.search(nxt))):
            state.last_section = n
            state.last_subsection = 0
            return _RANK["section"], _norm_heading(text)
    m = _SUBSECTION_RE.match(text)
    if m and not _PUNCT.search(text) and not prev.endswith(("：", ":")):
        n = cn_to_int(m.group(1)) or 0
        # items of an article follow a line ending in "：" and mostly end in "；"/"。"; a
        # subsection heading is in sequence and directly followed by an article
        if (n == state.last_subsection + 1 or n == 1) and ARTICLE_RE.match(nxt):
            state.last_subsection = n
            return _RANK["subsection"], _norm_heading(text)
    return None


def _continues_heading(text: str, nxt: str) -> bool:
    return (len(text) <= 30 and not _PUNCT.search(text) and not ARTICLE_RE.match(text)
            and bool(ARTICLE_RE.match(nxt) or _STRUCT_RE.match(nxt)))


def _heading(text: str, prev: str, nxt: str, state: _State,
             markdown: bool) -> tuple[int, str] | None:
    if markdown:
        m = _MD_HEADING.match(text)
        if m:
            return len(m.group(1)), _norm_heading(m.group(2))
        # annexes and a "附 则" that lost its "##": outside, and at the level of, chapters
        squashed = re.sub(r"\s+", "", text)
        if squashed in ("附则", "总则") or _ANNEX_RE.match(text):
            plain = _plain_heading(text, prev, nxt, state)
            if plain is not None:
                return (1 if plain[0] == _RANK["annex"] else 2), plain[1]
        return None
    return _plain_heading(text, prev, nxt, state)


def _walk(body: list[Line], state: _State, markdown: bool) -> None:
    texts = [x.text.strip() for x in body]
    following = [""] * len(texts)  # the next non-empty line after each line
    nxt = prev = ""
    prev_heading = False
    for i in range(len(texts) - 1, -1, -1):
        following[i] = nxt
        if texts[i]:
            nxt = texts[i]
    for i, raw in enumerate(body):
        text = texts[i]
        if not text or _TOC_RE.match(text):
            continue
        head = _heading(text, prev, following[i], state, markdown)
        if head is None and prev_heading and _continues_heading(text, following[i]):
            # a heading wrapped over two lines ("第二章 听取和审议人民政府、人民法院和" +
            # "人民检察院专项工作报告")
            rank, name = state.stack[-1]
            state.stack[-1] = (rank, name + text)
            continue
        prev_heading = head is not None
        prev = text
        if head is not None:
            _close(state)
            rank, name = head
            if name.replace(" ", "") in ("序言", "前言") and not state.seen_article:
                continue  # the preamble is labelled 序言 anyway
            while state.stack and state.stack[-1][0] >= rank:
                state.stack.pop()
            state.stack.append((rank, name))
            continue
        for line in _split_runon(Line(text, raw.page, raw.end_page), state.last_number):
            m = _article_start(line.text, state, strict=markdown)
            if m is not None:
                _close(state)
                state.last_number = _number(m)
                state.seen_article = True
                state.current = _Block(m.group(1), [line],
                                       [*state.prefix, *(h for _, h in state.stack)])
            elif state.current is not None:
                state.current.lines.append(line)
            elif state.seen_article and state.stack:
                # text under a heading after the articles (an annex): a clause of its own,
                # labelled by that heading, so it neither joins an article nor the preamble
                name = state.stack[-1][1]
                state.current = _Block(name, [Line(name, line.page), line],
                                       [*state.prefix, *(h for _, h in state.stack[:-1])])
            else:
                state.preamble.append(line)


def _is_history(s: str) -> bool:
    if re.fullmatch(r"自?(公布|发布)之日起?施行", s):
        return True
    # "2020年5月28日 第十三届全国人民代表大会第三次会议通过": a line that starts with a date;
    # an article or a preamble that merely mentions one does not
    return bool(_DATED_LINE.match(s)) and bool(_HISTORY.search(s)) and len(s) <= 300


def _split_head(lines: list[Line], markdown: bool) -> tuple[list[str], list[str], list[Line]]:
    """(title lines, history lines, body) of a law text."""
    for i, ln in enumerate(lines):
        if ln.text.strip() == _INFO_END:
            head = [x.text.strip() for x in lines[:i] if x.text.strip()]
            titles = [x.lstrip("#").strip() for x in head if x.startswith("#")]
            return titles, [x for x in head if not x.startswith("#")], lines[i + 1:]
    titles: list[str] = []
    history: list[str] = []
    in_paren = False
    for i, ln in enumerate(lines):
        s = ln.text.strip()
        if not s:
            continue
        if not titles:
            if ARTICLE_RE.match(s) or _STRUCT_RE.match(s):
                return titles, history, lines[i:]  # no title line: the body starts at once
            titles.append(s.lstrip("#").strip())
            continue
        if in_paren and len(history) < 12 and not ARTICLE_RE.match(s) and not _STRUCT_RE.match(s):
            history.append(s)  # "（1988年…通过" … "2017年…修订）" over several lines
            in_paren = not s.endswith(("）", ")"))
            continue
        if (s[0] in "（(" and _DATED_LINE.match(s)) or re.match(r"^[（(].{0,40}(通过|公布)", s):
            history.append(s)
            in_paren = not s.endswith(("）", ")"))
            continue
        in_paren = False
        if _is_history(s):
            history.append(s)
            continue
        is_title_part = (s.startswith("# ") if markdown else (
            not history and len(s) <= 24 and not _PUNCT.search(s) and not ARTICLE_RE.match(s)
            and not _STRUCT_RE.match(s) and not _TOC_RE.match(s)
            and s.replace(" ", "") not in ("序言", "前言")))
        if is_title_part:
            titles.append(s.lstrip("#").strip())
            continue
        return titles, history, lines[i:]
    return titles, history, []


def parse_law(loaded: LoadedFile) -> ParsedDocument:
    """Parse a law-like text into one clause per article (序言 for a preamble)."""
    lines = paged_lines(loaded)
    markdown = looks_like_markdown_law(loaded)
    if loaded.format == "pdf":
        lines = join_wrapped(lines, _BLOCK_START)
    titles, history, body = _split_head(lines, markdown)
    # "中华人民共和国民法典" + "总则": the part goes into the path; other extra title lines
    # ("（试行）", a title wrapped over two lines) belong to the title
    title = titles[0] if titles else ""
    prefix: list[str] = []
    for t in titles[1:]:
        if _PART_NAME.search(t) and len(t) <= 12:
            prefix.append(_norm_heading(t))
        elif not prefix:
            title += t
    state = _State(prefix=prefix)
    _walk(body, state, markdown)
    _close(state)

    clauses = state.clauses
    preamble = [x for x in state.preamble if x.text.strip()]
    if not state.seen_article:
        clauses = _fallback_sections(preamble) + clauses
    elif len("".join(x.text for x in preamble).strip()) >= 10:
        clauses.insert(0, Clause(
            label="序言", heading="", text="\n".join(x.text.strip() for x in preamble),
            path=list(prefix), page_start=preamble[0].page, page_end=preamble[-1].last_page,
        ))

    dates = [d for h in history for d in find_dates(h)]
    file_date = re.search(r"[（(](\d{4}-\d{2}-\d{2})[)）]", loaded.path)
    issued = dates[0] if dates else (file_date.group(1) if file_date else "")
    effective = ""
    for h in history:
        if "施行" in h and find_dates(h):
            effective = find_dates(h)[-1]
    if not effective:
        tail = clauses[-1].text if clauses else ""
        m = _EFFECTIVE.search(tail)
        if m and find_dates(m.group(1)):
            effective = find_dates(m.group(1))[0]
    number = next((m.group(0) for h in history if (m := _DOC_NUMBER.search(h))), "")
    meta = DocMeta(
        doc=loaded.path, title=title or title_from_path(loaded.path), kind="law",
        issued=issued, effective=effective, doc_number=number, sha256=loaded.sha256,
        format=loaded.format, pages=len(loaded.pages) if loaded.format == "pdf" else 0,
    )
    return ParsedDocument(meta=meta, clauses=clauses)


def _fallback_sections(lines: list[Line]) -> list[Clause]:
    """A legal text without articles (an amendment, a decision, a reply): 一、二、 sections
    as in policy texts, else paragraph groups."""
    from .policy import split_sections

    if not lines:
        return []
    clauses = split_sections(lines, preamble_label="序言")
    if any(c.label != "序言" for c in clauses):
        return clauses
    return paragraph_groups(lines)
