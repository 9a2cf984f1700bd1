"""Metadata of standards as real files carry it: front matter, <meta>, covers run into one
line, "发布日期：…" lines, file names, group/enterprise numbers, adoption, status."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.load import load_file, normalize_chars
from assistant.parse import parse, supersede
from assistant.records import DocMeta, LoadedFile

BODY = """## 前言

本文件按照GB/T 1.1—2020《标准化工作导则 第1部分：标准化文件的结构和起草规则》的规定起草。

本文件代替T/CAS 900—2019，与T/CAS 900—2019相比，主要技术变化如下：增加了外观要求。

## 1 范围

本文件规定了智能水表的技术要求和试验方法。

## 2 规范性引用文件

下列文件中的内容通过文中的规范性引用而构成本文件必不可少的条款。

## 3 术语和定义

本文件没有需要界定的术语和定义。

## 4 技术要求

### 4.1 外观

表面应平整，无裂纹。

### 4.2 准确度

示值误差应不超过±2%。

## 附录A（资料性）安装示例

A.1 安装位置宜便于读数。
"""

YAML = """---
title: 智能水表通用技术要求
standard-number: T/CAS 900-2023
发布日期: 2023-03-01
implementation_date: 2023/06/01
status: 现行有效
replaces: [T/CAS 900-2019]
publisher: 中国标准化协会
tags: [水表, 计量]
layout: {sidebar: true}
---

"""

TOML = """+++
title = "智能水表通用技术要求"
standard_number = "T/CAS 900—2023"
date = 2023-03-01
effective = "2023-06-01"
+++

