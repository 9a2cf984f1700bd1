"""Bounds on the work one input file may cause (decompressed bytes, XML depth, pages, text).

A 0.8 MB DOCX can hold 200 MB of XML, and a PDF stream or an HTML page can be built to the
same end; without bounds such a file runs for minutes and takes gigabytes. Every loader checks
its input against :class:`Limits` *before* the expensive step and refuses with one line that
names the file and the limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputFileError

_FIX = "split the file, or raise the limit (assistant.load.Limits) if it is a genuine document"


@dataclass(frozen=True)
class Limits:
    """Per-file bounds. The defaults are several times the largest real standard or law seen
    (GB 50016's DOCX: 9 MB of XML, 380 pages, 0.6 M characters)."""

    max_unpacked: int = 64 * 1024 * 1024  # bytes of XML a DOCX may inflate to, all parts
    max_parts: int = 5000  # members of a DOCX package
    max_xml_depth: int = 200  # element nesting inside a DOCX part
    max_pages: int = 3000  # PDF pages
    max_stream: int = 64 * 1024 * 1024  # bytes one PDF page's content may inflate to
    max_chars: int = 20_000_000  # characters of text per file, any format
    max_html_tags: int = 2_000_000  # tags in one HTML page


DEFAULT_LIMITS = Limits()


def refuse(rel: str, what: str, limit: int, unit: str = "") -> InputFileError:
    """The one-line refusal: "x.docx: too large to read safely (XML > 100 MB) (split …)"."""
    shown = f"{limit / 1024 / 1024:.0f} MB" if unit == "MB" else f"{limit:,}"
    return InputFileError(rel, f"too large to read safely ({what} > {shown})", _FIX)


def check_chars(rel: str, pages: list[str], limits: Limits) -> None:
    n = sum(len(p) for p in pages)
    if n > limits.max_chars:
        raise refuse(rel, "characters of text", limits.max_chars)
