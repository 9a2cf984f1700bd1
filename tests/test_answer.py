"""The answer engine (assistant.answer) over a fake retriever of hand-made clause hits;
model backends are registered under their own names, as users get the real ones."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from assistant.answer import (
    REFUSAL,
    AnswerBackend,
    Answerer,
    ChatBackend,
    Draft,
    History,
    backend_names,
    build_messages,
    query_refs,
    register_backend,
    resolve_followup,
    unregister_backend,
)
from assistant.cite import marker_numbers
from assistant.config import Settings
from assistant.errors import ConfigError, LLMError
from assistant.records import Answer, Chunk, Evidence, Hit
from assistant.text import bigrams

LAW = "中华人民共和国标准化法"
PQL = "中华人民共和国产品质量法"
GUIDE = "标准化工作导则 第1部分：标准化文件的结构和起草规则"
PLAN = "重庆两江新区质量强区建设实施方案（2024—2027年）"


def _chunk(doc: str, title: str, clause: str, text: str, heading: str = "", std_no: str = "",
           status: str = "有效", kind: str = "law") -> Chunk:
    return Chunk(id=f"{doc}#{clause}#0", doc=doc, clause=clause, text=text, heading=heading,
                 title=title, std_no=std_no, kind=kind, status=status)


CHUNKS = [
    _chunk("laws/标准化法.md", LAW, "第二条",
           "第二条 本法所称标准（含标准样品），是指农业、工业、服务业以及社会事业等领域需要统一的技术要求。\n"
           "标准包括国家标准、行业标准、地方标准和团体标准、企业标准。国家标准分为强制性标准、推荐性标准，"
           "行业标准、地方标准是推荐性标准。\n强制性标准必须执行。国家鼓励采用推荐性标准。",
           "第一章 总则"),
    _chunk("laws/标准化法.md", LAW, "第十条",
           "第十条 对保障人身健康和生命财产安全、国家安全、生态环境安全以及满足经济社会管理基本需要的技术要求，"
           "应当制定强制性国家标准。\n国务院有关行政主管部门依据职责负责强制性国家标准的项目提出、组织起草、"
           "征求意见和技术审查。国务院标准化行政主管部门负责强制性国家标准的立项、编号和对外通报。\n"
           "强制性国家标准由国务院批准发布或者授权批准发布。",
           "第二章 标准的制定"),
    _chunk("laws/标准化法.md", LAW, "第十一条",
           "第十一条 对满足基础通用、与强制性国家标准配套、对各有关行业起引领作用等需要的技术要求，"
           "可以制定推荐性国家标准。\n推荐性国家标准由国务院标准化行政主管部门制定。",
           "第二章 标准的制定"),
    _chunk("laws/标准化法.md", LAW, "第四十五条", "第四十五条 本法自2018年1月1日起施行。", "第六章 附则"),
    _chunk("laws/产品质量法.md", PQL, "第四十九条",
           "第四十九条 生产、销售不符合保障人体健康和人身、财产安全的国家标准、行业标准的产品的，"
           "责令停止生产、销售，没收违法生产、销售的产品，并处违法生产、销售产品（包括已售出和未售出的产品，"
           "下同）货值金额等值以上三倍以下的罚款；有违法所得的，并处没收违法所得；情节严重的，吊销营业执照；"
           "构成犯罪的，依法追究刑事责任。",
           "第五章 罚则"),
    _chunk("std/GB-T-1.1-2020.pdf", GUIDE, "8.6",
           "8.6 规范性引用文件\n规范性引用文件这一要素用来列出文件中规范性引用的文件，由引导语和文件清单构成。"
           "该要素应设置为文件的第2章，且不应分条。",
           "8 要素的编写 > 8.6 规范性引用文件", "GB/T 1.1—2020", "现行", "standard"),
    _chunk("std/GB-T-1.1-2009.pdf", GUIDE, "6.2.2",
           "6.2.2 规范性引用文件\n规范性引用文件为可选要素，它应列出标准中规范性引用其他文件的文件清单。"
           "规范性引用文件清单应由引导语引出。",
           "6 要素的起草 > 6.2.2 规范性引用文件", "GB/T 1.1—2009", "废止", "standard"),
    _chunk("policy/两江.txt", PLAN, "（二）",
           "（二）主要目标\n到2027年，质量推动经济社会发展的作用明显提升，质量品牌影响力显著增强。"
           "积极创建全国质量品牌提升示范区，制造业产品质量合格率大于95%，食品抽检合格率保持在98%以上。",
           "一、总体要求 > （二）主要目标", "", "有效", "policy"),
]
REPLACED = {"GB/T 1.1—2009": "GB/T 1.1—2020"}


class FakeRetriever:
    """Ranks the chunks by character-bigram overlap, with the evidence fields the real
    retriever reports: bm25/dense ranks, a dense cosine in e5's band, exact clause matches."""

    def __init__(self, chunks: list[Chunk] | None = None) -> None:
        self.chunks = CHUNKS if chunks is None else chunks
        self.queries: list[str] = []
        self.filters: list[Any] = []

    def search(self, query: str, k: int = 10, filters: Any | None = None) -> list[Hit]:
        self.queries.append(query)
        self.filters.append(filters)
        q = bigrams(query)
        doc, clause = query_refs(query)
        scored = []
        for c in self.chunks:
            g = bigrams(c.title + c.heading + c.text)
            overlap = len(q & g) / max(1, len(q))
            exact = bool(doc and clause and (doc in c.title or doc == c.std_no) and clause == c.clause)
            scored.append((exact, overlap, c))
        scored.sort(key=lambda x: (not x[0], -x[1]))
        hits = []
        for r, (exact, overlap, c) in enumerate(scored[:k], 1):
            ev = Evidence(dense_rank=r, dense_sim=0.83 + 0.1 * overlap, exact=exact)
            if overlap > 0:
                ev.bm25_rank, ev.bm25_score = r, 10 * overlap
            old = c.std_no in REPLACED
            hits.append(Hit(chunk=c, score=1.0 / r, rank=r, evidence=ev, superseded=old,
                            replaced_by=REPLACED.get(c.std_no, "")))
        return hits


