"""Chunking rules: one chunk per clause, splitting, heading-only merge, ids, passage text."""

from __future__ import annotations

import re

from assistant.chunk import (
    CHUNKER_VERSION,
    chunk_document,
    is_heading_only,
    passage_text,
    split_text,
)
from assistant.records import Clause, DocMeta, ParsedDocument


def _doc(clauses: list[Clause], **meta: str) -> ParsedDocument:
    m = DocMeta(doc=meta.pop("doc", "std/GB-T-1.1-2020.pdf"), **meta)  # type: ignore[arg-type]
    return ParsedDocument(meta=m, clauses=clauses)


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def test_version_is_a_string() -> None:
    assert isinstance(CHUNKER_VERSION, str) and CHUNKER_VERSION


def test_one_chunk_per_clause_with_metadata() -> None:
    doc = _doc([
        Clause("8.6", "规范性引用文件", "8.6 规范性引用文件\n下列文件中的内容…", ["8 要素的编写"], 12, 13),
        Clause("8.7", "术语和定义", "8.7 术语和定义\n本章…", ["8 要素的编写"], 13, 0),
    ], title="标准化工作导则 第1部分：标准化文件的结构和起草规则", kind="standard",
        std_no="GB/T 1.1—2020", category="national", status="现行")
    chunks = chunk_document(doc)
    assert [c.clause for c in chunks] == ["8.6", "8.7"]
    first = chunks[0]
    assert first.id == "std/GB-T-1.1-2020.pdf#8.6#0"
    assert first.heading == "8 要素的编写 > 8.6 规范性引用文件"
    assert (first.title, first.std_no, first.kind, first.category, first.status) == (
        doc.meta.title, "GB/T 1.1—2020", "standard", "national", "现行")
    assert (first.page_start, first.page_end, first.part) == (12, 13, 0)
    assert chunks[1].page_end == 13  # a clause without an end page ends where it starts
    assert [c.ordinal for c in chunks] == [0, 1]


def test_long_clause_splits_at_paragraphs_and_keeps_its_label() -> None:
    paras = [f"第{i}段。" + "标准的内容" * 30 for i in range(1, 8)]  # ~155 chars each
    text = "第五十四条 " + "\n".join(paras)
    doc = _doc([Clause("第五十四条", "", text, ["第二章 自然人"])], doc="laws/民法典.md",
               kind="law", title="中华人民共和国民法典")
    chunks = chunk_document(doc, max_chars=400)
    assert len(chunks) >= 3
    assert all(c.clause == "第五十四条" for c in chunks)
    assert [c.part for c in chunks] == list(range(1, len(chunks) + 1))
    assert [c.id for c in chunks] == [f"laws/民法典.md#第五十四条#{k}"
                                      for k in range(1, len(chunks) + 1)]
    assert all(len(c.text) <= 400 for c in chunks)
    # split only between paragraphs: every part starts a paragraph, nothing lost
    assert all(c.text.startswith(("第五十四条", "第")) for c in chunks)
    assert _squash("".join(c.text for c in chunks)) == _squash(text)
    assert all(c.heading == "第二章 自然人 > 第五十四条" for c in chunks)


def test_overlong_paragraph_splits_at_sentences_then_hard() -> None:
    sentence = "检验机构应当出具检验报告。"  # 13 chars
    text = sentence * 40  # one paragraph, 520 chars
    parts = split_text(text, 100)
    assert all(len(p) <= 100 for p in parts)
    assert all(p.endswith("。") for p in parts)
    assert "".join(parts) == text
    no_stops = "无" * 250
    parts = split_text(no_stops, 100)
    assert "".join(parts) == no_stops and max(len(p) for p in parts) <= 100


def test_parts_are_balanced() -> None:
    text = "\n".join(["甲" * 90] * 11)  # 1000 chars in 11 paragraphs
    parts = split_text(text, 600)
    assert len(parts) == 2
    assert min(len(p) for p in parts) > 300  # not 600 + a small tail


def test_short_title_line_is_not_a_part_of_its_own() -> None:
    text = "(一)指导思想\n" + "以习近平新时代中国特色社会主义思想为指导，" * 20
    parts = split_text(text, 200)
    assert parts[0].startswith("(一)指导思想") and len(parts[0]) > 20


