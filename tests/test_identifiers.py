"""Standard numbers, clause labels and references in questions."""

from __future__ import annotations

import pytest

from assistant.identifiers import (
    Reference,
    clause_sort_key,
    cn_to_int,
    find_law_name,
    find_std_numbers,
    int_to_cn,
    law_article_label,
    normalize_clause_label,
    normalize_std_no,
    parse_reference,
    split_std_no,
    std_base,
    std_category,
    std_number_spans,
    std_year,
)


@pytest.mark.parametrize("written", [
    "GB/T 1.1—2020", "GB/T1.1-2020", "GBT 1.1-2020", "GB_T_1.1-2020", "GB/T 1.1–2020",
    "gb/t 1.1-2020", "GB/T 1.1 - 2020", "GB／T 1.1—2020", "GB/T　1.1—2020", " GB/T 1.1-2020 ",
    "GB_T_1.1-2020.pdf", "GB_T_1.1-2020_标准化工作导则", "《GB/T 1.1—2020》", "GB/T 1.1——2020",
    "GB/T 1.1—2020 标准化工作导则 第1部分",  # file names carry the title after a blank
])
def test_normalize_variants_of_one_number(written: str) -> None:
    assert normalize_std_no(written) == "GB/T 1.1—2020"


@pytest.mark.parametrize(("written", "normal"), [
    ("GB/T 1.1", "GB/T 1.1"),
    ("GB 2760—2014", "GB 2760—2014"),
    ("GB 2760-2014", "GB 2760—2014"),
    ("GB/Z 41234-2022", "GB/Z 41234—2022"),
    ("GB_Z_41234-2022", "GB/Z 41234—2022"),
    ("GBZ 2.1-2019", "GBZ 2.1—2019"),
    ("JB/T 5000.1—2007", "JB/T 5000.1—2007"),
    ("JBT 5000.1-2007", "JB/T 5000.1—2007"),
    ("QB/T 1234-2015", "QB/T 1234—2015"),
    ("SJ/T 11363-2006", "SJ/T 11363—2006"),
    ("HG/T 20592-2009", "HG/T 20592—2009"),
    ("YY/T 0287—2017", "YY/T 0287—2017"),
    ("YY 0505", "YY 0505"),
    ("yy/t 0287-2017", "YY/T 0287—2017"),
    ("DB50/T 1234—2022", "DB50/T 1234—2022"),
    ("DB50/T1234-2022", "DB50/T 1234—2022"),
    ("DB50_T_1234-2022", "DB50/T 1234—2022"),
    ("DB 50/T 1234-2022", "DB50/T 1234—2022"),
    ("DB50 1234-2022", "DB50 1234—2022"),
    ("T/CAS 123—2020", "T/CAS 123—2020"),
    ("T/CQXH 001-2023", "T/CQXH 001—2023"),
    ("t/cas 123-2020", "T/CAS 123—2020"),
    ("Q/ABC 001—2021", "Q/ABC 001—2021"),
    ("GB 4943-95", "GB 4943—1995"),
    ("GB/T 19001-2016/ISO 9001:2015", "GB/T 19001—2016"),
    ("JGJ 1-2014", "JGJ 1—2014"),
    ("SH/T 3405-2017", "SH/T 3405—2017"),
])
def test_normalize_prefixes(written: str, normal: str) -> None:
    assert normalize_std_no(written) == normal


@pytest.mark.parametrize("text", [
    "", "2020-03-31", "5.2.3", "ICS 01.120", "CCS A 00", "GB", "GB/T", "标准化法", "第八条",
    "ISO 9001", "A.1", "GB/T 1.1—2020的规定", "1.1-2020", "GB/T 1.1—2020,GB 2760",
])
def test_normalize_rejects(text: str) -> None:
    assert normalize_std_no(text) is None


def test_find_std_numbers_in_running_text() -> None:
    text = ("本文件按照GB/T 1.1—2020的规定起草，食品添加剂应符合GB 2760-2014。"
            "参考DB50/T 1234—2022、T/CAS 123-2020与Q/ABC 001—2021，以及gb/t 7714和JB/T 5000.1—2007。"
            "引用GB/T 1.1—2020的8.6。")
    assert find_std_numbers(text) == [
        "GB/T 1.1—2020", "GB 2760—2014", "DB50/T 1234—2022", "T/CAS 123—2020",
        "Q/ABC 001—2021", "GB/T 7714", "JB/T 5000.1—2007",
    ]


