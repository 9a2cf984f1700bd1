"""Text files: encoding detection (UTF-8/16/32, GB18030, Big5, charset-normalizer) and the
refusal of binary files given a text suffix."""

from __future__ import annotations

import codecs
import contextlib
import unicodedata

from ..errors import InputFileError

GBK_FAMILY = {"gb2312", "gbk", "gb18030", "hz", "cp936", "euc_cn", "euccn", "ms936"}
BIG5_FAMILY = {"big5", "big5hkscs", "cp950"}
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


def refuse_other_formats(raw: bytes, rel: str, suffix: str) -> None:
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
        if enc in GBK_FAMILY:
            enc = "gb18030"
        elif enc in BIG5_FAMILY:
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