def test_heading_only_clause_merges_into_the_next_chunk() -> None:
    clauses = [
        Clause("11.5.14", "试验方法", "11.5.14 试验方法", ["11 要求"]),
        Clause("11.5.14.1", "通则", "11.5.14.1 通则", ["11 要求", "11.5.14 试验方法"]),
        Clause("11.5.14.1.1", "", "11.5.14.1.1 试验应在室温下进行。",
               ["11 要求", "11.5.14 试验方法", "11.5.14.1 通则"]),
        Clause("11.5.14.2", "仪器", "11.5.14.2 仪器\n天平。", ["11 要求", "11.5.14 试验方法"]),
    ]
    assert is_heading_only(clauses[0]) and is_heading_only(clauses[1])
    assert not is_heading_only(clauses[2])
    chunks = chunk_document(_doc(clauses))
    assert [c.clause for c in chunks] == ["11.5.14.1.1", "11.5.14.2"]
    assert chunks[0].heading == "11 要求 > 11.5.14 试验方法 > 11.5.14.1 通则 > 11.5.14.1.1"


def test_heading_only_parent_missing_from_child_path_is_added() -> None:
    # a parser that gives no paths: the parent heading still reaches the child's heading path
    clauses = [
        Clause("一", "总体要求", "一、总体要求"),
        Clause("（一）", "指导思想", "(一)指导思想\n坚持质量第一。"),
        Clause("（二）", "主要目标", "(二)主要目标\n到2027年。", ["一、总体要求"]),
        Clause("附录A", "示例", "附录A 示例"),  # trailing heading with nothing under it
    ]
    chunks = chunk_document(_doc(clauses, kind="policy"))
    assert [c.clause for c in chunks] == ["（一）", "（二）"]
    assert chunks[0].heading == "一 总体要求 > （一） 指导思想"
    assert chunks[1].heading == "一、总体要求 > （二） 主要目标"  # not repeated


def test_a_document_that_is_only_a_heading_still_has_a_chunk() -> None:
    chunks = chunk_document(_doc([Clause("前言", "", "前言")]))
    assert [c.clause for c in chunks] == ["前言"]


def test_duplicate_labels_get_unique_deterministic_ids() -> None:
    clauses = [Clause("第一条", "", "第一条 甲。"), Clause("第二条", "", "第二条 乙。"),
               Clause("第一条", "", "第一条 丙。", ["附件 细则"]),
               Clause("第一条", "", "第一条 丁。" + "\n长" * 300, ["附件二"])]
    a = chunk_document(_doc(clauses, doc="x.md"), max_chars=300)
    b = chunk_document(_doc(clauses, doc="x.md"), max_chars=300)
    assert [c.id for c in a] == [c.id for c in b]
    assert len({c.id for c in a}) == len(a)
    assert {c.clause for c in a} == {"第一条", "第二条"}
    assert a[2].id == "x.md#第一条~2#0"
    assert a[3].id == "x.md#第一条~3#1"


def test_passage_text_has_document_and_heading_context() -> None:
    doc = _doc([Clause("8.6", "规范性引用文件", "8.6 规范性引用文件\n下列文件…", ["8 要素的编写"]),
                Clause("第十条", "", "第十条 对保障人身健康…", ["第二章 标准的制定"])],
               title="标准化工作导则", std_no="GB/T 1.1—2020", kind="standard")
    chunks = chunk_document(doc)
    p = passage_text(chunks[0])
    assert p == "GB/T 1.1—2020 标准化工作导则\n8 要素的编写\n8.6 规范性引用文件\n下列文件…"
    law = _doc([Clause("第十条", "", "第十条 对保障人身健康…", ["第二章 标准的制定"])],
               title="中华人民共和国标准化法", kind="law")
    p = passage_text(chunk_document(law)[0])
    assert p == "中华人民共和国标准化法\n第二章 标准的制定\n第十条 对保障人身健康…"


def test_passage_text_of_a_later_part_names_its_clause() -> None:
    text = "第十条 " + "\n".join(["很长的段落。" * 30] * 4)
    chunks = chunk_document(_doc([Clause("第十条", "", text, ["第二章 标准的制定"])],
                                 title="中华人民共和国标准化法", kind="law"), max_chars=400)
    assert len(chunks) > 1
    later = passage_text(chunks[1])
    assert later.startswith("中华人民共和国标准化法\n第二章 标准的制定 > 第十条\n")


def test_clause_whose_heading_is_its_label() -> None:
    chunks = chunk_document(_doc([Clause("前言", "前言", "前言\n本文件按照GB/T 1.1—2020起草。")],
                                 title="示例", std_no="GB/T 1—2020"))
    assert chunks[0].heading == "前言"
    assert passage_text(chunks[0]) == "GB/T 1—2020 示例\n前言\n本文件按照GB/T 1.1—2020起草。"