"""


def _parse(tmp_path: Path, name: str, text: str, today: str = "2025-01-01"):
    p = tmp_path / name
    p.write_text(text, "utf-8")
    return parse(load_file(p, tmp_path), today=today)


@pytest.mark.parametrize("front", [YAML, TOML])
def test_front_matter_is_metadata_not_text(tmp_path: Path, front: str) -> None:
    doc = _parse(tmp_path, "水表.md", front + BODY)
    m = doc.meta
    assert (m.kind, m.std_no, m.title) == ("standard", "T/CAS 900—2023", "智能水表通用技术要求")
    assert (m.issued, m.effective) == ("2023-03-01", "2023-06-01")
    assert (m.category, m.status) == ("group", "现行")
    assert m.replaces == ["T/CAS 900—2019"]
    assert [c.label for c in doc.clauses] == ["前言", "1", "2", "3", "4", "4.1", "4.2", "附录A", "A.1"]
    text = "\n".join(c.text for c in doc.clauses)
    for leak in ("---", "+++", "standard", "title", "2023-06-01"):
        assert leak not in text
    if front is YAML:
        assert m.issuer == "中国标准化协会"


def test_front_matter_that_is_not_yaml_is_read_as_lines(tmp_path: Path) -> None:
    front = "---\ntitle: GB/T 1.1: 起草规则: 第1部分\nstandard-number: GB/T 90009—2024\n---\n"
    doc = _parse(tmp_path, "x.md", front + BODY)
    assert doc.meta.std_no == "GB/T 90009—2024"
    assert doc.meta.title == "GB/T 1.1: 起草规则: 第1部分"


def test_markdown_heading_variants(tmp_path: Path) -> None:
    body = BODY.replace("### 4.1 外观", "### 4.1. 外观 {#sec-41}").replace(
        "## 4 技术要求", "## **4** 技术要求")
    doc = _parse(tmp_path, "x.md", YAML + body)
    by = {c.label: c for c in doc.clauses}
    assert by["4.1"].heading == "外观"
    assert by["4"].heading == "技术要求"


def test_html_meta_tags(tmp_path: Path) -> None:
    body = "".join(f"<p>{line}</p>" for line in BODY.replace("#", "").split("\n") if line.strip())
    html = ('<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
            '<meta name="standard-number" content="Q/ZSJ 02—2024">'
            '<meta name="DC.title" content="机械密封件企业标准">'
            '<meta name="effective" content="2024-05-01"></head>'
            f"<body>{body}</body></html>")
    doc = _parse(tmp_path, "q.html", html)
    m = doc.meta
    assert (m.kind, m.std_no, m.title, m.category) == ("standard", "Q/ZSJ 02—2024",
                                                       "机械密封件企业标准", "enterprise")
    assert m.effective == "2024-05-01"
    assert "1" in [c.label for c in doc.clauses]


COVER_ONE_LINE = ("中华人民共和国国家标准 GB/T 40001—2026 数字标准 通用要求 "
                  "Digital standards—General requirements 2026-01-10发布 2026-07-01实施 "
                  "国家市场监督管理总局 国家标准化管理委员会 发布\n\n")


def test_cover_run_into_one_line(tmp_path: Path) -> None:
    doc = _parse(tmp_path, "GBT 40001-2026 数字标准.md", COVER_ONE_LINE + BODY)
    m = doc.meta
    assert (m.std_no, m.title) == ("GB/T 40001—2026", "数字标准 通用要求")
    assert (m.issued, m.effective, m.status) == ("2026-01-10", "2026-07-01", "即将实施")
    assert m.issuer == "国家市场监督管理总局 国家标准化管理委员会"


def test_cover_with_labelled_dates_line(tmp_path: Path) -> None:
    cover = ("DB50/T 1501—2022\n\n山地城市道路照明设施维护规范\n\n"
             "发布日期：2022-12-30｜实施日期：2023-07-01｜标准状态：现行\n\n代替标准：DB50/T 1501—2016\n\n")
    doc = _parse(tmp_path, "路灯.txt", cover + BODY.replace("#", ""))
    m = doc.meta
    assert (m.std_no, m.title) == ("DB50/T 1501—2022", "山地城市道路照明设施维护规范")
    assert (m.issued, m.effective, m.status) == ("2022-12-30", "2023-07-01", "现行")
    assert "DB50/T 1501—2016" in m.replaces


def test_title_from_file_name_drops_the_number(tmp_path: Path) -> None:
    body = ("## 1 范围\n\n本文件规定了起草规则。\n\n## 2 规范性引用文件\n\n本文件没有规范性引用文件。"
            "\n\n## 3 术语和定义\n\n本文件没有需要界定的术语。\n")
    doc = _parse(tmp_path, "GBT 90002-2020 标准化文件的起草规则.md", body)
    assert doc.meta.std_no == "GB/T 90002—2020"
    assert doc.meta.title == "标准化文件的起草规则"


def test_adoption_from_cover_and_foreword(tmp_path: Path) -> None:
    cover = "GB/T 90003—2021\n\n质量管理体系 要求\n\n(ISO 9001:2015, IDT)\n\n2021-03-01 发布\n\n"
    doc = _parse(tmp_path, "a.txt", cover + BODY.replace("#", ""))
    assert doc.meta.adoption == "ISO 9001:2015, IDT"
    assert doc.meta.title == "质量管理体系 要求"
    fw = BODY.replace("的规定起草。", "的规定起草。\n\n本文件修改采用ISO 14001:2015《环境管理体系 要求及使用指南》。")
    doc = _parse(tmp_path, "b.md", YAML + fw)
    assert doc.meta.adoption == "ISO 14001:2015, MOD"


def test_status_follows_the_effective_date(tmp_path: Path) -> None:
    assert _parse(tmp_path, "a.md", YAML.replace("status: 现行有效\n", "") + BODY,
                  today="2023-05-01").meta.status == "即将实施"
    assert _parse(tmp_path, "a.md", YAML.replace("status: 现行有效\n", "status: 废止\n") + BODY
                  ).meta.status == "废止"


def test_supersede_marks_the_older_edition() -> None:
    new = DocMeta(doc="new.md", kind="standard", std_no="T/CAS 900—2023", status="现行",
                  effective="2023-06-01", replaces=["Q/ABC 1—2010"])
    old = DocMeta(doc="old.md", kind="standard", std_no="T/CAS 900—2019", status="现行",
                  effective="2019-06-01")
    other = DocMeta(doc="q.md", kind="standard", std_no="Q/ABC 1—2010", status="现行")
    gone = DocMeta(doc="w.md", kind="standard", std_no="T/CAS 900—2015", status="废止")
    changed = supersede([new, old, other, gone])
    assert {m.doc for m in changed} == {"old.md", "q.md"}
    assert (old.status, old.replaced_by) == ("被代替", "T/CAS 900—2023")
    assert (other.status, other.replaced_by) == ("被代替", "T/CAS 900—2023")
    assert (new.status, gone.status) == ("现行", "废止")


def test_radicals_nfkc_leaves_are_unified() -> None:
    import unicodedata

    raw = "\u2ec5\u2ea0\u2f00\u2ecb\u2f3e ＧＢ／Ｔ　１．１\u2015２０２０ ﬁ，（）〜。"
    assert unicodedata.normalize("NFKC", "\u2ec5\u2ea0") == "\u2ec5\u2ea0"  # why the table
    assert normalize_chars(raw) == "见民一车户 GB/T\u30001.1—2020 fi，（）～。"


def test_loaded_file_records_front_matter(tmp_path: Path) -> None:
    p = tmp_path / "a.md"
    p.write_text(YAML + BODY, "utf-8")
    lf = load_file(p, tmp_path)
    assert isinstance(lf, LoadedFile)
    assert lf.meta["standard-number"] == "T/CAS 900-2023"
    assert lf.meta["tags"] == "水表、计量" and "layout" not in lf.meta
    assert not lf.pages[0].lstrip().startswith("---")
