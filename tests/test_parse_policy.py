"""Policy texts: the Liangjiang quality plan (../shared) and synthetic plans."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.chunk import chunk_document, passage_text
from assistant.parse import detect_kind, parse
from assistant.parse.policy import LONG_SECTION, looks_like_policy, parse_policy
from assistant.records import LoadedFile

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PLAN = SHARED / "corpus" / "policy" / "两江新区质量强区建设实施方案(2024-2027).txt"


def _load(path: Path) -> LoadedFile:
    try:
        from assistant.load import load_file
    except ImportError:
        load_file = None
    if load_file is not None:
        return load_file(path, path.parent)
    return LoadedFile(path=path.name, format="txt", pages=[path.read_text(encoding="utf-8")])


@pytest.fixture(scope="module")
def plan() -> LoadedFile:
    if not PLAN.is_file():
        pytest.skip("../shared/corpus/policy is absent")
    return _load(PLAN)


@pytest.mark.shared
def test_plan_metadata(plan: LoadedFile) -> None:
    doc = parse(plan)
    meta = doc.meta
    assert meta.kind == "policy"
    assert meta.title == "重庆两江新区质量强区建设实施方案(2024—2027年)"
    assert meta.doc_number == "渝两江党发〔2024〕13号"
    assert meta.issued == "2024-06-12"  # 成文日期
    assert meta.effective == "2024-06-12"  # 发布日期 (no separate 实施日期 given)
    assert meta.status == "有效"


@pytest.mark.shared
def test_plan_sections_with_markers(plan: LoadedFile) -> None:
    doc = parse(plan)
    by_label = {c.label: c for c in doc.clauses}
    top = [c for c in doc.clauses if c.label in "一二三四五六七八九"]
    subs = [c for c in doc.clauses if c.label.startswith("（")]
    assert [c.label for c in top] == list("一二三四五六七八九")
    assert len(subs) == 30  # （一） … （三十）, numbered on across the top-level sections
    assert by_label["一"].heading == "总体要求"
    first = by_label["（一）"]
    assert first.heading == "指导思想"
    assert first.path == ["一、总体要求"]
    assert "以习近平新时代中国特色社会主义思想为指导" in first.text
    last = by_label["（二十四）"]
    assert last.heading == "提升质量基础设施服务效能"
    assert last.path == ["七、构建高水平质量基础设施"]
    assert by_label["（二十五）"].heading == "健全质量政策,优化监管效能"
    assert by_label["前言"].text.startswith("为深入贯彻党中央")


@pytest.mark.shared
def test_plan_page_furniture_is_stripped_and_metadata_kept(plan: LoadedFile) -> None:
    doc = parse(plan)
    text = "\n".join(c.text for c in doc.clauses)
    for junk in ("您当前的位置", "网站标识码", "ICP备", "附件下载", "一图读懂", "公网安备"):
        assert junk not in text
    info = doc.clauses[0]
    assert info.label == "文件信息"
    assert "发文字号：渝两江党发〔2024〕13号" in info.text
    assert "成文日期：2024-06-12" in info.text
    notice = next(c for c in doc.clauses if c.label == "印发通知")
    assert notice.text.endswith("2024年5月17日")
    # the last section ends with its own text, not with the footer
    assert doc.clauses[-1].text.endswith("营造政府重视质量、企业追求质量、社会崇尚质量、人人关心质量的良好氛围。")


@pytest.mark.shared
def test_plan_chunks_cite_sections(plan: LoadedFile) -> None:
    chunks = chunk_document(parse(plan))
    labels = [c.clause for c in chunks]
    # "一、总体要求" has no text of its own: it is in the heading path of （一）
    assert "一" not in labels
    first = next(c for c in chunks if c.clause == "（一）")
    assert first.heading == "一、总体要求 > （一） 指导思想"
    assert first.kind == "policy" and first.status == "有效"
    passage = passage_text(first)
    assert passage.startswith("重庆两江新区质量强区建设实施方案(2024—2027年)\n一、总体要求")
    assert len({c.id for c in chunks}) == len(chunks)


PLAIN_PLAN = """关于印发示例市标准化发展实施方案的通知
示政办发〔2023〕5号
各区县人民政府：
现将《示例市标准化发展实施方案》印发给你们，请认真贯彻执行。
示例市人民政府办公室
2023年3月1日
示例市标准化发展实施方案
为推动标准化发展，制定本方案。
一、总体要求
（一）指导思想。坚持以人民为中心，推动标准化工作高质量发展。
（二）发展目标。到2025年，标准体系更加完善。
二、重点任务
（三）完善标准体系
{items}
（四）强化标准实施。加强标准宣贯。
"""


def _plain_plan(n_items: int = 3, item_len: int = 40) -> LoadedFile:
    items = "\n".join(f"{i}.第{i}项任务。" + "推进标准化建设" * (item_len // 7)
                      for i in range(1, n_items + 1))
    return LoadedFile(path="示例方案.txt", format="txt", pages=[PLAIN_PLAN.format(items=items)])


def test_plain_plan_with_notice_and_run_in_titles() -> None:
    loaded = _plain_plan()
    assert looks_like_policy(loaded)
    assert detect_kind(loaded) == "policy"
    doc = parse(loaded)
    meta = doc.meta
    assert meta.title == "示例市标准化发展实施方案"
    assert meta.doc_number == "示政办发〔2023〕5号"
    assert meta.issued == "2023-03-01"
    labels = [c.label for c in doc.clauses]
    assert labels == ["印发通知", "前言", "一", "（一）", "（二）", "二", "（三）", "（四）"]
    by_label = {c.label: c for c in doc.clauses}
    assert by_label["（一）"].heading == "指导思想"
    assert by_label["（四）"].heading == "强化标准实施"
    # numbered items stay inside their section while it is short
    assert "2.第2项任务。" in by_label["（三）"].text


def test_very_long_section_splits_out_its_numbered_items() -> None:
    doc = parse_policy(_plain_plan(n_items=6, item_len=LONG_SECTION // 4))
    labels = [c.label for c in doc.clauses]
    assert labels[labels.index("（三）"):labels.index("（四）")] == ["（三）", "1", "2", "3", "4", "5", "6"]
    item = next(c for c in doc.clauses if c.label == "2")
    assert item.path == ["二、重点任务", "（三）完善标准体系"]
    assert item.heading == "第2项任务"


def test_half_width_markers_and_wrapped_pdf_lines() -> None:
    text = ("示例区质量提升行动方案\n"
            "一、工作目标\n(一)总体目标\n到2025年，产品质量\n明显提升，质量基础\n更加牢固。\n"
            "(二)具体目标\n培育品牌10个。\n二、保障措施\n(三)加强组织领导\n建立工作机制。\n")
    lines = text.splitlines()
    loaded = LoadedFile(path="方案.pdf", format="pdf",
                        pages=["\n".join(lines[:6]) + "\n1", "\n".join(lines[6:]) + "\n2"])
    doc = parse_policy(loaded)
    by_label = {c.label: c for c in doc.clauses}
    assert by_label["（一）"].text == "(一)总体目标\n到2025年，产品质量明显提升，质量基础更加牢固。"
    assert by_label["（一）"].page_start == 1
    assert by_label["（三）"].page_start == 2
    assert by_label["（三）"].path == ["二、保障措施"]


def test_quoted_list_does_not_start_sections() -> None:
    text = ("示例方案\n一、总体要求\n（一）指导思想\n内容。\n"
            "（三）这一行不在序列中，属于上一节。\n（二）主要目标\n内容。\n")
    doc = parse_policy(LoadedFile(path="a.txt", format="txt", pages=[text]))
    assert [c.label for c in doc.clauses] == ["一", "（一）", "（二）"]
    assert "（三）这一行不在序列中" in doc.clauses[1].text


def test_metadata_rows_in_key_value_forms() -> None:
    text = ("索引号 | 1150/2024-01358\n发文字号 | 渝府办发〔2024〕7号\n成文日期 | 2024-06-12\n"
            "发布日期 | 2024-06-13\n有效性 | 失效\n实施日期：2024-07-01\n"
            "示例方案\n一、总体要求\n（一）指导思想\n内容。\n")
    doc = parse_policy(LoadedFile(path="p.html", format="html", pages=[text]))
    meta = doc.meta
    assert (meta.title, meta.doc_number) == ("示例方案", "渝府办发〔2024〕7号")
    assert (meta.issued, meta.effective, meta.status) == ("2024-06-12", "2024-07-01", "已失效")
    assert doc.clauses[0].label == "文件信息" and "发布日期：2024-06-13" in doc.clauses[0].text
