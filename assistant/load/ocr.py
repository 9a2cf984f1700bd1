"""OCR of scanned PDF pages with Tesseract (Debian ``tesseract-ocr`` + ``tesseract-ocr-chi-sim``).

Tesseract runs as a subprocess on the page's image; its models come inside the Debian
packages, nothing is downloaded. The page image is the largest image on the page (a scan is
one image per page); its resolution is told to Tesseract so that small print is read at the
right scale. Before recognition, table rulings are whitened: with one uniform text block
(psm 6) Tesseract reads a ruled table as noise and drops whole rows. Tesseract puts blanks
between Chinese characters; they are removed.

Two models, because each fails where the other reads well: ``chi_sim+eng`` reads Latin
identifiers ("GB/T", "ISO/IEC", units) but takes bold Chinese headings for Latin words
("术语和定义" → "RAMEN"); ``chi_sim`` alone reads those headings but mangles identifiers
("GB/T" → "GBA/工"). A page whose first reading has Latin words inside Chinese lines is read
again with ``chi_sim``, and such words are replaced by the Chinese read at the same place.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

from .normalize import normalize_chars

LANGS = "chi_sim+eng"
LANGS_CJK = "chi_sim"
# page segmentation 6 = one uniform block of text: scans of standards are single-column; the
# automatic layout analysis (3) splits label and heading ("5.2" … "要求") into columns.
_PSM = "6"
_TIMEOUT = 120  # seconds per page
_RULING_MM = 10  # a straight black run this long is a table ruling, not a stroke of a glyph
_CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])[ \t]+(?=[{_CJK}])")
_CJK_ASCII_GAP = re.compile(rf"(?<=[{_CJK}])[ \t]+(?=[0-9A-Za-z.%])|(?<=[0-9A-Za-z.%])[ \t]+(?=[{_CJK}])")
_HAN = re.compile(r"[\u4e00-\u9fff]")
# Latin letters in a Chinese line that are not a unit after a number ("120 mm"): a bold
# heading misread by the eng model, or an identifier (which the second reading leaves alone)
_SUSPECT = re.compile(r"(?<![\dA-Za-z])(?<!\d )[A-Za-z]{2,}")


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
    """Run Tesseract on a PIL image (twice when needed, see the module's docstring); returns
    the cleaned text."""
    with tempfile.TemporaryDirectory(prefix="assistant-ocr-") as tmp:
        src = Path(tmp) / "page.png"
        unrule(image.convert("L"), dpi).save(src)
        first = _tesseract(src, LANGS, dpi)
        if any(_HAN.search(ln) and _SUSPECT.search(ln) for ln in first.split("\n")):
            first = merge_readings(first, _tesseract(src, LANGS_CJK, dpi))
    return clean_ocr_text(first)


def _tesseract(src: Path, langs: str, dpi: int) -> str:
    exe = shutil.which("tesseract") or "tesseract"
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # the machine's cores are shared
    out = subprocess.run(
        [exe, str(src), "stdout", "-l", langs, "--psm", _PSM, "--dpi", str(dpi),
         "-c", "preserve_interword_spaces=1"],
        capture_output=True, timeout=_TIMEOUT, env=env, check=False)
    return out.stdout.decode("utf-8", errors="replace")


def unrule(gray, dpi: int = 300):  # type: ignore[no-untyped-def]
    """The greyscale image with long straight black runs (table rulings, frame lines)
    turned white; glyphs, whose strokes are far shorter, are left as they are."""
    import numpy as np
    from PIL import Image

    black = np.asarray(gray) < 128
    length = max(20, round(_RULING_MM / 25.4 * dpi))
    ruled = _long_runs(black, length) | _long_runs(black.T, length).T
    if not ruled.any():
        return gray
    out = np.asarray(gray).copy()
    out[ruled] = 255
    return Image.fromarray(out)


def _long_runs(black, length: int):  # type: ignore[no-untyped-def]
    """Pixels that lie in a horizontal run of at least ``length`` black pixels (a morphological
    opening with a 1×length line, done with cumulative sums)."""
    import numpy as np

    h, w = black.shape
    if w < length:
        return np.zeros_like(black)
    cs = np.zeros((h, w + 1), dtype=np.int32)
    np.cumsum(black, axis=1, out=cs[:, 1:])
    starts = (cs[:, length:] - cs[:, :-length]) == length  # run of `length` begins at j
    marks = np.zeros((h, w + 1), dtype=np.int32)
    marks[:, : w - length + 1] += starts
    marks[:, length:] -= starts
    return np.cumsum(marks[:, :w], axis=1) > 0


def merge_readings(mixed: str, cjk: str) -> str:
    """``mixed`` (chi_sim+eng) with each stretch of Latin letters that ``cjk`` (chi_sim) read
    as two or more Chinese characters at the same place replaced by those characters
    ("RA（资料性）" → "附录A（资料性）")."""
    a, b = mixed.split("\n"), cjk.split("\n")
    if len(a) == len(b):
        return "\n".join(_merge_line(x, y) for x, y in zip(a, b, strict=True))
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "replace" and i2 - i1 == j2 - j1:
            out += [_merge_line(x, y) for x, y in zip(a[i1:i2], b[j1:j2], strict=True)]
        else:
            out += a[i1:i2]
    return "\n".join(out)


def _merge_line(mixed: str, cjk: str) -> str:
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, mixed, cjk, autojunk=False).get_opcodes():
        x, y = mixed[i1:i2], cjk[j1:j2]
        latin = sum(c.isascii() and c.isalpha() for c in x)
        misread = op != "equal" and latin >= 1 and not re.search(r"\d", x) \
            and len(_HAN.findall(y)) >= 2
        parts.append(y if misread else x)
    return "".join(parts)


def clean_ocr_text(text: str) -> str:
    """Blanks inside Chinese text removed where Tesseract spaced a line out, variants
    unified, misreadings repaired, empty lines dropped; the blank after a clause label at the
    start of a line ("5.2 要求") is kept."""
    lines = []
    for line in text.replace("\f", "\n").split("\n"):
        s = line.strip()
        m = _LABEL.match(s)
        head, rest = (m.group(0), s[m.end():]) if m else ("", s)
        rest = _CJK_ASCII_GAP.sub("", _cjk_gaps(rest))
        if head or rest:
            lines.append(_repair(normalize_chars(head + rest)))
    return "\n".join(_full_stops(lines))


def _cjk_gaps(s: str) -> str:
    """A blank between two Chinese characters is kept when blanks are rare in the line: then
    it is a printed gap ("信息技术 数据备份与恢复"), which titles keep; a line with blanks
    between most characters was spaced out by the engine and loses them all."""
    gaps = len(_CJK_GAP.findall(s))
    if gaps and gaps * 4 > len(_HAN.findall(s)):
        return _CJK_GAP.sub("", s)
    return _CJK_GAP.sub(" ", s)


def _full_stops(lines: list[str]) -> list[str]:
    """A line ending in an ASCII comma or full stop after Chinese text or a unit, followed by
    a clause heading, ended its sentence with 。 (read as , or .); left as it was, the parser
    would take the heading for the wrapped rest of that sentence."""
    out = list(lines)
    for k in range(len(out) - 1):
        if out[k].endswith((",", ".")) and _HEADING.match(out[k + 1]) and not re.match(r"[0-9]", out[k][-2:-1]):
            out[k] = out[k][:-1] + "。"
    return out


# Tesseract reads Chinese punctuation as ASCII ("第1部分: 试验方法", "(AQL)") and the dash of
# a standard number as 一 ("GB 90201一2018"); next to Chinese text the full-width forms are
# what was printed.
_FULLWIDTH = {":": "：", ";": "；", ",": "，", "(": "（", ")": "）", "〈": "（", "〉": "）"}
_ASCII_PUNCT = re.compile(rf"(?<=[{_CJK}])\s*([:;,()〈〉])\s*|\s*([:;,()〈〉])\s*(?=[{_CJK}])")
_YEAR_DASH = re.compile(r"(?<=\d)\s*[一－-]\s*(?=(?:19|20)\d{2}(?!\d))")
# The prefixes of Chinese standard numbers are a closed set, so their usual misreadings can
# be undone: the slash read as A ("GBAT", "GBA/T"), T as 工, B as E ("GEB 14881").
_STD_PREFIX = re.compile(r"(?<![A-Za-z])([GJQ])[BE]\s*(?:A\s*/|/\s*A|A|/)\s*[T工](?=\s*\d)")
_DB_PREFIX = re.compile(r"(?<![A-Za-z])DB(\d{2})\s*/\s*[T工](?=\s*\d)")
_GB_E = re.compile(r"(?<![A-Za-z])GE?B(?=\s+\d{4})")
# units: ℃ printed small reads as °C, *C, "C, “C or 。C; ～ between numbers as ~; m² as m2/m*;
# Ω as Q (no unit is spelt Q)
_CELSIUS = re.compile(r"(?<=[\d\s)）])\s*[°*\"“”。]\s*\(?C(?![A-Za-z])")
_TILDE = re.compile(r"(?<=[\d℃%²³a-z])\s*~\s*-?\s*(?=\d)")
_SQUARE = re.compile(r"(?<=[\d\s/])(k?m|[cdm]m)[2*z](?![0-9A-Za-z])")
_CUBE = re.compile(r"(?<=[\d\s/])(k?m|[cdm]m)3(?![0-9A-Za-z])")
_OHM = re.compile(r"(?<=\d)(\s?[mkMG]?)Q(?![A-Za-z])")


def _repair(s: str) -> str:
    s = _YEAR_DASH.sub("—", re.sub(r"士(?=\d)", "±", s))
    s = _DB_PREFIX.sub(r"DB\1/T", _STD_PREFIX.sub(r"\1B/T", s))
    s = _GB_E.sub("GB", s)
    s = _CELSIUS.sub("℃", s)
    s = _TILDE.sub("～", s)
    s = _SQUARE.sub(r"\1²", _CUBE.sub(r"\1³", s))
    s = _OHM.sub(r"\1Ω", s)
    return _ASCII_PUNCT.sub(lambda m: _FULLWIDTH[m.group(1) or m.group(2)], s)


_LABEL = re.compile(r"^(?:[A-Z]|\d{1,2})(?:\.\d{1,3})*\s+")
_HEADING = re.compile(r"^(?:\d{1,2}(?:\.\d{1,3})*|[A-Z]\.\d{1,3}(?:\.\d{1,3})*)\s+[\u4e00-\u9fff]|^附录\s*[A-Z]")
