"""Policy texts (plans, opinions, notices) → one clause per numbered section.

Sections are marked 一、 (top level) and （一） / (一) (second level; the numbering of the
second level often runs on across top-level sections). Numbered items 1. 2. stay inside their
section unless the section is very long. A scraped government page also carries a breadcrumb,
a metadata table (``[ 发文字号 ] | 渝两江党发〔2024〕13号 |``), the covering notice and a page
footer: the breadcrumb and footer are dropped, the table becomes the document's metadata and a
"文件信息" clause, the notice a "印发通知" clause, text before the first section "前言".
"""

from __future__ import annotations

import re

from ..identifiers import cn_to_int
from ..records import Clause, DocMeta, LoadedFile, ParsedDocument
from . import (
    Line,
    find_dates,
    join_wrapped,
    normalize_status,
    paged_lines,
    paragraph_groups,
    title_from_path,
    to_iso_date,
)

_CN = "[一二三四五六七八九十百零〇]+"
_L0 = re.compile(rf"^(第{_CN}(?:部分|章))[ \t\u3000]*(.*)$")
_L1 = re.compile(rf"^({_CN})[、．.][ \t\u3000]*(.*)$")
_L2 = re.compile(rf"^[（(]({_CN})[）)][ \t\u3000]*(.*)$")
_L3 = re.compile(r"^(\d{1,2})[.．、](?!\d)[ \t\u3000]*(.*)$")
_BLOCK_START = re.compile(rf"^(?:{_CN}[、．.]|[（(]{_CN}[）)]|\d{{1,2}}[.．、](?!\d)|第{_CN}(?:部分|章))")

_BREADCRUMB = re.compile(r"^(您当前的位置|当前位置|您的位置|您现在的位置)|首页\s*[>›»]")
_FOOTER = re.compile(
    r"^(附件下载|一图读懂|相关链接|相关附件|扫一扫|打印本页|【打印】|关闭窗口|【关闭】|分享到|字号[:：])"
    r"|网站标识码|ICP备|公网安备|版权所有|Copyright|主办单位|技术支持[:：]"
)
_KEYS = ("索引号", "发文字号", "文号", "主题分类", "体裁分类", "发布机构", "发文机关", "有效性",
         "成文日期", "发布日期", "实施日期", "生效日期", "施行日期", "废止日期", "失效日期",
         "标题", "名称", "公文种类", "时效")
_KV_LINE = re.compile(rf"^[【\[]?\s*({'|'.join(_KEYS)})\s*[】\]]?\s*[:：]\s*(.+)$")
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,16}[〔\[［(（]\d{4}[〕\]］)）]\s*\d+\s*号")
_NOTICE_TITLE = re.compile(r"(关于(?:印发|转发|发布)|的通知$|的决定$|的意见$)")
_ISSUE_OF = re.compile(r"(?:关于)?(?:印发|转发|发布)《?(.+?)》?的通知$")
_QUOTED_TITLE = re.compile(r"现将《(.+?)》")
_DATE_LINE = re.compile(r"^[\d一二三四五六七八九〇○零十]{4}\s*年.{1,6}月.{1,4}日$")

# A section longer than this has its numbered items split out (the chunker would otherwise
# cut it at arbitrary paragraph boundaries with no item number to cite).
LONG_SECTION = 3000


def looks_like_policy(loaded: LoadedFile) -> bool:
    """A policy text: a 发文字号, or 一、 sections with （一） subsections."""
    text = "\n".join(loaded.pages)
    if "发文字号" in text[:3000] or _DOC_NUMBER.search(text[:600]):
        return True
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    l1 = sum(1 for x in lines if _L1.match(x) and len(x) <= 60)
    l2 = sum(1 for x in lines if _L2.match(x))
    return l1 >= 2 and l2 >= 1


def _full_width(marker: str) -> str:
    """'(一)' → '（一）': one spelling of a label, whichever the page used."""
    return marker.replace("(", "（").replace(")", "）")


def _split_heading(rest: str) -> tuple[str, str]:
    """(heading, body-in-line) of the text after a marker."""
    rest = rest.strip()
    if not rest:
        return "", ""
    if len(rest) <= 40 and "。" not in rest:
        # the marker line is a title ("(二十五)健全质量政策,优化监管效能"), its body follows
        return rest.rstrip("：:；;"), ""
    m = re.match(r"^(.{1,30}?)[。：:]", rest)
    if m and rest[m.end():].strip() and not re.search(r"[，,；;]", m.group(1)):
        # "（一）指导思想。以…": a run-in title
        return m.group(1), rest[m.end():]
    return "", rest


