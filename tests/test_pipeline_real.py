"""End to end with the real default embedder on the built-in corpus: ingest, dense and
hybrid retrieval order Chinese queries semantically, and answers cite the right section."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.ingest import ingest
from assistant.service import Assistant

from .conftest import CORPUS

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory, real_cache: Path) -> Assistant:
    tmp = tmp_path_factory.mktemp("real")
    root = tmp / "corpus"
    shutil.copytree(CORPUS, root)
    s = Settings(index=tmp / "index", cache_dir=real_cache)
    report = ingest([root], s, progress=False)
    assert not report.failed and report.pending == 0
    return Assistant(s)


@pytest.mark.parametrize(
    ("query", "clause"),
    [
        # paraphrases that share few words with the section they mean
        ("有没有打算用人工智能大模型来做质量和标准服务？", "（二十四）"),
        ("质量工作需要的资金和人员怎么保障", "（二十九）"),
        ("要不要扶持专门做标准化咨询的服务机构", "（二十）"),
    ],
)
def test_dense_finds_the_section_a_paraphrase_means(assistant, query, clause):
    labels = [h.chunk.clause for h in assistant.search(query, k=5, mode="dense")]
    assert clause in labels, labels


def test_manifest_names_the_real_embedder(assistant):
    m = assistant.index.manifest
    assert m["embedder"]["dim"] == 384 and "e5-small" in m["embedder"]["id"]


def test_answer_cites_the_goal_section(assistant):
    ans = assistant.ask("两江新区到2027年的质量发展目标是什么？")
    assert not ans.refused
    assert any(c.clause in ("（二）", "前言") for c in ans.citations)
    assert "2027" in ans.answer


def test_unrelated_question_is_refused(assistant):
    ans = assistant.ask("红烧肉怎么做才好吃？")
    assert ans.refused
