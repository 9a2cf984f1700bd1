"""In-domain refusals and weak model answers through the whole answer engine: the gate runs
before any backend, a refusal names what the documents do not settle, and a generated
answer that is mostly flagged, only echoes the sources' labels or leaves out the asked
number is replaced by the extractive one. The bad outputs are those a 0.5B model gave."""

from __future__ import annotations

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
    build_messages,
    register_backend,
    unregister_backend,
)
from assistant.answer.llm import _DECLINE
from assistant.config import Settings
from assistant.records import Answer, Chunk, Evidence, Hit

PLAN = "重庆两江新区质量强区建设实施方案（2024—2027年）"
TARGETS = (
    "（二）主要目标\n到2027年，积极创建全国质量品牌提升示范区，制造业产品质量合格率大于95%，"
    "食品抽检合格率大于98.2%，流通领域药品抽检合格率保持100%。"
)
PRODUCTS = ("（十二）提高重点产品质量安全水平\n加强重点产品质量安全监管行业协同、区域协作，"
            "完善食品药品安全责任体系，严格落实食品安全“四个最严”要求，加强食品药品安全抽检。")
HEALTH = "（十九）提升公共服务质量效率\n完善社区医疗卫生服务网络，扩大家庭医生签约服务覆盖范围。"


def _hit(text: str, clause: str, heading: str, rank: int) -> Hit:
    c = Chunk(id=f"plan#{clause}#0", doc="两江.txt", clause=clause, text=text, heading=heading,
              title=PLAN, kind="policy", status="有效")
    return Hit(chunk=c, score=1.0 / rank, rank=rank,
               evidence=Evidence(bm25_rank=rank, dense_rank=rank, dense_sim=0.92 - 0.01 * rank))


HITS = [_hit(PRODUCTS, "（十二）", "四、引导产品质量提档升级 > （十二）提高重点产品质量安全水平", 1),
        _hit(TARGETS, "（二）", "一、总体要求 > （二）主要目标", 2),
        _hit(HEALTH, "（十九）", "六、促进服务品质提升 > （十九）提升公共服务质量效率", 3)]


class FixedRetriever:
    def search(self, query: str, k: int = 10, filters: Any | None = None) -> list[Hit]:
        return HITS[:k]


# what Qwen2.5-Coder-0.5B-Instruct wrote: a copied list of reference standards …
COPIED_LIST = "".join(f"GB/T {30000 + i}—20{10 + i} 食品安全国家标准第{i}部分检验方法[1]。" for i in range(1, 10))
# … and the sources' labels echoed, without the asked 98.2%
ECHOED = "[1] 重庆两江新区质量强区建设实施方案（2024—2027年） （十二）提高重点产品质量安全水平…[2] （二）主要目标"
GOOD = "到2027年，食品抽检合格率大于98.2%[2]。"
NO_NUMBER = "方案要求加强食品药品安全抽检，完善食品药品安全责任体系[1]。"


class Canned(AnswerBackend):
    """A model backend that returns ``Canned.reply`` citing the sources its markers name."""

    reply: ClassVar[str] = ""
    calls: ClassVar[int] = 0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def generate(self, question: str, hits: Sequence[Hit], history: History | None,
                 streaming: bool) -> Iterator[str | Draft]:
        Canned.calls += 1
        yield Canned.reply
        cited = {n: hits[n - 1] for n in (1, 2, 3) if f"[{n}]" in Canned.reply}
        yield Draft(Canned.reply, cited=cited)


@pytest.fixture
def canned() -> Iterator[type[Canned]]:
    Canned.calls = 0
    register_backend("canned", Canned)
    yield Canned
    unregister_backend("canned")


def _ask(reply: str, question: str = "方案对食品抽检合格率定的目标是多少？") -> Answer:
    Canned.reply = reply
    return Answerer(FixedRetriever(), Settings(answer_mode="canned")).ask(question)


def test_a_good_model_answer_is_kept(canned: type[Canned]) -> None:
    ans = _ask(GOOD)
    assert ans.answer == GOOD and not ans.refused and canned.calls == 1
    assert not any("replaced" in f for f in ans.flags)


def test_a_mostly_flagged_answer_falls_back_to_the_quotes(canned: type[Canned]) -> None:
    ans = _ask(COPIED_LIST)
    assert ans.answer.startswith("（模型的回答未通过依据核对：多数句子含资料中没有的数字")
    assert "98.2%" in ans.answer and "GB/T 30001" not in ans.answer
    assert ans.flags[-1].startswith("model answer replaced by the extractive one")
    assert [c.clause for c in ans.citations] == ["（二）"]


def test_echoed_labels_fall_back(canned: type[Canned]) -> None:
    ans = _ask(ECHOED)
    assert "只复述了资料的标题" in ans.answer.splitlines()[0] and "98.2%" in ans.answer
    assert any(f.startswith("model answer replaced") for f in ans.flags)


def test_an_answer_without_the_asked_number_falls_back(canned: type[Canned]) -> None:
    ans = _ask(NO_NUMBER)
    assert "没有给出资料中写明的所问数值" in ans.answer and "98.2%" in ans.answer
    # the same words answer a question that asks no number
    kept = _ask(NO_NUMBER, "方案对食品药品安全责任体系有什么要求？")
    assert kept.answer == NO_NUMBER


def test_the_gate_runs_before_the_model(canned: type[Canned]) -> None:
    ans = _ask(GOOD, "方案要求家庭医生签约服务覆盖率达到百分之多少？")
    assert canned.calls == 0 and ans.refused
    assert ans.answer.startswith(f"本库中的《{PLAN}》未规定该比例，无法给出有依据的答复。")
    assert "但它们不回答该问题，仅供参考" in ans.answer and ans.citations
    assert ans.flags[0].startswith("refused: no sentence gives 该比例")


def test_extractive_mode_refuses_the_same_way() -> None:
    ans = Answerer(FixedRetriever(), Settings()).ask("方案要求家庭医生签约服务覆盖率达到百分之多少？")
    assert ans.refused and "未规定该比例" in ans.answer and not ans.answer.startswith(REFUSAL)
    ok = Answerer(FixedRetriever(), Settings()).ask("方案对食品抽检合格率定的目标是多少？")
    assert not ok.refused and "98.2%" in ok.answer


def test_prompt_tells_the_model_to_say_the_documents_do_not_settle_it() -> None:
    system = build_messages("问题", HITS)[0]["content"]
    assert "现有资料未对此作出规定" in system and "不得用资料以外的知识补充" in system
    assert _DECLINE.search("现有资料未对此作出规定，最接近的是[2]。")


class _Says:
    """A chat model (llama-index's ``chat``) that always says the same thing."""

    def __init__(self, reply: str) -> None:
        self.reply = reply

    def chat(self, messages: list[Any]) -> Any:
        return SimpleNamespace(message=SimpleNamespace(content=self.reply))


def test_a_model_that_says_so_is_a_refusal_citing_the_nearest() -> None:
    says = _Says("现有资料未对此作出规定，最接近的是[2]。")
    register_backend("says", lambda s: ChatBackend("says", s, lambda _s: says))
    try:
        ans = Answerer(FixedRetriever(), Settings(answer_mode="says")).ask("食品抽检合格率目标是多少？")
    finally:
        unregister_backend("says")
    assert ans.refused and ans.flags[-1] == "model declined: the sources do not answer"
    assert [c.clause for c in ans.citations] == ["（二）"]
