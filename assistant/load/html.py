"""Saved web pages → main text: boilerplate blocks removed, metadata tables as "key | value";
``<meta>`` tags as document metadata."""

from __future__ import annotations

import codecs
import re

from ..errors import InputFileError
from .limits import Limits, refuse
from .text import BIG5_FAMILY, GBK_FAMILY

# metadata keys of government information-disclosure pages (政府信息公开)
META_KEYS = ("索引号", "发文字号", "文号", "主题分类", "体裁分类", "组配分类", "服务对象分类",
             "发布机构", "发文机关", "发文单位", "成文日期", "发布日期", "公布日期", "生效日期",
             "实施日期", "施行日期", "废止日期", "有效性", "时效性", "主题词", "关键词", "标题",
             "名称", "信息来源", "来源", "公开方式", "公开范围", "信息分类", "所属主题", "主办单位")
_META_KEY_RE = "|".join(sorted(META_KEYS, key=len, reverse=True))
_KEY_CELL = re.compile(rf"^[\[【〔(（\s]*({_META_KEY_RE})[\]】〕)）\s]*[:：]?\s*$")
_INLINE_META = re.compile(rf"[\[【]?\s*({_META_KEY_RE})\s*[\]】]?\s*[:：]\s*")

_DROP_TAGS = ("script", "style", "noscript", "nav", "aside", "form", "iframe",
              "button", "select", "input", "svg", "canvas", "template", "object", "embed", "link",
              "meta", "textarea")
_DROP_ATTR = re.compile(
    r"(^|[\s_-])(nav|navbar|menu|breadcrumbs?|crumbs?|bread|location|position|dqwz|weizhi|"
    r"header|top|topbar|footer|foot|bottom|copyright|share|bdshare|sidebar|side|"
    r"toolbar|tools|print|search|login|skip|qrcode|ewm|related|xgxx|xglj|links?)($|[\s_-])",
    re.I,
)
_BOILER_LINE = re.compile(
    r"^(您当前的位置|当前位置|您现在的位置|所在位置|首页\s*[>＞»]|【?打印(本页|此页)?】?|"
    r"【?关闭(窗口|本页)?】?|【?字体|分享到|扫一扫|上一篇|下一篇|相关链接|返回顶部|"
    r"网站地图|版权所有|主办单位：|承办单位|技术支持|ICP备|.*公网安备|浏览次数|访问量|"
    r"【?(大|中|小)】?\s*【?(大|中|小)】?)"
)
_BLOCK_TAGS = {"p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "tr",
               "table", "section", "article", "blockquote", "pre", "dd", "dt", "dl", "hr",
               "center", "main", "body", "tbody", "thead", "caption", "figure", "figcaption"}


def load_html(raw: bytes, rel: str, limits: Limits) -> tuple[str, str, dict[str, str]]:
    """(main text, encoding, ``<meta>`` name → content) of a saved web page."""
    from bs4 import BeautifulSoup, UnicodeDammit

    # counted on the bytes, before any tree is built
    if raw.count(b"<") > limits.max_html_tags:
        raise refuse(rel, "HTML tags", limits.max_html_tags)
    enc = _html_charset(raw)
    if enc:
        try:
            markup = raw.decode(enc)
        except (UnicodeDecodeError, LookupError):
            enc, markup = "", ""
    if not enc:
        dammit = UnicodeDammit(raw, ["utf-8", "gb18030"], is_html=True)
        markup = dammit.unicode_markup or ""
        enc = (dammit.original_encoding or "utf-8").lower()
        if enc in GBK_FAMILY:
            enc = "gb18030"
            markup = raw.decode("gb18030", errors="replace")
    if b"\x00" in raw[:4096] and not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputFileError(rel, "binary data, not HTML", "give the saved web page (.html)")
    soup = BeautifulSoup(markup, "html.parser")
    meta = html_meta(soup)
    try:
        text = html_to_text(soup)
    except RecursionError:
        raise refuse(rel, "HTML nesting depth", limits.max_xml_depth) from None
    return text, enc, meta


def html_meta(soup) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """``<meta name|property="…" content="…">`` pairs (not charset, viewport, robots …)."""
    out: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        name = (tag.get("name") or tag.get("property") or "").strip()
        content = " ".join(str(tag.get("content") or "").split())
        key = name.lower()
        if not name or not content or key in _META_IGNORE or key.startswith(("og:", "twitter:")):
            continue
        for prefix in ("dc.", "dcterms.", "citation_"):
            if key.startswith(prefix):
                name = name[len(prefix):]
        out.setdefault(name, content[:2000])
    return out


_META_IGNORE = {"viewport", "robots", "generator", "keywords", "description", "renderer",
                "format-detection", "referrer", "theme-color", "author"}


def _html_charset(raw: bytes) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    m = re.search(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_\-]+)", raw[:4096], re.I)
    if not m:
        try:
            raw.decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError:
            return ""
    enc = m.group(1).decode("ascii", "replace").lower().replace("-", "_")
    if enc in GBK_FAMILY or enc == "gb_2312":
        return "gb18030"
    if enc in BIG5_FAMILY:
        return "big5"
    if enc in ("utf_8", "utf8"):
        return "utf-8"
    try:
        codecs.lookup(enc)
        return enc
    except LookupError:
        return ""


