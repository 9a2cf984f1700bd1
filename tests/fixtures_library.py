"""The standards library: twelve fictional standards (tests/library_texts.py) rendered as the
files engineers have — front-matter Markdown, plain Markdown, HTML (for Chromium's
print-to-PDF) and DOCX (for LibreOffice's PDF export) — with their ground truth.

    standards()                     the parsed specs, in library order
    render_front_md(std) / render_plain_md(std) / render_html(std)   → str
    write_docx(std, path)           python-docx: cover, headings, tables, a running header
    expected_labels(std)            clause labels in order
    questions()                     [(qid, question, std, clause)], the eval questions
    file_stem(std)                  "GB_T_90202-2023"

scripts/make_library.py turns these into the committed files under eval/datasets/library/.
"""

from __future__ import annotations

import html as _html
import re
from dataclasses import dataclass, field
from pathlib import Path

from .fixtures_std import md_table
from .library_texts import LIBRARY


@dataclass
class Clause:
    label: str
    title: str
    text: str = ""
    table: tuple[str, list[list[str]]] | None = None
    questions: list[str] = field(default_factory=list)


@dataclass
class Term:
    label: str
    term: str
    english: str
    definition: str


@dataclass
class Std:
    number: str
    kind_line: str
    title: str
    english: str
    codes: list[str] = field(default_factory=list)
    issued: str = ""
    effective: str = ""
    replaces: list[str] = field(default_factory=list)
    issuer: list[str] = field(default_factory=list)
    adoption: str = ""
    foreword: str = ""
    scope: str = ""
    refs: list[str] = field(default_factory=list)
    terms: list[Term] = field(default_factory=list)
    body: list[Clause] = field(default_factory=list)  # chapters 4… and clauses
    annex: tuple[str, str, str] = ("", "", "")  # letter, kind, title
    annex_body: list[Clause] = field(default_factory=list)


def _split(v: str, sep: str = ";") -> list[str]:
    return [x.strip() for x in v.split(sep) if x.strip()]


def _parse_block(block: str) -> Std:
    lines = [ln.strip() for ln in block.strip().split("\n") if ln.strip()]
    no, kind, title, english = _split(lines[0].lstrip("@ "), "|")
    std = Std(no, kind, title, english)
    target = std.body
    for ln in lines[1:]:
        key, _, val = ln.partition(":")
        if ln.startswith("? "):
            target[-1].questions.append(ln[2:].strip())
        elif ln.startswith("# "):
            label, _, t = ln[2:].partition(" ")
            target.append(Clause(label, t.strip()))
        elif key == "term":
            t, en, d = _split(val, "|")
            std.terms.append(Term(f"3.{len(std.terms) + 1}", t, en, d))
        elif key == "table":
            cells = _split(val, "|")
            target[-1].table = (cells[0], [_split(r) for r in cells[1:]])
        elif key == "annex":
            std.annex = tuple(_split(val, "|"))  # type: ignore[assignment]
            target = std.annex_body
        elif key in ("codes", "replaces", "issuer"):
            setattr(std, key, _split(val))
        elif key == "dates":
            std.issued, std.effective = _split(val)
        elif key in ("adoption", "foreword", "scope"):
            setattr(std, key, val.strip())
        elif key == "refs":
            std.refs = _split(val)
        else:
            label, _, rest = ln.partition(" ")
            t, _, text = rest.partition("|")
            target.append(Clause(label, t.strip(), text.strip()))
    return std


def standards() -> list[Std]:
    return [_parse_block(b) for b in LIBRARY.split("\n@ ") if b.strip() and "|" in b.split("\n")[0]]


def file_stem(std: Std) -> str:
    return std.number.replace("/", "_").replace("—", "-").replace(" ", "_")


def expected_labels(std: Std) -> list[str]:
    out = ["前言", "1", "2", "3", *[t.label for t in std.terms]]
    out += [c.label for c in std.body]
    out += ["附录" + std.annex[0], *[c.label for c in std.annex_body]]
    return out