def _check_markers(a: Answer) -> None:
    ns = {c.n for c in a.citations}
    used = marker_numbers(a.answer)
    assert used, a.answer
    assert set(used) == ns
    # numbered in order of first use
    first = list(dict.fromkeys(used))
    assert first == sorted(first) == list(range(1, len(first) + 1))


def test_extractive_answer_cites_the_right_clause() -> None:
    ans = Answerer(FakeRetriever(), Settings()).ask("强制性国家标准由谁批准发布？")
    assert not ans.refused and ans.mode == "extractive"
    _check_markers(ans)
    top = ans.citations[0]
    assert (top.title, top.clause) == (LAW, "第十条")
    assert top.label() == f"{LAW} 第十条"
    assert "强制性国家标准由国务院批准发布或者授权批准发布[1]。" in ans.answer
    assert top.quote == "强制性国家标准由国务院批准发布或者授权批准发布。"
    assert top.text.startswith("第十条")
    assert len(re.findall(r"\[\d+\]", ans.answer)) <= 4
    assert ans.flags == []
    assert set(ans.timings) == {"retrieve_ms", "answer_ms"}
    # deterministic
    assert Answerer(FakeRetriever(), Settings()).ask("强制性国家标准由谁批准发布？").answer == ans.answer


def test_extractive_exact_clause_and_policy_numbers() -> None:
    ans = Answerer(FakeRetriever(), Settings()).ask("标准化法第十一条")
    assert ans.citations[0].clause == "第十一条"
    assert "推荐性国家标准由国务院标准化行政主管部门制定[1]。" in ans.answer
    ans = Answerer(FakeRetriever(), Settings()).ask("两江新区到2027年制造业产品质量合格率目标是多少？")
    assert "95%" in ans.answer and ans.citations[0].clause == "（二）" and ans.flags == []


def test_unrelated_question_is_refused_with_suggestions() -> None:
    for q in ["红烧肉怎么做才好吃？", "如何用Python读取CSV文件？", "木星有多少颗卫星？"]:
        ans = Answerer(FakeRetriever(), Settings()).ask(q)
        assert ans.refused, (q, ans.answer)
        assert ans.answer.startswith(REFUSAL)
        assert "仅供参考" in ans.answer and len(ans.citations) == 3
        assert ans.citations[0].label() in ans.answer
        assert not re.search(r"\[\d+\]", ans.answer)
        assert ans.flags and ans.flags[0].startswith("refused")
    ans = Answerer(FakeRetriever([]), Settings()).ask("强制性国家标准由谁制定？")
    assert ans.refused and ans.answer == REFUSAL and ans.citations == []