@pytest.mark.parametrize("text", [
    "2020-03-31发布 2020-10-01实施", "见5.2.3和A.1的规定", "内存16GB 2条", "共计 12 GB", "ICS 01.120",
    "CCS A 00", "版本号 V2.1-2020", "表1 要素", "第8.6条", "Win 10-2020", "ABC 123",
    "2016年首次发布", "SAC/TC 999", "ISO/IEC 17025",
])
def test_find_std_numbers_false_positives(text: str) -> None:
    assert find_std_numbers(text) == []


def test_find_std_numbers_keeps_year_apart_from_clause() -> None:
    assert find_std_numbers("GB/T 1.1—2020 8.6 的要求") == ["GB/T 1.1—2020"]
    assert find_std_numbers("GB/T 20000.1～20000.3") == ["GB/T 20000.1"]


def test_find_international_numbers_on_request() -> None:
    text = "GB/T 19001-2016/ISO 9001:2015 等同采用；另见ISO/IEC 17025:2017、IEC 60335-1:2020和EN 71。"
    assert find_std_numbers(text) == ["GB/T 19001—2016"]
    assert find_std_numbers(text, international=True) == [
        "GB/T 19001—2016", "ISO 9001:2015", "ISO/IEC 17025:2017", "IEC 60335-1:2020", "EN 71"]
    spans = std_number_spans("依据GB/T 1.1-2020和ISO 9001", international=True)
    assert spans == [(2, 15, "GB/T 1.1—2020"), (16, 24, "ISO 9001")]
    assert find_std_numbers("ISO9001认证、iso 14001、PEN 12", international=True) == ["ISO 9001"]


@pytest.mark.parametrize(("no", "cat"), [
    ("GB 2760—2014", ("national", "mandatory")),
    ("GB/T 1.1—2020", ("national", "recommended")),
    ("GB/Z 41234—2022", ("national", "guidance")),
    ("GBZ 2.1—2019", ("national", "mandatory")),
    ("JB/T 5000.1—2007", ("industry", "recommended")),
    ("YY 0505—2012", ("industry", "mandatory")),
    ("DB50/T 1234—2022", ("local", "recommended")),
    ("DB50 1234—2022", ("local", "mandatory")),
    ("T/CAS 123—2020", ("group", "")),
    ("Q/ABC 001—2021", ("enterprise", "")),
    ("not a number", ("", "")),
])
def test_std_category(no: str, cat: tuple[str, str]) -> None:
    assert std_category(no) == cat


def test_base_year_split() -> None:
    assert std_base("GB/T 1.1—2020") == "GB/T 1.1"
    assert std_base("GB/T1.1-2009") == "GB/T 1.1"
    assert std_base("T/CAS 123—2020") == "T/CAS 123"
    assert std_year("GB 4943-95") == "1995"
    assert std_year("GB/T 1.1") == ""
    assert split_std_no("DB50/T 1234—2022") == ("DB50/T", "1234", "2022")
    assert split_std_no("nonsense") is None


@pytest.mark.parametrize(("query", "ref"), [
    ("GB/T 1.1 的 8.6", Reference("GB/T 1.1", "", "8.6")),
    ("GB/T1.1-2020第8.6条", Reference("GB/T 1.1—2020", "", "8.6")),
    ("GB/T 1.1—2020 8.6 讲了什么", Reference("GB/T 1.1—2020", "", "8.6")),
    ("GB/T 1.1—2020 附录A", Reference("GB/T 1.1—2020", "", "附录A")),
    ("GB/T 1.1—2020 附录 B 是规范性的吗", Reference("GB/T 1.1—2020", "", "附录B")),
    ("GB/T 1.1—2020 A.1", Reference("GB/T 1.1—2020", "", "A.1")),
    ("GB/T 1.1—2020的A.1.2条", Reference("GB/T 1.1—2020", "", "A.1.2")),
    ("GB/T 1.1—2020 第5章", Reference("GB/T 1.1—2020", "", "5")),
    ("GB/T 1.1—2020《标准化工作导则》的5.2.3是什么", Reference("GB/T 1.1—2020", "", "5.2.3")),
    ("DB50/T 1234-2022 中 3.1.2 的定义", Reference("DB50/T 1234—2022", "", "3.1.2")),
    ("GB/T 1.1 中的 3 个要素", Reference("GB/T 1.1", "", "")),
    ("GB 2760 有哪些要求", Reference("GB 2760", "", "")),
    ("标准化法第十条", Reference("", "标准化法", "第十条")),
    ("产品质量法 26条", Reference("", "产品质量法", "第二十六条")),
    ("产品质量法第26条", Reference("", "产品质量法", "第二十六条")),
    ("《中华人民共和国标准化法》第十条", Reference("", "标准化法", "第十条")),
    ("中华人民共和国产品质量法第二十六条规定了什么", Reference("", "产品质量法", "第二十六条")),
    ("请问标准化法第十条是什么", Reference("", "标准化法", "第十条")),
    ("根据计量法实施细则第3条", Reference("", "计量法实施细则", "第三条")),
    ("依据安全生产法和产品质量法第26条", Reference("", "产品质量法", "第二十六条")),
    ("刑法第一百三十三条之一", Reference("", "刑法", "第一百三十三条之一")),
    ("重庆市标准化条例第十二条", Reference("", "重庆市标准化条例", "第十二条")),
    ("《市场监督管理行政处罚程序规定》第 5 条", Reference("", "市场监督管理行政处罚程序规定", "第五条")),
    ("第8.6条怎么理解", Reference("", "", "8.6")),
    ("那么标准化法第十条呢", Reference("", "标准化法", "第十条")),
])
def test_parse_reference(query: str, ref: Reference) -> None:
    assert parse_reference(query) == ref


