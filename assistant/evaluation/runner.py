"""``run_eval``: datasets × systems → TREC files, metrics.json, report.md, plots.

Each dataset is resolved to the target it runs on (a corpus folder ingested into a cached
index, generated fixtures, or an existing index); one environment (index, retriever,
systems, answerer) is opened per target and shared by the datasets on it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import AssistantError, ConfigError
from .corpora import FixtureUnavailable, cached_index, fixture_corpus, mixed_corpus
from .datasets import (
    DatasetSpec,
    Question,
    load_questions,
    project_root,
    rel_path,
    resolve_datasets,
)
from .reporting import finish
from .scoring import DEPTH, DatasetRun, RetrieverSystem, SearchSystem, run_answers, run_system

BASELINES = ("bm25", "dense", "llamaindex-default")

Plan = list[tuple[DatasetSpec, list[Question], str]]


@dataclass
class _Env:
    label: str
    settings: Settings
    index: Any
    systems: list[SearchSystem]
    answerer: Any = None


@dataclass
class _Options:
    """What every environment is opened with."""

    settings: Settings
    embedder: Any
    baselines: bool | Sequence[str]
    answers: bool
    progress: bool
    cost: dict[str, Any]


def _settings_info(settings: Settings) -> dict[str, Any]:
    return {k: getattr(settings, k) for k in (
        "embed_model", "fusion", "bm25_weight", "dense_weight", "rrf_k", "candidates",
        "reranker", "rerank_depth", "answer_mode", "min_relevance")}


def _make_progress(enabled: bool) -> Any:
    if not enabled:
        return contextlib.nullcontext(None)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn())


def run_eval(datasets: Sequence[Path | str], settings: Settings, corpus: Path | None = None,
             out: Path | None = None, baselines: bool | Sequence[str] = False,
             compare: Path | None = None,
             limit: int | None = None, answers: bool = False, progress: bool = True, *,
             index: Path | None = None, thresholds: dict[str, Any] | None = None
             ) -> dict[str, Any]:
    """Evaluate ``datasets`` and write the results to ``out`` (default eval/runs/<timestamp>).

    Where each dataset runs: ``corpus`` (ingested into a cached index) when given; else
    ``index`` (an existing index) when given; else the corpus its manifest entry names;
    else ``settings.index``. Returns the metrics dict (``violations`` lists threshold
    failures; ``out`` is where the files are).
    """
    from ..embed import get_embedder, warm

    t_start = time.perf_counter()
    if limit is not None and limit <= 0:
        raise ConfigError(f"--limit must be greater than 0. Currently, it is {limit}")
    if corpus is not None and not Path(corpus).is_dir():
        raise AssistantError(f"{corpus}: --corpus must be a folder of documents")
    specs = resolve_datasets(list(datasets))
    out = out or Path("eval") / "runs" / datetime.now().strftime("%Y%m%d-%H%M%S")
    embedder = get_embedder(settings)
    warm(embedder)  # many queries: the query engine ready before the first
    opts = _Options(settings, embedder, baselines, answers, progress,
                    {"indexes": {}, "baselines": {}})
    runs: list[DatasetRun] = []
    fixture_dirs: dict[str, Path] = {}
    plan = _plan(specs, settings, corpus, index, limit, fixture_dirs, runs)
    envs: dict[str, _Env] = {}
    try:
        for _, _, target in plan:
            if target not in envs:
                envs[target] = _open_env(target, fixture_dirs, opts)
        runs += _run_plan(plan, envs, answers, progress)
    finally:
        for env in envs.values():
            with contextlib.suppress(Exception):
                env.index.close()
    order = {spec.name: i for i, spec in enumerate(specs)}
    runs.sort(key=lambda r: order.get(r.name, len(order)))
    opts.cost["wall_s"] = round(time.perf_counter() - t_start, 1)
    info = _settings_info(settings)
    info["embedder"] = getattr(embedder, "id", "")
    metrics = finish(runs, out, opts.cost, info, compare, thresholds)
    metrics["out"] = str(out)
    return metrics


def _plan(specs: Sequence[DatasetSpec], settings: Settings, corpus: Path | None,
          index: Path | None, limit: int | None, fixture_dirs: dict[str, Path],
          skipped: list[DatasetRun]) -> Plan:
    """(dataset, its questions, the target it runs on) for each dataset that can run;
    the others are appended to ``skipped`` with the reason. Fixture corpora are generated
    here, into ``fixture_dirs``."""
    plan: Plan = []
    for spec in specs:
        if spec.skipped:
            skipped.append(DatasetRun(spec.name, spec.corpus, [], skipped=spec.skipped,
                                      description=spec.description))
            continue
        if corpus is not None:
            target = str(Path(corpus).resolve())
        elif index is not None:
            target = f"index:{index}"
        elif spec.corpus.startswith(("fixtures:", "mix:")):
            target = spec.corpus + ":" + ",".join(spec.fixtures)
            if target not in fixture_dirs:
                try:
                    fixture_dirs[target] = (
                        mixed_corpus(spec.corpus[4:], spec.parts, spec.fixtures, settings)
                        if spec.corpus.startswith("mix:") else
                        fixture_corpus(spec.corpus[9:], spec.fixtures, settings))
                except FixtureUnavailable as e:
                    skipped.append(DatasetRun(spec.name, spec.corpus, [], skipped=str(e),
                                              description=spec.description))
                    continue
        elif spec.corpus:
            target = str((project_root() / spec.corpus).resolve())
        else:
            target = f"index:{settings.index}"
        plan.append((spec, load_questions(spec.file, limit), target))
    return plan


def _open_env(target: str, fixture_dirs: dict[str, Path], opts: _Options) -> _Env:
    """Open (ingesting first when needed) the index of ``target`` and its systems."""
    from ..index import Index
    from ..retrieve import Retriever

    embedder = opts.embedder
    if target.startswith("index:"):
        s = opts.settings.with_overrides(index=Path(target[6:]))
        info: dict[str, Any] = {"index": target[6:], "ingested": False}
    else:
        cdir = fixture_dirs.get(target) or Path(target)
        s, info = cached_index(cdir, opts.settings, opts.progress, getattr(embedder, "id", ""))
    try:  # refuse an index built with another embedder (its vectors would not match)
        idx = Index.open(s, embedder_id=getattr(embedder, "id", ""))
    except TypeError:
        idx = Index.open(s)
    st = idx.stats()
    info.update(documents=st.get("documents"), chunks=st.get("chunks"),
                size_bytes=st.get("size_bytes"))
    opts.cost["indexes"][_display_target(target)] = info
    retriever = Retriever(idx, s, embedder=embedder)
    systems = _systems(retriever, idx, s, target, opts)
    answerer = None
    if opts.answers:
        from ..answer import Answerer

        answerer = Answerer(retriever, s)
    return _Env(target, s, idx, systems, answerer)


def _systems(retriever: Any, idx: Any, s: Settings, target: str,
             opts: _Options) -> list[SearchSystem]:
    """Hybrid, plus the baselines asked for (all of them with ``baselines=True``)."""
    systems: list[SearchSystem] = [RetrieverSystem(retriever, "hybrid")]
    wanted = set(BASELINES) if opts.baselines is True else set(opts.baselines or ())
    systems += [RetrieverSystem(retriever, m) for m in ("bm25", "dense") if m in wanted]
    if "llamaindex-default" in wanted:
        from ..baselines import LlamaIndexDefault, baseline_cache_dir

        b = LlamaIndexDefault(idx.iter_chunks(), opts.embedder,
                              baseline_cache_dir(Path(s.cache_dir), opts.embedder.id))
        systems.append(b)
        opts.cost["baselines"][f"{b.name} ({_display_target(target)})"] = b.describe()
    return systems


def _run_plan(plan: Plan, envs: dict[str, _Env], answers: bool,
              progress: bool) -> list[DatasetRun]:
    """Every system (and the answerer) over every planned dataset, under one progress bar."""
    runs = []
    total = sum(len(qs) * (len(envs[t].systems) + (1 if answers else 0)) for _, qs, t in plan)
    with _make_progress(progress) as bar:
        task = bar.add_task("eval", total=total) if bar is not None else None

        def label(text: str) -> None:
            if bar is not None and task is not None:
                bar.update(task, description=text)

        def tick() -> None:
            if bar is not None and task is not None:
                bar.advance(task)

        for spec, qs, target in plan:
            env = envs[target]
            run = DatasetRun(spec.name, _display_target(target), qs,
                             description=spec.description)
            for system in env.systems:
                label(f"{spec.name} · {system.name}")
                run.systems[system.name] = run_system(system, qs, DEPTH, tick)
            if env.answerer is not None:
                label(f"{spec.name} · answers")
                run.answers = run_answers(env.answerer, qs, tick)
            runs.append(run)
    return runs


def _display_target(target: str) -> str:
    if target.startswith(("fixtures:", "mix:")):
        return target.split(":")[0] + ":" + target.split(":")[1]
    if target.startswith("index:"):
        return target
    return rel_path(Path(target))
