"""Documents named loosely (assistant.docrefs) and the retriever scoping to them: titles and
short titles, a kind word with a qualifier, a kind word alone when the index holds one
document of that kind, determiners, follow-ups; ambiguity resolves to nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answer.followup import resolve_followup
from assistant.docrefs import catalog, mentions, resolve
from assistant.identifiers import parse_reference
from assistant.records import DocMeta

from .conftest import CORPUS

PLAN = "policy/两江新区质量强区建设实施方案(2024-2027).txt"
BF = "laws/产品质量监督试行办法(2011-01-08).md"
CPF_OLD, CPF = "laws/产品质量法(2009-08-27).md", "laws/产品质量法(2018-12-29).md"
BZF, SS = "laws/标准化法(2017-11-04).md", "laws/标准化法实施条例(1990-04-06).md"
CQ = "laws/重庆市产品质量条例(2014-08-01).md"
RICE, LOCK = "library/QB_T_90205-2023.md", "library/T_CAS_90208-2023.md"
CHARGE, COLD = "library/Q_LJ_90210-2024.md", "library/Q_CQSC_90211-2023.md"
HOTPOT, TRAIL = "library/DB50_T_90207-2024.md", "library/DB50_T_90206-2022.md"
LAMP = "std/DB50_T_9123-2022.docx"


def _std(doc: str, no: str, title: str, category: str) -> DocMeta:
    return DocMeta(doc, title, "standard", no, category)


METAS = [
    DocMeta(PLAN, "重庆两江新区质量强区建设实施方案(2024—2027年)", "policy"),
    DocMeta(BF, "产品质量监督试行办法", "law"),
    DocMeta(CPF_OLD, "中华人民共和国产品质量法(2009年修正)", "law"),
    DocMeta(CPF, "中华人民共和国产品质量法", "law"),
    DocMeta(BZF, "中华人民共和国标准化法", "law"),
    DocMeta(SS, "中华人民共和国标准化法实施条例", "law"),
    DocMeta(CQ, "重庆市产品质量条例", "law"),
    _std(RICE, "QB/T 90205—2023", "家用电饭煲", "industry"),
    _std(LOCK, "T/CAS 90208—2023", "智能门锁通用技术要求", "group"),
    _std(CHARGE, "Q/LJ 90210—2024", "新能源汽车充电桩安装验收规范", "enterprise"),
    _std(COLD, "Q/CQSC 90211—2023", "冷链物流温度记录规范", "enterprise"),
    _std(HOTPOT, "DB50/T 90207—2024", "火锅底料生产卫生规范", "local"),
    _std(TRAIL, "DB50/T 90206—2022", "山地城市步道建设与维护规范", "local"),
    _std(LAMP, "DB50/T 9123—2022", "山地城市智慧路灯运行维护规范", "local"),
]
DOCS = catalog(METAS)


@pytest.mark.parametrize(("question", "docs"), [
    # a kind word alone: the index's only 方案, 实施条例
    ("方案的主要目标是什么？", [PLAN]),
    ("实施方案对标准化服务生态体系有什么安排？", [PLAN]),
    ("实施条例对企业标注所执行标准有什么要求？", [SS]),
    # a determiner and a kind word of which there is one
    ("本办法规定实行产品质量监督的重点是哪些产品？", [BF]),
    ("按本办法规定，谁主管产品质量监督？", [BF]),
    ("这个实施方案如何推进数字赋能？", [PLAN]),
    ("该方案对宣传教育有什么要求？", [PLAN]),
    # a qualifier and a kind word
    ("两江的实施方案怎样加强检验检测能力建设？", [PLAN]),
    ("两江新区质量强区方案要求怎么提升计量服务能力？", [PLAN]),
    ("重庆的条例对监督抽查样品的抽取有什么规定？", [CQ]),
    ("充电桩安装验收规范对验收记录保存多久？", [CHARGE]),
    ("电饭煲标准对保温性能有什么要求？", [RICE]),
    ("冷链物流规范要求温度数据保存多长时间？", [COLD]),
    ("步道建设与维护规范代替了哪个版本？", [TRAIL]),
    ("智慧路灯运行维护规范要求巡检记录保存多久？", [LAMP]),
    # a title, short or whole; every version of a law; the longer title where one holds another
    ("产品质量法怎样定义产品缺陷？", [CPF_OLD, CPF]),
    ("《中华人民共和国标准化法》对团体标准有什么规定？", [BZF]),
    ("标准化法实施条例规定标准化工作的任务是什么？", [SS]),
    ("重庆市产品质量条例什么时候施行？", [CQ]),
    ("标准化法和产品质量法对企业标准各有什么要求？", [BZF, CPF_OLD, CPF]),
    ("重庆两江新区质量强区建设实施方案(2024—2027年)对认证服务有什么要求？", [PLAN]),
])
def test_names_that_resolve(question: str, docs: list[str]) -> None:
    assert sorted(resolve(question, DOCS)[0]) == sorted(docs)


@pytest.mark.parametrize("question", [
    "有什么办法让产品质量更好？",  # 办法 = a way
    "企业标准要公开吗？",  # a bare kind of standard is the word
    "标准的编写规则是什么？",
    "依法应当怎样处理？",
    "专项方案怎么编制？",  # a qualifier written onto the kind word that fits no title
    "吊装方案由谁编制？",
    "基本方案是什么？",  # 本 inside a word is no determiner
    "火锅的方案是什么？",  # the qualifier fits a standard, not the 方案
    "公司的方案有哪些要求？",
    "两江新区的企业标准有哪些？",
    "该标准的范围是什么？",  # seven standards
    "该企业标准规定的记录保存多久？",  # two enterprise standards
    "本法对团体标准有什么规定？",  # two laws ending in 法
    "条例规定的罚款是多少？",  # two 条例
    "电饭煲和门锁标准有什么共同要求？",  # two named at once: no single one
    "电饭煲、门锁标准的标志要求",
    "该标准和方案分别怎么规定？",  # one mention unresolved: no scoping to the other
    "标准化法律责任有哪些？",
])
def test_ambiguous_or_no_name_resolves_to_nothing(question: str) -> None:
    docs, rest = resolve(question, DOCS)
    assert docs == [] and rest == question, mentions(question, DOCS)


def test_one_of_a_kind_only_while_it_is_the_only_one() -> None:
    one_std = catalog([METAS[0], METAS[7]])
    assert resolve("该标准对保温性能有什么要求？", one_std)[0] == [RICE]
    assert resolve("本标准的范围是什么？", one_std)[0] == [RICE]
    two_plans = catalog([*METAS, DocMeta("policy/other.txt", "重庆市质量强市建设实施方案", "policy")])
    assert resolve("方案的主要目标是什么？", two_plans)[0] == []
    assert resolve("两江的实施方案怎样加强检验检测能力建设？", two_plans)[0] == [PLAN]
    one_enterprise = catalog([m for m in METAS if m.doc != COLD])
    assert resolve("该企业标准的接地电阻要求是多少？", one_enterprise)[0] == [CHARGE]


def test_a_law_named_brings_its_implementing_regulation() -> None:
    from assistant.docrefs import companions

    docs, _ = resolve("标准化法对企业标准自我声明公开有什么规定？", DOCS)
    assert docs == [BZF] and companions(docs, DOCS) == [SS]
    assert companions([SS], DOCS) == [] and companions([PLAN], DOCS) == []


def test_keywords_leave_out_the_name() -> None:
    """What BM25 searches the scoped document for: the question without the words that
    name it (only clauses repeating the title would match them); whole when little is left."""
    assert resolve("方案的主要目标是什么？", DOCS)[1] == "的主要目标是什么？"
    assert resolve("两江的实施方案怎样加强检验检测能力建设？", DOCS)[1] == "怎样加强检验检测能力建设？"
    assert resolve("《中华人民共和国标准化法》对团体标准有什么规定？", DOCS)[1] == "对团体标准有什么规定？"
    assert resolve("重庆两江新区质量强区建设实施方案(2024—2027年)对认证服务有什么要求？", DOCS)[1] \
        == "对认证服务有什么要求？"
    assert resolve("充电桩安装验收规范", DOCS)[1] == "充电桩安装验收规范"


def test_follow_ups_carry_the_previous_answers_document() -> None:
    """"本办法", "该实施方案", "本方案" stand for the document of the previous answer."""
    law = [("产品质量监督试行办法第六条怎么规定的？",
            "根据《产品质量监督试行办法》第六条：企业必须贯彻执行产品技术标准[1]。")]
    assert resolve_followup("本办法由哪个部门主管产品质量监督工作？", law) == \
        "产品质量监督试行办法由哪个部门主管产品质量监督工作？"
    assert resolve_followup("这个办法的第三条", law) == "产品质量监督试行办法的第三条"
    plan = [("两江新区质量强区建设的主要目标是什么？",
             "根据《重庆两江新区质量强区建设实施方案(2024—2027年)》（二）：到2027年…[1]。")]
    for q in ("本方案怎样优化质量治理体系？", "该实施方案怎样优化质量治理体系？"):
        resolved = resolve_followup(q, plan)
        assert resolved == "重庆两江新区质量强区建设实施方案(2024—2027年)怎样优化质量治理体系？"
        two_plans = catalog([*METAS, DocMeta("policy/x.txt", "重庆市质量强市建设实施方案", "policy")])
        assert resolve(resolved, two_plans)[0] == [PLAN]  # the previous answer's, not a guess
    assert resolve_followup("本规范性文件", plan) == "本规范性文件"


@pytest.mark.parametrize(("text", "std_no"), [
    ("Q/LJ90210规定充电桩接地电阻不大于多少？", "Q/LJ 90210"),
    ("T/CECS90209-2022", "T/CECS 90209—2022"),
    ("T/CAS90208对防暴力开启有什么要求？", "T/CAS 90208"),
    ("Q/12 345", "Q/12 345"),  # a numeric enterprise code, set apart by a blank
    ("Q/SY1234", "Q/SY 1234"),
])
def test_enterprise_and_group_numbers_written_onto_their_code(text: str, std_no: str) -> None:
    ref = parse_reference(text)
    assert ref is not None and ref.std_no == std_no


# ------------------------------------------------------------------------ in the retriever
@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory):
    """Plan, two standards and a 办法 in one index (fake embedder)."""
    from assistant.config import Settings
    from assistant.index import Index
    from assistant.ingest import ingest
    from assistant.retrieve import Retriever

    tmp = tmp_path_factory.mktemp("docrefs")
    root = tmp / "docs"
    (root / "policy").mkdir(parents=True)
    (root / "policy" / Path(PLAN).name).write_bytes(
        (CORPUS / "两江新区质量强区建设实施方案(2024-2027).txt").read_bytes())
    (root / "std").mkdir()
    for name, no, title, body in (
            ("Q_LJ_90210-2024.md", "Q/LJ 90210—2024", "新能源汽车充电桩安装验收规范",
             "## 1 范围\n\n本文件规定了充电桩的安装与验收。\n\n## 4 目标\n\n### 4.1 验收目标\n\n"
             "验收的主要目标是保证充电安全。\n\n## 5 安装要求\n\n### 5.2 接地\n\n接地电阻不应大于4 Ω。\n"),
            ("T_CAS_90208-2023.md", "T/CAS 90208—2023", "智能门锁通用技术要求",
             "## 1 范围\n\n本文件规定了智能门锁的技术要求。\n\n## 4 技术要求\n\n### 4.1 目标\n\n"
             "门锁设计的主要目标是防止非授权开启。\n")):
        (root / "std" / name).write_text(
            f"---\ntitle: {title}\nstandard-number: {no}\n---\n\n# {title}\n\n{body}", "utf-8")
    (root / "laws").mkdir()
    (root / "laws" / "产品质量监督试行办法.md").write_text(
        "# 产品质量监督试行办法\n\n第一条 为了加强对产品的质量监督，制定本办法。\n\n"
        "第三条 实行产品质量监督的重点是有关人身安全和健康的产品。\n\n"
        "第五条 主管部门应当督促企业执行产品技术标准，主要目标是提高产品质量。\n", "utf-8")
    (root / "laws" / "产品质量监督试行办法实施细则.md").write_text(
        "# 产品质量监督试行办法实施细则\n\n第一条 根据产品质量监督试行办法，制定本细则。\n\n"
        "第五条 本细则的主要目标是细化监督程序。\n", "utf-8")
    s = Settings(index=tmp / "index", cache_dir=tmp / "cache", embed_model="fake")
    assert not ingest([root], s, progress=False).failed
    return Retriever(Index.open(s), s)


def test_retriever_scopes_to_the_document_named_loosely(mixed) -> None:
    from assistant.records import Filters

    top = mixed.search("方案的主要目标是什么？", k=5)
    assert {h.chunk.doc for h in top} == {PLAN}
    assert mixed.scope("方案的主要目标是什么？", Filters()).keywords == "的主要目标是什么？"
    hits = mixed.search("本办法第五条", k=3)
    assert (hits[0].chunk.doc, hits[0].chunk.clause) == ("laws/产品质量监督试行办法.md", "第五条")
    assert hits[0].evidence.exact
    scope = mixed.scope("本办法第五条", Filters())  # its 实施细则 is searched, not boosted
    assert scope.allowed == {"laws/产品质量监督试行办法.md", "laws/产品质量监督试行办法实施细则.md"}
    assert scope.named == {"laws/产品质量监督试行办法.md"}
    top = mixed.search("充电桩安装验收规范的主要目标", k=3)
    assert {h.chunk.doc for h in top} == {"std/Q_LJ_90210-2024.md"}
    # ambiguous ("该标准": two standards): the whole index, as before
    scope = mixed.scope("该标准的主要目标是什么？", Filters())
    assert scope.allowed is None and not scope.named and scope.keywords == ""
    # filters still rule: a named document outside them is not searched
    scope = mixed.scope("方案的主要目标是什么？", Filters(kinds=["standard"]))
    assert scope.allowed == {"std/Q_LJ_90210-2024.md", "std/T_CAS_90208-2023.md"}
    assert scope.keywords == ""
    scope = mixed.scope("本办法第五条", Filters(docs=["laws/产品质量监督试行办法.md"]))
    assert scope.allowed == {"laws/产品质量监督试行办法.md"}


def test_a_single_document_index_is_not_scoped(tmp_path: Path) -> None:
    """Naming the only document there is changes nothing (the plan-only sets)."""
    from assistant.config import Settings
    from assistant.index import Index
    from assistant.ingest import ingest
    from assistant.records import Filters
    from assistant.retrieve import Retriever

    s = Settings(index=tmp_path / "index", cache_dir=tmp_path / "cache", embed_model="fake")
    ingest([CORPUS], s, progress=False)
    r = Retriever(Index.open(s), s)
    scope = r.scope("方案的主要目标是什么？", Filters())
    assert scope.allowed is None and not scope.named and scope.keywords == ""