def chunk_labels(std: Std) -> list[str]:
    """Labels that are chunks of their own (a chapter or annex heading with nothing under it
    but its clauses goes into their heading path instead)."""
    out = ["1", "2", "3", *[t.label for t in std.terms]]
    return out + [c.label for c in std.body + std.annex_body if c.text]


def questions() -> list[tuple[str, str, Std, str]]:
    out = []
    for std in standards():
        for c in std.body + std.annex_body:
            for q in c.questions:
                out.append((f"lib-{len(out) + 1:02d}", q, std, c.label))
    return out


# ---------------------------------------------------------------------------------------------
# logical blocks shared by every renderer
# ---------------------------------------------------------------------------------------------

def cover_lines(std: Std) -> list[tuple[str, str]]:
    """(role, text) of the cover: codes, kind, number, 代替, title, English, adoption, dates,
    issuer."""
    out = [("code", c) for c in std.codes]
    out += [("kind", std.kind_line), ("number", std.number)]
    if std.replaces:
        out.append(("replaces", "代替 " + "、".join(std.replaces)))
    out += [("title", std.title), ("english", std.english)]
    if std.adoption:
        out.append(("adoption", f"（{std.adoption}）"))
    out += [("date", f"{std.issued} 发布"), ("date", f"{std.effective} 实施")]
    out += [("issuer", x) for x in std.issuer[:-1]] + [("issuer", std.issuer[-1] + "  发布")]
    return out


def blocks(std: Std) -> list[tuple[str, object]]:
    """(kind, value): h1/h2/h3 headings, p paragraphs, table (caption, rows)."""
    out: list[tuple[str, object]] = [("h1", "前言")]
    out.append(("p", "本文件按照GB/T 1.1—2020《标准化工作导则 第1部分：标准化文件的结构和起草规则》"
                     "的规定起草。"))
    if std.replaces and "代替" not in std.foreword:
        out.append(("p", f"本文件代替{'、'.join(std.replaces)}。"))
    if std.foreword:
        out.append(("p", std.foreword))
    out.append(("p", "请注意本文件的某些内容可能涉及专利。本文件的发布机构不承担识别专利的责任。"))
    out += [("h1", "1 范围"), ("p", std.scope), ("h1", "2 规范性引用文件")]
    out.append(("p", "下列文件中的内容通过文中的规范性引用而构成本文件必不可少的条款。其中，注日期的引用文件，"
                     "仅该日期对应的版本适用于本文件；不注日期的引用文件，其最新版本适用于本文件。"))
    out += [("p", r) for r in std.refs]
    out += [("h1", "3 术语和定义"), ("p", "下列术语和定义适用于本文件。")]
    for t in std.terms:
        out += [("h2", t.label), ("p", f"{t.term} {t.english}"), ("p", t.definition)]
    for c in std.body:
        _clause_blocks(c, out)
    letter, kind, title = std.annex
    out.append(("annex", f"附录{letter}（{kind}）{title}"))
    for c in std.annex_body:
        _clause_blocks(c, out)
    return out


def _clause_blocks(c: Clause, out: list[tuple[str, object]]) -> None:
    level = "h1" if "." not in c.label else "h2"
    out.append((level, f"{c.label} {c.title}"))
    if c.text:
        out.append(("p", c.text))
    if c.table:
        out.append(("caption", c.table[0]))
        out.append(("table", c.table[1]))


# ---------------------------------------------------------------------------------------------
# renderers
# ---------------------------------------------------------------------------------------------

def _md_body(std: Std) -> list[str]:
    out: list[str] = []
    for kind, value in blocks(std):
        if kind == "table":
            out.extend(md_table(value))  # type: ignore[arg-type]
        elif kind in ("h1", "annex"):
            out.append(f"## {value}")
        elif kind == "h2":
            out.append(f"### {value}")
        else:
            out.append(str(value))
        out.append("")
    return out


def render_front_md(std: Std) -> str:
    """YAML front matter (as converters write it), then the body with Markdown headings."""
    import yaml

    fm = {"title": std.title, "standard-number": std.number, "issued": std.issued,
          "effective": std.effective, "issuer": " ".join(std.issuer)}
    if std.replaces:
        fm["replaces"] = list(std.replaces)
    if std.adoption:
        fm["adoption"] = std.adoption
    head = yaml.safe_dump(fm, allow_unicode=True, sort_keys=False).strip()
    return "\n".join(["---", head, "---", "", f"# {std.title}", "", *_md_body(std)])


