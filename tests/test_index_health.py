"""A damaged or contended index (issue 14): the writer lock between two real ingest
processes, the vector store checked against the chunk table and repaired by ``ingest``,
and one-line errors for each damaged file. Real Chroma on disk, fake embedder."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.config import Settings
from assistant.errors import IndexBusy, IndexDamaged
from assistant.health import VERDICT_KEY, check_vectors
from assistant.index import COLLECTION, Index
from assistant.ingest import ingest
from assistant.lock import LOCK_FILE, writer_active
from assistant.retrieve import Retriever
from assistant.service import Assistant

from .conftest import ROOT

runner = CliRunner()
QUERY = "第七条 登记机关应当公开办理程序"

_DIGITS = "零一二三四五六七八九"


def _cn(n: int) -> str:
    """1..99 in Chinese numerals, as article numbers are written."""
    tens, ones = divmod(n, 10)
    return ((_DIGITS[tens] if tens > 1 else "") + ("十" if tens else "")
            + (_DIGITS[ones] if ones or not tens else ""))


def _laws(root: Path, docs: int, articles: int) -> Path:
    """``docs`` made-up laws of ``articles`` articles each (one chunk per article)."""
    root.mkdir(parents=True)
    for d in range(1, docs + 1):
        body = "\n\n".join(f"第{_cn(a)}条 第{d}号测试法的第{a}项规定：登记机关应当公开办理程序，"
                           f"申请人提交第{a}类材料，主管部门在{a}日内答复。"
                           for a in range(1, articles + 1))
        (root / f"测试法{d:02d}.md").write_text(f"# 第{d}号测试法\n\n{body}\n", "utf-8")
    return root


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    return {**os.environ, "ASSISTANT_INDEX": str(settings.index), "ASSISTANT_EMBED_MODEL": "fake",
            "ASSISTANT_CACHE_DIR": str(settings.cache_dir), **extra}


def _cli(settings: Settings, *args: str, timeout: float = 600, **env: str
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], cwd=ROOT,
                          env=_env(settings, **env), capture_output=True, text=True,
                          timeout=timeout)


def _one_line_error(r: subprocess.CompletedProcess[str], *needles: str) -> str:
    """The command failed cleanly: exit status 1 (no crash), one line on stderr."""
    assert r.returncode == 1, (r.returncode, r.stderr[-2000:])
    err = r.stderr.strip()
    assert "\n" not in err and "Traceback" not in err, err
    for n in needles:
        assert n in err, (n, err)
    return err


def _cli_error(r, *needles: str) -> str:  # type: ignore[no-untyped-def]
    """The same through typer's runner: a clean exit 1, not an exception escaping."""
    assert r.exit_code == 1 and isinstance(r.exception, SystemExit), (r.output, r.exception)
    err = r.stderr.strip()
    assert "\n" not in err and "Traceback" not in err, err
    for n in needles:
        assert n in err, (n, err)
    return err


