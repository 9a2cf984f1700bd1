"""DOCX → one string: paragraphs (with their automatic numbering) and tables in order.

The package is checked before python-docx parses it: a small DOCX can inflate to hundreds of
megabytes of XML (a zip bomb), which python-docx would build into a tree of gigabytes.
"""

from __future__ import annotations

import io
import re
import zipfile

from ..errors import InputFileError
from .limits import Limits, refuse

_INVALID_FIX = "re-save it from Word/WPS as .docx"


def load_docx(raw: bytes, rel: str, limits: Limits) -> list[str]:
    """The document's text: numbered paragraphs and "cell | cell" table rows, in order."""
    if raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise InputFileError(rel, "legacy Word .doc format (not DOCX)", "save it as .docx or PDF")
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise InputFileError(rel, "not a valid DOCX (not a zip package; corrupt or truncated)",
                             _INVALID_FIX)
    check_package(raw, rel, limits)
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(raw))
    except Exception as e:
        msg = " ".join(str(e).split())[:120] or type(e).__name__
        if "depth" in msg.lower():  # libxml2 refuses nesting deeper than 256 levels
            raise refuse(rel, "XML nesting depth", 256) from None
        raise InputFileError(rel, f"not a valid DOCX ({msg})", _INVALID_FIX) from None
    numbering = _DocxNumbering(document)
    lines: list[str] = []
    size = 0
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = block.text.replace("\v", "\n")
            label = numbering.label(block) if text.strip() else ""
            lines.append(label + text)
        elif isinstance(block, Table):
            lines.extend(_docx_table_rows(block))
        size += len(lines[-1]) if lines else 0
        if size > limits.max_chars:
            raise refuse(rel, "characters of text", limits.max_chars)
    return ["\n".join(lines).strip("\n")]