@pytest.mark.parametrize("query", [
    "", "   ", "标准化工作有哪些要求", "产品质量怎么投诉", "2020年3月发布的标准", "5.2.3", "价格是26元",
])
def test_parse_reference_none(query: str) -> None:
    assert parse_reference(query) is None


@pytest.mark.parametrize(("text", "name"), [
    ("标准化法第十条规定了什么？", "标准化法"),
    ("我想知道《产品质量法》第四十九条", "产品质量法"),
    ("根据《中华人民共和国标准化法》第二条，强制性标准必须执行。", "中华人民共和国标准化法"),
    ("中华人民共和国产品质量法", "中华人民共和国产品质量法"),
    ("我想知道食品安全法的规定", "食品安全法"),
    ("请问那么标准化法什么时候施行", "标准化法"),
    ("关于印发示例市标准化发展实施方案的通知", "示例市标准化发展实施方案"),
    ("对外贸易法的适用范围", "对外贸易法"),
    ("违法的后果是什么", ""),
    ("各要素的类别在哪里规定？", ""),
    ("本条例由谁解释？", ""),
    ("它的实施日期是？", ""),
])
def test_find_law_name(text: str, name: str) -> None:
    assert find_law_name(text) == name


def test_law_article_label() -> None:
    assert law_article_label("26") == "第二十六条"
    assert law_article_label("第26条") == "第二十六条"
    assert law_article_label("二十六条") == "第二十六条"
    assert law_article_label("第十条") == "第十条"
    assert law_article_label("第110条") == "第一百一十条"
    assert law_article_label("第五十四条之一") == "第五十四条之一"
    assert law_article_label("第零条") is None
    assert law_article_label("abc") is None


def test_normalize_clause_label() -> None:
    assert normalize_clause_label("附 录 A") == "附录A"
    assert normalize_clause_label("附录b") == "附录B"
    assert normalize_clause_label("８．６") == "8.6"
    assert normalize_clause_label("第8.6条") == "8.6"
    assert normalize_clause_label("a.1") == "A.1"
    assert normalize_clause_label("前言") == "前言"


def test_clause_sort_key_orders_a_standard() -> None:
    labels = ["前言", "引言", "1", "2", "3", "3.1", "3.1.1", "3.1.2", "3.2", "4", "5", "5.2",
              "5.2.3", "5.2.3.1", "5.2.3.1.4", "5.10", "10", "附录A", "A.1", "A.1.1", "A.2",
              "附录B", "B.1", "参考文献", "索引"]
    shuffled = sorted(labels, key=lambda s: (hash(s) % 7, s))
    assert sorted(shuffled, key=clause_sort_key) == labels


def test_clause_sort_key_orders_articles_and_items() -> None:
    arts = ["第一条", "第二条", "第二条之一", "第九条", "第十条", "第十一条", "第二十条", "第一百零二条"]
    assert sorted(reversed(arts), key=clause_sort_key) == arts
    items = ["（一）", "（二）", "（十）", "（十一）"]
    assert sorted(reversed(items), key=clause_sort_key) == items
    # unknown labels sort last without raising
    assert sorted(["x", "1", "前言"], key=clause_sort_key) == ["前言", "1", "x"]


def test_numerals_unchanged() -> None:
    for n in (1, 10, 11, 20, 26, 54, 100, 102, 110, 1010, 1234):
        assert cn_to_int(int_to_cn(n)) == n
    assert int_to_cn(26) == "二十六"
    assert cn_to_int("26") == 26
    # years are written digit by digit; 亿 above 万
    assert cn_to_int("二〇二〇") == 2020 and cn_to_int("一九九五") == 1995
    assert cn_to_int("一亿二千万") == 120_000_000 and cn_to_int("十亿") == 1_000_000_000
    assert cn_to_int("五十四万") == 540_000 and cn_to_int("abc") is None