def _consistent(settings: Settings) -> Index:
    idx = Index.open(settings)
    health = idx.vector_health(fresh=True)
    assert health.state == "ok", health
    assert idx.count(pending=True) == 0 and health.vectors == idx.count() > 0
    return idx


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(laws folder, index) big enough that Chroma has persisted its vector index
    (600 chunks: it does so every 1,000 writes), built once and copied by each test."""
    base = tmp_path_factory.mktemp("built")
    laws = _laws(base / "laws", 15, 40)
    s = Settings(index=base / "index", cache_dir=base / "cache", embed_model="fake")
    r = ingest([laws], s, progress=False)
    assert r.count("added") == 15 and r.pending == 0
    assert list((base / "index" / "chroma").glob("*/index_metadata.pickle"))
    return laws, base / "index"


@pytest.fixture
def copied(built: tuple[Path, Path], settings: Settings) -> Path:
    """A copy of the built index at ``settings.index``; returns the laws folder."""
    shutil.copytree(built[1], settings.index)
    return built[0]


# ---------------------------------------------------------------- 2. two writers
def test_a_second_ingest_fails_fast_or_waits_and_the_index_stays_whole(settings, tmp_path):
    laws = _laws(tmp_path / "laws", 20, 12)
    first = subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", "-q", str(laws)],
                             cwd=ROOT, env=_env(settings), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while not writer_active(settings.index):
        assert first.poll() is None and time.time() < deadline, first.communicate()
        time.sleep(0.01)
    # Freeze the first writer while it holds the lock, so that the second one meets it.
    os.kill(first.pid, signal.SIGSTOP)
    try:
        assert (settings.index / LOCK_FILE).read_text().strip() == str(first.pid)
        busy = _cli(settings, "ingest", "-q", str(laws), ASSISTANT_LOCK_TIMEOUT="0.5")
        _one_line_error(busy, "being written by another process", f"pid {first.pid}")

        waiting = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "ingest", "--json", str(laws)], cwd=ROOT,
            env=_env(settings, ASSISTANT_LOCK_TIMEOUT="600"), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        lock = (settings.index / LOCK_FILE).resolve()
        while not any(Path(f).resolve() == lock for f in _open_files(waiting.pid)):
            assert waiting.poll() is None and time.time() < deadline, waiting.communicate()
            time.sleep(0.05)
        time.sleep(1.0)
        assert waiting.poll() is None  # blocked on the lock, not writing
    finally:
        os.kill(first.pid, signal.SIGCONT)
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-2000:]
    assert "20 added" in out
    out, err = waiting.communicate(timeout=600)
    assert waiting.returncode == 0, err[-2000:]
    report = json.loads(out)
    # it ran after the first had finished: nothing left to add or embed
    assert report["unchanged"] == 20 and report["added"] == 0 and report["embedded"] == 0
    _consistent(settings)
    dense = _cli(settings, "search", QUERY, "--mode", "dense", "--json")
    assert dense.returncode == 0 and dense.stdout.strip(), dense.stderr[-2000:]


def _open_files(pid: int) -> list[str]:
    fds = Path(f"/proc/{pid}/fd")
    try:
        return [os.readlink(f) for f in fds.iterdir()]
    except OSError:  # exited, or a descriptor closed while listing
        return []


def test_remove_through_the_service_takes_the_same_lock(copied, settings):
    """The UI's library tab removes through Assistant.remove: it waits for a writer too."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom pathlib import Path\n"
         "from assistant.lock import WriterLock\n"
         "with WriterLock(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(600)\n",
         str(settings.index)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        a = Assistant(settings.with_overrides(lock_timeout=0.3))
        doc = sorted(a.index.documents())[0]
        with pytest.raises(IndexBusy, match=f"pid {holder.pid}"):
            a.remove(doc)
        assert doc in Index.open(settings).documents()
    finally:
        holder.kill()
        holder.wait()
    assert a.remove(doc)
    assert doc not in Index.open(settings).documents()
    _consistent(settings)


def test_vectors_deleted_behind_sqlites_back_are_reported_and_reembedded(copied, settings):
    idx = Index.open(settings)
    gone = sorted(idx.get_chunks([c.id for c in idx.chunks_of("测试法03.md")]))[:7]
    idx.collection.delete(ids=gone)
    n = idx.count()

    r = runner.invoke(app, ["--index", str(settings.index), "--embed-model", "fake", "info"])
    assert r.exit_code == 0, r.output
    assert f"vectors:    PARTIAL: 7 of {n} embedded chunks have no vector" in r.output
    assert "re-embed with: assistant --index" in r.output
    assert Index.open(settings).vector_health().state == "partial"

    rep = ingest([copied], settings, progress=False)
    assert rep.count("unchanged") == 15 and rep.embedded == 7
    assert "7 of" in rep.repaired and "7 chunks queued" in rep.repaired
    idx = _consistent(settings)
    assert set(gone) <= set(idx.collection.get(ids=gone, include=[])["ids"])


def test_a_damaged_vector_index_is_refused_not_crashed_and_rebuilt(copied, settings):
    """Chroma's persisted vector index no longer matches its database, as two writers at
    once left it: a query would crash or hang. Search refuses in one line instead."""
    meta = next((settings.index / "chroma").glob("*/index_metadata.pickle"))
    m = pickle.loads(meta.read_bytes())
    for cid in list(m["id_to_label"])[::2]:
        m["label_to_id"].pop(m["id_to_label"].pop(cid))
    meta.write_bytes(pickle.dumps(m))

    info = _cli(settings, "info")
    assert info.returncode == 0 and "vectors:    DAMAGED:" in info.stdout, info.stderr
    for mode in ("hybrid", "dense"):
        bad = _cli(settings, "search", QUERY, "--mode", mode)
        _one_line_error(bad, "chroma/ does not match its own database", "re-embed with:",
                        "--mode bm25")
    assert _cli(settings, "search", QUERY, "--mode", "bm25").returncode == 0
    # the probe's verdict is kept: a second look does not probe again
    idx = Index.open(settings)
    assert json.loads(idx.state(VERDICT_KEY) or "[]")[1]

    rep = ingest([copied], settings, progress=False)
    assert "does not match" in rep.repaired and rep.embedded == idx.count()
    _consistent(settings)
    ok = _cli(settings, "search", QUERY, "--mode", "dense", "--json")
    assert ok.returncode == 0 and ok.stdout.strip(), ok.stderr[-2000:]