def test_min_relevance_setting_is_honoured() -> None:
    q = "规范性引用文件放在第几章？"
    ans = Answerer(FakeRetriever(), Settings()).ask(q)
    assert not ans.refused and "该要素应设置为文件的第2章" in ans.answer
    assert Answerer(FakeRetriever(), Settings(min_relevance=0.99)).ask(q).refused


def test_superseded_standard_carries_a_warning() -> None:
    ans = Answerer(FakeRetriever(), Settings()).ask("GB/T 1.1—2009 对规范性引用文件清单有什么要求？")
    old = [c for c in ans.citations if c.std_no == "GB/T 1.1—2009"]
    assert old, ans.answer
    assert old[0].warning == "已废止，现行版本：GB/T 1.1—2020"
    assert "注意：" in ans.answer and "GB/T 1.1—2020" in ans.answer.split("注意：")[1]
    current = [c for c in ans.citations if c.std_no == "GB/T 1.1—2020"]
    assert all(c.warning == "" for c in current)


def test_followups_are_resolved_against_history() -> None:
    h1 = [("标准化法第十条规定了什么？", "对保障人身健康……应当制定强制性国家标准[1]。")]
    assert resolve_followup("那第二章呢？", h1) == "标准化法第二章呢？"
    assert resolve_followup("它的实施日期是？", h1) == "标准化法的实施日期是？"
    assert resolve_followup("那第十一条呢？", h1) == "标准化法第十一条呢？"
    h2 = [("产品质量法第四十九条规定了什么？", "……")]
    assert resolve_followup("这一条的罚款是多少？", h2) == "产品质量法第四十九条的罚款是多少？"
    # chains: the second follow-up still knows the document
    h3 = [*h1, ("那第十一条呢？", "推荐性国家标准由国务院标准化行政主管部门制定[1]。")]
    assert resolve_followup("这一条由谁制定？", h3) == "标准化法第十一条由谁制定？"
    # the document can come from the answer when the question did not name it
    h4 = [("强制性标准必须执行吗？", "根据《中华人民共和国标准化法》第二条，强制性标准必须执行。")]
    assert resolve_followup("它什么时候施行？", h4) == "中华人民共和国标准化法什么时候施行？"
    # "这项标准" / "本条例" stand for the document, not a clause
    h5 = [("GB/T 1.1—2020 的 8.6 讲什么？", "……")]
    assert resolve_followup("这项标准什么时候实施？", h5) == "GB/T 1.1—2020什么时候实施？"
    assert resolve_followup("本条例由谁解释？", h2) == "产品质量法由谁解释？"
    assert resolve_followup("那 8.7 呢？", h5) == "GB/T 1.1—2020 8.7 呢？"
    # a new, self-contained question is left alone
    assert resolve_followup("产品质量法第五十条是什么？", h1) == "产品质量法第五十条是什么？"
    assert resolve_followup("红烧肉怎么做？", h1) == "红烧肉怎么做？"
    assert resolve_followup("它的实施日期是？", None) == "它的实施日期是？"


def test_query_refs() -> None:
    assert query_refs("标准化法第十条规定了什么？") == ("标准化法", "第十条")
    assert query_refs("我想知道《产品质量法》第四十九条") == ("产品质量法", "第四十九条")
    assert query_refs("GB/T 1.1—2020 的 8.6 讲什么") == ("GB/T 1.1—2020", "8.6")
    assert query_refs("那第二章呢？") == ("", "第二章")
    assert query_refs("违法的后果是什么") == ("", "")


