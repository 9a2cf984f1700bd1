"""Catalogues (laws' and standards' CSV metadata), their merge into parsing, and statuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import InputFileError
from assistant.parse import normalize_status, parse, to_iso_date
from assistant.parse.catalog import Catalog
from assistant.records import LoadedFile

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
LAW_CATALOG = SHARED / "corpus" / "laws" / "catalog.csv"

STANDARDS = """number,title,status,issued,effective,replaced_by
GB/T 1.1-2020,标准化工作导则 第1部分：标准化文件的结构和起草规则,现行,2020-03-31,2020-10-01,
GB/T 1.1-2009,标准化工作导则 第1部分：标准的结构和编写,废止,2009-06-17,2010-01-01,GB/T 1.1-2020
GB 2763-2021,食品安全国家标准 食品中农药最大残留限量,现行,2021/3/3,2021年9月3日,
"""


def _write(tmp_path: Path, text: str, name: str = "catalog.csv", enc: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(enc))
    return p


@pytest.mark.shared
@pytest.mark.skipif(not LAW_CATALOG.is_file(), reason="../shared/corpus/laws is absent")
def test_law_catalogue_by_path() -> None:
    cat = Catalog.load(LAW_CATALOG)
    assert len(cat.by_path) >= 1600
    row = cat.lookup("刑法/刑法.md")
    assert row == {"title": "中华人民共和国刑法", "category": "法律", "issued": "2020-12-26",
                   "effective": "2021-03-01", "status": "有效"}
    # the same file ingested from the folder above laws/
    assert cat.lookup("laws/刑法/刑法.md") == row
    assert cat.lookup("刑法/不存在.md") == {}
    failed = [k for k, v in cat.by_path.items() if v.get("status") == "已失效"]
    assert failed


def test_standards_catalogue_by_number(tmp_path: Path) -> None:
    cat = Catalog.load(_write(tmp_path, STANDARDS))
    old = cat.lookup("uploads/whatever.pdf", "GB/T 1.1—2009")
    assert old["status"] == "废止"
    assert old["replaced_by"] == "GB/T 1.1-2020"
    assert old["issued"] == "2009-06-17"
    # numbers are matched in their normalised spelling
    new = cat.lookup("", "GB/T 1.1-2020")
    assert new["title"].startswith("标准化工作导则") and new["status"] == "现行"
    food = cat.lookup("", "GB 2763—2021")
    assert (food["issued"], food["effective"]) == ("2021-03-03", "2021-09-03")
    assert cat.lookup("", "GB/T 9999—2000") == {}


def test_gb18030_and_tab_separated_catalogues(tmp_path: Path) -> None:
    text = "path\ttitle\tstatus\n示例/甲.md\t甲条例\t现行有效\n"
    cat = Catalog.load(_write(tmp_path, text, "c.tsv", "gb18030"))
    assert cat.lookup("示例/甲.md") == {"title": "甲条例", "status": "有效"}


@pytest.mark.parametrize("text, reason", [
    ("", "empty"),
    ("title,status\n甲,有效\n", "no path or number column"),
    ("path,title\na.md,甲,多余\n", "line 2 has 3 fields"),
])
def test_malformed_catalogue_is_one_line_input_error(tmp_path: Path, text: str,
                                                     reason: str) -> None:
    with pytest.raises(InputFileError) as e:
        Catalog.load(_write(tmp_path, text))
    msg = str(e.value)
    assert reason in msg and "\n" not in msg
    assert msg.startswith("catalog.csv:")


def test_missing_or_binary_catalogue(tmp_path: Path) -> None:
    with pytest.raises(InputFileError):
        Catalog.load(tmp_path / "nope.csv")
    bad = tmp_path / "bin.csv"
    bad.write_bytes(b"\xff\xfe\x00\x81\x00" * 10)
    with pytest.raises(InputFileError):
        Catalog.load(bad)


LAW_TEXT = ("示例条例\n\n2001年12月28日 示例市人民代表大会常务委员会通过\n\n"
            "第一章 总则\n\n第一条 为了示例，制定本条例。\n\n第二条 本条例自2002年1月1日起施行。\n")


def test_catalogue_metadata_merges_into_a_parsed_law(tmp_path: Path) -> None:
    cat = Catalog.load(_write(tmp_path, "path,title,level,published,effective,status\n"
                              "地方/示例条例.md,示例市示例条例,地方性法规,2010-01-01,,已失效\n"))
    doc = parse(LoadedFile(path="地方/示例条例.md", format="md", pages=[LAW_TEXT]), cat)
    meta = doc.meta
    assert meta.kind == "law"
    assert meta.title == "示例市示例条例"  # the catalogue's title wins
    assert meta.category == "地方性法规"
    assert meta.status == "已失效"
    assert meta.issued == "2001-12-28"  # the text's first promulgation date is kept
    assert meta.effective == "2002-01-01"
    plain = parse(LoadedFile(path="地方/示例条例.md", format="md", pages=[LAW_TEXT]))
    assert plain.meta.title == "示例条例" and plain.meta.status == "未知"


def test_law_catalogue_level_makes_a_notice_a_law(tmp_path: Path) -> None:
    text = ("关于职工工资折算问题的通知\n\n一、年工作日：365天－104天＝261天\n\n"
            "二、季工作日：261天÷4季＝65.25天／季\n\n（一）示例\n")
    loaded = LoadedFile(path="部门规章/通知.md", format="md", pages=[text])
    assert parse(loaded).meta.kind == "policy"
    cat = Catalog.load(_write(tmp_path, "path,title,level,status\n部门规章/通知.md,通知,部门规章,有效\n"))
    doc = parse(loaded, cat)
    assert doc.meta.kind == "law" and doc.meta.status == "有效"
    assert [c.label for c in doc.clauses][:2] == ["一", "二"]


@pytest.mark.parametrize("raw, kind, want", [
    ("现行", None, "现行"), ("有效", None, "有效"), ("现行有效", None, "有效"),
    ("即将实施", None, "即将实施"), ("尚未生效", None, "即将实施"),
    ("废止", None, "废止"), ("作废", None, "废止"), ("已废止", None, "已失效"),
    ("失效", None, "已失效"), ("已失效", None, "已失效"), ("被代替", None, "被代替"),
    ("", None, "未知"), (None, None, "未知"), ("  ", None, "未知"), ("乱写", None, "未知"),
    ("现行有效（已修改）", None, "有效"), ("Superseded", None, "被代替"),
    # each kind keeps its own vocabulary
    ("现行", "law", "有效"), ("废止", "law", "已失效"), ("已废止", "law", "已失效"),
    ("有效", "standard", "现行"), ("已失效", "standard", "废止"), ("已废止", "standard", "废止"),
    ("被代替", "standard", "被代替"), ("即将实施", "law", "即将实施"),
])
def test_normalize_status(raw: str | None, kind: str | None, want: str) -> None:
    assert normalize_status(raw, kind) == want


@pytest.mark.parametrize("raw, want", [
    ("2020年5月28日", "2020-05-28"), ("2024-6-12", "2024-06-12"), ("2024/06/12", "2024-06-12"),
    ("2024.6.1", "2024-06-01"), ("二〇二四年五月十七日", "2024-05-17"), ("", ""), ("不详", ""),
])
def test_to_iso_date(raw: str, want: str) -> None:
    assert to_iso_date(raw) == want


def test_standards_catalogue_statuses_merge_at_parse(tmp_path: Path) -> None:
    """A standards catalogue (number, title, status 现行/废止/被代替/即将实施, replaced_by,
    published, effective) overrides what the document says, found by its number."""
    from assistant.load.markdown import clean_markdown
    from tests import fixtures_library as L

    cat = Catalog.load(_write(tmp_path, "标准编号,标准名称,状态,被代替,发布日期,实施日期,代替标准\n"
                                        "GB 90201-2024,电动自行车用锂离子蓄电池安全要求,被代替,GB 90201-2027,"
                                        "2024/3/15,2025年1月1日,GB 90201-2018\n"
                                        "DB50/T 90206—2022,,即将实施,,,2030-01-01,\n"))
    std = L.standards()[0]
    doc = parse(LoadedFile(path="x/any-name.md", format="md", pages=[clean_markdown(L.render_plain_md(std))]),
                cat, today="2026-12-01")
    m = doc.meta
    assert (m.std_no, m.status, m.replaced_by) == ("GB 90201—2024", "被代替", "GB 90201-2027")
    assert (m.issued, m.effective, m.replaces) == ("2024-03-15", "2025-01-01", ["GB 90201—2018"])
    local = next(s for s in L.standards() if s.number.startswith("DB50/T 90206"))
    doc = parse(LoadedFile(path="y.md", format="md", pages=[clean_markdown(L.render_plain_md(local))]), cat,
                today="2026-12-01")
    assert (doc.meta.status, doc.meta.effective, doc.meta.title) == (
        "即将实施", "2030-01-01", local.title)


def test_without_catalogue_status_comes_from_the_dates() -> None:
    from assistant.load.markdown import clean_markdown
    from tests import fixtures_library as L

    for std in L.standards():
        doc = parse(LoadedFile(path="a.md", format="md", pages=[clean_markdown(L.render_plain_md(std))]),
                    today="2026-12-01")
        assert doc.meta.status == ("即将实施" if std.effective > "2026-12-01" else "现行")
