"""load_file: every format, every encoding, every bad input gives one line naming file and fix."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from assistant.errors import InputFileError, NeedsOCR
from assistant.load import SUPPORTED, decode_text, load_file

from . import fixtures_std as F

HAVE_FONT = F.cjk_font() is not None

needs_font = pytest.mark.skipif(not HAVE_FONT, reason="no CJK font (apt-get install fonts-noto-cjk)")


@pytest.fixture(scope="module")
def std_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    if not HAVE_FONT:
        pytest.skip("no CJK font (apt-get install fonts-noto-cjk)")
    root = tmp_path_factory.mktemp("std")
    return root, F.make_all_standards(root)


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    root = tmp_path_factory.mktemp("bad")
    return root, F.make_bad_inputs(root / "in")


# ---------------------------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------------------------

@needs_font
def test_pdf_one_string_per_page(std_files) -> None:
    root, files = std_files
    lf = load_file(files["gbt.pdf"], root)
    lay = F.layout("gbt")
    assert lf.format == "pdf"
    assert len(lf.pages) == len(lay.pages) == 10
    assert lf.path == "GB_T_90001.1-2023.pdf"
    assert lf.sha256 == hashlib.sha256(files["gbt.pdf"].read_bytes()).hexdigest()
    # line breaks kept; running header and page number still there (the parser removes them)
    lines = lf.pages[4].split("\n")
    assert lines[0] == "GB/T 90001.1—2023"
    assert lines[-1] == "1"
    assert "1\u3000范围" in lines
    # CJK text comes out whole (embedded two-byte CMaps are read as Identity-H)
    assert "\x00" not in "".join(lf.pages)
    assert "标准编写规范" in lf.pages[0]
    for page, want in zip(lf.pages[1:], lay.pages[1:], strict=True):
        for line in want.lines:
            assert line.replace(" ", "") in page.replace(" ", "")


def test_pdf_owner_password_only_opens(bad_files) -> None:
    root, _ = bad_files
    lf = load_file(root / "in" / "owner_only.pdf", root)
    assert "Scope" in lf.pages[0]


# ---------------------------------------------------------------------------------------------
# DOCX
# ---------------------------------------------------------------------------------------------

@needs_font
def test_docx_paragraphs_and_tables_in_order(std_files) -> None:
    root, files = std_files
    lf = load_file(files["gbt.docx"], root)
    assert lf.format == "docx" and len(lf.pages) == 1
    text = lf.pages[0]
    a = text.index("5.1.1\u3000各要素应按照表1")
    b = text.index("表1 要素的类别和编排")
    c = text.index("要素 | 类别 | 性质")
    d = text.index("术语和定义 | 必备 | 规范性")
    e = text.index("注：表中“性质”")
    assert a < b < c < d < e


def test_docx_merged_cells_once(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("前言")
    t = document.add_table(rows=2, cols=3)
    t.cell(0, 0).merge(t.cell(0, 1)).text = "合并"
    t.cell(0, 2).text = "右"
    t.cell(1, 0).text = "a"
    t.cell(1, 1).text = "b\nc"
    t.cell(1, 2).text = "d"
    document.add_paragraph("之后")
    p = tmp_path / "m.docx"
    document.save(p)
    assert load_file(p, tmp_path).pages[0].split("\n") == ["前言", "合并 | 右", "a | b c | d", "之后"]


# ---------------------------------------------------------------------------------------------
# TXT / MD
# ---------------------------------------------------------------------------------------------

TEXT = "5.2.3 术语和定义\n本文件规定了标准化文件的结构。见5.3。\n"


@pytest.mark.parametrize(("encoding", "raw_enc", "expect"), [
    ("utf-8", "utf-8", "utf-8"),
    ("utf-8-sig", "utf-8-sig", "utf-8-sig"),
    ("gbk", "gbk", "gb18030"),
    ("gb18030", "gb18030", "gb18030"),
    ("utf-16", "utf-16", "utf-16"),
])
def test_txt_encodings(tmp_path: Path, encoding: str, raw_enc: str, expect: str) -> None:
    p = tmp_path / "a.txt"
    p.write_bytes(TEXT.encode(raw_enc))
    lf = load_file(p, tmp_path)
    assert lf.pages == [TEXT]
    assert lf.encoding == expect
    assert lf.format == "txt"


def test_txt_big5(tmp_path: Path) -> None:
    text = "第一條 為了加強標準化工作，提升產品和服務質量，制定本法。\n"
    p = tmp_path / "big5.txt"
    p.write_bytes(text.encode("big5"))
    lf = load_file(p, tmp_path)
    assert lf.pages == [text]
    assert lf.encoding == "big5"


@pytest.mark.parametrize("text", ["标准", "短文本", "国家标准化管理委员会发布"])
def test_short_gbk_is_not_big5(tmp_path: Path, text: str) -> None:
    raw = text.encode("gbk")
    assert decode_text(raw, "x.txt") == (text, "gb18030")


def test_crlf_normalised(tmp_path: Path) -> None:
    p = tmp_path / "crlf.txt"
    p.write_bytes("第一行\r\n第二行\r\n".encode())
    assert load_file(p, tmp_path).pages == ["第一行\n第二行\n"]


@needs_font
def test_gbk_fixture_equals_utf8(std_files) -> None:
    root, files = std_files
    a = load_file(files["gbt.txt"], root)
    b = load_file(files["gbt.gbk.txt"], root)
    assert a.pages == b.pages
    assert b.encoding == "gb18030"


def test_markdown_cleaned(tmp_path: Path) -> None:
    md = ("# 标准编写规范\n\n## 5.2 范围的编写\n\n**重要**：范围应表述为事实。\n\n"
          "| 要素 | 类别 |\n|---|:---:|\n| 封面 | 必备 |\n\n<!-- 注释 -->\n")
    p = tmp_path / "a.md"
    p.write_text(md, encoding="utf-8")
    lines = [x for x in load_file(p, tmp_path).pages[0].split("\n") if x]
    assert lines == ["标准编写规范", "5.2 范围的编写", "重要：范围应表述为事实。", "要素 | 类别",
                     "封面 | 必备"]
    assert load_file(p, tmp_path).format == "md"


def test_markdown_suffix_variants(tmp_path: Path) -> None:
    p = tmp_path / "b.markdown"
    p.write_text("正文", encoding="utf-8")
    assert load_file(p, tmp_path).format == "md"
    assert ".markdown" in SUPPORTED


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------

GOV_PAGE = """<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>关于印发示例新区质量提升行动方案的通知_示例新区</title>
<script>var tracker = "首页统计";</script><style>.nav{color:red}</style></head>
<body>
<div class="header"><div class="top">无障碍 | 长者模式 | 登录</div>
<ul class="nav"><li>首页</li><li>政务公开</li><li>互动交流</li></ul></div>
<div class="location">您当前的位置: <a href="/">首页</a>&gt; <a>政务公开</a>&gt; 政策文件</div>
<div class="main">
<table class="xxgk-table">
<tr><td>[ 索引号 ]</td><td>115000000000000000/2024-09999</td><td>[ 发文字号 ]</td><td>示新发〔2024〕99号</td></tr>
<tr><td>[ 主题分类 ]</td><td>质量监督</td><td>[ 体裁分类 ]</td><td>其他公文</td></tr>
<tr><td>[ 发布机构 ]</td><td>示例新区管委会</td><td>[ 有效性 ]</td><td>有效</td></tr>
<tr><td>[ 成文日期 ]</td><td>2024-06-12</td><td>[ 发布日期 ]</td><td>2024-06-13</td></tr>
</table>
<h1>示例新区关于印发质量提升行动方案的通知</h1>
<div class="TRS_Editor">
<p>各有关单位：</p>
<p>&#12288;&#12288;现将《示例新区质量提升行动方案》印发给你们，请认真贯彻落实。</p>
<p>一、总体要求</p><p>（一）指导思想</p>
<p>以高质量发展为主题，<span>深入实施</span>质量强区战略。</p>
<table><tr><th>序号</th><th>任务</th><th>责任单位</th></tr>
<tr><td>1</td><td>标准研制</td><td>区市场监管局</td></tr></table>
<p>示例新区管委会<br>2024年6月12日</p>
</div>
<div class="share">分享到：微信 微博</div>
<div class="print-bar">【打印本页】【关闭窗口】</div>
</div>
<div class="footer">版权所有：示例新区管委会 ICP备00000000号</div>
</body></html>
"""


def test_html_government_page(tmp_path: Path) -> None:
    p = tmp_path / "notice.html"
    p.write_bytes(GOV_PAGE.encode("gbk"))
    lf = load_file(p, tmp_path)
    assert lf.format == "html" and lf.encoding == "gb18030"
    lines = lf.pages[0].split("\n")
    assert lines[:8] == [
        "索引号 | 115000000000000000/2024-09999", "发文字号 | 示新发〔2024〕99号",
        "主题分类 | 质量监督", "体裁分类 | 其他公文", "发布机构 | 示例新区管委会", "有效性 | 有效",
        "成文日期 | 2024-06-12", "发布日期 | 2024-06-13",
    ]
    assert lines[8:] == [
        "示例新区关于印发质量提升行动方案的通知", "各有关单位：",
        "现将《示例新区质量提升行动方案》印发给你们，请认真贯彻落实。", "一、总体要求",
        "（一）指导思想", "以高质量发展为主题，深入实施质量强区战略。", "序号 | 任务 | 责任单位",
        "1 | 标准研制 | 区市场监管局", "示例新区管委会", "2024年6月12日",
    ]
    text = lf.pages[0]
    for junk in ("tracker", "color", "无障碍", "互动交流", "您当前的位置", "分享到", "打印", "版权所有"):
        assert junk not in text


def test_html_inline_metadata_and_utf8(tmp_path: Path) -> None:
    html = ("<html><head><meta charset='utf-8'></head><body><nav>首页 | 新闻</nav>"
            "<div class='article'><ul class='meta'><li>索引号：1150/2024-1</li>"
            "<li>发文字号：渝府发〔2024〕1号</li></ul>"
            "<p>发布日期：2024-01-02 来源：市政府办公厅</p>"
            "<h2>标题</h2><p>正文第一段。</p></div>"
            "<footer>网站地图</footer></body></html>")
    p = tmp_path / "page.htm"
    p.write_text(html, encoding="utf-8")
    lines = load_file(p, tmp_path).pages[0].split("\n")
    assert lines == ["索引号 | 1150/2024-1", "发文字号 | 渝府发〔2024〕1号", "发布日期 | 2024-01-02",
                     "来源 | 市政府办公厅", "标题", "正文第一段。"]


# ---------------------------------------------------------------------------------------------
# bad inputs
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(F.BAD_EXPECTED))
def test_bad_inputs_one_line(bad_files, name: str) -> None:
    root, files = bad_files
    cls_name, reason = F.BAD_EXPECTED[name]
    with pytest.raises(InputFileError) as info:
        load_file(files[name], root)
    err = info.value
    assert type(err).__name__ == cls_name
    msg = str(err)
    assert "\n" not in msg
    assert msg.startswith(f"in/{name}: ")
    assert reason in msg
    assert err.path == f"in/{name}"
    assert err.fix and f"({err.fix})" in msg
    assert len(msg) < 240


def test_scanned_pdf_is_needs_ocr(bad_files) -> None:
    root, files = bad_files
    with pytest.raises(NeedsOCR, match="ocrmypdf"):
        load_file(files["scanned.pdf"], root, ocr=False)


def test_scanned_pdf_without_words_says_ocr_found_nothing(bad_files) -> None:
    from assistant.load.ocr import tesseract_missing

    if tesseract_missing():
        pytest.skip(f"{tesseract_missing()} (apt-get install tesseract-ocr tesseract-ocr-chi-sim)")
    root, files = bad_files
    with pytest.raises(NeedsOCR, match="OCR found no text"):
        load_file(files["scanned.pdf"], root)


def test_scanned_pdf_without_tesseract_names_the_fix(bad_files, monkeypatch) -> None:
    from assistant.load import ocr

    monkeypatch.setattr(ocr, "tesseract_missing", lambda: "tesseract is not installed")
    root, files = bad_files
    with pytest.raises(NeedsOCR) as info:
        load_file(files["scanned.pdf"], root)
    msg = str(info.value)
    assert msg.startswith("in/scanned.pdf: no text layer (scanned PDF) on page 1, 2")
    assert "tesseract-ocr-chi-sim" in msg and "\n" not in msg


def test_unsupported_suffix(tmp_path: Path) -> None:
    p = tmp_path / "a.xyz"
    p.write_text("x")
    with pytest.raises(InputFileError) as info:
        load_file(p, tmp_path)
    assert str(info.value) == "a.xyz: unsupported format .xyz (convert to PDF/DOCX/TXT/MD/HTML)"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="file not found"):
        load_file(tmp_path / "nope.txt", tmp_path)


def test_size_limit(tmp_path: Path) -> None:
    p = tmp_path / "big.txt"
    p.write_text("标准" * 100, encoding="utf-8")
    with pytest.raises(InputFileError, match=r"big.txt: file too large"):
        load_file(p, tmp_path, max_bytes=100)
    assert load_file(p, tmp_path, max_bytes=10_000).pages == ["标准" * 100]


def test_whitespace_only_utf8_bom(tmp_path: Path) -> None:
    p = tmp_path / "bom.txt"
    p.write_bytes(b"\xef\xbb\xbf \n\t\n")
    with pytest.raises(InputFileError, match="empty file"):
        load_file(p, tmp_path)


def test_latin_text_still_loads(tmp_path: Path) -> None:
    p = tmp_path / "latin.txt"
    p.write_bytes("Norme française — édition 2020\n".encode("cp1252"))
    lf = load_file(p, tmp_path)
    assert "2020" in lf.pages[0]


def test_relative_posix_path(tmp_path: Path) -> None:
    sub = tmp_path / "标准" / "国标"
    sub.mkdir(parents=True)
    p = sub / "a.txt"
    p.write_text("正文", encoding="utf-8")
    assert load_file(p, tmp_path).path == "标准/国标/a.txt"


def _numbered_docx(path: Path) -> None:
    """A DOCX whose clause numbers come from Word's automatic numbering, as in templates."""
    import docx
    from docx.oxml import parse_xml

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    document = docx.Document()
    numbering = document.part.numbering_part.element
    levels = "".join(
        f'<w:lvl w:ilvl="{k}"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
        f'<w:pStyle w:val="Heading{k + 1}"/><w:lvlText w:val="{".".join(f"%{j + 1}" for j in range(k + 1))}"/>'
        f'<w:suff w:val="space"/></w:lvl>' for k in range(3))
    numbering.append(parse_xml(f'<w:abstractNum {w} w:abstractNumId="90">{levels}</w:abstractNum>'))
    numbering.append(parse_xml(
        f'<w:abstractNum {w} w:abstractNumId="91"><w:lvl w:ilvl="0"><w:start w:val="1"/>'
        f'<w:numFmt w:val="lowerLetter"/><w:lvlText w:val="%1)"/></w:lvl></w:abstractNum>'))
    numbering.append(parse_xml(
        f'<w:abstractNum {w} w:abstractNumId="92"><w:lvl w:ilvl="0"><w:start w:val="1"/>'
        f'<w:numFmt w:val="upperLetter"/><w:lvlText w:val="附录%1"/><w:suff w:val="nothing"/>'
        f'</w:lvl></w:abstractNum>'))
    for nid, aid in ((90, 90), (91, 91), (92, 92), (93, 91)):
        extra = ('<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride>'
                 if nid == 93 else "")
        numbering.append(parse_xml(
            f'<w:num {w} w:numId="{nid}"><w:abstractNumId w:val="{aid}"/>{extra}</w:num>'))
    for k in range(3):  # the heading styles carry the numbering
        style = document.styles[f"Heading {k + 1}"]
        ppr = style.element.get_or_add_pPr()
        ppr.append(parse_xml(f'<w:numPr {w}><w:numId w:val="90"/></w:numPr>'))

    def numbered(text: str, num_id: int) -> None:
        p = document.add_paragraph(text)
        p._p.get_or_add_pPr().append(parse_xml(
            f'<w:numPr {w}><w:ilvl w:val="0"/><w:numId w:val="{num_id}"/></w:numPr>'))

    document.add_paragraph("前言")
    document.add_paragraph("本文件按照GB/T 1.1—2020的规定起草。")
    document.add_heading("范围", level=1)
    document.add_paragraph("本文件规定了示例。")
    document.add_heading("要求", level=1)
    document.add_heading("通则", level=2)
    document.add_heading("层次", level=3)
    numbered("章；", 91)
    numbered("条。", 91)
    document.add_heading("其他", level=2)
    numbered("段；", 93)  # a new list: starts again at a)
    numbered("（规范性）", 92)
    document.add_paragraph("示例附录")
    document.save(path)


