"""Character clean-up of extracted text: CJK glyph variants, full-width letters and digits,
ligatures.

PDF producers (browsers, office suites, typesetting tools) write a ToUnicode map from the
font's glyphs, and a CJK font draws 见 and the radical ⻅ (U+2EC5) with one glyph, so the
text of a PDF may say ⻅ where the page shows 见. Kangxi radicals (U+2F00–2FD5) and the
compatibility ideographs are mapped by NFKC; most of the CJK Radicals Supplement
(U+2E80–2EF3) is not, so it has a table here (the Unicode "EquivalentUnifiedIdeograph"
mapping, checked against the shared glyphs of Noto Sans/Serif CJK SC). Full-width ASCII
letters and digits (“ＧＢ／Ｔ　１．１”) and Latin ligatures (ﬁ) become plain ASCII; full-width
*punctuation* (，。（）：) is left alone, it is how Chinese is written.
"""

from __future__ import annotations

import re
import unicodedata

# CJK Radicals Supplement → the unified ideograph drawn with the same glyph.
_RADICAL_PAIRS = (
    "⺁厂⺂乛⺃乚⺄乙⺅亻⺆冂⺇𠘨⺉刂⺊卜⺋㔾⺌小⺍𭕄⺎兀⺏尣⺐尢⺒巳⺓幺⺔彑⺕彐⺖忄⺗㣺⺘扌⺙攵⺛旡"
    "⺜日⺝月⺞歺⺟母⺠民⺡氵⺢氺⺣灬⺤爫⺥爫⺦丬⺧牛⺨犭⺩𤣩⺪疋⺫罒⺬示⺭礻⺮𥫗⺯糹⺰纟⺱罓⺲罒"
    "⺳㓁⺴网⺶羊⺹耂⺺肀⺻聿⺽𦥑⺾艹⺿艹⻀艹⻁虎⻂衤⻃覀⻄西⻅见⻆角⻇𧢲⻈讠⻉贝⻊𧾷⻋车⻌辶⻍辶"
    "⻎辶⻏阝⻐钅⻑長⻒镸⻓长⻔门⻕𨸏⻖阝⻗雨⻘青⻙韦⻚页⻛风⻜飞⻝食⻞𩙿⻟飠⻠饣⻡𩠐⻢马⻣骨⻤鬼"
    "⻥鱼⻦鸟⻧卤⻨麦⻩黄⻪黾⻫斉⻬齐⻭歯⻮齿⻯竜⻰龙⻱龜⻲亀⻳龟"
)
_RADICALS = {_RADICAL_PAIRS[i]: _RADICAL_PAIRS[i + 1] for i in range(0, len(_RADICAL_PAIRS), 2)}
# Seen in Chromium's print-to-PDF with Noto CJK (Skia writes CJK glyphs as Type 3 fonts and
# names each glyph by one of the code points that share it): the dash of a standard number as
# HORIZONTAL BAR, "～" as WAVE DASH, 户 as the radical ⼾ (which NFKC makes 戶).
_SHARED_GLYPHS = {"\u2015": "\u2014", "\u301c": "\uff5e", "\u6236": "\u6237"}

# characters that need a look: radicals, compatibility ideographs, ligatures, full-width
# ASCII letters and digits (and ／ ． in numbers such as “ＧＢ／Ｔ　１．１”)
_VARIANT = re.compile(
    "[\u2015\u301c\u6236\u2e80-\u2eff\u2f00-\u2fdf\uf900-\ufaff\ufb00-\ufb06\uff10-\uff19\uff21-\uff3a"
    "\uff41-\uff5a\U0002f800-\U0002fa1f]|(?<=[\uff10-\uff19\uff21-\uff3a])[\uff0f\uff0e\uff0d]"
    "(?=[\uff10-\uff19\uff21-\uff3a])"
)


def _unify(m: re.Match[str]) -> str:
    ch = m.group(0)
    mapped = _RADICALS.get(ch) or _SHARED_GLYPHS.get(ch)
    if mapped:
        return mapped
    out = unicodedata.normalize("NFKC", ch)
    # NFKC gives the traditional form for some Kangxi radicals (⼾ U+2F3E → 戶)
    return _SHARED_GLYPHS.get(out, out) if out.strip() else ch


def normalize_chars(text: str) -> str:
    """Map CJK radical/compatibility variants to unified ideographs and full-width ASCII
    letters/digits and ligatures to ASCII; everything else stays as it is."""
    return _VARIANT.sub(_unify, text)
