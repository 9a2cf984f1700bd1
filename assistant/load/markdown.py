"""Markdown → plain lines, and its front matter (YAML ``---`` or TOML ``+++``) → metadata.

Converters, Obsidian, pandoc and static-site tools write the document's metadata (title,
standard number, dates, status …) as front matter; it is metadata, never body text. The
keys are kept as written (the parser maps them to fields); values become strings, lists are
joined with "、".
"""

from __future__ import annotations

import re

_FRONT = re.compile(r"\A\ufeff?[ \t]*(---|\+\+\+)[ \t]*\n(.*?)\n[ \t]*(\1|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_MAX_FRONT = 64 * 1024  # bytes of front matter read (more is body text gone wrong)
_MAX_VALUE = 2000
_KEY_LINE = re.compile(r"^\s*([^\s:=#][^:=]{0,40}?)\s*[:=]\s*(.*?)\s*$")


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """(metadata, body) of a Markdown text; ({}, text) when it has no front matter."""
    m = _FRONT.match(text)
    if not m or len(m.group(2)) > _MAX_FRONT:
        return {}, text
    raw = _parse_front(m.group(2), toml=m.group(1) == "+++")
    if raw is None:
        return {}, text  # not metadata after all (a horizontal rule, say): body text
    meta: dict[str, str] = {}
    for key, value in raw.items():
        s = _scalar(value)
        if s:
            meta[str(key).strip()] = s[:_MAX_VALUE]
    # the body keeps its line count (blank lines where the front matter was)
    return meta, "\n" * m.group(0).count("\n") + text[m.end():]


def _parse_front(block: str, toml: bool) -> dict | None:
    """The front matter as a mapping; YAML/TOML that does not parse is read as key: value
    lines (hand-written front matter is often not valid YAML: "title: GB/T 1.1: 起草规则")."""
    try:
        if toml:
            import tomllib

            data = tomllib.loads(block)
        else:
            import yaml

            data = yaml.safe_load(block)
    except Exception:  # malformed: fall back to lines
        data = None
    if isinstance(data, dict):
        return data
    pairs = {}
    for line in block.split("\n"):
        km = _KEY_LINE.match(line)
        if km:
            pairs[km.group(1)] = km.group(2).strip().strip("'\"")
    return pairs or None


def _scalar(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "、".join(x for x in (_scalar(v) for v in value[:50]) if x)
    if isinstance(value, dict):
        return ""  # nested tables (taxonomies, layout options) are not document metadata
    return " ".join(str(value).split())


_MD_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_ATTRS = re.compile(r"\s*\{[#.][^{}]*\}\s*$")  # pandoc "{#sec-4 .unnumbered}"
_INLINE_TAG = re.compile(r"</?(?:span|a|font|u|sup|sub|b|i|em|strong|mark|small)\b[^>]*>|<br\s*/?>", re.I)
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~])")
# "## 4. 技术要求", "### 4.1. 外观": the dot some writers put after a clause number
_HEADING_DOT = re.compile(r"^((?:[A-Z]|\d{1,2})(?:\.\d{1,3})*)\.(?=\s)")


def clean_markdown(text: str) -> str:
    """Markdown → plain lines: tables as "cell | cell", heading marks, emphasis, links and
    inline HTML dropped.

    Headings keep their text ("## 5.2 要求" → "5.2 要求"); the structure is found later from the
    labels as in any other format.
    """
    out: list[str] = []
    in_code = False
    for line in text.split("\n"):
        s = line.rstrip()
        if s.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            out.append(s)
            continue
        if _MD_TABLE_SEP.match(s) and "-" in s and "|" in s:
            continue
        s = _inline(s)
        st = s.strip()
        if st.startswith("|") and st.endswith("|") and st.count("|") >= 2:
            cells = [c.strip() for c in st.strip("|").split("|")]
            out.append(" | ".join(cells))
            continue
        heading = re.match(r"^\s{0,3}#{1,6}\s+", s)
        s = re.sub(r"^\s{0,3}#{1,6}\s+", "", s)
        if heading:
            s = _HEADING_DOT.sub(r"\1", _ATTRS.sub("", re.sub(r"\s+#+\s*$", "", s)))
        s = re.sub(r"^\s{0,3}>\s?", "", s)
        out.append(s)
    return "\n".join(out)


def _inline(s: str) -> str:
    s = re.sub(r"<!--.*?-->", "", s)
    s = _IMAGE.sub("", s)
    s = _LINK.sub(r"\1", s)
    s = _INLINE_TAG.sub("", s)
    s = re.sub(r"(\*\*|__)(.+?)\1", r"\2", s)
    return _ESCAPE.sub(r"\1", s)
