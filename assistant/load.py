"""Read one input file into text: PDF pages, DOCX paragraphs and tables, TXT/MD, HTML pages.

``load_file`` never lets a library exception escape: every failure becomes an
:class:`~assistant.errors.InputFileError` (or :class:`~assistant.errors.NeedsOCR`) whose one-line
message names the file, the reason and the fix.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import logging
import re
import unicodedata
from pathlib import Path, PurePath

from .errors import InputFileError, NeedsOCR
from .records import LoadedFile

SUPPORTED = {".pdf", ".docx", ".txt", ".md", ".markdown", ".html", ".htm"}
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
_FORMATS = {".pdf": "pdf", ".docx": "docx", ".txt": "txt", ".md": "md", ".markdown": "md",
            ".html": "html", ".htm": "html"}
# A PDF whose pages hold fewer printable characters than this in total has no usable text layer.
_MIN_PDF_CHARS = 20

log = logging.getLogger(__name__)


def rel_path(path: Path, root: Path) -> str:
    """POSIX path of ``path`` relative to ``root`` (the file name alone when outside it)."""
    try:
        return PurePath(path.resolve().relative_to(root.resolve())).as_posix()
    except (ValueError, OSError):
        return path.name


def load_file(path: Path, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadedFile:
    """The text of ``path``: one string per page for PDFs, one string otherwise."""
    path = Path(path)
    rel = rel_path(path, Path(root))
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        shown = suffix or "(no suffix)"
        raise InputFileError(rel, f"unsupported format {shown}", "convert to PDF/DOCX/TXT/MD/HTML")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputFileError(rel, "file not found", "check the path") from None
    except OSError as e:
        raise InputFileError(rel, f"cannot read file ({e.strerror or e})", "check permissions") from None
    if not path.is_file():
        raise InputFileError(rel, "not a regular file", "give a file, not a directory")
    if size > max_bytes:
        raise InputFileError(
            rel, f"file too large ({size / 1e6:.0f} MB > limit {max_bytes / 1e6:.0f} MB)",
            "split the file or raise the size limit")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputFileError(rel, f"cannot read file ({e.strerror or e})", "check permissions") from None
    if not raw.strip():
        raise InputFileError(rel, "empty file", "remove it or replace it with the full document")
    fmt = _FORMATS[suffix]
    sha = hashlib.sha256(raw).hexdigest()
    try:
        if fmt == "pdf":
            pages, enc = _load_pdf(raw, rel), ""
        elif fmt == "docx":
            pages, enc = _load_docx(raw, rel), "utf-8"
        elif fmt == "html":
            text, enc = _load_html(raw, rel)
            pages = [text]
        else:
            _refuse_other_formats(raw, rel, suffix)
            text, enc = decode_text(raw, rel)
            if fmt == "md":
                text = _clean_markdown(text)
            pages = [text]
    except InputFileError:
        raise
    except Exception as e:  # a library failed on a malformed file: one line, no traceback
        msg = " ".join(str(e).split())[:160] or type(e).__name__
        raise InputFileError(rel, f"cannot read {fmt.upper()} ({msg})",
                             "check that the file opens in a viewer; re-save or re-export it") from None
    if not any(p.strip() for p in pages):
        raise InputFileError(rel, "no text in file", "remove it or replace it with the full document")
    return LoadedFile(path=rel, format=fmt, pages=pages, encoding=enc or "utf-8", sha256=sha)


# ---------------------------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------------------------

def _load_pdf(raw: bytes, rel: str) -> list[str]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    head = raw[:1024]
    if b"%PDF-" not in head:
        raise InputFileError(rel, "not a PDF (no %PDF header)", "check the file; re-export it as PDF")
    if b"%%EOF" not in raw[-4096:]:
        raise InputFileError(rel, "truncated or corrupt PDF (no end-of-file marker)",
                             "download or export the file again")
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(raw), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except DependencyError:
                raise InputFileError(rel, _AES_REASON, _AES_FIX) from None
            if not ok:
                raise InputFileError(rel, "encrypted PDF (password required)",
                                     "remove the password, e.g. qpdf --decrypt --password=… in.pdf out.pdf")
        pages = list(reader.pages)
    except InputFileError:
        raise
    except FileNotDecryptedError:
        raise InputFileError(rel, "encrypted PDF (password required)",
                             "remove the password, e.g. qpdf --decrypt --password=… in.pdf out.pdf") from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
        msg = " ".join(str(e).split())[:120] or type(e).__name__
        raise InputFileError(rel, f"truncated or corrupt PDF ({msg})",
                             "download or export the file again") from None
    if not pages:
        raise InputFileError(rel, "PDF has no pages", "download or export the file again")
    texts: list[str] = []
    for i, page in enumerate(pages, 1):
        _patch_embedded_cmaps(page)
        try:
            t = page.extract_text() or ""
        except DependencyError:
            raise InputFileError(rel, _AES_REASON, _AES_FIX) from None
        except Exception as e:
            msg = " ".join(str(e).split())[:120] or type(e).__name__
            raise InputFileError(rel, f"cannot extract the text of page {i} ({msg})",
                                 "re-export the PDF, or OCR it (ocrmypdf --force-ocr)") from None
        texts.append(_clean_pdf_text(t))
    printable = sum(1 for t in texts for ch in t if not ch.isspace())
    if printable < _MIN_PDF_CHARS:
        raise NeedsOCR(rel, "no text layer (scanned PDF), needs OCR", "run OCR first, e.g. ocrmypdf")
    if _looks_garbled("".join(texts)):
        raise NeedsOCR(rel, "text layer unreadable (fonts without Unicode mapping)",
                       "run OCR first, e.g. ocrmypdf --force-ocr")
    return texts


_AES_REASON = "encrypted PDF (AES) needs the 'cryptography' package to be read"
_AES_FIX = "pip install cryptography, or decrypt it first: qpdf --decrypt in.pdf out.pdf"


def _patch_embedded_cmaps(page) -> None:
    """Let pypdf read Type0 fonts whose /Encoding is an embedded two-byte CMap stream.

    pypdf decodes such fonts one byte at a time, which turns every character into garbage
    (fpdf2 writes CJK OpenType fonts this way; some other producers do too). For text
    extraction only the ToUnicode map matters, and it is keyed by the same two-byte codes, so
    the font is read as Identity-H.
    """
    from pypdf.generic import NameObject, StreamObject

    try:
        resources = page.get("/Resources")
        resources = resources.get_object() if resources is not None else None
        fonts = resources.get("/Font") if resources else None
        fonts = fonts.get_object() if fonts is not None else None
        if not fonts:
            return
        for ref in fonts.values():
            font = ref.get_object()
            if font.get("/Subtype") != "/Type0" or "/ToUnicode" not in font:
                continue
            enc = font.get("/Encoding")
            enc = enc.get_object() if enc is not None else None
            if isinstance(enc, StreamObject):
                data = enc.get_data()
                if re.search(rb"begincodespacerange\s*<0000>\s*<FFFF>", data, re.I):
                    font[NameObject("/Encoding")] = NameObject("/Identity-H")
    except Exception:  # best effort; extraction below reports real failures
        return


def _clean_pdf_text(t: str) -> str:
    t = t.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    # compatibility ideographs / ligatures some producers emit (e.g. "⼀" U+2F00 for "一")
    t = "".join(unicodedata.normalize("NFKC", ch) if 0x2F00 <= ord(ch) <= 0x2FDF or
                0xFB00 <= ord(ch) <= 0xFB06 else ch for ch in t)
    return "\n".join(line.rstrip() for line in t.split("\n"))


def _looks_garbled(text: str) -> bool:
    """Text made mostly of private-use or replacement characters: fonts without ToUnicode."""
    chars = [ch for ch in text if not ch.isspace()]
    if len(chars) < 50:
        return False
    bad = sum(1 for ch in chars if ch == "\ufffd" or 0xE000 <= ord(ch) <= 0xF8FF
              or unicodedata.category(ch) == "Cc")
    return bad / len(chars) > 0.3


# ---------------------------------------------------------------------------------------------
# DOCX
# ---------------------------------------------------------------------------------------------

def _load_docx(raw: bytes, rel: str) -> list[str]:
    import io
    import zipfile

    if raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise InputFileError(rel, "legacy Word .doc format (not DOCX)", "save it as .docx or PDF")
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise InputFileError(rel, "not a valid DOCX (not a zip package; corrupt or truncated)",
                             "re-save it from Word/WPS as .docx")
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(raw))
    except Exception as e:
        msg = " ".join(str(e).split())[:120] or type(e).__name__
        raise InputFileError(rel, f"not a valid DOCX ({msg})", "re-save it from Word/WPS as .docx") from None
    numbering = _DocxNumbering(document)
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = block.text.replace("\v", "\n")
            label = numbering.label(block) if text.strip() else ""
            lines.append(label + text)
        elif isinstance(block, Table):
            lines.extend(_docx_table_rows(block))
    return ["\n".join(lines).strip("\n")]


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
        from .identifiers import int_to_cn

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


# ---------------------------------------------------------------------------------------------
# TXT / MD
# ---------------------------------------------------------------------------------------------

_GBK_FAMILY = {"gb2312", "gbk", "gb18030", "hz", "cp936", "euc_cn", "euccn", "ms936"}
_BIG5_FAMILY = {"big5", "big5hkscs", "cp950"}
# the most frequent Hanzi (simplified and traditional), to tell GB18030 from Big5 bytes
_COMMON_HANZI = set(
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之"
    "年过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理"
    "心她本前开但因只从想实日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高"
    "间由问很最重并物手应战向头文体政美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老"
    "给世位次度门任常先海通教儿原东声提立及比员解水名真论处走义各入几口认条平系气题活尔更别打女"
    "变四神总何电数安少报才结反受目太量再感建务做接必场件计管期市直德资命山金指克许统区保至队形"
    "社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象完设式色路记南品住告类求据程"
    "北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改收根干造言联持组每"
    "济车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调深商算质"
    "团集百需价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越器容照须九增研写称"
    "企格标准範圍規範術語定義條款應當實施發佈國產質監督檢驗與為這個們來對時會說後從無開關問題業"
    "務區過還進動現經學種樣點長電話體義著們將專當並製據規劃變質標準號項則規則條文件範圍內容"
)


_MAGIC = (
    (b"%PDF-", "a PDF file", "rename it to .pdf"),
    (b"PK\x03\x04", "a ZIP/Office file (DOCX?)", "rename a Word file to .docx, or export it as PDF"),
    (b"\xd0\xcf\x11\xe0", "a legacy Office file (.doc?)", "save it as .docx or PDF"),
    (b"\x89PNG", "an image (PNG)", "run OCR on it, or give the document as PDF/DOCX"),
    (b"\xff\xd8\xff", "an image (JPEG)", "run OCR on it, or give the document as PDF/DOCX"),
)


def _refuse_other_formats(raw: bytes, rel: str, suffix: str) -> None:
    """A PDF or DOCX renamed to .txt: say what it is rather than "binary data"."""
    head = raw[:1024].lstrip()
    for magic, what, fix in _MAGIC:
        if head.startswith(magic):
            raise InputFileError(rel, f"binary data: {what} with a {suffix} suffix", fix)


def decode_text(raw: bytes, rel: str) -> tuple[str, str]:
    """Decode text bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 / Big5 /
    whatever charset-normalizer finds. Returns (text, encoding name)."""
    if raw.startswith(codecs.BOM_UTF8):
        return _checked(raw[3:].decode("utf-8", errors="replace"), rel), "utf-8-sig"
    for bom, enc in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                     (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            try:
                return _checked(raw.decode(enc), rel), enc
            except UnicodeDecodeError:
                break
    if b"\x00" in raw:
        raise InputFileError(rel, "binary data, not text (NUL bytes)",
                             "give the original document (PDF/DOCX) or a plain-text export")
    try:
        return _checked(raw.decode("utf-8"), rel), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates: dict[str, str] = {}
    for enc in ("gb18030", "big5"):
        with contextlib.suppress(UnicodeDecodeError):
            candidates[enc] = raw.decode(enc)
    if candidates:
        best = max(candidates, key=lambda e: (_hanzi_score(candidates[e]), e == "gb18030"))
        if _hanzi_score(candidates[best]) > 0.2 or len(candidates) == 1:
            return _checked(candidates[best], rel), best
    from charset_normalizer import from_bytes

    match = from_bytes(raw).best()
    if match is not None and match.encoding:
        enc = match.encoding.lower().replace("-", "_")
        if enc in _GBK_FAMILY:
            enc = "gb18030"
        elif enc in _BIG5_FAMILY:
            enc = "big5"
        try:
            return _checked(raw.decode(enc), rel), enc
        except (UnicodeDecodeError, LookupError):
            pass
    if candidates:
        enc = "gb18030" if "gb18030" in candidates else "big5"
        return _checked(candidates[enc], rel), enc
    raise InputFileError(rel, "binary data or unknown text encoding",
                         "save the file as UTF-8 text, or give the original PDF/DOCX")


def _hanzi_score(text: str) -> float:
    han = [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
    if not han:
        return 0.0
    return sum(1 for ch in han if ch in _COMMON_HANZI) / len(han)


def _checked(text: str, rel: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    sample = text[:200_000]
    if sample:
        ctrl = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\n\t\f\v")
        bad = ctrl + sample.count("\ufffd")
        if bad / len(sample) > 0.02:
            raise InputFileError(rel, "binary data, not text (control characters)",
                                 "give the original document (PDF/DOCX) or a plain-text export")
    if not text.strip():
        raise InputFileError(rel, "empty file", "remove it or replace it with the full document")
    return text


_MD_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def _clean_markdown(text: str) -> str:
    """Markdown → plain lines: tables as "cell | cell", heading marks and emphasis dropped.

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
        st = s.strip()
        if st.startswith("|") and st.endswith("|") and st.count("|") >= 2:
            cells = [c.strip() for c in st.strip("|").split("|")]
            out.append(" | ".join(cells))
            continue
        s = re.sub(r"^\s{0,3}#{1,6}\s+", "", s)
        s = re.sub(r"\s+#+\s*$", "", s)
        s = re.sub(r"(\*\*|__)(.+?)\1", r"\2", s)
        s = re.sub(r"<!--.*?-->", "", s)
        s = re.sub(r"^\s{0,3}>\s?", "", s)
        out.append(s)
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------

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


def _load_html(raw: bytes, rel: str) -> tuple[str, str]:
    from bs4 import BeautifulSoup, UnicodeDammit

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
        if enc in _GBK_FAMILY:
            enc = "gb18030"
            markup = raw.decode("gb18030", errors="replace")
    if b"\x00" in raw[:4096] and not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputFileError(rel, "binary data, not HTML", "give the saved web page (.html)")
    soup = BeautifulSoup(markup, "html.parser")
    text = html_to_text(soup)
    return text, enc


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
    if enc in _GBK_FAMILY or enc == "gb_2312":
        return "gb18030"
    if enc in _BIG5_FAMILY:
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
