"""Citations and markers (assistant.cite), number grounding (assistant.grounding), the
answer/refuse gate (assistant.gate) and the terminal's source list (assistant.cli)."""

from __future__ import annotations

import pytest

from assistant.cite import (
    MarkerRewriter,
    best_quote,
    build_citation,
    marker_numbers,
    status_warning,
)
from assistant.cli import format_sources
from assistant.config import DEFAULT_EMBED_MODEL, Settings
from assistant.gate import AUTO_MIN_RELEVANCE, assess_relevance, decide
from assistant.grounding import check_numbers, numbers, std_numbers
from assistant.records import Chunk, Evidence, Hit
from assistant.text import split_sentences

ART10 = (
    "第十条 对保障人身健康和生命财产安全、国家安全、生态环境安全以及满足经济社会管理基本需要的"
    "技术要求，应当制定强制性国家标准。"
)
ART49 = (
    "第四十九条 生产、销售不符合保障人体健康和人身、财产安全的国家标准、行业标准的产品的，"
    "责令停止生产、销售，没收违法生产、销售的产品，并处违法生产、销售产品（包括已售出和未售出的"
    "产品，下同）货值金额等值以上三倍以下的罚款；有违法所得的，并处没收违法所得；情节严重的，"
    "吊销营业执照；构成犯罪的，依法追究刑事责任。"
)
GBT11_86 = (
    "8.6 规范性引用文件\n规范性引用文件这一要素用来列出文件中规范性引用的文件，由引导语和文件清单构成。"
    "该要素应设置为文件的第2章，且不应分条。文件清单中，对于注日期的引用文件，应给出“文件代号、顺序号"
    "及发布年份号”以及“文件名称”。"
)


def _hit(text: str, clause: str, title: str, std_no: str = "", rank: int = 1, **kw) -> Hit:
    status = kw.pop("status", "现行")
    c = Chunk(id=f"{title}#{clause}#0", doc=f"{title}.md", clause=clause, text=text, title=title,
              std_no=std_no, status=status, heading=kw.pop("heading", ""))
    return Hit(chunk=c, score=1.0 / rank, rank=rank, **kw)


LAW10 = _hit(ART10, "第十条", "中华人民共和国标准化法", heading="第二章 标准的制定",
             evidence=Evidence(bm25_rank=1, dense_rank=1, dense_sim=0.91))
LAW49 = _hit(ART49, "第四十九条", "中华人民共和国产品质量法", rank=2,
             evidence=Evidence(bm25_rank=2, dense_rank=3, dense_sim=0.88))
STD86 = _hit(GBT11_86, "8.6", "标准化工作导则 第1部分：标准化文件的结构和起草规则",
             std_no="GB/T 1.1—2020", heading="8 要素的编写 > 8.6 规范性引用文件",
             evidence=Evidence(bm25_rank=1, dense_rank=2, dense_sim=0.9))


def test_split_sentences_keeps_markers_with_their_sentence() -> None:
    assert split_sentences("甲规定。[1]乙规定；[2][3]\n丙！尾") == ["甲规定。[1]", "乙规定；[2][3]", "丙！", "尾"]


def test_marker_rewriter_renumbers_by_first_use_and_drops_invented() -> None:
    r = MarkerRewriter(3)
    deltas = ["依据", "[", "3", "]规定。另见[9]和【1】", "，以及[2,3]。", "未完[1"]
    out = "".join(r.feed(d) for d in deltas) + r.flush()
    assert out == "依据[1]规定。另见和[2]，以及[3][1]。未完[1"  # an unclosed bracket is plain text
    assert r.order == [3, 1, 2]
    assert r.flags == ["removed invented citation [9]"]
    assert marker_numbers("见[1-3]与[5]") == [1, 2, 3, 5]


def test_numbers_normalise_chinese_and_arabic() -> None:
    vals = {v for _, v in numbers("自收到之日起三十日内，处二万元以上十万元以下罚款，百分之五十")}
    assert {"30", "20000", "100000", "50"} <= vals
    vals = {v for _, v in numbers("应在30日内改正，处5万元以下罚款[2]。")}
    assert {"30", "50000"} <= vals and "2" not in vals  # the marker is no claim
    # "统一""一般" are words, and a standard number is not a pile of numbers
    assert numbers("统一管理，一般情况，依据GB/T 1.1—2020") == []
    assert std_numbers("依据GB/T 1.1-2020、GB 7718—2011和ISO 9001:2015，见附录A.1") == [
        "GB/T1.1—2020", "GB7718—2011", "ISO9001:2015"]
    assert std_numbers("内存16GB 2条") == []


def test_check_numbers_flags_unsupported_claims_only() -> None:
    cited = {1: LAW49, 2: STD86}
    good = "销售不合格产品的，并处货值金额等值以上三倍以下的罚款[1]。规范性引用文件应设置为文件的第2章[2]。"
    assert check_numbers(good, cited).flags == []
    bad = "销售不合格产品的，处5万元以下罚款[1]。应在30日内整改[1]。依据GB/T 1.1—2009编写[2]。"
    g = check_numbers(bad, cited)
    toks = [t for _, t in g.unsupported]
    assert "5万" in toks and "30" in toks and "GB/T1.1—2009" in toks
    assert len(g.flags) == 3
    # a number must be in the source the sentence cites, not just any source
    assert check_numbers("规范性引用文件应设置为第2章[1]。", {1: LAW49, 2: STD86}).unsupported
    # the year-less number "GB/T 1.1" is supported by "GB/T 1.1—2020"
    assert check_numbers("按照GB/T 1.1的规定编写规范性引用文件这一要素[1]。", {1: STD86}).flags == []