def test_a_trusted_store_is_not_probed_again(copied, settings, monkeypatch):
    """After a locked write the store's fingerprint is on record: opening it for search
    costs no probe (a child process); a store changed behind the writer's back is probed."""
    import assistant.health as health

    calls: list[Path] = []
    monkeypatch.setattr(health, "probe", lambda chroma, col, timeout=0: calls.append(chroma) or "")
    idx = Index.open(settings)
    assert check_vectors(idx, COLLECTION).state == "ok" and calls == []
    hits = Retriever(idx, settings).search(QUERY, k=3)
    assert hits and calls == []
    idx.collection.delete(ids=[hits[0].chunk.id])
    assert check_vectors(Index.open(settings), COLLECTION).state == "partial"
    assert len(calls) == 1


# ---------------------------------------------------------------- 7. vector store missing
def test_a_missing_vector_store_is_said_and_reembedded(copied, settings):
    shutil.rmtree(settings.index / "chroma")
    n = Index.open(settings).count()
    r = runner.invoke(app, ["--index", str(settings.index), "--embed-model", "fake", "info"])
    assert r.exit_code == 0 and f"vectors:    MISSING: {settings.index / 'chroma'}/ is missing, " \
        f"yet {n} chunks are marked embedded" in r.output, r.output
    for mode in ("hybrid", "dense"):
        r = runner.invoke(app, ["--index", str(settings.index), "--embed-model", "fake",
                                "search", QUERY, "--mode", mode])
        _cli_error(r, "is missing", "re-embed with:", "ingest")
    with pytest.raises(IndexDamaged, match="is missing"):
        Retriever(Index.open(settings), settings).search(QUERY)
    assert Retriever(Index.open(settings), settings).search(QUERY, mode="bm25")

    rep = ingest([copied], settings, progress=False)
    assert rep.embedded == n and "is missing" in rep.repaired
    idx = _consistent(settings)
    assert Retriever(idx, settings).search(QUERY, k=3, mode="dense")


# ---------------------------------------------------------------- 6. damaged files
def _invoke(settings: Settings, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--index", str(settings.index), "--embed-model", "fake", *args])


@pytest.mark.parametrize("damage", ["truncated", "overwritten"])
def test_damaged_chunks_sqlite_is_one_line(copied, settings, damage):
    """Truncated, the file fails as it opens; with garbage over pages in its middle, it
    opens and fails as those pages are read (here: the keyword index, lost, is rebuilt
    from every chunk). Both name the file and the rebuild, wherever they surface."""
    db = settings.index / "chunks.sqlite"
    middle = db.stat().st_size // 2 // 4096 * 4096
    if damage == "truncated":
        os.truncate(db, middle)
    else:
        with db.open("r+b") as f:
            f.seek(middle)
            f.write(b"\xa5" * 4096 * 8)
        shutil.rmtree(settings.index / "bm25")
        with pytest.raises(IndexDamaged, match=r"chunks\.sqlite is damaged"):
            list(Index.open(settings).iter_chunks())
    needles = (str(db), "is damaged", f"rm -r {settings.index}", "ingest", str(copied))
    _one_line_error(_cli(settings, "search", QUERY), *needles)
    for args in (["ingest", "-q", str(copied)], ["search", QUERY, "--mode", "bm25"]):
        _cli_error(_invoke(settings, *args), *needles)
    if damage == "truncated":
        for args in (["info"], ["docs"]):
            _cli_error(_invoke(settings, *args), *needles)


def test_garbage_chroma_sqlite_is_one_line_and_ingest_rebuilds(copied, settings):
    bad = settings.index / "chroma" / "chroma.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    r = _cli(settings, "search", QUERY)
    _one_line_error(r, str(bad), "is unreadable", "re-embed with:", "ingest")
    assert "DAMAGED" in _invoke(settings, "info").output
    r = _invoke(settings, "ingest", "-q", str(copied))
    assert r.exit_code == 0 and "repaired:" in r.output, r.output
    _consistent(settings)
    assert _cli(settings, "search", QUERY, "--mode", "dense").returncode == 0


@pytest.mark.parametrize("content", ["[]", "{}", '{"embedder": null}', "{not json"])
def test_damaged_manifest_is_one_line(copied, settings, content):
    (settings.index / "manifest.json").write_text(content, "utf-8")
    needles = (str(settings.index / "manifest.json"), "is damaged",
               f"rm -r {settings.index}", str(copied))
    for args in (["info"], ["search", QUERY], ["ingest", "-q", str(copied)]):
        err = _cli_error(_invoke(settings, *args), *needles)
        assert "ASSISTANT_EMBED_MODEL" not in err and "None" not in err


def test_damage_errors_pass_other_sqlite_errors_through(settings, tmp_path):
    ingest([_laws(tmp_path / "laws", 1, 3)], settings, progress=False)
    idx = Index.open(settings)
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        idx._db.execute("SELECT * FROM nothing_here")
