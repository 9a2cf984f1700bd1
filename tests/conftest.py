"""Shared fixtures: temporary settings with the fake embedder, and the ../shared data."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
LAWS = SHARED / "corpus" / "laws"
STARD = SHARED / "eval" / "stard-train.jsonl"
CORPUS = ROOT / "corpus"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def needs_shared() -> pytest.MarkDecorator:
    return pytest.mark.skipif(not LAWS.is_dir(), reason="../shared/corpus/laws not present")


@pytest.fixture
def settings(tmp_path: Path):
    """Settings with the deterministic fake embedder and everything under tmp_path."""
    from assistant.config import Settings

    return Settings(index=tmp_path / "index", cache_dir=tmp_path / "cache",
                    data_dir=tmp_path / "data", embed_model="fake")


@pytest.fixture(scope="session")
def real_cache() -> Path:
    """Cache dir for the real embedder: the user's model cache (ASSISTANT_CACHE_DIR or
    ~/.cache/standards-assistant), so the model is prepared once per machine, as in use."""
    from assistant.config import Settings

    return Path(Settings().cache_dir)


def copy_laws(dest: Path, rels: list[str]) -> Path:
    """Copy some law files (paths relative to corpus/laws) into dest, keeping their paths."""
    for rel in rels:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(LAWS / rel, target)
    return dest
