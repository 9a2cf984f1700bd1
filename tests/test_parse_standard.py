"""parse_standard: clause tree, labels, pages, metadata of standards in every input format."""

from __future__ import annotations

import re

import pytest

from assistant.load import load_file
from assistant.parse.standard import looks_like_standard, parse_standard
from assistant.records import LoadedFile, ParsedDocument

from . import fixtures_std as F

HAVE_FONT = F.cjk_font() is not None
FORMATS = ["pdf", "docx", "txt", "gbk.txt", "ff.txt", "md"]
PAGED = {"pdf", "ff.txt"}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, LoadedFile]:
    if not HAVE_FONT:
        pytest.skip("no CJK font (apt-get install fonts-noto-cjk)")
    root = tmp_path_factory.mktemp("std")
    files = F.make_all_standards(root)
    return {name: load_file(path, root) for name, path in files.items()}


@pytest.fixture(scope="module")
def parsed(loaded: dict[str, LoadedFile]) -> dict[str, ParsedDocument]:
    return {name: parse_standard(lf) for name, lf in loaded.items()}


def _flat(s: str) -> str:
    return s.replace("\n", "")


# ---------------------------------------------------------------------------------------------
# the fixtures, in every format
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["gbt", "db50"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_clauses_match_ground_truth(parsed, which: str, fmt: str) -> None:
    doc = parsed[f"{which}.{fmt}"]
    exp = F.expected(which)
    assert [c.label for c in doc.clauses] == exp.labels
    for got, want in zip(doc.clauses, exp.clauses, strict=True):
        assert got.heading == want.heading, got.label
        assert got.path == want.path, got.label
        assert want.snippet in _flat(got.text), got.label
        assert got.text.replace(" ", "").startswith(got.label), got.label
        if fmt in PAGED:
            assert (got.page_start, got.page_end) == (want.page_start, want.page_end), got.label
        else:
            assert (got.page_start, got.page_end) == (0, 0), got.label


@pytest.mark.parametrize("which", ["gbt", "db50"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_metadata(parsed, which: str, fmt: str) -> None:
    meta = parsed[f"{which}.{fmt}"].meta
    exp = F.expected(which)
    assert meta.kind == "standard"
    assert meta.std_no == exp.std_no
    assert meta.title == exp.title
    assert meta.issued == exp.issued
    assert meta.effective == exp.effective
    assert meta.replaces == exp.replaces
    assert (meta.category, meta.force) == (exp.category, exp.force)
    assert meta.pages == (exp.pages if fmt == "pdf" else 0)
    assert meta.doc.endswith(fmt.split(".")[-1])
    assert len(meta.sha256) == 64


def test_fixture_has_the_hard_cases() -> None:
    """The ground truth itself: clauses spanning pages, five levels, untitled clauses."""
    gbt = F.expected("gbt")
    assert gbt.clause("5.3.1").page_start != gbt.clause("5.3.1").page_end
    assert "5.2.1.1.1" in gbt.labels
    assert gbt.clause("4.3.1").heading == ""
    db = F.expected("db50")
    assert any(c.page_start != c.page_end for c in db.clauses)


# ---------------------------------------------------------------------------------------------
# specific behaviour on the PDF
# ---------------------------------------------------------------------------------------------

_PAGE_LINE = re.compile(r"^(?:-\s*)?(?:\d{1,3}|[IVX]{1,4})(?:\s*-)?$")


@pytest.mark.parametrize("name", ["gbt.pdf", "db50.pdf", "gbt.ff.txt", "db50.ff.txt"])
def test_headers_and_footers_removed(parsed, name: str) -> None:
    doc = parsed[name]
    for c in doc.clauses:
        for line in c.text.split("\n"):
            assert line.strip() != doc.meta.std_no, c.label
            assert not _PAGE_LINE.match(line.strip()), (c.label, line)
    # the title printed again above chapter 1 belongs to no clause
    assert not any(doc.meta.title.split(" ")[0] == ln for c in doc.clauses for ln in c.text.split("\n"))


def test_cross_references_are_not_headings(parsed) -> None:
    doc = parsed["gbt.pdf"]
    by = {c.label: c for c in doc.clauses}
    # a line starting "5.3 中规定的…" while 5.3 is the next sibling: body of 5.2.2
    assert "具体按照5.3 中规定的引用原则执行。" in _flat(by["5.2.2"].text)
    assert "5.3的规定同样适用于范围中提及的文件。" in by["5.2.2"].text
    assert by["5.3"].heading == "规范性引用文件的编写"
    assert "应同时满足6.3 中规定的助动词要求。" in _flat(by["6.2"].text)
    assert by["6.3"].heading == "允许"
    assert "11.5的试验方法不适用于本条" in by["5.3.2"].text
    assert "A.3的规定适用于特殊情况的标注。" in by["A.2.1"].text
    # a numbering example inside an annex is text of B.1
    assert "5.2.3.1.4 第五层次条的编号" in by["B.1"].text.split("\n")
    db = {c.label: c for c in parsed["db50.pdf"].clauses}
    assert "超出时限的应按照6.3 中规定的程序报告。" in _flat(db["6.2.2"].text)
    assert "6.2.1的时限要求同样适用于隧道出入口的路灯。" in db["6.2.2"].text
    assert db["6.3"].heading == "维修记录"


def test_heading_only_clause_keeps_to_itself(parsed) -> None:
    by = {c.label: c for c in parsed["gbt.pdf"].clauses}
    assert by["5.2.1.1"].text == "5.2.1.1 通则"
    assert by["5.2.1.1.1"].text.startswith("5.2.1.1.1 范围应表述为")
    assert by["4"].text == "4 文件的层次"


def test_wrapped_lines_joined(parsed) -> None:
    by = {c.label: c for c in parsed["gbt.pdf"].clauses}
    assert by["4.3.1"].text == ("4.3.1 条是章内有编号的细分层次。条可进一步细分，细分层次不宜超过五层，"
                                "例如5.2.1.1.1。")
    # a sentence broken across the page break 6 → 7
    assert "通过文中的规范性引用而构成本文件必不可少的条款。”" in by["5.3.1"].text
    # normative references stay one per line
    lines = by["2"].text.split("\n")
    assert "GB/T 1.1—2020 标准化工作导则 第1部分：标准化文件的结构和起草规则" in lines
    assert "GB/T 20000.1 标准化工作指南 第1部分：标准化和相关活动的通用术语" in lines


@pytest.mark.parametrize("name", ["gbt.pdf", "gbt.docx", "gbt.txt", "gbt.md"])
def test_tables_as_rows(parsed, name: str) -> None:
    by = {c.label: c for c in parsed[name].clauses}
    lines = by["5.1.1"].text.split("\n")
    i = lines.index("表1 要素的类别和编排")
    assert lines[i + 1:i + 4] == ["要素 | 类别 | 性质", "封面 | 必备 | 资料性", "目次 | 可选 | 资料性"]
    assert "注：表中“性质”指要素在文件中所起的作用。" in lines


def test_terms(parsed) -> None:
    by = {c.label: c for c in parsed["gbt.pdf"].clauses}
    assert by["3.1"].heading == "条款"
    assert by["3.1.1"].heading == "要求"
    assert by["3.1.1"].text.split("\n")[:2] == ["3.1.1", "要求 requirement"]
    assert by["3.1.2"].path == ["3 术语和定义", "3.1 条款"]
    assert "注：推荐型条款" in by["3.1.2"].text


def test_annexes_and_foreword(parsed) -> None:
    by = {c.label: c for c in parsed["gbt.pdf"].clauses}
    assert by["附录A"].text.split("\n") == ["附录A", "（规范性）", "条款类型的表述形式"]
    assert by["附录B"].heading == "文件结构示例"
    assert by["A.1"].path == ["附录A 条款类型的表述形式"]
    assert "条款类型 | 肯定形式 | 否定形式" in by["A.1"].text
    assert by["前言"].text.startswith("前言\n本文件按照GB/T 1.1—2020")
    assert "主要起草人" in by["前言"].text
    assert by["参考文献"].text.split("\n")[1].startswith("[1] GB/T 20000.2")
    # the 目次 is skipped: its entries are no clause text
    assert not any("…………" in c.text for c in parsed["gbt.pdf"].clauses)


def test_looks_like_standard_on_fixtures(loaded: dict[str, LoadedFile]) -> None:
    for name, lf in loaded.items():
        assert looks_like_standard(lf), name


# ---------------------------------------------------------------------------------------------
# small synthetic texts (no font needed)
# ---------------------------------------------------------------------------------------------

def _lf(text: str, path: str = "x.txt", fmt: str = "txt", pages: list[str] | None = None) -> LoadedFile:
    return LoadedFile(path=path, format=fmt, pages=pages or [text])  # type: ignore[arg-type]


LAW = """中华人民共和国示例法
第一章 总则
第一条 为了规范示例活动，制定本法。
第二条 本法适用于示例活动。依照GB/T 1.1—2020的规定执行。
"""

POLICY = """关于印发示例行动方案的通知
各有关单位：
现将《示例行动方案》印发给你们，请认真贯彻落实。
一、总体要求
（一）指导思想
推动GB/T 19001—2016等标准的实施。
"""


def test_looks_like_standard_rejects_law_and_policy() -> None:
    assert not looks_like_standard(_lf(LAW))
    assert not looks_like_standard(_lf(POLICY))


def test_looks_like_standard_body_only_with_number_in_name() -> None:
    text = "1 范围\n本文件规定了示例。\n2 规范性引用文件\n本文件没有规范性引用文件。\n3 术语和定义\n无。\n"
    assert looks_like_standard(_lf(text, path="T_CAS_123-2020.txt"))
    doc = parse_standard(_lf(text, path="T_CAS_123-2020.txt"))
    assert doc.meta.std_no == "T/CAS 123—2020"
    assert (doc.meta.category, doc.meta.force) == ("group", "")
    assert [c.label for c in doc.clauses] == ["1", "2", "3"]


def test_deep_numbers_and_cross_references() -> None:
    text = "\n".join([
        "Q/ABC 001—2021", "示例产品试验方法", "2021-01-01发布 2021-02-01实施", "前言", "本文件由示例公司提出。",
        "1 范围", "本文件规定了示例产品的试验方法。",
        "2 试验",
        "2.1 通则",
        "2.1.1 通则",
        "2.1.1.1 通则",
        "2.1.1.1.1 试样应在标准环境中放置24 h。",
        "2.1.1.1.2的试验应在试样放置后进行，",  # a sentence that starts with a clause number
        "并按2.1.1.1.1的规定记录。",
        "2.1.1.2 中规定的环境条件适用于全部试验。",  # a cross-reference line, next sibling number
        "2.1.1.2 环境条件",
        "环境温度应为（23±2）℃。",
        "2.2",
        "结果处理",
        "试验结果应按照",
        "2.3 中规定的方法修约。",
        "2.3 修约",
        "数值修约按照GB/T 8170的规定。",
    ])
    doc = parse_standard(_lf(text, path="q.txt"))
    assert doc.meta.std_no == "Q/ABC 001—2021"
    assert doc.meta.title == "示例产品试验方法"
    assert (doc.meta.issued, doc.meta.effective) == ("2021-01-01", "2021-02-01")
    by = {c.label: c for c in doc.clauses}
    assert [c.label for c in doc.clauses] == [
        "前言", "1", "2", "2.1", "2.1.1", "2.1.1.1", "2.1.1.1.1", "2.1.1.2", "2.2", "2.3"]
    assert by["2.1.1.1"].text == "2.1.1.1 通则"
    assert "2.1.1.1.2的试验应在试样放置后进行，并按2.1.1.1.1的规定记录。" in by["2.1.1.1.1"].text
    assert "2.1.1.2 中规定的环境条件适用于全部试验。" in by["2.1.1.1.1"].text
    assert by["2.1.1.2"].heading == "环境条件"
    assert by["2.2"].heading == "结果处理"
    assert "试验结果应按照2.3 中规定的方法修约。" in by["2.2"].text
    assert by["2.3"].path == ["2 试验"]
    assert by["2.1.1.1.1"].path == ["2 试验", "2.1 通则", "2.1.1 通则", "2.1.1.1 通则"]


def test_heading_without_blank_and_excerpt() -> None:
    # PDFs sometimes lose the blank between number and title; an excerpt may start at chapter 5
    text = "5 技术要求\n5.1外观\n产品表面应平整。\n5.2 尺寸\n尺寸应符合表1。\n5.3条的规定不适用于样品。\n"
    doc = parse_standard(_lf(text))
    assert [(c.label, c.heading) for c in doc.clauses] == [
        ("5", "技术要求"), ("5.1", "外观"), ("5.2", "尺寸")]
    assert "5.3条的规定不适用于样品。" in doc.clauses[-1].text


def test_page_numbers_removed_only_when_consistent() -> None:
    pages = [
        "封面\nGB 99999—2024\n示例产品安全要求\n2024-01-01发布 2024-07-01实施",
        "GB 99999—2024\n前言\n本文件为强制性国家标准。\nI",
        "GB 99999—2024\n示例产品安全要求\n1 范围\n本文件规定了示例产品的安全要求。\n表1 限值\n项目 限值\n铅 5\n1",
        "GB 99999—2024\n2 要求\n2.1 铅含量应符合表1。\n2",
    ]
    doc = parse_standard(_lf("", path="a.pdf", fmt="pdf", pages=pages))
    by = {c.label: c for c in doc.clauses}
    assert doc.meta.std_no == "GB 99999—2024"
    assert (doc.meta.category, doc.meta.force) == ("national", "mandatory")
    assert by["前言"].text == "前言\n本文件为强制性国家标准。"
    assert by["1"].text.split("\n")[-1] == "铅 | 5"  # the table row "铅 5", not a page number
    assert (by["1"].page_start, by["1"].page_end) == (3, 3)
    assert by["2.1"].text == "2.1 铅含量应符合表1。"
    assert (by["2"].page_start, by["2.1"].page_end) == (4, 4)


def test_replaces_from_foreword_when_cover_has_none() -> None:
    text = ("GB/T 99998—2024\n示例方法\n前言\n本文件代替GB/T 99998—2010《示例方法》和GB/T 99997—2012，"
            "与GB/T 99998—2010相比，主要技术变化如下：\n1 范围\n本文件规定了示例方法。\n")
    doc = parse_standard(_lf(text))
    assert doc.meta.replaces == ["GB/T 99998—2010", "GB/T 99997—2012"]


def test_unstructured_text_gives_one_clause() -> None:
    doc = parse_standard(_lf("GB/T 99996—2024\n只有一段没有结构的文字。", path="u.txt"))
    assert [c.label for c in doc.clauses] == ["全文"]
    assert "只有一段" in doc.clauses[0].text


def test_leaderless_toc_spaced_glyphs_synonyms_and_national_annex() -> None:
    text = "\n".join([
        "GB/T 99995—2024/ISO 99995:2020", "示例设备 安全要求", "2024-03-01发布 2024-10-01实施",
        "目次", "前言 I", "1 范围 1", "3 术语和定义 1", "附录A（资料性） 示例 3", "附录NA（资料性） 差异 4",
        "前言",
        "本 文 件 按 照 GB/T 1.1—2020 的 规 定 起 草 。",  # every glyph set apart by the PDF
        "1 范围", "本文件规定了示例设备的安全要求。",
        "2 规范性引用文件", "本文件没有规范性引用文件。",
        "3 术语和定义", "下列术语和定义适用于本文件。",
        "3.1", "特种设备；设备", "special equipment", "对人身和财产安全有较大危险性的设备。",
        "附录A", "（资料性）", "示例", "A.1 通则", "示例内容。",
        "附录NA", "（资料性）", "本文件与ISO 99995:2020的技术性差异", "NA.1 差异说明", "差异内容。",
    ])
    doc = parse_standard(_lf(text))
    assert doc.meta.std_no == "GB/T 99995—2024"
    assert doc.meta.title == "示例设备 安全要求"
    assert [c.label for c in doc.clauses] == [
        "前言", "1", "2", "3", "3.1", "附录A", "A.1", "附录NA", "NA.1"]
    by = {c.label: c for c in doc.clauses}
    assert by["前言"].text == "前言\n本文件按照 GB/T 1.1—2020 的规定起草。"
    assert by["3.1"].heading == "特种设备"
    assert by["NA.1"].path == ["附录NA 本文件与ISO 99995:2020的技术性差异"]


def test_a_lost_heading_does_not_lose_its_children() -> None:
    # "2.1 …" was not extracted (e.g. drawn as an image); 2.1.1 and 2.1.2 still open clauses
    text = "1 范围\n本文件规定了示例。\n2 要求\n2.1.1 外观\n表面应平整。\n2.1.2 尺寸\n尺寸应符合设计。\n2.2 标志\n应有标志。\n"
    doc = parse_standard(_lf(text))
    assert [c.label for c in doc.clauses] == ["1", "2", "2.1.1", "2.1.2", "2.2"]
    assert doc.clauses[2].path == ["2 要求"]