def _marker(text: str, last: dict[int, int]) -> tuple[int, str, str] | None:
    """(level, label, rest) when the paragraph starts a section in sequence."""
    for level, rx in ((0, _L0), (1, _L1), (2, _L2)):
        m = rx.match(text)
        if not m:
            continue
        if level == 0:
            return 0, m.group(1), m.group(2)
        n = cn_to_int(m.group(1)) or 0
        # in sequence, or restarting at 一 (an annex): a quoted list never starts a section
        if n == last.get(level, 0) + 1 or n == 1:
            last[level] = n
            if level == 1:
                return 1, m.group(1), m.group(2)
            return 2, f"（{m.group(1)}）", m.group(2)
    return None


def split_sections(lines: list[Line], preamble_label: str = "前言") -> list[Clause]:
    """Clauses for 一、/（一） sections; text before the first one is the preamble."""
    clauses: list[Clause] = []
    stack: list[tuple[int, str]] = []
    last: dict[int, int] = {}
    cur: dict | None = None
    pre: list[Line] = []

    def close() -> None:
        nonlocal cur
        if cur is not None:
            clauses.extend(_maybe_items(cur))
        cur = None

    for ln in lines:
        text = ln.text.strip()
        if not text:
            continue
        mk = _marker(text, last)
        if mk is None:
            if cur is not None:
                cur["lines"].append(Line(text, ln.page, ln.end_page))
            else:
                pre.append(Line(text, ln.page, ln.end_page))
            continue
        close()
        level, label, rest = mk
        heading, _ = _split_heading(rest)
        while stack and stack[-1][0] >= level:
            stack.pop()
        marker = _full_width(text[: len(text) - len(rest)].strip())
        written = marker + heading if heading else marker.rstrip("、．.")
        cur = {"label": label, "heading": heading, "path": [h for _, h in stack],
               "written": written, "lines": [Line(text, ln.page, ln.end_page)]}
        stack.append((level, written))
    close()
    if pre and len("".join(x.text for x in pre)) >= 10:
        clauses.insert(0, Clause(label=preamble_label, heading="",
                                 text="\n".join(x.text for x in pre), path=[],
                                 page_start=pre[0].page, page_end=pre[-1].last_page))
    return clauses


def _maybe_items(sec: dict) -> list[Clause]:
    """The section as one clause, or (when very long) its lead plus one clause per item."""
    lines: list[Line] = sec["lines"]
    whole = Clause(label=sec["label"], heading=sec["heading"],
                   text="\n".join(x.text for x in lines), path=sec["path"],
                   page_start=lines[0].page, page_end=lines[-1].last_page)
    if len(whole.text) <= LONG_SECTION:
        return [whole]
    starts = [i for i, x in enumerate(lines) if i and _L3.match(x.text)]
    if len(starts) < 2:
        return [whole]
    head = lines[: starts[0]]
    out = [Clause(label=whole.label, heading=whole.heading,
                  text="\n".join(x.text for x in head), path=whole.path,
                  page_start=head[0].page, page_end=head[-1].last_page)]
    parent = sec["written"]
    for a, b in zip(starts, [*starts[1:], len(lines)], strict=True):
        part = lines[a:b]
        m = _L3.match(part[0].text)
        heading, _ = _split_heading(m.group(2)) if m else ("", "")
        out.append(Clause(label=m.group(1) if m else "", heading=heading,
                          text="\n".join(x.text for x in part), path=[*whole.path, parent],
                          page_start=part[0].page, page_end=part[-1].last_page))
    return out


def _cells(s: str) -> dict[str, str] | None:
    """Key/value pairs of a metadata row: "[ 发文字号 ] | 渝…号 | [ 有效性 ] | 有效 |",
    "发文字号 | 渝…号" (the loader's table rows) or "发文字号：渝…号"; None for other lines."""
    if "|" in s:
        tokens = [t.strip() for t in s.strip().strip("|").split("|")]
        out: dict[str, str] = {}
        i = 0
        while i < len(tokens):
            key = re.sub(r"[\s\[\]【】:：]", "", tokens[i])
            if key not in _KEYS:
                return None
            value = tokens[i + 1] if i + 1 < len(tokens) else ""
            if re.sub(r"[\s\[\]【】:：]", "", value) in _KEYS:
                value, i = "", i + 1  # an empty cell
            else:
                i += 2
            out.setdefault(key, value.strip())
        return out or None
    m = _KV_LINE.match(s)
    if m and len(s) <= 120:
        return {m.group(1): m.group(2).strip()}
    return None


def _table(lines: list[Line]) -> tuple[dict[str, str], list[Line]]:
    """The page's metadata (table rows or ``键：值`` lines near the top) and the other lines."""
    info: dict[str, str] = {}
    rest: list[Line] = []
    for i, ln in enumerate(lines):
        cells = _cells(ln.text.strip()) if i < 40 else None
        if cells:
            for k, v in cells.items():
                info.setdefault(k, v)
            continue
        rest.append(ln)
    return info, rest


