"""Without a catalogue, a standard's status follows the library: an indexed newer edition
that replaces it makes it 被代替 (docs, hits, answers), and removing that edition brings
its status back."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import load_settings
from assistant.service import Assistant

OLD, NEW = "GB/T 90002—2019", "GB/T 90002—2024"


def _standard(no: str, year: str, replaces: str = "") -> str:
    extra = f"replaces: {replaces}\n" if replaces else ""
    return (f"---\ntitle: 电动自行车用充电器安全要求\nstandard-number: {no}\n"
            f"issued: {year}-03-01\neffective: {year}-10-01\n{extra}---\n\n"
            "## 1 范围\n\n本文件规定了电动自行车用充电器的安全要求。\n\n"
            "## 4 技术要求\n\n### 4.1 输出电压\n\n充电器的输出电压偏差应不大于额定值的5%。\n\n"
            "### 4.2 温升\n\n充电器外壳的温升应不超过40 K。\n")


@pytest.fixture
def assistant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Assistant:
    monkeypatch.setenv("ASSISTANT_EMBED_MODEL", "fake")
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "lib"
    root.mkdir()
    (root / "old.md").write_text(_standard(OLD, "2019"), "utf-8")
    (root / "new.md").write_text(_standard(NEW, "2024", replaces=OLD), "utf-8")
    a = Assistant(load_settings(index=tmp_path / "index"))
    rep = a.ingest([root], progress=False)
    assert rep.count("added") == 2, rep.summary()
    return a


def test_replaced_edition_is_marked_everywhere(assistant: Assistant) -> None:
    docs = {i.meta.std_no: i.meta for i in assistant.index.documents().values()}
    assert docs[OLD].status == "被代替" and docs[OLD].replaced_by == NEW
    assert docs[NEW].status == "现行"
    hits = assistant.search("充电器外壳的温升", k=10)
    old_hits = [h for h in hits if h.chunk.std_no == OLD]
    assert old_hits, [h.chunk.std_no for h in hits]
    assert all(h.chunk.status == "被代替" and h.replaced_by == NEW for h in old_hits)
    ans = assistant.ask(f"{OLD} 的 4.2 对温升有什么要求？")
    cited = [c for c in ans.citations if c.std_no == OLD]
    assert cited and NEW in cited[0].warning


def test_removing_the_newer_edition_restores_the_status(assistant: Assistant) -> None:
    assert assistant.remove("new.md")
    meta = next(i.meta for i in assistant.index.documents().values())
    assert (meta.std_no, meta.status, meta.replaced_by) == (OLD, "现行", "")
    hits = assistant.search("充电器外壳的温升", k=3)
    assert hits and hits[0].chunk.status == "现行"