def html_to_text(soup) -> str:
    """Main text of a saved web page: boilerplate blocks removed, metadata as "key | value"."""
    from bs4 import Comment, NavigableString, Tag

    for c in soup.find_all(string=lambda s: isinstance(s, Comment)):
        c.extract()
    for name in _DROP_TAGS:
        for tag in soup.find_all(name):
            tag.decompose()
    for tag in soup.find_all(["header", "footer"]):
        # page banners and footers go; an article's own <header><h1>title</h1></header> stays
        if not tag.decomposed and not (tag.name == "header" and tag.find(["h1", "h2"])
                                       and tag.find_parent(["article", "main"])):
            tag.decompose()
    for tag in soup.find_all(True):
        if tag.decomposed or not isinstance(tag, Tag) or tag.attrs is None:
            continue
        if tag.name in ("html", "body"):
            continue
        attrs = " ".join([tag.get("id") or "", " ".join(tag.get("class") or [])])
        # big content containers that merely carry a "top"-ish class are kept
        if (attrs.strip() and _DROP_ATTR.search(attrs) and not _has_metadata(tag)
                and not tag.find(["h1"])
                and (len(tag.get_text(strip=True)) < 400 or tag.name in ("ul", "ol"))):
            tag.decompose()
    for tag in soup.find_all(style=re.compile(r"display\s*:\s*none", re.I)):
        if not tag.decomposed:
            tag.decompose()
    # tables: innermost first
    for table in reversed(soup.find_all("table")):
        if table.decomposed:
            continue
        if table.find("table"):
            continue  # a layout table: its rows become blocks below
        lines = _html_table_lines(table)
        table.replace_with(NavigableString("\n" + "\n".join(lines) + "\n"))
    for br in soup.find_all("br"):
        br.replace_with(NavigableString("\n"))
    for tag in soup.find_all(True):
        if tag.name in _BLOCK_TAGS or tag.name in ("td", "th"):
            tag.insert_before(NavigableString("\n"))
            tag.insert_after(NavigableString("\n"))
    root = soup.body or soup
    text = root.get_text()
    return _tidy_html_text(text)


def _has_metadata(tag) -> bool:
    text = tag.get_text(" ", strip=True)[:2000]
    return sum(1 for k in ("索引号", "发文字号", "成文日期", "发布日期", "发布机构") if k in text) >= 2


def _html_table_lines(table) -> list[str]:
    lines: list[str] = []
    for tr in table.find_all("tr"):
        cells = [" ".join(td.get_text(" ", strip=True).split()) for td in tr.find_all(["td", "th"])]
        cells = [c for c in cells if c]
        if not cells:
            continue
        pairs = _meta_pairs(cells)
        if pairs:
            lines.extend(f"{k} | {v}" for k, v in pairs)
        elif len(cells) == 1:
            lines.append(cells[0])
        else:
            lines.append(" | ".join(cells))
    return lines


def _meta_pairs(cells: list[str]) -> list[tuple[str, str]] | None:
    """[索引号, 1150…, 发文字号, 渝…] → [(索引号, 1150…), (发文字号, 渝…)]; None if not metadata."""
    pairs: list[tuple[str, str]] = []
    i = 0
    while i < len(cells):
        m = _KEY_CELL.match(cells[i])
        if m:
            value = cells[i + 1] if i + 1 < len(cells) and not _KEY_CELL.match(cells[i + 1]) else ""
            pairs.append((m.group(1), value))
            i += 2 if value else 1
            continue
        m = _INLINE_META.match(cells[i])
        if m:
            pairs.append((m.group(1), cells[i][m.end():].strip()))
            i += 1
            continue
        return None
    return pairs or None


def _tidy_html_text(text: str) -> str:
    out: list[str] = []
    for line in text.split("\n"):
        s = line.replace("\xa0", " ").replace("\u200b", "").replace("\ufeff", "")
        s = re.sub(r"[ \t\u3000]+", " ", s).strip()
        if not s:
            continue
        if _BOILER_LINE.match(s) and len(s) < 120:
            continue
        out.extend(_split_inline_meta(s))
    # collapse consecutive duplicate lines (titles repeated in page and article head)
    dedup: list[str] = []
    for s in out:
        if dedup and dedup[-1] == s and len(s) < 100:
            continue
        dedup.append(s)
    return "\n".join(dedup)


def _split_inline_meta(line: str) -> list[str]:
    """"索引号：1150… 发文字号：渝…〔2024〕13号" → ["索引号 | 1150…", "发文字号 | 渝…"]."""
    if " | " in line or len(line) > 200:
        return [line]
    ms = list(_INLINE_META.finditer(line))
    if not ms or ms[0].start() != 0:
        return [line]
    parts: list[str] = []
    for j, m in enumerate(ms):
        end = ms[j + 1].start() if j + 1 < len(ms) else len(line)
        value = line[m.end():end].strip()
        parts.append(f"{m.group(1)} | {value}")
    return parts
