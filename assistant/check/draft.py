"""The draft as the checks see it: the project's loader and standards clause parser, then each
clause split into typed paragraphs (heading, body, list, note, example, table, caption).

Only public entry points of ``assistant.load`` and ``assistant.parse`` are used. Two things
they do not give are worked out here: the cover lines (the parser keeps only metadata from
them) and which paragraph of a clause is a note, an example or a table row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DraftCheckError
from ..records import Clause, DocMeta, LoadedFile

# the chapters of the fixed elements, by their prescribed titles
SCOPE, REFS, TERMS = "范围", "规范性引用文件", "术语和定义"
_NOTE = re.compile(r"^注\s*\d*\s*[：:]")
_EXAMPLE = re.compile(r"^示例\s*\d*\s*[：:]?\s*(?P<rest>.*)$")
_CAPTION = re.compile(r"^[表图]\s*(?:[A-Z]\s*\.\s*)?\d+(?:\s|$|[\u4e00-\u9fff（(])")
_LIST = re.compile(r"^(?:[a-z][)）]|\d{1,2}[)）]|——|—|•)")
_MARKER = re.compile(r"^[（(]\s*(规范性|资料性)\S{0,3}\s*[)）]$")
_ANNEX_LABEL = re.compile(r"^附录([A-Z])$")
_COVER_END = re.compile(r"^(?:目\s*次|目\s*录|前\s*言|引\s*言|1\s+范\s*围)$")


@dataclass
class Para:
    """One paragraph of the draft, in reading order."""

    clause: str  # label of the clause it is in
    text: str
    role: str  # heading / marker / body / list / note / example / table / caption
    page: int = 0


@dataclass
class Draft:
    path: str
    meta: DocMeta
    clauses: list[Clause]
    cover: list[str]
    paras: list[Para] = field(default_factory=list)
    loaded: LoadedFile | None = None

    def clause(self, label: str) -> Clause | None:
        return next((c for c in self.clauses if c.label == label), None)

    def chapter(self, title: str) -> Clause | None:
        """The chapter whose heading is ``title`` (ignoring blanks)."""
        t = compact(title)
        return next((c for c in self.clauses if "." not in c.label and c.label.isdigit()
                     and compact(c.heading) == t), None)

    def heading_in_text(self, label: str, title: str) -> bool:
        """A line "<label> <title>" is in the loaded text (where the parser missed the clause,
        e.g. a chapter 1 right after a PDF cover page)."""
        if self.loaded is None:
            return False
        pat = re.compile(rf"^\s*{re.escape(label)}[\s\u3000]+{re.escape(title)}\s*$", re.M)
        return any(pat.search(p) for p in self.loaded.pages)

    def paras_of(self, label: str) -> list[Para]:
        return [p for p in self.paras if p.clause == label]

    def annex_kind(self, letter: str) -> str:
        """"规范性", "资料性" or "" for 附录<letter>."""
        c = self.clause("附录" + letter)
        if c is None:
            return ""
        for line in c.text.split("\n")[:3]:
            m = re.search(r"[（(]\s*(规范性|资料性)", line)
            if m:
                return m.group(1)
        return ""

    def in_informative_annex(self, label: str) -> bool:
        m = re.match(r"^(?:附录)?([A-Z])(?:\.|$)", label)
        return bool(m) and self.annex_kind(m.group(1)) == "资料性"


def compact(s: str) -> str:
    return re.sub(r"\s+", "", s)


def load_draft(path_or_loaded: str | Path | LoadedFile) -> Draft:
    """Load and parse a draft (DOCX, PDF, Markdown, TXT); InputFileError if unreadable."""
    from ..load import load_file
    from ..parse.standard import parse_standard

    if isinstance(path_or_loaded, LoadedFile):
        loaded = path_or_loaded
    else:
        p = Path(path_or_loaded)
        loaded = load_file(p, p.parent)
    try:
        doc = parse_standard(loaded)
    except Exception as e:  # the parser failed on this text: one line, no traceback
        msg = " ".join(str(e).split())[:120] or type(e).__name__
        raise DraftCheckError(f"{loaded.path}: cannot be parsed as a standard ({msg})") from None
    draft = Draft(path=loaded.path, meta=doc.meta, clauses=doc.clauses, cover=_cover(loaded),
                  loaded=loaded)
    for c in doc.clauses:
        draft.paras.extend(split_clause(c))
    return draft


def _cover(loaded: LoadedFile) -> list[str]:
    out: list[str] = []
    for page in loaded.pages:
        for line in page.split("\n"):
            s = line.strip()
            if not s:
                continue
            if _COVER_END.match(s):
                return out
            out.append(s)
        if len(out) > 80:
            break
    return out


def split_clause(c: Clause) -> list[Para]:
    """The clause's paragraphs with their roles."""
    lines = [x.strip() for x in c.text.split("\n") if x.strip()]
    if c.page_start:
        lines = _rejoin(lines)
    out: list[Para] = []
    page = c.page_start
    in_example = False
    for i, s in enumerate(lines):
        role = _role(c, s, i, lines[0])
        if role == "body":
            m = _EXAMPLE.match(s)
            if m:
                role = "example"
                in_example = not m.group("rest")  # "示例：" alone: the next paragraph is it
            elif in_example:
                role, in_example = "example", False
            elif _NOTE.match(s):
                role = "note"
            elif " | " in s:
                role = "table"
            elif _CAPTION.match(s) and len(s) <= 60 and not s.endswith("。"):
                role = "caption"
            elif _LIST.match(s):
                role = "list"
        if role == "heading" and s.startswith(c.label) and not c.heading and i == 0:
            # an untitled clause: "5.2.1 本文件规定了……" is heading and body at once
            rest = s[len(c.label):].strip()
            out.append(Para(c.label, c.label, "heading", page))
            if rest:
                out.append(Para(c.label, rest, "body", page))
            continue
        out.append(Para(c.label, s, role, page))
    return out


