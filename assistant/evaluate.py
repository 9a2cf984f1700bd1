"""The evaluation harness's public names, from where they live in ``assistant.evaluation``.

Datasets (``evaluation.datasets``), corpora and the index cache (``evaluation.corpora``),
running and scoring systems (``evaluation.scoring``), metrics.json/report/gate
(``evaluation.reporting``) and ``run_eval`` (``evaluation.runner``). Kept so that
``from assistant.evaluate import run_eval`` and the names the docs cite keep working.
"""

from __future__ import annotations

from .evaluation.corpora import (
    READY,
    FixtureUnavailable,
    cached_index,
    corpus_files,
    corpus_key,
    fixture_corpus,
)
from .evaluation.datasets import (
    DatasetSpec,
    Question,
    load_manifest,
    load_questions,
    manifest_path,
    project_root,
    resolve_datasets,
    shared_root,
)
from .evaluation.reporting import (
    ANSWER_KEYS,
    EVAL_FORMAT,
    LOWER_IS_BETTER,
    RETRIEVAL_KEYS,
    SHORT,
    build_metrics,
    check_thresholds,
    compare_metrics,
    finish,
    iter_violations,
    load_thresholds,
    peak_rss_mb,
    write_plots,
    write_report,
    write_trec_files,
)
from .evaluation.runner import BASELINES, run_eval
from .evaluation.scoring import (
    CURVE_KS,
    DEPTH,
    AnswerResult,
    DatasetRun,
    QuestionResult,
    RetrieverSystem,
    SearchSystem,
    SystemResult,
    hits_to_items,
    run_answers,
    run_system,
    score_question,
    summarize_answers,
    summarize_system,
    worst_missed,
)

__all__ = [
    "ANSWER_KEYS", "BASELINES", "CURVE_KS", "DEPTH", "EVAL_FORMAT", "LOWER_IS_BETTER", "READY",
    "RETRIEVAL_KEYS", "SHORT", "AnswerResult", "DatasetRun", "DatasetSpec",
    "FixtureUnavailable", "Question", "QuestionResult", "RetrieverSystem", "SearchSystem",
    "SystemResult", "build_metrics", "cached_index", "check_thresholds", "compare_metrics",
    "corpus_files", "corpus_key", "finish", "fixture_corpus", "hits_to_items",
    "iter_violations", "load_manifest", "load_questions", "load_thresholds", "manifest_path",
    "peak_rss_mb", "project_root", "resolve_datasets", "run_answers", "run_eval",
    "run_system", "score_question", "shared_root", "summarize_answers", "summarize_system",
    "worst_missed", "write_plots", "write_report", "write_trec_files",
]
