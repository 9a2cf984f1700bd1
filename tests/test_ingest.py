"""Ingestion into a real Chroma store on disk (fake embedder): incremental, prune, bad input,
manifest, embedder mismatch, and a kill -9 in the middle."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.errors import IndexMismatch, IndexMissing
from assistant.index import Index
from assistant.ingest import ingest
from assistant.retrieve import Retriever

from .conftest import CORPUS, LAWS, ROOT, copy_laws, needs_shared

POLICY = next(CORPUS.glob("*.txt"))


def _corpus(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    shutil.copy(POLICY, root / POLICY.name)
    (root / "notes.md").write_text("# 检验检测机构质量管理办法\n\n第一条 为了规范检验检测机构的内部质量控制，"
                                   "制定本办法。\n\n第二条 检验报告应当由授权签字人签发。\n\n"
                                   "第三条 本办法自发布之日起施行。\n", "utf-8")
    return root


def test_ingest_then_unchanged_then_updated_then_pruned(settings, tmp_path):
    root = _corpus(tmp_path)
    r1 = ingest([root], settings, progress=False)
    assert r1.count("added") == 2 and not r1.failed
    assert r1.embedded > 0 and r1.pending == 0

    m = json.loads((settings.index / "manifest.json").read_text("utf-8"))
    assert m["embedder"]["id"] == "fake-ngram-256" and m["embedder"]["dim"] == 256
    assert m["documents"] == 2 and m["chunks"] == r1.embedded and m["embedded"] == m["chunks"]
    assert m["chunker_version"] and m["created"] and m["updated"]

    r2 = ingest([root], settings, progress=False)
    assert r2.count("unchanged") == 2 and r2.embedded == 0

    (root / "notes.md").write_text("# 检验检测机构质量管理办法\n\n第一条 本办法规定实验室的人员培训要求。\n\n"
                                   "第二条 本办法自发布之日起施行。\n", "utf-8")
    r3 = ingest([root], settings, progress=False)
    assert r3.count("updated") == 1 and r3.count("unchanged") == 1
    idx = Index.open(settings)
    texts = [c.text for c in idx.chunks_of("notes.md")]
    assert len(texts) == 2 and "人员培训" in texts[0]
    # the old chunk's vector went with it
    assert idx.collection.count() == idx.count()

    (root / "notes.md").unlink()
    r4 = ingest([root], settings, progress=False, prune=True)
    assert r4.count("removed") == 1
    idx = Index.open(settings)
    assert list(idx.documents()) == [POLICY.name]
    assert idx.collection.count() == idx.count()


def test_bad_inputs_are_reported_and_the_rest_indexed(settings, tmp_path):
    root = _corpus(tmp_path)
    (root / "empty.txt").write_bytes(b"")
    (root / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (root / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<")
    (root / "slides.pptx").write_bytes(b"PK\x03\x04")
    r = ingest([root], settings, progress=False)
    failed = {f.path: f.reason for f in r.failed}
    assert set(failed) == {"empty.txt", "binary.txt", "broken.pdf", "slides.pptx"}
    for path, reason in failed.items():
        assert path in reason and "\n" not in reason and "Traceback" not in reason
    assert r.count("added") == 2


def test_other_embedder_is_refused(settings, tmp_path):
    ingest([_corpus(tmp_path)], settings, progress=False)
    other = settings.with_overrides(embed_model="some/other-model")
    with pytest.raises(IndexMismatch, match="rebuild"):
        Index.open(other, embedder_id="some-other-model")


def test_missing_index_message(settings):
    with pytest.raises(IndexMissing, match="assistant ingest"):
        Index.open(settings)


def test_keyword_search_works_before_embedding(settings, tmp_path):
    ingest([_corpus(tmp_path)], settings, progress=False, embed=False)
    idx = Index.open(settings)
    assert idx.count(pending=True) == idx.count() > 0
    hits = Retriever(idx, settings).search("授权签字人签发检验报告", k=3)
    assert hits and hits[0].chunk.doc == "notes.md" and hits[0].chunk.clause == "第二条"


@needs_shared()
def test_kill_9_mid_ingest_leaves_a_working_index(settings, tmp_path):
    rels = [line.strip() for line in (LAWS.parent / "quality-subset.txt").read_text("utf-8").splitlines()
            if line.strip()][:40]
    root = copy_laws(tmp_path / "laws", rels)
    env = {**os.environ, "ASSISTANT_INDEX": str(settings.index), "ASSISTANT_EMBED_MODEL": "fake",
           "ASSISTANT_CACHE_DIR": str(settings.cache_dir)}
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", "-q", str(root)],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # kill once some documents are committed but before the run ends
    deadline = time.time() + 60
    db = settings.index / "chunks.sqlite"
    while time.time() < deadline and proc.poll() is None:
        if db.exists():
            try:
                import sqlite3

                n = sqlite3.connect(db).execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            except Exception:
                n = 0
            if n >= 5:
                break
        time.sleep(0.05)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    idx = Index.open(settings)
    partial = len(idx.documents())
    assert partial >= 1
    assert Retriever(idx, settings).search("产品质量", k=3)  # opens and answers
    r = ingest([root], settings, progress=False)
    assert not r.failed
    idx = Index.open(settings)
    assert len(idx.documents()) == len(rels)
    assert idx.count(pending=True) == 0
    assert idx.collection.count() == idx.count()


def test_tokenizer_change_retokenizes_without_reembedding(settings, tmp_path):
    root = _corpus(tmp_path)
    ingest([root], settings, progress=False)
    idx = Index.open(settings)
    idx._db.execute("UPDATE chunks SET tokens='stale'")
    idx._db.commit()
    idx.update_manifest(tokenizer="old-tokenizer")
    r = ingest([root], settings, progress=False)
    assert r.count("unchanged") == 2 and r.embedded == 0
    idx = Index.open(settings)
    assert idx.manifest["tokenizer"] != "old-tokenizer"
    hits = Retriever(idx, settings).search("授权签字人", k=1, mode="bm25")
    assert hits and hits[0].chunk.clause == "第二条"


def test_vector_recipe_change_reembeds_and_dense_search_keeps_working(settings, tmp_path):
    from assistant.embed import VECTOR_RECIPE

    root = _corpus(tmp_path)
    ingest([root], settings, progress=False)
    idx = Index.open(settings)
    assert idx.manifest["vectors"] == VECTOR_RECIPE
    n = idx.count()
    idx.mark_all_pending("something-new")  # as an older recipe's index looks to a new build
    idx.update_manifest(vectors="old-recipe")
    idx = Index.open(settings)
    assert idx.count(pending=True) == n
    # every chunk waits for a new vector, yet the old vectors still answer dense queries
    hits = Retriever(idx, settings).search("授权签字人签发检验报告", k=3, mode="dense")
    assert hits and any(h.chunk.clause == "第二条" for h in hits)
    r = ingest([root], settings, progress=False)
    assert r.count("unchanged") == 2 and r.embedded == n and r.pending == 0
    idx = Index.open(settings)
    assert idx.manifest["vectors"] == VECTOR_RECIPE
    assert idx.collection.count() == n  # replaced, not duplicated


def test_references_are_counted_at_ingest_and_follow_changes(settings, tmp_path):
    root = tmp_path / "laws"
    root.mkdir()
    (root / "甲法.md").write_text(
        "# 中华人民共和国甲法\n\n第一条 为了规范甲事项，制定本法。\n\n第二条 甲事项应当登记。\n\n"
        "第三条 违反本法第二条规定的，责令改正。\n", "utf-8")
    (root / "乙条例.md").write_text(
        "# 乙条例\n\n第一条 根据《中华人民共和国甲法》，制定本条例。\n\n"
        "第二条 登记依照甲法第二条和第三条办理。\n", "utf-8")
    ingest([root], settings, progress=False)
    idx = Index.open(settings)
    refs = idx.references()
    assert refs.doc_in == {"甲法.md": 1}
    assert refs.clause_in == {("甲法.md", "第二条"): 2, ("甲法.md", "第三条"): 1}
    assert not idx.references_stale()
    (root / "乙条例.md").unlink()
    ingest([root], settings, progress=False, prune=True)
    idx = Index.open(settings)
    assert idx.references().doc_in == {}
    assert idx.references().clause_in == {("甲法.md", "第二条"): 1}


def test_search_does_not_import_llama_index(settings, tmp_path):
    """Searching reads Chroma directly: llama-index (a second of imports) is for writing."""
    ingest([_corpus(tmp_path)], settings, progress=False)
    code = ("import sys\n"
            "from assistant.config import Settings\n"
            "from assistant.index import Index\n"
            "from assistant.retrieve import Retriever\n"
            "s = Settings(embed_model='fake')\n"
            "hits = Retriever(Index.open(s), s).search('授权签字人签发检验报告', k=3)\n"
            "assert hits and hits[0].chunk.doc == 'notes.md', hits\n"
            "print(sorted(m for m in ('llama_index', 'chromadb') if m in sys.modules))\n")
    env = {**os.environ, "ASSISTANT_INDEX": str(settings.index),
           "ASSISTANT_CACHE_DIR": str(settings.cache_dir)}
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "['chromadb']"  # dense search ran, without llama-index


def test_keyword_index_rebuilt_only_when_something_changed(settings, tmp_path, monkeypatch):
    root = _corpus(tmp_path)
    ingest([root], settings, progress=False)
    assert not Index.open(settings).bm25_stale()
    calls: list[int] = []
    real = Index.rebuild_bm25
    monkeypatch.setattr(Index, "rebuild_bm25", lambda self: (calls.append(1), real(self))[1])
    ingest([root], settings, progress=False)
    assert calls == []  # unchanged: the persisted index is current
    (root / "notes.md").write_text("# 检验检测机构质量管理办法\n\n第一条 样品应当留存六个月。\n", "utf-8")
    ingest([root], settings, progress=False)
    assert calls == [1]
    hits = Retriever(Index.open(settings), settings).search("样品留存", k=1, mode="bm25")
    assert hits and hits[0].chunk.doc == "notes.md" and "留存" in hits[0].chunk.text
    shutil.rmtree(settings.index / "bm25")  # lost or half-copied: rebuilt, not trusted
    assert Index.open(settings).bm25_stale()
    ingest([root], settings, progress=False)
    assert calls == [1, 1]


def _doc(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# {path.stem}\n\n第一条 {text}\n", "utf-8")
    return path


def test_prune_with_a_file_argument_removes_nothing(settings, tmp_path):
    """Issue 14 #4: `ingest FILE --prune` removed every other document of the file's folder."""
    root = _corpus(tmp_path)
    other = _doc(root / "other.md", "本办法由市场监管部门解释。")
    ingest([root], settings, progress=False)
    before = set(Index.open(settings).documents())
    assert len(before) == 3
    other.unlink()  # gone, yet a file argument prunes nothing, not even that
    r = ingest([root / "notes.md"], settings, progress=False, prune=True)
    assert r.count("removed") == 0 and r.count("unchanged") == 1
    assert set(Index.open(settings).documents()) == before