def test_query_refs_normalises_through_identifiers() -> None:
    # the law whose article is named; articles and standard numbers in their usual spelling
    assert query_refs("依据安全生产法和产品质量法第26条") == ("产品质量法", "第二十六条")
    assert query_refs("刑法第一百三十三条之一") == ("刑法", "第一百三十三条之一")
    assert query_refs("GB/T1.1-2020第8.6条") == ("GB/T 1.1—2020", "8.6")
    assert query_refs("根据《中华人民共和国标准化法》第二条") == ("中华人民共和国标准化法", "第二条")
    # clauses named without their document, as follow-ups do
    assert query_refs("那第26条呢？") == ("", "第二十六条")
    assert query_refs("那 A.2 呢") == ("", "A.2")
    assert query_refs("GB/T 1.1 有什么要求") == ("GB/T 1.1", "")  # "1.1" is no clause


def test_followup_reaches_retrieval_and_answer() -> None:
    r = FakeRetriever()
    a = Answerer(r, Settings())
    hist = [("标准化法第十条规定了什么？", "……")]
    ans = a.ask("那第十一条呢？", history=hist, filters={"kinds": ["law"]})
    assert ans.resolved_question == "标准化法第十一条呢？"
    assert r.queries[-1] == "标准化法第十一条呢？" and r.filters[-1] == {"kinds": ["law"]}
    assert ans.citations[0].clause == "第十一条"
    ans = a.ask("它自何时起施行？", history=hist)
    assert ans.resolved_question == "标准化法自何时起施行？"
    assert "2018年1月1日" in ans.answer and ans.citations[0].clause == "第四十五条"


def test_followup_finds_the_document_in_the_previous_answer() -> None:
    a = Answerer(FakeRetriever(), Settings())
    q1 = "强制性国家标准由谁批准发布？"
    first = a.ask(q1)
    assert first.answer.startswith("根据《中华人民共和国标准化法》第十条：")
    ans = a.ask("它自何时起施行？", history=[(q1, first.answer)])
    assert ans.resolved_question == "中华人民共和国标准化法自何时起施行？"
    assert ans.citations[0].clause == "第四十五条"


def test_stream_yields_deltas_then_the_answer() -> None:
    items = list(Answerer(FakeRetriever(), Settings()).stream("标准化法第十条"))
    final = items[-1]
    assert isinstance(final, Answer)
    deltas = items[:-1]
    assert len(deltas) >= 2 and all(isinstance(d, str) for d in deltas)
    assert "".join(deltas) == final.answer


# --- generative backends with a scripted model -------------------------------------------


class ScriptedLLM:
    """Duck-typed llama-index LLM: returns a fixed reply, streamed in small pieces, or
    raises ``error`` when asked."""

    def __init__(self, reply: str = "") -> None:
        self.reply = reply
        self.error: BaseException | None = None
        self.messages: list[Any] = []

    def chat(self, messages: list[Any]) -> Any:
        self.messages = messages
        if self.error is not None:
            raise self.error
        return SimpleNamespace(message=SimpleNamespace(content=self.reply))

    def stream_chat(self, messages: list[Any]) -> Any:
        self.messages = messages
        if self.error is not None:
            raise self.error
        for i in range(0, len(self.reply), 3):
            yield SimpleNamespace(delta=self.reply[i : i + 3])


@pytest.fixture
def scripted() -> Iterator[ScriptedLLM]:
    """Answer mode "scripted": the chat backend of the LLM modes over a ScriptedLLM."""
    llm = ScriptedLLM()
    register_backend("scripted", lambda s: ChatBackend("scripted", s, lambda _s: llm, where="script"))
    yield llm
    unregister_backend("scripted")


SCRIPTED = Settings(answer_mode="scripted")


def _llm_answer(llm: ScriptedLLM, reply: str, q: str = "强制性国家标准由谁批准发布？", stream: bool = False) -> Answer:
    llm.reply = reply
    a = Answerer(FakeRetriever(), SCRIPTED)
    if not stream:
        return a.ask(q)
    items = list(a.stream(q))
    assert isinstance(items[-1], Answer)
    return items[-1]


