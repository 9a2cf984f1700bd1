"""Read one input file into text: PDF pages, DOCX paragraphs and tables, TXT/MD, HTML pages.

``load_file`` never lets a library exception escape: every failure becomes an
:class:`~assistant.errors.InputFileError` (or :class:`~assistant.errors.NeedsOCR`) whose one-line
message names the file, the reason and the fix. The work per file is bounded
(:class:`~assistant.load.limits.Limits`). One module per format: ``pdf``, ``docx``, ``text``,
``markdown``, ``html``; ``normalize`` unifies CJK glyph variants and full-width letters and
digits in every format; ``ocr`` reads scanned PDF pages.
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePath

from ..errors import InputFileError
from ..records import LoadedFile
from .html import META_KEYS, html_to_text
from .limits import DEFAULT_LIMITS, Limits, check_chars
from .normalize import normalize_chars
from .text import decode_text

__all__ = ["DEFAULT_LIMITS", "DEFAULT_MAX_BYTES", "META_KEYS", "SUPPORTED", "Limits", "decode_text",
           "html_to_text", "load_file", "normalize_chars", "rel_path"]

SUPPORTED = {".pdf", ".docx", ".txt", ".md", ".markdown", ".html", ".htm"}
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
_FORMATS = {".pdf": "pdf", ".docx": "docx", ".txt": "txt", ".md": "md", ".markdown": "md",
            ".html": "html", ".htm": "html"}


def rel_path(path: Path, root: Path) -> str:
    """POSIX path of ``path`` relative to ``root`` (the file name alone when outside it)."""
    try:
        return PurePath(path.resolve().relative_to(root.resolve())).as_posix()
    except (ValueError, OSError):
        return path.name


def load_file(path: Path, root: Path, max_bytes: int = DEFAULT_MAX_BYTES,
              limits: Limits = DEFAULT_LIMITS, ocr: bool = True) -> LoadedFile:
    """The text of ``path``: one string per page for PDFs, one string otherwise.

    Front matter of Markdown and ``<meta>`` tags of HTML go to ``LoadedFile.meta``; PDF pages
    without a text layer are OCR'd when ``ocr`` (their numbers in ``LoadedFile.ocr_pages``)."""
    path = Path(path)
    rel = rel_path(path, Path(root))
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        shown = suffix or "(no suffix)"
        raise InputFileError(rel, f"unsupported format {shown}", "convert to PDF/DOCX/TXT/MD/HTML")
    raw = _read(path, rel, max_bytes)
    fmt = _FORMATS[suffix]
    try:
        lf = _load(raw, rel, fmt, suffix, limits, ocr)
    except InputFileError:
        raise
    except Exception as e:  # a library failed on a malformed file: one line, no traceback
        msg = " ".join(str(e).split())[:160] or type(e).__name__
        raise InputFileError(rel, f"cannot read {fmt.upper()} ({msg})",
                             "check that the file opens in a viewer; re-save or re-export it") from None
    if not any(p.strip() for p in lf.pages):
        raise InputFileError(rel, "no text in file", "remove it or replace it with the full document")
    check_chars(rel, lf.pages, limits)
    lf.pages = [normalize_chars(p) for p in lf.pages]
    lf.sha256 = hashlib.sha256(raw).hexdigest()
    return lf


def _read(path: Path, rel: str, max_bytes: int) -> bytes:
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
    return raw


def _load(raw: bytes, rel: str, fmt: str, suffix: str, limits: Limits, ocr: bool) -> LoadedFile:
    if fmt == "pdf":
        from .pdf import load_pdf

        pdf = load_pdf(raw, rel, limits, ocr=ocr)
        return LoadedFile(path=rel, format="pdf", pages=pdf.pages, ocr_pages=pdf.ocr_pages)
    if fmt == "docx":
        from .docx import load_docx

        return LoadedFile(path=rel, format="docx", pages=load_docx(raw, rel, limits))
    if fmt == "html":
        from .html import load_html

        text, enc, meta = load_html(raw, rel, limits)
        return LoadedFile(path=rel, format="html", pages=[text], encoding=enc or "utf-8", meta=meta)
    from .text import refuse_other_formats

    refuse_other_formats(raw, rel, suffix)
    text, enc = decode_text(raw, rel)
    meta: dict[str, str] = {}
    if fmt == "md":
        from .markdown import clean_markdown, split_front_matter

        meta, text = split_front_matter(text)
        text = clean_markdown(text)
    return LoadedFile(path=rel, format=fmt, pages=[text], encoding=enc or "utf-8",  # type: ignore[arg-type]
                      meta=meta)