def test_prune_only_within_the_folders_given(settings, tmp_path, monkeypatch):
    a = tmp_path / "a"
    b = tmp_path / "b"
    _doc(a / "甲.md", "甲办法的规定。")
    _doc(a / "sub" / "乙.md", "乙办法的规定。")
    _doc(b / "丙.md", "丙办法的规定。")
    monkeypatch.chdir(tmp_path)
    ingest([Path("a"), Path("b")], settings, progress=False)  # relative, from tmp_path
    (a / "sub" / "乙.md").unlink()
    (b / "丙.md").unlink()
    # from elsewhere, by absolute path: only a's gone file goes; b's waits for b
    monkeypatch.chdir(ROOT)
    r = ingest([a], settings, progress=False, prune=True)
    assert [f.path for f in r.files if f.status == "removed"] == ["sub/乙.md"]
    assert set(Index.open(settings).documents()) == {"甲.md", "丙.md"}
    r = ingest([b], settings, progress=False, prune=True)
    assert [f.path for f in r.files if f.status == "removed"] == ["丙.md"]
    idx = Index.open(settings)
    assert set(idx.documents()) == {"甲.md"} and idx.collection.count() == idx.count()


def test_same_relative_path_in_two_folders_is_an_error_naming_both(settings, tmp_path):
    """Issue 14 #5: `ingest dirA dirB` with notice.md in each said "2 added" and kept one."""
    a = _doc(tmp_path / "docs" / "dirA" / "notice.md", "甲单位的通知。")
    b = _doc(tmp_path / "docs" / "dirB" / "notice.md", "乙单位的通知。")
    _doc(tmp_path / "docs" / "dirB" / "other.md", "其他规定。")
    r = ingest([a.parent, b.parent], settings, progress=False)
    assert r.count("added") == 2 and len(r.failed) == 1
    reason = r.failed[0].reason
    assert str(a) in reason and str(b) in reason and "common parent folder" in reason
    idx = Index.open(settings)
    assert set(idx.documents()) == {"notice.md", "other.md"}
    assert "甲单位" in idx.chunks_of("notice.md")[0].text  # the first one, not replaced
    # the same file named twice is no collision; single-folder ids are as they were
    r = ingest([a.parent, a], settings, progress=False)
    assert not r.failed and r.count("unchanged") == 1
    r = ingest([tmp_path / "docs"], settings, progress=False)
    assert {f.path for f in r.files} == {"dirA/notice.md", "dirB/notice.md", "dirB/other.md"}


def test_configured_recipe_is_recorded_and_auto_keeps_the_index_recipe(settings, tmp_path):
    from assistant.embed.recipe import RECIPES

    root = _corpus(tmp_path)
    passage = settings.model_copy(update={"embed_recipe": "passage"})
    ingest([root], passage, progress=False)
    idx = Index.open(settings)
    n = idx.count()
    assert idx.manifest["vectors"] == RECIPES["passage"] and idx.count(pending=True) == 0
    # auto: the index's own recipe, nothing re-embedded
    r = ingest([root], settings.model_copy(update={"embed_recipe": "auto"}), progress=False)
    assert r.embedded == 0 and Index.open(settings).manifest["vectors"] == RECIPES["passage"]
    # another recipe named: every chunk re-embedded, recorded
    r = ingest([root], settings.model_copy(update={"embed_recipe": "two-view"}), progress=False)
    assert r.embedded == n
    assert Index.open(settings).manifest["vectors"] == RECIPES["two-view"]