@pytest.mark.parametrize("stream", [False, True])
def test_llm_invented_markers_removed_and_numbers_checked(scripted: ScriptedLLM, stream: bool) -> None:
    # source [1] is 标准化法第十条 (the top hit); [7] does not exist
    reply = ("<think>先看资料。</think>强制性国家标准由国务院批准发布或者授权批准发布[1]。"
             "违反者处5万元罚款[1]。具体程序另见[7]。")
    ans = _llm_answer(scripted, reply, stream=stream)
    assert "[7]" not in ans.answer and "<think>" not in ans.answer
    assert "removed invented citation [7]" in ans.flags
    assert any(f.startswith("unsupported number 5万") for f in ans.flags)
    assert [c.clause for c in ans.citations] == ["第十条"]
    assert ans.citations[0].quote == "强制性国家标准由国务院批准发布或者授权批准发布。"
    assert not ans.refused and ans.mode == "scripted"


def test_llm_markers_renumbered_by_first_use(scripted: ScriptedLLM) -> None:
    # the prompt's [3] is cited first, so it becomes [1]
    hits = FakeRetriever().search("强制性国家标准由谁批准发布？")
    third = hits[2].chunk
    ans = _llm_answer(scripted, "见资料[3]。强制性国家标准由国务院批准发布[1][3]。")
    assert ans.answer == "见资料[1]。强制性国家标准由国务院批准发布[2][1]。"
    assert (ans.citations[0].clause, ans.citations[1].clause) == (third.clause, "第十条")


def test_llm_decline_is_a_refusal_and_prompt_numbers_sources(scripted: ScriptedLLM) -> None:
    scripted.reply = "资料中没有找到相关规定。"
    a = Answerer(FakeRetriever(), SCRIPTED)
    ans = a.ask("强制性国家标准由谁批准发布？", history=[("标准化法是什么？", "标准化法是……[1]")])
    assert ans.refused and ans.citations == []
    assert ans.flags[-1] == "model declined: the sources do not answer"
    roles = [m.role.value for m in scripted.messages]
    assert roles == ["system", "user", "assistant", "user"]
    assert "[1]" not in scripted.messages[2].content  # old markers are not carried over
    prompt = scripted.messages[-1].content
    assert "[1] 中华人民共和国标准化法 第十条（第二章 标准的制定）" in prompt
    assert "【问题】\n强制性国家标准由谁批准发布？" in prompt


def test_llm_answer_without_markers_is_flagged(scripted: ScriptedLLM) -> None:
    ans = _llm_answer(scripted, "强制性国家标准由国务院批准发布或者授权批准发布。")
    assert not ans.refused and ans.citations == []
    assert ans.flags[-1] == "answer cites no source"
    assert any(f.startswith("uncited sentence") for f in ans.flags)


def test_llm_not_called_when_refusing(scripted: ScriptedLLM) -> None:
    scripted.error = AssertionError("the model must not be asked")
    ans = Answerer(FakeRetriever(), SCRIPTED).ask("红烧肉怎么做才好吃？")
    assert ans.refused and ans.mode == "scripted"


def test_llm_failure_is_a_one_line_llm_error(scripted: ScriptedLLM) -> None:
    scripted.error = ConnectionError("connection refused\nsecond line")
    with pytest.raises(LLMError) as e:
        Answerer(FakeRetriever(), SCRIPTED).ask("强制性国家标准由谁批准发布？")
    assert "\n" not in str(e.value) and "connection refused" in str(e.value)
    assert str(e.value).startswith("scripted backend (script) failed: ConnectionError")


def test_llm_empty_reply_is_an_llm_error(scripted: ScriptedLLM) -> None:
    with pytest.raises(LLMError, match="scripted backend returned an empty answer"):
        _llm_answer(scripted, "<think>…</think>")


# --- the backend registry ---------------------------------------------------------------


class EchoBackend(AnswerBackend):
    """A backend written against the protocol alone: it cites the top hit with a fixed
    sentence (or, given ``unanswerable``, says it has nothing to write)."""

    calls: ClassVar[list[str]] = []

    def __init__(self, settings: Settings, sentence: str = "", unanswerable: str = "") -> None:
        self.sentence = sentence
        self.unanswerable = unanswerable

    def generate(self, question: str, hits: Sequence[Hit], history: History | None,
                 streaming: bool) -> Iterator[str | Draft]:
        EchoBackend.calls.append(question)
        if self.unanswerable:
            yield Draft("", unanswerable=self.unanswerable)
            return
        half = len(self.sentence) // 2
        yield self.sentence[:half]
        yield self.sentence[half:]
        yield Draft(self.sentence, cited={1: hits[0]}, flags=["echoed"])