def render_plain_md(std: Std) -> str:
    """No front matter: the cover as paragraphs, the title as the only # heading."""
    out = []
    for role, text in cover_lines(std):
        out += [f"# {text}" if role == "title" else text, ""]
    return "\n".join(out + _md_body(std))


_CSS = """
@page { size: A4; margin: 22mm 20mm; }
body { font-family: "Noto Serif CJK SC", serif; font-size: 10.5pt; line-height: 1.6; }
.cover { page-break-after: always; text-align: center; }
.cover .code, .cover .number, .cover .replaces { text-align: right; }
.cover .title { font-size: 20pt; margin-top: 30mm; }
.cover .date { margin-top: 40mm; }
h2 { font-size: 11pt; margin: 10pt 0 4pt; }
h2.front, h2.annex { text-align: center; page-break-before: always; }
h3 { font-size: 10.5pt; margin: 6pt 0 2pt; }
table { border-collapse: collapse; margin: 4pt auto; }
td { border: 1px solid #000; padding: 2pt 6pt; }
p.caption { text-align: center; }
"""


def render_html(std: Std) -> str:
    """A web page of the standard (cover, headings, tables), as saved from a browser."""
    e = _html.escape
    out = [f"<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
           f"<title>{e(std.number)} {e(std.title)}</title><style>{_CSS}</style></head><body>",
           "<div class=\"cover\">"]
    out += [f"<p class=\"{role}\">{e(text)}</p>" for role, text in cover_lines(std)]
    out.append("</div>")
    for kind, value in blocks(std):
        if kind == "table":
            rows = value  # type: ignore[assignment]
            out.append("<table>" + "".join(
                "<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows) + "</table>")
        elif kind in ("h1", "annex"):
            cls = "front" if value == "前言" else ("annex" if kind == "annex" else "")
            out.append(f"<h2 class=\"{cls}\">{e(str(value))}</h2>")
        elif kind == "h2":
            out.append(f"<h3>{e(str(value))}</h3>")
        else:
            cls = " class=\"caption\"" if kind == "caption" else ""
            out.append(f"<p{cls}>{e(str(value))}</p>")
    out.append("</body></html>")
    return "\n".join(out)


def write_docx(std: Std, path: Path) -> Path:
    """The standard as Word writes it: cover, page break, Heading 1/2, real tables, the
    number as running header."""
    import docx
    from docx.enum.text import WD_BREAK
    from docx.shared import Pt

    d = docx.Document()
    style = d.styles["Normal"]
    style.font.name = "Noto Serif CJK SC"
    style.font.size = Pt(10.5)
    style.element.rPr.rFonts.set(docx.oxml.ns.qn("w:eastAsia"), "Noto Serif CJK SC")
    for _role, text in cover_lines(std):
        d.add_paragraph(text)
    d.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)
    for kind, value in blocks(std):
        if kind == "table":
            rows = value  # type: ignore[assignment]
            t = d.add_table(rows=len(rows), cols=len(rows[0]))
            t.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    t.cell(r, c).text = cell
        elif kind in ("h1", "annex"):
            d.add_heading(str(value), level=1)
        elif kind == "h2":
            d.add_heading(str(value), level=2)
        else:
            d.add_paragraph(str(value))
    d.sections[0].header.paragraphs[0].text = std.number
    d.save(str(path))
    return path


def source_text(std: Std) -> str:
    """Everything a faithful text extraction must give back, in order (whitespace aside)."""
    parts = [t for _, t in cover_lines(std)]
    for kind, value in blocks(std):
        if kind == "table":
            parts += [" ".join(r) for r in value]  # type: ignore[union-attr]
        else:
            parts.append(str(value))
    return "\n".join(parts)


def squash(s: str) -> str:
    """Text without whitespace and table bars, for "equal modulo whitespace"."""
    return re.sub(r"[\s|]+", "", s)
