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


# Tiers: `pytest -m "not slow"` is the quick unit tier; `bash scripts/test.sh` runs
# everything. The hook below marks `slow` every test that is slow by nature (a real model,
# Chromium, ../shared) and those measured slow with `--durations` although they need none
# of these: subprocesses, torch, rendered PDFs and OCR, damaged-index recovery, a served
# Gradio app, training loops.
SLOW_MARKERS = ("integration", "browser", "shared")
NEEDS_SHARED = "../shared/corpus/laws not present"  # needs_shared()'s reason: reads ../shared
SLOW_MODULES = frozenset({
    "tests/test_retrieve.py",  # ingests laws from ../shared (skips in a fixture, unmarked)
})
SLOW_TESTS = frozenset({  # node ids, without parameters (all of a test's cases)
    "tests/test_check_bench.py::test_docx_and_pdf_drafts",
    "tests/test_check_bench.py::test_recall_precision_and_clean_drafts_markdown",
    "tests/test_cli.py::test_ingest_search_info_docs_show",
    "tests/test_embed_cpu.py::test_this_cpu_agrees_with_torch",
    "tests/test_evaluate.py::test_finish_draws_plots",
    "tests/test_evaluate.py::test_llamaindex_baseline_maps_chunks_to_clauses",
    "tests/test_evaluate.py::test_run_eval_fake_embedder_on_builtin_corpus",
    "tests/test_index_health.py::test_a_damaged_vector_index_is_refused_not_crashed_and_rebuilt",
    "tests/test_index_health.py::test_a_missing_vector_store_is_said_and_reembedded",
    "tests/test_index_health.py::test_a_second_ingest_fails_fast_or_waits_and_the_index_stays_whole",
    "tests/test_index_health.py::test_damaged_chunks_sqlite_is_one_line",
    "tests/test_index_health.py::test_garbage_chroma_sqlite_is_one_line_and_ingest_rebuilds",
    "tests/test_index_health.py::test_vectors_deleted_behind_sqlites_back_are_reported_and_reembedded",
    "tests/test_ingest.py::test_kill_9_mid_ingest_leaves_a_working_index",
    "tests/test_ingest.py::test_search_does_not_import_llama_index",
    "tests/test_library.py::test_bm25_and_exact_lookups_find_the_same_clauses",
    "tests/test_library.py::test_clause_labels_and_metadata_exact",
    "tests/test_library.py::test_scanned_pdf_is_ocrd_page_by_page",
    "tests/test_library.py::test_text_equals_source_modulo_whitespace",
    "tests/test_load.py::test_docx_zip_bomb_is_refused_fast_with_little_memory",
    "tests/test_load.py::test_pdf_stream_bomb_is_refused",
    "tests/test_load.py::test_scanned_pdf_without_words_says_ocr_found_nothing",
    "tests/test_query_adapter.py::test_fit_learns_pairs_and_duplicates_are_not_negatives",
    "tests/test_query_adapter.py::test_tune_writes_a_better_adapter_and_refuses_a_worse",
    "tests/test_refusal_curve.py::test_report_has_the_curve_plot_and_the_held_out_part",
    "tests/test_rerank.py::test_real_cross_encoder_through_the_cli",
    "tests/test_rerank.py::test_reranker_errors_are_one_line",
    "tests/test_ui.py::test_ask_follow_up_and_filters",
    "tests/test_ui.py::test_ask_through_client",
    "tests/test_ui.py::test_documents_and_search_endpoints",
    "tests/test_ui.py::test_empty_question_is_a_short_error",
    "tests/test_ui.py::test_endpoint_change_is_an_admin_setting_off_loopback",
    "tests/test_ui.py::test_login_and_empty_library",
    "tests/test_ui.py::test_only_named_endpoints_are_public",
    "tests/test_ui.py::test_port_in_use_is_one_line",
    "tests/test_ui.py::test_ui_package_does_not_load_gradio_into_assistant",
})
SLOW_CASES = frozenset({  # single parameterised cases
    "tests/test_load.py::test_bad_inputs_one_line[scanned.pdf]",
})


def is_slow(item: pytest.Item) -> bool:
    """Whether ``item`` belongs to the slow tier (see SLOW_MARKERS and SLOW_TESTS)."""
    name = item.nodeid.split("[", 1)[0]
    if name in SLOW_TESTS or item.nodeid in SLOW_CASES or name.split("::")[0] in SLOW_MODULES:
        return True
    if any(item.get_closest_marker(m) for m in SLOW_MARKERS):
        return True
    return any(m.kwargs.get("reason") == NEEDS_SHARED for m in item.iter_markers("skipif"))


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if is_slow(item):
            item.add_marker(pytest.mark.slow)


def needs_shared() -> pytest.MarkDecorator:
    return pytest.mark.skipif(not LAWS.is_dir(), reason=NEEDS_SHARED)


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