def test_uncited_sentence_is_flagged() -> None:
    g = check_numbers("规范性引用文件由引导语和文件清单构成[1]。此外还必须经过专家评审才能发布。", {1: STD86})
    assert any(f.startswith("uncited sentence") for f in g.flags)


def test_status_warning_names_the_replacement() -> None:
    assert status_warning("废止", replaced_by="GB/T 1.1—2020") == "已废止，现行版本：GB/T 1.1—2020"
    assert status_warning("被代替", replaced_by="GB/T 1.1—2020").startswith("已被代替")
    assert status_warning("有效", superseded=True, replaced_by="X法(2022)") == "已有新版本，现行版本：X法(2022)"
    assert status_warning("现行") == ""
    old = _hit("5.2 规范性引用文件 …", "5.2", "标准化工作导则", std_no="GB/T 1.1—2009",
               status="废止", replaced_by="GB/T 1.1—2020")
    c = build_citation(1, old)
    assert c.warning == "已废止，现行版本：GB/T 1.1—2020" and c.quote and c.text


def test_relevance_answers_related_and_refuses_unrelated() -> None:
    assert assess_relevance("强制性国家标准由谁制定？", [LAW10, LAW49]).ok
    assert assess_relevance("规范性引用文件应放在第几章？", [STD86]).ok
    off = [
        _hit(ART10, "第十条", "中华人民共和国标准化法", evidence=Evidence(bm25_rank=40, dense_rank=1, dense_sim=0.81)),
        _hit(ART49, "第四十九条", "中华人民共和国产品质量法", rank=2, evidence=Evidence(dense_rank=2, dense_sim=0.80)),
    ]
    r = assess_relevance("红烧肉怎么做才好吃？", off)
    assert not r.ok and r.score < 0.2
    assert not assess_relevance("随便问问", []).ok
    # an exactly named clause is always answerable; a threshold given in settings is used
    exact = _hit(ART10, "第十条", "中华人民共和国标准化法", evidence=Evidence(exact=True, dense_sim=0.8))
    assert assess_relevance("标准化法第十条", [exact]).ok
    assert assess_relevance("强制性国家标准由谁制定？", [LAW49]).score < 0.99
    assert not assess_relevance("强制性国家标准由谁制定？", [LAW49], min_relevance=0.99).ok
    # a standard number nobody indexed; a year-less number of an indexed one
    assert not assess_relevance("GB 2760—2014 规定了哪些食品添加剂？", [LAW10, STD86]).ok
    assert not assess_relevance("GB/T 1 规范性引用文件放在哪里？", [STD86]).ok
    assert assess_relevance("GB/T 1.1 中规范性引用文件放在哪里？", [STD86]).ok
    # without a calibrated embedder only the words count
    lex = assess_relevance("规范性引用文件由什么构成？", [STD86], dense_band=None)
    assert lex.ok and "dense_sim" not in lex.features


def test_gate_decides_with_the_settings_threshold_and_band() -> None:
    q = "强制性国家标准由谁制定？"
    # e5 (the default embedder) has a calibrated cosine band: the cosine is evidence
    e5 = Settings(embed_model=DEFAULT_EMBED_MODEL)
    dense = decide(q, [LAW49], e5)
    assert dense == assess_relevance(q, [LAW49]) and "dense_sim" in dense.features
    # another embedder has none: the words alone decide
    lexical = decide(q, [LAW49], Settings(embed_model="fake"))
    assert lexical == assess_relevance(q, [LAW49], dense_band=None) and "dense_sim" not in lexical.features
    assert lexical.score != dense.score
    assert not decide(q, [LAW49], Settings(embed_model=DEFAULT_EMBED_MODEL, min_relevance=0.99)).ok
    assert decide(q, [LAW10, LAW49], e5).ok and AUTO_MIN_RELEVANCE < 0.99
    # a backend with nothing to say turns an answer into a refusal, the evidence kept
    ok = decide(q, [LAW10], e5)
    no = ok.refused("no quotable sentence")
    assert ok.ok and not no.ok and no.reason == "no quotable sentence"
    assert (no.score, no.features) == (ok.score, ok.features)
    with pytest.raises(AttributeError):  # a decision is a value
        ok.ok = False  # type: ignore[misc]


def test_best_quote_is_the_source_sentence_the_answer_used() -> None:
    said = ["规范性引用文件这一要素应设置为第2章[1]。"]
    assert best_quote(STD86, said) == "该要素应设置为文件的第2章，且不应分条。"
    assert best_quote(STD86, []) == ""
    assert best_quote(STD86, ["红烧肉要用五花肉[1]。"]) == ""  # nothing close: the default quote


def test_format_sources() -> None:
    cits = [build_citation(1, STD86, "该要素应设置为文件的第2章，且不应分条。"),
            build_citation(2, _hit("…", "5.2", "导则", std_no="GB/T 1.1—2009", status="废止",
                                   replaced_by="GB/T 1.1—2020"))]
    out = format_sources(cits)
    lines = out.splitlines()
    assert lines[0].startswith("[1] GB/T 1.1—2020 标准化工作导则")
    assert "8.6" in lines[0] and "8 要素的编写 > 8.6 规范性引用文件" in lines[0] and "现行" in lines[0]
    assert "“该要素应设置为文件的第2章，且不应分条。”" in out
    assert "⚠ 已废止，现行版本：GB/T 1.1—2020" in out
