"""OCR of scanned PDF pages with Tesseract (Debian ``tesseract-ocr`` + ``tesseract-ocr-chi-sim``).

Tesseract runs as a subprocess on the page's image; its models come inside the Debian
packages, nothing is downloaded. The page image is the largest image on the page (a scan is
one image per page); its resolution is told to Tesseract so that small print is read at the
right scale. Tesseract puts blanks between Chinese characters; they are removed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

from .normalize import normalize_chars

LANGS = "chi_sim+eng"
# page segmentation 6 = one uniform block of text: scans of standards are single-column; the
# automatic layout analysis (3) splits label and heading ("5.2" … "要求") into columns.
_PSM = "6"
_TIMEOUT = 120  # seconds per page
_CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])[ \t]+(?=[{_CJK}])")
_CJK_ASCII_GAP = re.compile(rf"(?<=[{_CJK}])[ \t]+(?=[0-9A-Za-z.%])|(?<=[0-9A-Za-z.%])[ \t]+(?=[{_CJK}])")


@cache
def tesseract_missing() -> str:
    """"" when Tesseract with Simplified Chinese is installed, else what is missing."""
    exe = shutil.which("tesseract")
    if not exe:
        return "tesseract is not installed"
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "tesseract does not run"
    langs = set((out.stdout + out.stderr).split())
    if "chi_sim" not in langs:
        return "the Simplified Chinese model of tesseract is not installed"
    return ""


def ocr_page_image(page) -> str:  # type: ignore[no-untyped-def]
    """The OCR'd text of a pypdf page (its largest image); "" when it has none."""
    best = None
    for img in getattr(page, "images", []):
        try:
            pil = img.image
        except Exception:  # an image pypdf cannot decode: try the next one
            continue
        if pil is not None and (best is None or pil.width * pil.height > best.width * best.height):
            best = pil
    if best is None:
        return ""
    width_pt = float(page.mediabox.width) or 595.0
    dpi = max(70, min(1200, round(best.width / (width_pt / 72.0))))
    return ocr_image(best, dpi)


def ocr_image(image, dpi: int = 300) -> str:  # type: ignore[no-untyped-def]
    """Run Tesseract on a PIL image; returns the cleaned text."""
    exe = shutil.which("tesseract") or "tesseract"
    with tempfile.TemporaryDirectory(prefix="assistant-ocr-") as tmp:
        src = Path(tmp) / "page.png"
        image.convert("L").save(src)
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # the machine's cores are shared
        out = subprocess.run(
            [exe, str(src), "stdout", "-l", LANGS, "--psm", _PSM, "--dpi", str(dpi),
             "-c", "preserve_interword_spaces=1"],
            capture_output=True, timeout=_TIMEOUT, env=env, check=False)
    return clean_ocr_text(out.stdout.decode("utf-8", errors="replace"))


def clean_ocr_text(text: str) -> str:
    """Blanks between Chinese characters removed, variants unified, empty lines dropped; the
    blank after a clause label at the start of a line ("5.2 要求") is kept."""
    lines = []
    for line in text.replace("\f", "\n").split("\n"):
        s = line.strip()
        m = _LABEL.match(s)
        head, rest = (m.group(0), s[m.end():]) if m else ("", s)
        rest = _CJK_ASCII_GAP.sub("", _CJK_GAP.sub("", rest))
        if head or rest:
            lines.append(_punctuation(normalize_chars(head + rest)))
    return "\n".join(lines)


# Tesseract reads Chinese punctuation as ASCII ("第1部分: 试验方法", "(AQL)") and the dash of
# a standard number as 一 ("GB 90201一2018"); next to Chinese text the full-width forms are
# what was printed.
_FULLWIDTH = {":": "：", ";": "；", ",": "，", "(": "（", ")": "）", "〈": "（", "〉": "）"}
_ASCII_PUNCT = re.compile(rf"(?<=[{_CJK}])\s*([:;,()〈〉])\s*|\s*([:;,()〈〉])\s*(?=[{_CJK}])")
_YEAR_DASH = re.compile(r"(?<=\d)\s*[一－-]\s*(?=(?:19|20)\d{2}(?!\d))")


def _punctuation(s: str) -> str:
    s = _YEAR_DASH.sub("—", re.sub(r"士(?=\d)", "±", s))
    return _ASCII_PUNCT.sub(lambda m: _FULLWIDTH[m.group(1) or m.group(2)], s)


_LABEL = re.compile(r"^(?:[A-Z]|\d{1,2})(?:\.\d{1,3})*\s+")