def test_docx_automatic_numbering(tmp_path: Path) -> None:
    p = tmp_path / "numbered.docx"
    _numbered_docx(p)
    lines = load_file(p, tmp_path).pages[0].split("\n")
    assert lines == ["前言", "本文件按照GB/T 1.1—2020的规定起草。", "1 范围", "本文件规定了示例。",
                     "2 要求", "2.1 通则", "2.1.1 层次", "a) 章；", "b) 条。", "2.2 其他", "a) 段；",
                     "附录A（规范性）", "示例附录"]
    from assistant.parse.standard import parse_standard

    doc = parse_standard(load_file(p, tmp_path))
    assert [(c.label, c.heading) for c in doc.clauses] == [
        ("前言", "前言"), ("1", "范围"), ("2", "要求"), ("2.1", "通则"), ("2.1.1", "层次"),
        ("2.2", "其他"), ("附录A", "示例附录")]


@pytest.mark.parametrize(("data", "part"), [
    (b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n", "a PDF file with a .txt suffix (rename it to .pdf)"),
    (b"PK\x03\x04\x14\x00\x06\x00", "a ZIP/Office file (DOCX?) with a .txt suffix"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "an image (PNG) with a .txt suffix"),
])
def test_renamed_files_say_what_they_are(tmp_path: Path, data: bytes, part: str) -> None:
    p = tmp_path / "x.txt"
    p.write_bytes(data + bytes(range(256)))
    with pytest.raises(InputFileError) as info:
        load_file(p, tmp_path)
    assert part in str(info.value) and str(info.value).startswith("x.txt: binary data")


# ---------------------------------------------------------------------------------------------
# bounded work per file (zip bombs, stream bombs, tag floods)
# ---------------------------------------------------------------------------------------------

def _docx_bomb(path: Path, mb: int = 200) -> None:
    """A DOCX of under a megabyte holding ``mb`` MB of paragraph XML, written as a stream."""
    import zipfile

    para = b"<w:p><w:r><w:t>" + "标准".encode() * 20 + b"</w:t></w:r></w:p>" * 50
    ns = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.'
                    'openxmlformats.org/package/2006/content-types"/>')
        with zf.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(b"<?xml version='1.0'?><w:document " + ns + b"><w:body>")
            block = para * ((1 << 20) // len(para) + 1)
            for _ in range(mb):
                f.write(block[: 1 << 20])
            f.write(b"</w:body></w:document>")


def _measure(fn):  # type: ignore[no-untyped-def]
    import time
    import tracemalloc

    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        fn()
    except InputFileError as e:
        err = e
    else:
        err = None
    secs = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return err, secs, peak


def test_docx_zip_bomb_is_refused_fast_with_little_memory(tmp_path: Path) -> None:
    p = tmp_path / "bomb.docx"
    _docx_bomb(p)
    assert p.stat().st_size < 1_000_000
    err, secs, peak = _measure(lambda: load_file(p, tmp_path))
    assert err is not None, "the bomb was parsed"
    assert str(err) == ("bomb.docx: too large to read safely (XML once unpacked > 64 MB) "
                        "(split the file, or raise the limit (assistant.load.Limits) if it is a "
                        "genuine document)")
    # python-docx took 7 GB and 11+ minutes on such a file; reading stops at the limit
    assert peak < 40 * 1024 * 1024, peak
    assert secs < 30, secs


def test_docx_within_limits_still_loads(std_files) -> None:
    root, files = std_files
    assert "范围" in load_file(files["gbt.docx"], root).pages[0]


def _pdf_with_content(content_stream: bytes) -> bytes:
    """A one-page PDF whose page content is ``content_stream`` (already Flate-compressed)."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content_stream)
            + content_stream + b"\nendstream"]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def test_pdf_stream_bomb_is_refused(tmp_path: Path) -> None:
    import zlib

    comp = zlib.compressobj(6)
    chunk = b"0 0 m 1 1 l S\n" * 80_000  # ~1 MB of drawing operators
    data = b"".join(comp.compress(chunk) for _ in range(100)) + comp.flush()  # 100 MB inflated
    p = tmp_path / "bomb.pdf"
    p.write_bytes(_pdf_with_content(data))
    assert p.stat().st_size < 2_000_000
    err, secs, _peak = _measure(lambda: load_file(p, tmp_path))
    assert err is not None and str(err).startswith("bomb.pdf: too large to read safely (")
    assert "\n" not in str(err) and secs < 60


def test_html_tag_flood_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "flood.html"
    p.write_bytes(b"<html><body>" + b"<div>" * 2_100_000 + b"x</body></html>")
    err, _secs, _ = _measure(lambda: load_file(p, tmp_path))
    assert str(err) == ("flood.html: too large to read safely (HTML tags > 2,000,000) (split the "
                        "file, or raise the limit (assistant.load.Limits) if it is a genuine document)")


def test_pages_and_characters_are_bounded(tmp_path: Path, bad_files) -> None:
    from assistant.load import Limits

    p = tmp_path / "long.txt"
    p.write_text("本文件规定了标准的结构。\n" * 1000, "utf-8")
    with pytest.raises(InputFileError, match=r"long.txt: too large to read safely \(characters of text > 5,000\)"):
        load_file(p, tmp_path, limits=Limits(max_chars=5000))
    root, files = bad_files
    with pytest.raises(InputFileError, match=r"too large to read safely \(pages > 0\)"):
        load_file(files["truncated.pdf"].with_name("owner_only.pdf"), root, limits=Limits(max_pages=0))