@pytest.fixture
def echo() -> Iterator[type[EchoBackend]]:
    EchoBackend.calls = []
    register_backend("echo", lambda s: EchoBackend(s, "强制性国家标准由国务院在30日内批准发布[1]。"))
    register_backend("mute", lambda s: EchoBackend(s, unanswerable="nothing to quote"))
    yield EchoBackend
    unregister_backend("echo")
    unregister_backend("mute")


def test_registered_backend_is_chosen_by_name_and_checked(echo: type[EchoBackend]) -> None:
    assert {"extractive", "openai", "llamacpp", "echo", "mute"} <= set(backend_names())
    items = list(Answerer(FakeRetriever(), Settings(answer_mode="echo")).stream("强制性国家标准由谁批准发布？"))
    final = items[-1]
    assert isinstance(final, Answer) and final.mode == "echo" and not final.refused
    assert len(items) == 3 and "".join(items[:-1]) == final.answer  # the backend's deltas, passed on
    assert final.answer == "强制性国家标准由国务院在30日内批准发布[1]。"
    assert [c.clause for c in final.citations] == ["第十条"]
    # the engine's grounding checks apply to every backend: 30 is in no cited source
    assert final.flags[0] == "echoed" and final.flags[1].startswith("unsupported number 30")
    # the gate comes first: an unrelated question never reaches the backend
    assert echo.calls == ["强制性国家标准由谁批准发布？"]
    assert Answerer(FakeRetriever(), Settings(answer_mode="echo")).ask("红烧肉怎么做才好吃？").refused
    assert echo.calls == ["强制性国家标准由谁批准发布？"]


def test_backend_with_nothing_to_write_refuses(echo: type[EchoBackend]) -> None:
    ans = Answerer(FakeRetriever(), Settings(answer_mode="mute")).ask("强制性国家标准由谁批准发布？")
    assert ans.refused and ans.answer.startswith(REFUSAL) and len(ans.citations) == 3
    assert ans.flags == ["refused: nothing to quote"]


def test_unknown_answer_mode_is_a_one_line_config_error() -> None:
    with pytest.raises(ConfigError) as e:
        Answerer(FakeRetriever(), Settings(answer_mode="gpt"))
    msg = str(e.value)
    assert "\n" not in msg and "'gpt'" in msg and "ASSISTANT_ANSWER_MODE" in msg
    assert msg.endswith("registered are " + ", ".join(backend_names()))
    assert "extractive, llamacpp, openai" in msg
    unregister_backend("no-such-backend")  # forgetting an unknown name is harmless
    assert "no-such-backend" not in backend_names()


def test_missing_backend_configuration_is_reported() -> None:
    with pytest.raises(LLMError, match="ASSISTANT_LLM_BASE_URL"):
        Answerer(FakeRetriever(), Settings(answer_mode="openai")).ask("强制性国家标准由谁批准发布？")
    with pytest.raises(LLMError, match="GGUF file not found"):
        Answerer(FakeRetriever(), Settings(answer_mode="llamacpp", llm_gguf="nope/missing.gguf")).ask(
            "强制性国家标准由谁批准发布？")
    with pytest.raises(LLMError, match="ASSISTANT_LLM_GGUF"):
        Answerer(FakeRetriever(), Settings(answer_mode="llamacpp")).ask("强制性国家标准由谁批准发布？")


def test_llamacpp_without_the_extra_names_the_fix(tmp_path: Any) -> None:
    pytest.importorskip("llama_index.core")
    try:
        import llama_index.llms.llama_cpp  # noqa: F401

        pytest.skip("llama-index-llms-llama-cpp is installed")
    except ImportError:
        pass
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF")
    with pytest.raises(LLMError, match=r"pip install '\.\[llamacpp\]'"):
        Answerer(FakeRetriever(), Settings(answer_mode="llamacpp", llm_gguf=str(gguf))).ask(
            "强制性国家标准由谁批准发布？")


def test_build_messages_labels_superseded_sources() -> None:
    hits = FakeRetriever().search("GB/T 1.1—2009 规范性引用文件")
    msgs = build_messages("问题", hits[:3])
    assert "〔已废止，现行版本：GB/T 1.1—2020〕" in msgs[-1]["content"]