def check_package(raw: bytes, rel: str, limits: Limits) -> None:
    """Refuse a package with too many parts or more XML than ``limits.max_unpacked`` bytes.

    The parts are inflated as a stream and counted, so a header that lies about a part's
    size changes nothing, and reading stops at the limit (little time, little memory)."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = zf.infolist()
            if len(infos) > limits.max_parts:
                raise refuse(rel, "parts in the package", limits.max_parts)
            total = 0
            for info in infos:
                if not info.filename.lower().endswith((".xml", ".rels")):
                    continue  # images and fonts are never inflated
                with zf.open(info) as f:
                    while block := f.read(1 << 20):
                        total += len(block)
                        if total > limits.max_unpacked:
                            raise refuse(rel, "XML once unpacked", limits.max_unpacked, "MB")
    except InputFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as e:
        msg = " ".join(str(e).split())[:120] or type(e).__name__
        raise InputFileError(rel, f"not a valid DOCX ({msg})", _INVALID_FIX) from None


class _DocxNumbering:
    """Automatic numbering of DOCX paragraphs ("5.2 ", "附录A", "a) "), which is not in the text.

    Standards written with Word templates number chapters, clauses and annexes through
    list styles; without the numbers the clause tree cannot be found. Supports the usual
    formats (decimal, letters, roman, Chinese counting), per-list counters that restart below
    a higher level, styles that carry numbering, and legal (isLgl) numbering.
    """

    def __init__(self, document) -> None:
        from docx.oxml.ns import qn

        self.qn = qn
        self.nums: dict[str, str] = {}  # numId → abstractNumId
        self.starts: dict[tuple[str, int], int] = {}  # (numId, ilvl) → startOverride
        self.levels: dict[str, dict[int, dict[str, str]]] = {}
        self.style_levels: dict[str, tuple[str, int]] = {}  # styleId → (abstractNumId, ilvl)
        self.counters: dict[str, dict[int, int]] = {}
        self.seen: set[str] = set()
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            root = None
        if root is None:
            return
        for an in root.findall(qn("w:abstractNum")):
            aid = an.get(qn("w:abstractNumId"))
            lv: dict[int, dict[str, str]] = {}
            for lvl in an.findall(qn("w:lvl")):
                ilvl = int(lvl.get(qn("w:ilvl"), "0"))
                d = {"start": "1", "fmt": "decimal", "text": "", "suff": "tab", "lgl": ""}
                for tag, key in (("w:start", "start"), ("w:numFmt", "fmt"), ("w:lvlText", "text"),
                                 ("w:suff", "suff"), ("w:pStyle", "pstyle")):
                    el = lvl.find(qn(tag))
                    if el is not None:
                        d[key] = el.get(qn("w:val"), "")
                if lvl.find(qn("w:isLgl")) is not None:
                    d["lgl"] = "1"
                lv[ilvl] = d
                if d.get("pstyle"):
                    self.style_levels[d["pstyle"]] = (aid or "", ilvl)
            self.levels[aid or ""] = lv
        for num in root.findall(qn("w:num")):
            nid = num.get(qn("w:numId")) or ""
            an = num.find(qn("w:abstractNumId"))
            if an is not None:
                self.nums[nid] = an.get(qn("w:val")) or ""
            for ov in num.findall(qn("w:lvlOverride")):
                so = ov.find(qn("w:startOverride"))
                if so is not None:
                    self.starts[(nid, int(ov.get(qn("w:ilvl"), "0")))] = int(so.get(qn("w:val"), "1"))

    def _numpr(self, paragraph) -> tuple[str, int] | None:
        qn = self.qn
        ppr = paragraph._p.pPr
        numpr = ppr.find(qn("w:numPr")) if ppr is not None else None
        style = paragraph.style
        if numpr is None:
            # numbering carried by the paragraph style (or the style it is based on)
            depth = 0
            while style is not None and depth < 10:
                sppr = style.element.find(qn("w:pPr"))
                numpr = sppr.find(qn("w:numPr")) if sppr is not None else None
                if numpr is not None:
                    break
                style = style.base_style
                depth += 1
        if numpr is None:
            return None
        nid_el = numpr.find(qn("w:numId"))
        nid = nid_el.get(qn("w:val")) if nid_el is not None else None
        if not nid or nid == "0":
            return None
        ilvl_el = numpr.find(qn("w:ilvl"))
        if ilvl_el is not None:
            return nid, int(ilvl_el.get(qn("w:val"), "0"))
        sid = style.style_id if style is not None else ""
        if sid in self.style_levels and self.style_levels[sid][0] == self.nums.get(nid):
            return nid, self.style_levels[sid][1]
        return nid, 0

    def label(self, paragraph) -> str:
        try:
            found = self._numpr(paragraph)
        except Exception:  # malformed numbering: the text without numbers
            return ""
        if not found:
            return ""
        nid, ilvl = found
        levels = self.levels.get(self.nums.get(nid, ""), {})
        lvl = levels.get(ilvl)
        if lvl is None:
            return ""
        # counters are shared by all lists on the same abstract definition (Word's behaviour
        # for headings numbered through styles)
        key = self.nums.get(nid, nid)
        counters = self.counters.setdefault(key, {})

        def start(k: int) -> int:
            if (nid, k) in self.starts:
                return self.starts[(nid, k)]
            return int(levels.get(k, {}).get("start", "1") or 1)

        if (nid, ilvl) in self.starts and nid not in self.seen:
            counters.clear()  # a list that restarts its numbering (startOverride)
        self.seen.add(nid)
        counters[ilvl] = counters[ilvl] + 1 if ilvl in counters else start(ilvl)
        for k in [k for k in counters if k > ilvl]:
            del counters[k]
        if lvl["fmt"] in ("bullet", "none"):
            text = lvl["text"] if lvl["fmt"] == "bullet" else ""
        else:
            def repl(m: re.Match[str]) -> str:
                k = int(m.group(1)) - 1
                value = counters.get(k, start(k))
                fmt = "decimal" if (lvl["lgl"] and k < ilvl) else levels.get(k, lvl)["fmt"]
                return _format_number(value, fmt)

            text = re.sub(r"%(\d)", repl, lvl["text"])
        if not text.strip():
            return ""
        if text[-1] in ")）、.．" and lvl["fmt"] != "decimal":
            return text + " "
        return text + ("" if lvl["suff"] == "nothing" else " ")


def _format_number(n: int, fmt: str) -> str:
    if fmt in ("upperLetter", "lowerLetter"):
        s = ""
        k = n
        while k > 0:
            k, r = divmod(k - 1, 26)
            s = chr(65 + r) + s
        return s if fmt == "upperLetter" else s.lower()
    if fmt in ("upperRoman", "lowerRoman"):
        vals = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
        out, k = "", n
        for v, r in vals:
            while k >= v:
                out += r
                k -= v
        return out if fmt == "upperRoman" else out.lower()
    if fmt in ("chineseCounting", "chineseCountingThousand", "taiwaneseCounting"):
        from ..identifiers import int_to_cn

        return int_to_cn(n)
    if fmt == "decimalZero":
        return f"{n:02d}"
    if fmt == "decimalEnclosedCircle" and 1 <= n <= 20:
        return chr(0x2460 + n - 1)
    return str(n)


def _docx_table_rows(table) -> list[str]:
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            key = id(cell._tc)
            if key in seen:  # a merged cell appears once per grid column it spans
                continue
            seen.add(key)
            nested = cell.tables
            text = " ".join(" ".join(p.text.split()) for p in cell.paragraphs if p.text.strip())
            if nested:
                text = " ".join([text] + [r for t in nested for r in _docx_table_rows(t)]).strip()
            cells.append(text)
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


