"""The Gradio app: served in-process on a small index (fake embedder) and called through
``gradio_client``; binding safety, upload names and the HTML/Markdown rendering."""

from __future__ import annotations

import socket
from collections.abc import Iterator
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


def test_stage_uploads(tmp_path: Path) -> None:
    from ui.app import UIState

    s = ui_settings(tmp_path, upload_max_mb=1)
    st = UIState(s)
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
    staged, rows = st.stage_uploads([str(good), str(big), str(empty), str(exe), str(good)])
    status = {r.path: (r.status, r.reason) for r in rows}
    assert status["good.txt"][0] == "pending" and status["good-2.txt"][0] == "pending"
    assert status["big.pdf"][0] == "failed" and "过大" in status["big.pdf"][1]
    assert status["empty.md"][0] == "failed" and "空" in status["empty.md"][1]
    assert status["tool.exe"][0] == "failed" and "不支持" in status["tool.exe"][1]
    uploads = (tmp_path / "data" / "uploads").resolve()
    assert [p.name for p in staged] == ["good.txt", "good-2.txt"]
    assert all(p.resolve().parent == uploads and p.is_file() for p in staged)


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
