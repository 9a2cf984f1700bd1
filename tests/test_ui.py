"""The Gradio app: served in-process on a small index (fake embedder) and called through
``gradio_client``; binding safety, upload names and the HTML/Markdown rendering."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.records import Answer, Citation

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
PLAN = "两江新区质量强区建设实施方案(2024-2027).txt"

pytestmark = pytest.mark.timeout(120)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ui_settings(tmp: Path, **kw: Any) -> Settings:
    return Settings(embed_model="fake", index=tmp / "index", cache_dir=tmp / "cache",
                    data_dir=tmp / "data", **kw)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Settings]]:
    """The app on the built-in corpus, served on a free loopback port."""
    from assistant.service import Assistant
    from ui.app import launch

    tmp = tmp_path_factory.mktemp("ui")
    s = ui_settings(tmp, port=free_port())
    a = Assistant(s)
    rep = a.ingest([CORPUS], progress=False)
    assert rep.count("added") == 1, rep.summary()
    demo = launch(s, prevent_thread_lock=True, quiet=True, assistant=a)
    try:
        yield demo, s
    finally:
        demo.close()


@pytest.fixture(scope="module")
def client(app: tuple[Any, Settings]) -> Any:
    from gradio_client import Client

    return Client(app[0].local_url, verbose=False)


# --------------------------------------------------------------------------- served app
def test_ask_through_client(client: Any) -> None:
    out = client.predict("两江新区质量强区建设的主要目标是什么？", api_name="/ask")
    assert not out["refused"], out
    assert out["answer"].strip()
    assert out["citations"], out
    c = out["citations"][0]
    assert c["doc"] == PLAN
    assert c["clause"] and c["label"].endswith(c["clause"])
    assert "[1]" in out["answer"]


def test_ask_follow_up_and_filters(client: Any) -> None:
    out = client.predict("如何加强检验检测能力建设？", ["policy"], None, True, [PLAN],
                         [["两江新区质量强区建设的主要目标是什么？", "到2027年……[1]"]],
                         api_name="/ask")
    assert out["citations"] and all(c["doc"] == PLAN for c in out["citations"])
    # a kind filter that excludes every indexed document leaves nothing to cite
    none = client.predict("如何加强检验检测能力建设？", ["law"], api_name="/ask")
    assert none["refused"] and not none["citations"]


def test_documents_and_search_endpoints(client: Any) -> None:
    docs = client.predict(api_name="/documents")
    assert [d["doc"] for d in docs] == [PLAN]
    assert docs[0]["chunks"] > 10
    hits = client.predict("检验检测认证公共服务平台", 3, api_name="/search")
    assert hits and hits[0]["doc"] == PLAN


def test_empty_question_is_a_short_error(client: Any) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as e:
        client.predict("   ", api_name="/ask")
    assert "Traceback" not in str(e.value)


def test_only_named_endpoints_are_public(client: Any) -> None:
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/ask", "/search", "/documents"} <= names
    assert "/chat" not in names


# --------------------------------------------------------------------------- safety
def test_refuses_non_loopback_without_auth(tmp_path: Path) -> None:
    from ui.app import check_bind, launch

    s = ui_settings(tmp_path, host="0.0.0.0", port=free_port())
    with pytest.raises(ConfigError) as e:
        launch(s, prevent_thread_lock=True)
    msg = str(e.value)
    assert "\n" not in msg and "ASSISTANT_AUTH" in msg
    assert check_bind(s.with_overrides(auth="admin:secret")) == [("admin", "secret")]
    assert check_bind(ui_settings(tmp_path)) == []
    assert check_bind(ui_settings(tmp_path, host="localhost")) == []
    assert check_bind(ui_settings(tmp_path, host="::1")) == []


def test_cli_ui_refusal_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app

    monkeypatch.setenv("ASSISTANT_EMBED_MODEL", "fake")
    monkeypatch.delenv("ASSISTANT_AUTH", raising=False)
    r = CliRunner().invoke(app, ["--index", str(tmp_path / "index"), "ui", "--host", "0.0.0.0"])
    assert r.exit_code == 1
    out = (r.output or "") + (getattr(r, "stderr", "") or "")
    assert "refusing" in out and "Traceback" not in out


def test_login_and_empty_library(tmp_path: Path) -> None:
    """With a login configured, the API needs it; an app without an index still starts."""
    import httpx
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    from ui.app import launch

    demo = launch(ui_settings(tmp_path, port=free_port(), auth="alice:s3cret"),
                  prevent_thread_lock=True, quiet=True)
    try:
        with pytest.raises(Exception):  # noqa: B017 - refused before any endpoint is reached
            Client(demo.local_url, verbose=False)
        c = Client(demo.local_url, auth=("alice", "s3cret"), verbose=False)
        assert c.predict(api_name="/documents") == []
        with pytest.raises(AppError, match="文档库为空"):
            c.predict("两江新区质量强区建设的主要目标是什么？", api_name="/ask")

        # Regression: failed logins were not throttled; now the sixth try is refused even
        # with the right password.
        def login(pw: str) -> int:
            return httpx.post(demo.local_url + "login",
                              data={"username": "alice", "password": pw}).status_code

        assert login("s3cret") == 200
        assert [login(f"guess{i}") for i in range(5)] == [400] * 5
        assert login("s3cret") == 400
    finally:
        demo.close()


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    from ui.app import launch

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        s = ui_settings(tmp_path, port=busy.getsockname()[1])
        with pytest.raises(ConfigError, match="cannot serve"):
            launch(s, prevent_thread_lock=True, quiet=True)


def test_parse_auth(tmp_path: Path) -> None:
    from ui.app import is_loopback, parse_auth

    f = tmp_path / "users.txt"
    f.write_text("# logins\nalice:pa:ss\n\nbob:x\n", "utf-8")
    assert parse_auth(str(f)) == [("alice", "pa:ss"), ("bob", "x")]
    assert parse_auth("") == []
    for bad in ("nocolon", ":pw", "user:"):
        with pytest.raises(ConfigError):
            parse_auth(bad)
    f.write_text("bob\n", "utf-8")
    with pytest.raises(ConfigError, match=":1"):
        parse_auth(str(f))
    assert is_loopback("127.0.0.2") and not is_loopback("0.0.0.0")
    assert not is_loopback("192.168.1.5") and not is_loopback("example.org")


@pytest.mark.parametrize(("name", "expected"), [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system.PDF", "system.pdf"),
    ("/abs/path/标准 GB-T 1.1.docx", "标准 GB-T 1.1.docx"),
    ("两江新区质量强区建设实施方案(2024-2027).txt", PLAN),
    ("ＧＢ／Ｔ　１．１．ＰＤＦ", "GB／T 1.1.pdf"),
    ("．．／．．／etc／passwd.txt", "etc／passwd.txt"),
    ("evil\x00name\n.txt", "evilname.txt"),
    ("..", "upload"),
    ("", "upload"),
    (".hidden.md", "hidden.md"),
    ("a<b>c|d?.html", "a_b_c_d.html"),
])
def test_safe_filename(name: str, expected: str) -> None:
    from ui.render import safe_filename

    assert safe_filename(name) == expected


def test_safe_filename_is_short_and_flat() -> None:
    from ui.render import safe_filename

    n = safe_filename("长" * 500 + ".pdf")
    assert n.endswith(".pdf") and len(n) <= 110 and "/" not in n
    assert len(n.encode("utf-8")) <= 200  # file systems allow 255 bytes


def test_stage_uploads(tmp_path: Path) -> None:
    from ui.uploads import Upload, stage

    src = tmp_path / "in"
    src.mkdir()
    good = src / "good.TXT"
    good.write_text("第一条 内容。", "utf-8")
    big = src / "big.pdf"
    big.write_bytes(b"%PDF" + b"0" * (1024 * 1024 + 10))
    empty = src / "empty.md"
    empty.write_bytes(b"")
    exe = src / "tool.exe"
    exe.write_bytes(b"MZ")
    folder = tmp_path / "data" / "uploads"
    staged, rows = stage([Upload.of(str(p)) for p in (good, big, empty, exe, good)], folder, 1)
    status = {r.path: (r.status, r.reason) for r in rows}
    assert status["good.txt"][0] == "pending" and status["good-2.txt"][0] == "pending"
    assert status["big.pdf"][0] == "failed" and "过大" in status["big.pdf"][1]
    assert status["empty.md"][0] == "failed" and "空" in status["empty.md"][1]
    assert status["tool.exe"][0] == "failed" and "不支持" in status["tool.exe"][1]
    assert [p.name for p in staged] == ["good.txt", "good-2.txt"]
    assert all(p.resolve().parent == folder.resolve() and p.is_file() for p in staged)


BAD_NAMES = ["..\\..\\x.md", "..md", "../../etc/x.md", "a/b.md", "", "bad\nname.md",
             "....x.md"]


def test_upload_batch_with_bad_names_ingests_the_good_ones(tmp_path: Path) -> None:
    """Regression: a batch with unsafe names fails only those files, each with a one-line
    reason naming it; the good ones are ingested (before, ``..\\..\\x.md`` was silently
    renamed to x.md, replacing that document, and ``..md`` was reported as a file without a type)."""
    from ui.handlers import ChatApp
    from ui.uploads import Upload

    notes: list[tuple[str, str]] = []
    app = ChatApp(ui_settings(tmp_path), notify=lambda level, msg: notes.append((level, msg)))
    src = tmp_path / "in"
    src.mkdir()
    text = "第一条 为了规范标准化工作，制定本办法。\n第二条 本办法适用于两江新区。\n"
    files = []
    long = "很长的文件名" * 30 + ".txt"  # 540 bytes: used to stop the batch (name too long)
    for i, name in enumerate(["good.md", *BAD_NAMES, "好的.txt", long]):
        p = src / f"f{i}"  # where Gradio keeps it; the user's name may not be a valid path
        p.write_text(text, "utf-8")
        files.append(Upload(p, name))
    *_, (rows, summary, upload, table, *_rest) = app.ingest(files, [], [], None)
    assert upload is None and "导入完成" in summary, summary
    by_name = {r[0]: r for r in rows}
    assert [r[1] for r in rows].count("已添加") == 3, rows
    failed = [r for r in rows if r[1] == "失败"]
    assert len(failed) == len(BAD_NAMES), rows
    for r in failed:
        assert r[3] and "\n" not in r[0] + r[3] and "改名" in r[3], r
    assert "..\\..\\x.md" in by_name and "bad\\x0aname.md" in by_name, by_name
    stored = sorted(p.name for p in app.uploads.iterdir())
    assert len(stored) == 3 and stored[:2] == ["good.md", "好的.txt"], stored
    assert sorted(row[8] for row in table) == stored
    assert ("warning", f"{len(BAD_NAMES)} 个文件导入失败，原因见结果表") in notes


@pytest.mark.parametrize("name", BAD_NAMES)
def test_name_problem(name: str) -> None:
    from ui.uploads import name_problem

    assert name_problem(name)


def test_name_problem_accepts_ordinary_names() -> None:
    from ui.uploads import name_problem

    for name in ("GB／T 1.1—2020 标准化工作导则.pdf", "两江新区(2024-2027).txt", ".hidden.md",
                 "a.b.c.docx"):
        assert name_problem(name) == "", name


# --------------------------------------------------------------------------- handlers
def gr_skip() -> Any:
    import gradio as gr

    return gr.skip()


def test_handlers_without_a_browser(app: tuple[Any, Settings]) -> None:
    from ui.handlers import ChatApp

    notes: list[tuple[str, str]] = []
    h = ChatApp(app[1], app[0].ui_app.assistant, notify=lambda lv, m: notes.append((lv, m)))
    first = next(iter(h.chat("  ", [], [], None, None, False, None, {})))
    assert first == (gr_skip(),) * 3
    assert notes[-1] == ("warning", "请输入问题")
    steps = list(h.chat("两江新区质量强区建设的主要目标是什么？", None, None, ["policy"], None,
                        True, [PLAN], {}))
    _, msgs, turns = steps[-1]
    assert steps[0][0] == "" and len(msgs) == 2 and "sa-answer" in msgs[1]["content"]
    assert len(turns) == 1 and turns[0].citations[0].doc == PLAN
    table, docs, _, remove_sel, info = h.refresh([PLAN, "gone.pdf"], None, "gone.pdf")
    assert [r[8] for r in table] == [PLAN] and docs["value"] == [PLAN]
    assert remove_sel["value"] is None and "1 份文档" in info
    assert h.remove("gone.pdf", [], [])[0] == "文档库里没有 gone.pdf"
    assert h.export([]) is None and notes[-1][0] == "warning"
    assert Path(h.export(turns)).read_text("utf-8").startswith("# 对话导出")
    assert h.reset() == ([], [])
    assert h.apply("nonsense", "", "", "", None)[1] == "⚠ 这个服务器没有这种回答方式"
    assert h.apply("openai", "", "", "", None)[1].startswith("⚠ OpenAI 兼容接口需要")
    state, status = h.apply("extractive", "", "", "", None)
    assert state["mode"] == "extractive" and status.startswith("当前回答方式：抽取式")


def test_vote_on_a_cited_clause_is_stored_as_a_pair(app: tuple[Any, Settings], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """👍/👎 in the chat: the selector lists the last answer's citations; a mark appends one
    row (question, doc, clause, vote) to feedback.jsonl in the index directory, or in the
    cache dir when the index directory is read-only; bad states are one-line messages."""
    from ui.handlers import ChatApp

    notes: list[tuple[str, str]] = []
    h = ChatApp(app[1], app[0].ui_app.assistant, notify=lambda lv, m: notes.append((lv, m)))
    assert h.vote_up("1", []) == "⚠ 还没有回答可以标记：请先提问" and notes[-1][0] == "warning"
    question = "两江新区质量强区建设的主要目标是什么？"
    *_, (_, _, turns) = h.chat(question, [], [], None, None, False, None, {})
    last = turns[-1]
    update, status = h.vote_choices(turns)
    assert status == "" and update["value"] is None
    assert update["choices"] == [(f"[{c.n}] {c.label()}", str(c.n)) for c in last.citations]
    assert h.vote_choices([])[0]["choices"] == []
    assert h.vote_down(None, turns) == "⚠ 请先选择要标记的来源条文"
    assert h.vote_up("99", turns) == "⚠ 请先选择要标记的来源条文"
    file = app[1].index / "feedback.jsonl"
    before = file.read_text("utf-8").splitlines() if file.exists() else []

    c1, c2 = last.citations[0], last.citations[-1]
    msg = h.vote_up(str(c1.n), turns)
    assert msg == f"已记录：👍 {c1.label()}" and notes[-1] == ("info", msg)
    assert h.vote_down(str(c2.n), turns) == f"已记录：👎 {c2.label()}"
    rows = [json.loads(line) for line in file.read_text("utf-8").splitlines()][len(before):]
    assert [(r["question"], r["gold"], r["negative"], r["source"]) for r in rows] == [
        (question, [{"doc": c1.doc, "clause": c1.clause}], [], "feedback"),
        (question, [], [{"doc": c2.doc, "clause": c2.clause}], "feedback")]
    assert c1.doc == PLAN and c1.clause

    # a follow-up is stored as the question it was resolved to (what tune embeds alone)
    followup = Answer("那保障措施呢？", "…", False, last.citations,
                      resolved_question="两江新区质量强区建设的保障措施是什么？")
    h.vote_up(str(c1.n), [*turns, followup])
    assert json.loads(file.read_text("utf-8").splitlines()[-1])["question"] == \
        "两江新区质量强区建设的保障措施是什么？"
    assert h.vote_up("1", [Answer("火星？", "未涵盖", True, [])]) == \
        "⚠ 上一个回答没有引用条文，无可标记"

    # a read-only index directory: the mark goes to the cache dir, and the status says so
    real_access = os.access
    monkeypatch.setattr("assistant.feedback.os.access",
                        lambda p, mode: False if Path(p) == app[1].index else real_access(p, mode))
    msg = h.vote_up(str(c1.n), turns)
    cached = Path(app[1].cache_dir) / "feedback" / "feedback.jsonl"
    assert msg.startswith(f"已记录：👍 {c1.label()}（文档库目录不可写，已存到 ") and str(cached) in msg
    assert json.loads(cached.read_text("utf-8").splitlines()[-1])["gold"][0]["doc"] == c1.doc
    # the cache dir not writable either: one line, nothing raised
    monkeypatch.setattr("assistant.feedback.record_feedback",
                        lambda *a, **k: (_ for _ in ()).throw(PermissionError(13, "Permission denied", "/x")))
    assert h.vote_down(str(c1.n), turns) == "未能记录：Permission denied（/x）"
    assert notes[-1][0] == "warning"


# --------------------------------------------------------------------------- LLM endpoint
class FakeLLM(BaseHTTPRequestHandler):
    """An OpenAI-compatible chat endpoint that records each request's Authorization header."""

    protocol_version = "HTTP/1.1"
    REPLY = "两江新区到2027年建成质量强区[1]。"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        self.server.auth.append(self.headers.get("Authorization", ""))  # type: ignore[attr-defined]
        msg = {"role": "assistant", "content": self.REPLY}
        if body.get("stream"):
            chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                     "choices": [{"index": 0, "delta": msg, "finish_reason": "stop"}]}
            data, ctype = f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode(), "text/event-stream"
        else:
            data = json.dumps({"id": "c", "object": "chat.completion", "created": 0, "model": "m",
                               "choices": [{"index": 0, "message": msg, "finish_reason": "stop"}],
                               "usage": {"prompt_tokens": 1, "completion_tokens": 1,
                                         "total_tokens": 2}}).encode()
            ctype = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def fake_llm() -> Iterator[tuple[str, list[str]]]:
    """(base URL, Authorization headers received) of a FakeLLM on a random loopback port."""
    srv = ThreadingHTTPServer(("127.0.0.1", 0), FakeLLM)
    srv.auth = []  # type: ignore[attr-defined]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/v1", srv.auth  # type: ignore[attr-defined]
    finally:
        srv.shutdown()
        srv.server_close()


