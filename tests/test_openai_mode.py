"""``openai`` answer mode against a real local HTTP server speaking the chat-completions
protocol (JSON and ``stream: true`` server-sent events)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

pytest.importorskip("llama_index.llms.openai_like")

from assistant.answer import Answerer, ChatBackend, register_backend, unregister_backend
from assistant.answer.llm import make_openai
from assistant.config import Settings
from assistant.errors import LLMError
from assistant.records import Answer, Chunk, Evidence, Hit

QUESTION = "强制性国家标准由谁批准发布？"
REPLY = (
    "强制性国家标准由国务院批准发布或者授权批准发布[1]。"
    "项目提出和技术审查由国务院有关行政主管部门负责[1]，立项另见[9]。"
)
ART10 = (
    "第十条 对保障人身健康和生命财产安全、国家安全、生态环境安全以及满足经济社会管理基本需要的技术要求，"
    "应当制定强制性国家标准。\n国务院有关行政主管部门依据职责负责强制性国家标准的项目提出、组织起草、"
    "征求意见和技术审查。\n强制性国家标准由国务院批准发布或者授权批准发布。"
)
ART11 = (
    "第十一条 对满足基础通用、与强制性国家标准配套、对各有关行业起引领作用等需要的技术要求，"
    "可以制定推荐性国家标准。\n推荐性国家标准由国务院标准化行政主管部门制定。"
)


class StaticRetriever:
    """Always returns the two articles, the first one strongly matched."""

    def search(self, query: str, k: int = 10, filters: Any | None = None) -> list[Hit]:
        law = "中华人民共和国标准化法"
        c10 = Chunk(id="law#第十条#0", doc="laws/标准化法.md", clause="第十条", text=ART10, title=law,
                    heading="第二章 标准的制定", kind="law", status="有效")
        c11 = Chunk(id="law#第十一条#0", doc="laws/标准化法.md", clause="第十一条", text=ART11, title=law,
                    heading="第二章 标准的制定", kind="law", status="有效")
        return [
            Hit(chunk=c10, score=0.9, rank=1, evidence=Evidence(bm25_rank=1, dense_rank=1, dense_sim=0.91)),
            Hit(chunk=c11, score=0.5, rank=2, evidence=Evidence(bm25_rank=2, dense_rank=2, dense_sim=0.87)),
        ][:k]


class ChatHandler(BaseHTTPRequestHandler):
    """POST /v1/chat/completions. ``server.behaviour``: "ok", "error" (HTTP 500) or "slow"."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        srv: Any = self.server
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        srv.requests.append({"path": self.path, "body": body})
        if srv.behaviour == "error":
            return self._json(500, {"error": {"message": "model crashed", "type": "server_error"}})
        if srv.behaviour == "slow":
            time.sleep(3)
            return self._json(200, _completion("太慢了"))
        if not body.get("stream"):
            return self._json(200, _completion(REPLY))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        pieces = [REPLY[i : i + 6] for i in range(0, len(REPLY), 6)]
        for i, piece in enumerate(pieces):
            delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
            self._event({"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m",
                         "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
        self._event({"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m",
                     "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True

    def _event(self, obj: dict[str, Any]) -> None:
        self.wfile.write(b"data: " + json.dumps(obj, ensure_ascii=False).encode() + b"\n\n")
        self.wfile.flush()

    def _json(self, code: int, obj: dict[str, Any]) -> None:
        data = json.dumps(obj, ensure_ascii=False).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass


def _completion(text: str) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}


@contextmanager
def chat_server(behaviour: str = "ok") -> Iterator[Any]:
    srv: Any = ThreadingHTTPServer(("127.0.0.1", 0), ChatHandler)  # port 0: a free port
    srv.daemon_threads = True
    srv.block_on_close = False
    srv.behaviour = behaviour
    srv.requests = []
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def _settings(srv: Any, **kw: Any) -> Settings:
    host, port = srv.server_address[:2]
    kw.setdefault("answer_mode", "openai")
    return Settings(llm_base_url=f"http://{host}:{port}/v1", llm_model="test-model", llm_api_key="sk-test", **kw)


def test_openai_streaming_removes_invented_marker() -> None:
    with chat_server() as srv:
        items = list(Answerer(StaticRetriever(), _settings(srv)).stream(QUESTION))
    final = items[-1]
    assert isinstance(final, Answer)
    deltas = [x for x in items[:-1] if isinstance(x, str)]
    assert len(deltas) >= 3  # it really streamed
    assert "".join(deltas) == final.answer
    assert "[9]" not in final.answer and "[1]" in final.answer
    assert "removed invented citation [9]" in final.flags
    assert [c.clause for c in final.citations] == ["第十条"]
    assert final.mode == "openai" and not final.refused
    req = srv.requests[-1]
    assert req["path"] == "/v1/chat/completions" and req["body"]["stream"] is True
    assert req["body"]["model"] == "test-model"
    prompt = req["body"]["messages"][-1]["content"]
    assert "[1] 中华人民共和国标准化法 第十条" in prompt and "[2] 中华人民共和国标准化法 第十一条" in prompt
    assert "每一句话" in req["body"]["messages"][0]["content"]


def test_openai_non_streaming() -> None:
    with chat_server() as srv:
        ans = Answerer(StaticRetriever(), _settings(srv)).ask(QUESTION)
    assert not srv.requests[-1]["body"].get("stream")
    assert ans.answer.startswith("强制性国家标准由国务院批准发布或者授权批准发布[1]。")
    assert "[9]" not in ans.answer and "removed invented citation [9]" in ans.flags
    assert ans.citations[0].quote == "强制性国家标准由国务院批准发布或者授权批准发布。"
    assert ans.timings["answer_ms"] > 0


def test_openai_http_500_is_one_line_llm_error() -> None:
    with chat_server("error") as srv, pytest.raises(LLMError) as e:
        Answerer(StaticRetriever(), _settings(srv)).ask(QUESTION)
    msg = str(e.value)
    assert "\n" not in msg and "500" in msg and srv.server_address[0] in msg


@pytest.fixture
def openai_once() -> Iterator[str]:
    """Answer mode "openai-once": the openai backend without its retry, registered the way
    the built-in one is (one attempt keeps the timeout test fast)."""
    register_backend("openai-once", lambda s: ChatBackend("openai", s, lambda s: make_openai(s, retries=0),
                                                          where=s.llm_base_url))
    yield "openai-once"
    unregister_backend("openai-once")


def test_openai_timeout_is_one_line_llm_error(openai_once: str) -> None:
    with chat_server("slow") as srv:
        t0 = time.perf_counter()
        with pytest.raises(LLMError) as e:
            list(Answerer(StaticRetriever(), _settings(srv, llm_timeout=0.5, answer_mode=openai_once)).stream(QUESTION))
        assert time.perf_counter() - t0 < 2.5
    assert "\n" not in str(e.value) and "timed out" in str(e.value).lower()
    assert str(e.value).startswith(f"openai backend (http://{srv.server_address[0]}")
