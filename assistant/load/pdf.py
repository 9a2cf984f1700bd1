"""PDF → one string per page (pypdf), scanned pages through OCR, work bounded per file."""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from dataclasses import dataclass, field

from ..errors import InputFileError, NeedsOCR
from .limits import Limits, refuse

# A page with fewer printable characters than this and an image on it is a scanned page.
_MIN_PAGE_CHARS = 5
# A PDF whose pages hold fewer printable characters than this in total has no usable text.
_MIN_PDF_CHARS = 20
_AES_REASON = "encrypted PDF (AES) needs the 'cryptography' package to be read"
_AES_FIX = "pip install cryptography, or decrypt it first: qpdf --decrypt in.pdf out.pdf"
_PASSWORD = ("encrypted PDF (password required)",
             "remove the password, e.g. qpdf --decrypt --password=… in.pdf out.pdf")


@dataclass
class PdfText:
    pages: list[str]
    ocr_pages: list[int] = field(default_factory=list)  # 1-based pages read by OCR


def load_pdf(raw: bytes, rel: str, limits: Limits, ocr: bool = True) -> PdfText:
    """The text of each page; pages without a text layer are OCR'd (when ``ocr``)."""
    from pypdf.errors import DependencyError, LimitReachedError

    pages = _open_pages(raw, rel, limits)
    texts: list[str] = []
    scanned: list[int] = []
    for i, page in enumerate(pages, 1):
        _patch_embedded_cmaps(page)
        try:
            _check_content_size(page, rel, i, limits)
            t = _clean_pdf_text(page.extract_text() or "")
        except InputFileError:
            raise
        except LimitReachedError:
            raise refuse(rel, f"decompressed stream on page {i}", limits.max_stream, "MB") from None
        except DependencyError:
            raise InputFileError(rel, _AES_REASON, _AES_FIX) from None
        except Exception as e:
            msg = " ".join(str(e).split())[:120] or type(e).__name__
            raise InputFileError(rel, f"cannot extract the text of page {i} ({msg})",
                                 "re-export the PDF, or OCR it (ocrmypdf --force-ocr)") from None
        if sum(1 for ch in t if not ch.isspace()) < _MIN_PAGE_CHARS and _has_image(page):
            scanned.append(i)
        texts.append(t)
    ocr_pages: list[int] = []
    if scanned and ocr:
        ocr_pages = _ocr_pages(pages, scanned, texts, rel)
    printable = sum(1 for t in texts for ch in t if not ch.isspace())
    if printable < _MIN_PDF_CHARS:
        if scanned and ocr:
            raise NeedsOCR(rel, "no text layer (scanned PDF), and OCR found no text",
                           "check the scan (upright, 300 dpi or more) or give a PDF with text")
        raise NeedsOCR(rel, "no text layer (scanned PDF), needs OCR", "run OCR first, e.g. ocrmypdf")
    if _looks_garbled("".join(texts)):
        raise NeedsOCR(rel, "text layer unreadable (fonts without Unicode mapping)",
                       "run OCR first, e.g. ocrmypdf --force-ocr")
    return PdfText(texts, ocr_pages)


def _open_pages(raw: bytes, rel: str, limits: Limits) -> list:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PdfReadError

    if b"%PDF-" not in raw[:1024]:
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
                raise InputFileError(rel, *_PASSWORD)
        n = len(reader.pages)
        if n > limits.max_pages:
            raise refuse(rel, "pages", limits.max_pages)
        pages = list(reader.pages)
    except InputFileError:
        raise
    except FileNotDecryptedError:
        raise InputFileError(rel, *_PASSWORD) from None
    except LimitReachedError as e:
        msg = " ".join(str(e).split())[:80]
        raise InputFileError(rel, f"too large to read safely ({msg})",
                             "split the file or re-export it") from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
        msg = " ".join(str(e).split())[:120] or type(e).__name__
        raise InputFileError(rel, f"truncated or corrupt PDF ({msg})",
                             "download or export the file again") from None
    if not pages:
        raise InputFileError(rel, "PDF has no pages", "download or export the file again")
    return pages


def _check_content_size(page, rel: str, i: int, limits: Limits) -> None:
    """Refuse a page whose content inflates beyond the limit before pypdf parses it."""
    contents = page.get_contents()
    if contents is None:
        return
    if len(contents.get_data()) > limits.max_stream:
        raise refuse(rel, f"decompressed content of page {i}", limits.max_stream, "MB")


def _has_image(page) -> bool:
    try:
        resources = page.get("/Resources")
        resources = resources.get_object() if resources is not None else None
        xobjects = resources.get("/XObject") if resources else None
        xobjects = xobjects.get_object() if xobjects is not None else None
        return any(x.get_object().get("/Subtype") == "/Image" for x in (xobjects or {}).values())
    except Exception:  # a malformed resource dictionary: not a scan we can read
        return False


def _ocr_pages(pages: list, scanned: list[int], texts: list[str], rel: str) -> list[int]:
    from .ocr import ocr_page_image, tesseract_missing

    missing = tesseract_missing()
    if missing:
        shown = ", ".join(map(str, scanned[:10])) + (" …" if len(scanned) > 10 else "")
        raise NeedsOCR(rel, f"no text layer (scanned PDF) on page {shown}, needs OCR: {missing}",
                       "apt-get install tesseract-ocr tesseract-ocr-chi-sim")
    done: list[int] = []
    for i in scanned:
        text = ocr_page_image(pages[i - 1])
        if text.strip():
            texts[i - 1] = text
            done.append(i)
    return done


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
    return "\n".join(line.rstrip() for line in t.split("\n"))


def _looks_garbled(text: str) -> bool:
    """Text made mostly of private-use or replacement characters: fonts without ToUnicode."""
    chars = [ch for ch in text if not ch.isspace()]
    if len(chars) < 50:
        return False
    bad = sum(1 for ch in chars if ch == "\ufffd" or 0xE000 <= ord(ch) <= 0xF8FF
              or unicodedata.category(ch) == "Cc")
    return bad / len(chars) > 0.3