def _ask_with(app: tuple[Any, Settings], settings: Settings, url: str, key: str) -> str:
    """Apply the settings tab's values in a session on ``settings`` and ask; the answer HTML."""
    from ui.handlers import ChatApp

    h = ChatApp(settings, app[0].ui_app.assistant, notify=lambda lv, m: None)
    llm, status = h.apply("openai", url, "m", key, 10)
    assert isinstance(llm, dict), status
    *_, (_, msgs, _) = h.chat("两江新区质量强区建设的主要目标是什么？", [], [], None, None,
                             False, None, llm)
    return msgs[-1]["content"]


@pytest.mark.skipif(importlib.util.find_spec("llama_index.llms.openai_like") is None,
                    reason="llama-index-llms-openai-like is not installed")
def test_server_key_never_goes_to_a_user_url(app: tuple[Any, Settings], fake_llm: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: with ASSISTANT_LLM_API_KEY set, a URL typed in 设置 with a blank key got
    ``Authorization: Bearer <server key>``. Now only the server's own endpoint gets it."""
    url, auth = fake_llm
    monkeypatch.setenv("ASSISTANT_LLM_API_KEY", "secret")
    elsewhere = ui_settings(app[1].data_dir.parent, llm_base_url="http://127.0.0.1:9/v1",
                            llm_model="m")
    assert elsewhere.llm_api_key == "secret"
    html = _ask_with(app, elsewhere, url, "")
    assert "sa-answer" in html and "建成质量强区" in html, html
    assert auth and all("secret" not in a for a in auth), auth
    auth.clear()
    _ask_with(app, elsewhere, url, "mine")  # a typed key goes where it was typed for
    assert auth and all(a == "Bearer mine" for a in auth), auth
    auth.clear()
    # the server's own endpoint (spelt with a trailing slash) does get the server's key
    own = ui_settings(app[1].data_dir.parent, llm_base_url=url, llm_model="m")
    _ask_with(app, own, url.upper().replace("/V1", "/v1/"), "")
    assert auth and all(a == "Bearer secret" for a in auth), auth


def test_for_user_endpoint() -> None:
    base = Settings(llm_base_url="https://llm.example.org/v1", llm_model="big",
                    llm_api_key="secret", host="127.0.0.1")
    s = base.for_user_endpoint("openai", "HTTPS://LLM.example.org:443/v1/", "", "", None)
    assert (s.llm_base_url, s.llm_api_key, s.llm_model) == ("https://llm.example.org/v1",
                                                             "secret", "big")
    assert base.for_user_endpoint("openai", "", "small", "", 5).llm_api_key == "secret"
    assert base.for_user_endpoint("openai", "", "", "mine", None).llm_api_key == "mine"
    for other in ("http://llm.example.org/v1", "https://llm.example.org:8443/v1",
                  "https://llm.example.org/v2", "https://llm.example.org.evil.com/v1",
                  "https://llm.example.org@evil.com/v1", "https://evil.com/v1?https://llm.example.org/v1"):
        s = base.for_user_endpoint("openai", other, "m", "", None)
        assert s.llm_base_url == other and s.llm_api_key == "", other
        assert base.for_user_endpoint("openai", other, "m", "k", None).llm_api_key == "k"
    with pytest.raises(ConfigError, match="http"):
        base.for_user_endpoint("openai", "file:///etc/passwd", "m", "", None)


def test_endpoint_change_is_an_admin_setting_off_loopback(tmp_path: Path) -> None:
    from ui.app import build
    from ui.handlers import ChatApp

    public = ui_settings(tmp_path, host="0.0.0.0", auth="a:b",
                         llm_base_url="http://10.0.0.5:8000/v1", llm_model="m", llm_api_key="k")
    assert not public.endpoint_change_allowed()
    same = public.for_user_endpoint("openai", "http://10.0.0.5:8000/v1/", "other", "", None)
    assert same.llm_api_key == "k" and same.llm_model == "other"
    with pytest.raises(ConfigError, match="ASSISTANT_UI_ALLOW_ENDPOINT_CHANGE"):
        public.for_user_endpoint("openai", "http://127.0.0.1:1/v1", "m", "", None)
    h = ChatApp(public, notify=lambda lv, m: None)
    state, status = h.apply("openai", "http://127.0.0.1:1/v1", "m", "", 10)
    assert state == {"__type__": "update"} and "ASSISTANT_UI_ALLOW_ENDPOINT_CHANGE" in status

    def url_box(s: Settings) -> dict[str, Any]:
        comps = build(s).config["components"]
        return next(c["props"] for c in comps if c["props"].get("elem_id") == "sa-base-url")

    assert url_box(public)["interactive"] is False
    opened = public.with_overrides(ui_allow_endpoint_change=True)
    assert opened.endpoint_change_allowed() and url_box(opened)["interactive"] is not False
    assert opened.for_user_endpoint("openai", "http://127.0.0.1:1/v1", "m", "", None).llm_api_key == ""
    assert not ui_settings(tmp_path, ui_allow_endpoint_change=False).endpoint_change_allowed()
    assert ui_settings(tmp_path).endpoint_change_allowed()  # loopback


def test_allow_endpoint_change_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_UI_ALLOW_ENDPOINT_CHANGE", "true")
    assert Settings(host="0.0.0.0").endpoint_change_allowed()
    monkeypatch.setenv("ASSISTANT_UI_ALLOW_ENDPOINT_CHANGE", "false")
    assert not Settings().endpoint_change_allowed()


# --------------------------------------------------------------------------- logins
def test_login_throttle_locks_for_growing_delays() -> None:
    from ui.auth import LoginThrottle

    now = [1000.0]  # a clock the test moves
    th = LoginThrottle(limit=5, window=60, base=30, cap=100, clock=lambda: now[0])
    for _ in range(4):
        th.failed("alice")
        now[0] += 1
    assert th.retry_after("alice") == 0
    th.failed("alice")
    assert th.retry_after("alice") == 30 and th.retry_after("bob") == 0
    now[0] += 31
    assert th.retry_after("alice") == 0
    for _ in range(5):
        th.failed("alice")
    assert th.retry_after("alice") == 60  # the second lockout is twice as long
    now[0] += 61
    for _ in range(5):
        th.failed("alice")
    assert th.retry_after("alice") == 100  # capped
    th.succeeded("alice")
    assert th.retry_after("alice") == 0
    # failures spread wider than the window do not add up
    for _ in range(10):
        th.failed("carol")
        now[0] += 15
    assert th.retry_after("carol") == 0


def test_login_throttle_forgets_old_names() -> None:
    from ui.auth import LoginThrottle

    now = [1000.0]  # a clock the test moves
    th = LoginThrottle(limit=2, window=10, base=30, max_names=3, clock=lambda: now[0])
    for name in ("a", "b", "c", "d", "e"):
        th.failed(name)
        now[0] += 20
    assert len(th._records) <= 3
    th.failed("e")
    assert th.retry_after("e") == 0  # the first failure was outside the window


def test_login_refuses_after_failures_even_the_right_password() -> None:
    from ui.auth import Login, LoginThrottle

    now = [1000.0]  # a clock the test moves
    login = Login([("alice", "s3cret"), ("李", "密码")], LoginThrottle(clock=lambda: now[0]))
    assert login("alice", "s3cret") and login("李", "密码")
    assert not login("alice", "S3cret") and not login("nobody", "s3cret")
    assert not login("alice", "密码")  # non-ASCII against ASCII: no TypeError
    for _ in range(4):
        assert not login("alice", "wrong")
    assert not login("alice", "s3cret")  # locked now
    assert login("李", "密码")  # other users are not
    now[0] += 31
    assert login("alice", "s3cret")


# --------------------------------------------------------------------------- rendering
def _cit(n: int, **kw: Any) -> Citation:
    base = {"doc": "gb.pdf", "title": "标准化工作导则", "std_no": "GB/T 1.1—2020", "clause": "8.6",
            "heading": "8 要素的编写 > 8.6 规范性引用文件", "page": "12", "status": "现行",
            "quote": "规范性引用文件……", "text": "8.6 规范性引用文件\n全文 <b>不是标签</b>"}
    base.update(kw)
    return Citation(n=n, **base)


def test_render_answer_sources_and_warnings() -> None:
    from ui.render import render_answer

    a = Answer(question="q", answer="应列出文件[1]，旧版见[2]。[7]", refused=False,
               citations=[_cit(1), _cit(2, std_no="GB/T 1.1—2009", status="废止",
                                       warning="已废止，现行版本：GB/T 1.1—2020")])
    h = render_answer(a)
    assert "\n" not in h
    assert 'sa-cite sa-cite-n-1' in h and 'sa-cite sa-cite-n-2' in h
    assert "sa-cite-n-7" not in h and "[7]" in h  # an unknown marker stays plain text
    assert 'details class="sa-src sa-n-1"' in h
    assert 'sa-src sa-n-2 sa-src-warn' in h and "现行版本：GB/T 1.1—2020" in h
    assert "GB/T 1.1—2020 8.6" in h and "第 12 页" in h and "8 要素的编写" in h
    assert "&lt;b&gt;不是标签&lt;/b&gt;" in h  # clause text is escaped
    assert "#1a7f37" in h and "#cf222e" in h  # 现行 green, 废止 red
    assert "sa-refusal" not in h


def test_render_refusal_is_distinct() -> None:
    from ui.render import render_answer

    h = render_answer(Answer(question="q", answer="文档未涉及。", refused=True))
    assert "sa-refusal" in h and "未涵盖" in h and "sa-answer" not in h


def test_export_markdown() -> None:
    from ui.render import export_markdown

    a = Answer(question="规范性引用文件怎么写？", answer="应列出文件[1]。", refused=False,
               citations=[_cit(1, text="")])
    md = export_markdown([a], clause_text=lambda c: "8.6 全文")
    assert "## 问题 1：规范性引用文件怎么写？" in md
    assert "1. [1] GB/T 1.1—2020 标准化工作导则 8.6（8 要素的编写 > 8.6 规范性引用文件，第 12 页，现行）" in md
    assert "   > 8.6 全文" in md


def test_ui_package_does_not_load_gradio_into_assistant() -> None:
    import subprocess
    import sys

    code = ("import sys, assistant.service, assistant.cli, ui.render; "
            "print('gradio' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_app_has_the_draft_check_tab(app: tuple[Any, Settings]) -> None:
    """The 草案检查 tab is part of the served app, with its upload and run controls."""
    demo = app[0]
    tabs = [b for b in demo.blocks.values() if type(b).__name__ == "Tab"]
    assert "草案检查" in [t.label for t in tabs]
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert {"chk-upload", "chk-run", "chk-export", "chk-table"} <= ids