# a PDF line ending in one of these runs on into the next ("应符合" / "GB/T 1—2020 的规定。"),
# even where that line starts like a block of its own
_RUNS_ON = re.compile(r"(?:见|按|按照|依据|根据|参照|参见|符合|满足|遵守|执行|采用|的|和|与|或|及|、|，)$")


def _rejoin(lines: list[str]) -> list[str]:
    out: list[str] = []
    for s in lines:
        if len(out) > 1 and _RUNS_ON.search(out[-1]) and " | " not in s:
            out[-1] += s
        else:
            out.append(s)
    return out


def _role(c: Clause, s: str, i: int, first: str) -> str:
    if i == 0:
        return "heading"
    head = compact(c.heading)
    if i <= 2 and _MARKER.match(s):
        return "marker"
    if i <= 2 and head and compact(s) in (head, compact(f"{c.label}{c.heading}")):
        return "heading"
    if i == 1 and _ANNEX_LABEL.match(c.label) and not head:
        return "heading"
    if i == 1 and head and compact(first) == c.label and compact(s).startswith(head):
        return "heading"  # a term: "3.1" / "条款 provision"
    return "body"


def sentences(text: str) -> list[str]:
    """Sentences of a paragraph, ending punctuation kept."""
    parts = re.findall(r"[^。；！？!?;]+[。；！？!?;]?", text)
    return [p.strip() for p in parts if p.strip()]


def strip_quotes(text: str) -> str:
    """The text without quoted words (“应”, 「必须」): quoted verbal forms are mentions, not uses."""
    # short spans only: a quote mark a PDF text layer moved elsewhere must not hide a sentence
    return re.sub(r"“[^”。，；]{0,12}”|「[^」。，；]{0,12}」|\"[^\"。，；]{0,12}\"|‘[^’。，；]{0,12}’",
                  "“”", text)


def snippet(text: str, at: int = 0, width: int = 60) -> str:
    """About ``width`` characters of ``text`` around position ``at``."""
    start = max(0, at - width // 3)
    s = text[start:start + width]
    return ("…" if start else "") + s + ("…" if start + width < len(text) else "")