def _notice(front: list[Line]) -> tuple[Clause | None, str, str, list[Line]]:
    """The 印发通知 ("关于印发…的通知" … date) before the plan: (clause, its title, its date,
    the front lines without it)."""
    i = next((k for k, x in enumerate(front) if _NOTICE_TITLE.search(x.text.strip())
              and len(x.text.strip()) <= 120), None)
    if i is None:
        return None, "", "", front
    end = next((k for k in range(i + 1, len(front)) if _DATE_LINE.match(front[k].text.strip())),
               None)
    if end is None:
        return None, "", "", front
    notice = front[i: end + 1]
    title = notice[0].text.strip()
    clause = Clause(label="印发通知", heading=title, text="\n".join(x.text.strip() for x in notice),
                    path=[], page_start=notice[0].page, page_end=notice[-1].last_page)
    return clause, title, to_iso_date(front[end].text), front[:i] + front[end + 1:]


def _title(front: list[Line], lines: list[Line], info: dict[str, str], notice_title: str) -> str:
    """The plan's own title: the short lines left before the preamble (popped from
    ``front``), else the metadata table, the quoted title or the notice's."""
    title_lines: list[str] = []
    while front and len(front[0].text.strip()) <= 40 and not re.search(r"[。；，,：:]", front[0].text):
        title_lines.append(front.pop(0).text.strip())
    # "重庆两江新区质量强区建设实施方案" + "(2024—2027年)": one title over two lines
    title = "".join(title_lines)
    quoted = next((m.group(1) for x in lines[:20] if (m := _QUOTED_TITLE.search(x.text))), "")
    if not title:
        issued_of = _ISSUE_OF.search(notice_title)
        return (info.get("标题") or info.get("名称") or quoted
                or (issued_of.group(1) if issued_of else notice_title))
    if not re.search(r"[（(]", title) and quoted.startswith(title):
        # the title block lost its period line ("(2024—2027年)") on some pages: the notice's
        return quoted
    return title


def parse_policy(loaded: LoadedFile) -> ParsedDocument:
    """Parse a policy text into metadata and section clauses."""
    lines = [x for x in paged_lines(loaded) if x.text.strip()]
    lines = [x for x in lines if not _BREADCRUMB.search(x.text.strip())]
    lines = [x for x in lines if not _FOOTER.search(x.text.strip())]
    if loaded.format == "pdf":
        lines = join_wrapped(lines, _BLOCK_START)
    info, lines = _table(lines)

    # front matter: everything before the first section marker
    first = next((i for i, x in enumerate(lines) if _marker(x.text.strip(), {})), len(lines))
    front, body = lines[:first], lines[first:]
    clauses: list[Clause] = []
    if info:
        clauses.append(Clause(label="文件信息", heading="",
                              text="\n".join(f"{k}：{v}" for k, v in info.items() if v)))
    notice, notice_title, notice_date, front = _notice(front)
    if notice is not None:
        clauses.append(notice)
    title = _title(front, lines, info, notice_title)
    sections = split_sections(front + body, preamble_label="前言")
    if not sections or (len(sections) == 1 and sections[0].label == "前言" and not body):
        sections = paragraph_groups(front + body)
    clauses.extend(sections)

    doc_number = info.get("发文字号") or info.get("文号") or ""
    if not doc_number:
        m = _DOC_NUMBER.search("\n".join(x.text for x in lines[:15]))
        doc_number = m.group(0) if m else ""
    issued = to_iso_date(info.get("成文日期")) or notice_date
    if not issued:
        tail = [x.text.strip() for x in lines[-5:] if _DATE_LINE.match(x.text.strip())]
        issued = to_iso_date(tail[-1]) if tail else ""
    effective = (to_iso_date(info.get("实施日期")) or to_iso_date(info.get("生效日期"))
                 or to_iso_date(info.get("施行日期")) or to_iso_date(info.get("发布日期")))
    validity = info.get("有效性") or info.get("时效") or ""
    meta = DocMeta(
        doc=loaded.path, title=title.strip() or title_from_path(loaded.path), kind="policy",
        category=info.get("体裁分类", "") or info.get("公文种类", ""),
        status=normalize_status(validity, "policy"), issued=issued, effective=effective,
        doc_number=re.sub(r"\s+", "", doc_number), sha256=loaded.sha256, format=loaded.format,
        pages=len(loaded.pages) if loaded.format == "pdf" else 0,
    )
    if not meta.issued:
        dates = find_dates("\n".join(x.text for x in lines[:10]))
        meta.issued = dates[0] if dates else ""
    return ParsedDocument(meta=meta, clauses=clauses)
