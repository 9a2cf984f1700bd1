"""The evaluation harness: datasets × systems → TREC files, metrics.json, report.md, plots.

``run_eval`` resolves each dataset (a JSONL path or a name from ``eval/datasets/manifest.toml``)
to the corpus it runs on, ingests that corpus into a cached index (keyed by the content of
its files and the settings that change an index), runs every system over every question
(top 100, timed), optionally answers with the Answerer, and writes the results to ``out``.
The pieces (``run_system``, ``summarize_system``, ``finish`` …) work on any object with
``name`` and ``search(question, k) -> list[RankedItem]``, so they are tested with fakes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import resource
import sys
import time
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from .config import Settings
from .errors import AssistantError, ConfigError, QuestionFileError
from .metrics import (
    AnswerRecord,
    Pair,
    RankedItem,
    answer_metrics,
    dedupe_clauses,
    dedupe_ids,
    docid,
    first_gold_rank,
    latency_summary,
    mean_metrics,
    question_metrics,
    recall_curve,
    write_qrels,
    write_run,
)

DEPTH = 100
CURVE_KS = (1, 2, 3, 5, 10, 20, 30, 50, 100)
EVAL_FORMAT = 1
READY = "eval-ready.json"

# Metrics where smaller is better: a threshold on them is a maximum, a rise is a regression.
LOWER_IS_BETTER = {
    "false_refusal_rate", "flagged_share",
    "latency_ms_p50", "latency_ms_p95", "latency_ms_mean",
    "answer_latency_ms_p50", "answer_latency_ms_p95", "answer_latency_ms_mean",
}
# What report tables and regression checks look at, in order.
RETRIEVAL_KEYS = (
    "recall_at_1", "recall_at_5", "recall_at_10", "recall_at_100", "hit_at_10", "mrr_at_10",
    "ndcg_at_10", "recall_at_1k_chars", "recall_at_4k_chars", "recall_at_16k_chars",
)
ANSWER_KEYS = (
    "citation_precision", "citation_recall", "gold_cited_share", "refusal_accuracy",
    "false_refusal_rate", "rouge_l", "flagged_share",
)
SHORT = {
    "recall_at_1": "R@1", "recall_at_5": "R@5", "recall_at_10": "R@10", "recall_at_100": "R@100",
    "hit_at_10": "Hit@10", "mrr_at_10": "MRR@10", "ndcg_at_10": "nDCG@10",
    "recall_at_1k_chars": "R@1k ch", "recall_at_4k_chars": "R@4k ch",
    "recall_at_16k_chars": "R@16k ch", "latency_ms_p50": "p50 ms", "latency_ms_p95": "p95 ms",
}


def project_root() -> Path:
    """The project's root (the folder holding ``assistant/``)."""
    return Path(__file__).resolve().parents[1]


def shared_root() -> Path:
    """``../shared`` relative to the project root (may be absent)."""
    return project_root().parent / "shared"


# ------------------------------------------------------------------------------- datasets

@dataclass
class Question:
    id: str
    question: str
    gold: list[Pair]
    reference_answer: str = ""
    kind: str = ""

    @property
    def gold_set(self) -> set[Pair]:
        return set(self.gold)


def load_questions(path: Path, limit: int | None = None) -> list[Question]:
    """Read a JSONL dataset; a malformed line raises QuestionFileError naming file and line."""
    out: list[Question] = []
    seen: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise QuestionFileError(f"{path}: cannot read ({e.strerror or e})") from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            row = json.loads(line)
        except ValueError as e:
            raise QuestionFileError(f"{where}: not JSON ({e})") from None
        if not isinstance(row, dict) or not str(row.get("question", "")).strip():
            raise QuestionFileError(f"{where}: needs an object with a non-empty \"question\"")
        gold_raw = row.get("gold", [])
        if not isinstance(gold_raw, list):
            raise QuestionFileError(f"{where}: \"gold\" must be a list of {{doc, clause}}")
        gold: list[Pair] = []
        for g in gold_raw:
            if not isinstance(g, dict) or not g.get("doc") or not g.get("clause"):
                raise QuestionFileError(f"{where}: each gold item needs \"doc\" and \"clause\"")
            pair = (str(g["doc"]), str(g["clause"]))
            if pair not in gold:
                gold.append(pair)
        qid = str(row.get("id") or f"line{n}")
        if qid in seen:
            raise QuestionFileError(f"{where}: duplicate id {qid!r}")
        seen.add(qid)
        out.append(Question(qid, str(row["question"]).strip(), gold,
                            str(row.get("reference_answer") or ""), str(row.get("kind") or "")))
        if limit is not None and len(out) >= limit:
            break
    return out


@dataclass
class DatasetSpec:
    """One dataset and where it runs: a corpus directory, a fixture generator, or the index."""

    name: str
    file: Path
    corpus: str = ""  # a directory (relative to the project root), "fixtures:<name>", or ""
    fixtures: list[str] = field(default_factory=list)  # for fixtures: "<which>.<format>"
    optional: bool = False
    default: bool = True
    description: str = ""
    skipped: str = ""  # why it cannot run here (e.g. ../shared absent)


def manifest_path() -> Path:
    return project_root() / "eval" / "datasets" / "manifest.toml"


def load_manifest(path: Path | None = None) -> dict[str, DatasetSpec]:
    """The project's datasets, paths resolved against the project root."""
    path = path or manifest_path()
    if not path.exists():
        return {}
    root = project_root()
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out = {}
    for name, t in data.items():
        if not isinstance(t, dict) or "file" not in t:
            continue
        out[name] = DatasetSpec(
            name=name, file=(root / t["file"]).resolve(), corpus=str(t.get("corpus", "")),
            fixtures=[str(x) for x in t.get("fixtures", [])],
            optional=bool(t.get("optional", False)), default=bool(t.get("default", True)),
            description=str(t.get("description", "")),
        )
    return out


def resolve_datasets(datasets: Sequence[Path | str], manifest: dict[str, DatasetSpec] | None = None
                     ) -> list[DatasetSpec]:
    """Each argument is a JSONL path or a manifest name; none = the manifest's default sets.

    A manifest set whose file is absent is returned with ``skipped`` set when it is optional
    (``../shared`` data) and raises otherwise.
    """
    manifest = load_manifest() if manifest is None else manifest
    if not datasets:
        chosen = [s for s in manifest.values() if s.default]
    else:
        chosen = []
        by_file = {s.file: s for s in manifest.values()}
        for d in datasets:
            p = Path(d)
            if p.is_file():
                spec = by_file.get(p.resolve())
                chosen.append(spec if spec is not None else DatasetSpec(p.stem, p.resolve()))
            elif str(d) in manifest:
                chosen.append(manifest[str(d)])
            elif p.stem in manifest and p.suffix == ".jsonl" and not manifest[p.stem].file.exists():
                chosen.append(manifest[p.stem])
            else:
                known = ", ".join(sorted(manifest)) or "none"
                raise QuestionFileError(
                    f"{d}: no such dataset file or manifest name (known names: {known})")
    out = []
    for s in chosen:
        if not s.file.exists():
            if not s.optional:
                raise QuestionFileError(f"{s.file}: dataset '{s.name}' is missing")
            s = DatasetSpec(**{**s.__dict__, "skipped": f"{_rel(s.file)} not present"})
        elif s.corpus and not s.corpus.startswith("fixtures:"):
            cdir = (project_root() / s.corpus).resolve()
            if not cdir.is_dir():
                if not s.optional:
                    raise QuestionFileError(f"{cdir}: corpus of dataset '{s.name}' is missing")
                s = DatasetSpec(**{**s.__dict__, "skipped": f"{_rel(cdir)} not present"})
        out.append(s)
    return out


def _rel(p: Path) -> str:
    """A path for reports: relative to the project root ("../shared/…" beside it)."""
    p = p.resolve()
    with contextlib.suppress(ValueError):
        return p.relative_to(project_root()).as_posix() or "."
    with contextlib.suppress(ValueError):
        return "../" + p.relative_to(project_root().parent).as_posix()
    return str(p)


# ----------------------------------------------------------------------------- systems

BASELINES = ("bm25", "dense", "llamaindex-default")

class SearchSystem(Protocol):
    """What the harness needs from a system under test."""

    name: str

    def search(self, question: str, k: int) -> list[RankedItem]: ...


class RetrieverSystem:
    """The project's Retriever in one mode (hybrid, bm25 or dense)."""

    def __init__(self, retriever: Any, mode: str) -> None:
        self.retriever = retriever
        self.mode = mode
        self.name = mode

    def search(self, question: str, k: int) -> list[RankedItem]:
        return hits_to_items(self.retriever.search(question, k=k, mode=self.mode))


def hits_to_items(hits: Sequence[Any]) -> list[RankedItem]:
    """Hits (clause chunks) → ranked items, one per chunk, with the chunk's length."""
    return [
        RankedItem(h.chunk.id, float(h.score), frozenset({(h.chunk.doc, h.chunk.clause)}),
                   len(h.chunk.text))
        for h in hits
    ]


# ---------------------------------------------------------------------------- running

@dataclass
class QuestionResult:
    qid: str
    question: str
    kind: str
    gold: set[Pair]
    items: list[RankedItem]  # as returned (chunk level), best first
    latency_ms: float
    metrics: dict[str, float] | None = None  # None for unanswerable questions
    error: str = ""

    @property
    def ranked(self) -> list[RankedItem]:
        """Parts of one clause collapsed: the ranking that recall/MRR/nDCG score."""
        return dedupe_clauses(self.items)


@dataclass
class SystemResult:
    name: str
    results: list[QuestionResult] = field(default_factory=list)


@dataclass
class AnswerResult:
    qid: str
    kind: str
    record: AnswerRecord
    latency_ms: float
    citations: list[str] = field(default_factory=list)
    error: str = ""


@dataclass
class DatasetRun:
    name: str
    corpus: str
    questions: list[Question]
    systems: dict[str, SystemResult] = field(default_factory=dict)
    answers: list[AnswerResult] | None = None
    skipped: str = ""
    description: str = ""


def score_question(items: Sequence[RankedItem], gold: set[Pair]) -> dict[str, float] | None:
    """All ranking metrics of one question's result; None when it has no gold."""
    if not gold:
        return None
    return question_metrics(dedupe_clauses(items), gold, context_run=dedupe_ids(items))


def run_system(system: SearchSystem, questions: Sequence[Question], depth: int = DEPTH,
               tick: Callable[[], None] | None = None) -> SystemResult:
    """Ask every question, timing each search; a failing search scores zero, noted.

    One untimed warm-up search first, so that loading a model or an index is not charged
    to the first question's latency."""
    res = SystemResult(system.name)
    if questions:
        with contextlib.suppress(AssistantError):
            system.search(questions[0].question, depth)
    for q in questions:
        err = ""
        t0 = time.perf_counter()
        try:
            items = list(system.search(q.question, depth))[:depth]
        except AssistantError as e:
            items, err = [], str(e)
        ms = (time.perf_counter() - t0) * 1000.0
        gold = q.gold_set
        res.results.append(QuestionResult(q.id, q.question, q.kind, gold, items, ms,
                                          score_question(items, gold), err))
        if tick:
            tick()
    return res


def run_answers(answerer: Any, questions: Sequence[Question],
                tick: Callable[[], None] | None = None) -> list[AnswerResult]:
    """Answer every question with ``answerer.ask`` and reduce each Answer to a record
    (after one untimed warm-up question)."""
    out = []
    if questions:
        with contextlib.suppress(AssistantError):
            answerer.ask(questions[0].question)
    for q in questions:
        t0 = time.perf_counter()
        err = ""
        try:
            a = answerer.ask(q.question)
            cited = {(c.doc, c.clause) for c in a.citations}
            rec = AnswerRecord(q.gold_set, cited, bool(a.refused), bool(a.flags),
                               a.answer or "", q.reference_answer)
            labels = [docid(c.doc, c.clause) for c in a.citations]
        except AssistantError as e:
            err = str(e)
            rec = AnswerRecord(q.gold_set, set(), True, True, "", q.reference_answer)
            labels = []
        ms = (time.perf_counter() - t0) * 1000.0
        out.append(AnswerResult(q.id, q.kind, rec, ms, labels, err))
        if tick:
            tick()
    return out


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}


def summarize_system(sr: SystemResult) -> dict[str, Any]:
    """Mean metrics over answerable questions, latency, per-kind breakdown, recall curve."""
    scored = [r for r in sr.results if r.metrics is not None]
    out: dict[str, Any] = {"questions": len(sr.results), "scored": len(scored)}
    out.update(_clean(mean_metrics([r.metrics for r in scored if r.metrics is not None])))
    out.update(_clean(latency_summary([r.latency_ms for r in sr.results])))
    errors = [r for r in sr.results if r.error]
    if errors:
        out["errors"] = len(errors)
    by_kind: dict[str, list[QuestionResult]] = defaultdict(list)
    for r in scored:
        by_kind[r.kind or "-"].append(r)
    out["by_kind"] = {
        k: {"n": len(rs), **_clean(mean_metrics([r.metrics for r in rs if r.metrics]))}
        for k, rs in sorted(by_kind.items())
    }
    curve = recall_curve([r.ranked for r in scored], [r.gold for r in scored], CURVE_KS)
    out["recall_curve"] = {str(k): round(v, 4) for k, v in curve.items()}
    return out


def summarize_answers(ans: Sequence[AnswerResult]) -> dict[str, Any]:
    """Answer metrics overall and per kind, with answer latency."""
    out: dict[str, Any] = _clean(answer_metrics([a.record for a in ans]))
    out.update(_clean(latency_summary([a.latency_ms for a in ans], "answer_latency_ms")))
    errors = [a for a in ans if a.error]
    if errors:
        out["errors"] = len(errors)
    by_kind: dict[str, list[AnswerResult]] = defaultdict(list)
    for a in ans:
        by_kind[a.kind or "-"].append(a)
    out["by_kind"] = {k: _clean(answer_metrics([a.record for a in v]))
                      for k, v in sorted(by_kind.items())}
    return out


def build_metrics(runs: Sequence[DatasetRun], cost: dict[str, Any],
                  info: dict[str, Any] | None = None) -> dict[str, Any]:
    """The content of metrics.json."""
    ds: dict[str, Any] = {}
    for run in runs:
        entry: dict[str, Any] = {"corpus": run.corpus, "description": run.description}
        if run.skipped:
            entry["skipped"] = run.skipped
            ds[run.name] = entry
            continue
        entry["questions"] = len(run.questions)
        entry["answerable"] = sum(1 for q in run.questions if q.gold)
        entry["unanswerable"] = entry["questions"] - entry["answerable"]
        entry["systems"] = {name: summarize_system(sr) for name, sr in run.systems.items()}
        if run.answers is not None:
            entry["answers"] = summarize_answers(run.answers)
        ds[run.name] = entry
    return {
        "format": EVAL_FORMAT,
        "created": datetime.now().isoformat(timespec="seconds"),
        "settings": info or {},
        "datasets": ds,
        "cost": cost,
    }


# ----------------------------------------------------------------------------- gating

def load_thresholds(path: Path | None = None) -> dict[str, Any]:
    """``eval/thresholds.toml`` (or ``path``); {} when absent."""
    path = path or (project_root() / "eval" / "thresholds.toml")
    if not path.exists():
        return {}
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _lookup(entry: dict[str, Any], system: str | None, metric: str) -> float | None:
    if system == "answers":
        v = entry.get("answers", {}).get(metric)
    elif system is not None:
        v = entry.get("systems", {}).get(system, {}).get(metric)
    else:
        v = entry.get("systems", {}).get("hybrid", {}).get(metric)
        if v is None:
            v = entry.get("answers", {}).get(metric)
    return float(v) if isinstance(v, int | float) else None


def check_thresholds(metrics: dict[str, Any], thresholds: dict[str, Any]) -> list[str]:
    """Violations, one line each.

    ``[dataset] metric = x`` gates the ``hybrid`` system (or, for answer metrics, the
    answers); ``[dataset.<system>]`` and ``[dataset.answers]`` gate those. Metrics in
    ``LOWER_IS_BETTER`` are maxima, all others minima. Datasets that did not run (absent
    ``../shared``) and metrics not measured in this run (answers without ``--answers``,
    a baseline without ``--baselines``) are not checked.
    """
    out: list[str] = []
    datasets = metrics.get("datasets", {})
    for ds, table in thresholds.items():
        entry = datasets.get(ds)
        if not isinstance(table, dict) or entry is None or entry.get("skipped"):
            continue
        checks: list[tuple[str | None, str, float]] = []
        for key, val in table.items():
            if isinstance(val, dict):
                checks += [(key, m, float(x)) for m, x in val.items()]
            else:
                checks.append((None, key, float(val)))
        for system, metric, limit in checks:
            got = _lookup(entry, system, metric)
            if got is None:
                continue
            where = f"{ds}/{system or 'hybrid'}"
            if metric in LOWER_IS_BETTER:
                if got > limit:
                    out.append(f"{where} {metric} = {got:.3f} > {limit:.3f} (maximum)")
            elif got < limit:
                out.append(f"{where} {metric} = {got:.3f} < {limit:.3f} (minimum)")
    return out


def compare_metrics(new: dict[str, Any], old: dict[str, Any], tol: float = 0.01
                    ) -> tuple[list[str], list[tuple[str, str, str, float, float]]]:
    """(regressions, rows) of ``new`` against ``old`` metrics.json.

    Rows are (dataset, system, metric, old, new) for every metric both runs measured; a
    regression is a drop of more than ``tol`` on a higher-is-better metric, or a latency more
    than 25 % and 5 ms above the old one.
    """
    regs: list[str] = []
    rows: list[tuple[str, str, str, float, float]] = []
    for ds, entry in new.get("datasets", {}).items():
        oentry = old.get("datasets", {}).get(ds)
        if not oentry or entry.get("skipped") or oentry.get("skipped"):
            continue
        pairs: list[tuple[str, dict[str, Any], dict[str, Any], Sequence[str]]] = []
        for sysname, m in entry.get("systems", {}).items():
            om = oentry.get("systems", {}).get(sysname)
            if om:
                pairs.append((sysname, m, om, (*RETRIEVAL_KEYS, "latency_ms_p50", "latency_ms_p95")))
        if entry.get("answers") and oentry.get("answers"):
            pairs.append(("answers", entry["answers"], oentry["answers"],
                          (*ANSWER_KEYS, "answer_latency_ms_p50", "answer_latency_ms_p95")))
        for sysname, m, om, keys in pairs:
            for key in keys:
                a, b = om.get(key), m.get(key)
                if not isinstance(a, int | float) or not isinstance(b, int | float):
                    continue
                rows.append((ds, sysname, key, float(a), float(b)))
                line = f"{ds}/{sysname} {key}: {a:.3f} → {b:.3f} ({b - a:+.3f})"
                if "latency" in key:
                    if b > a * 1.25 and b - a > 5.0:
                        regs.append(line)
                elif key in LOWER_IS_BETTER:
                    if b > a + tol:
                        regs.append(line)
                elif b < a - tol:
                    regs.append(line)
    return regs, rows


# ------------------------------------------------------------------------------ output

def _f(v: Any, digits: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        if math.isnan(v):
            return "–"
        return f"{v:.{digits}f}"
    return str(v)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return [*lines, ""]


def _item_label(it: RankedItem) -> str:
    if len(it.contains) == 1:
        return docid(*next(iter(it.contains)))
    inner = ", ".join(sorted(c for _, c in it.contains)[:4])
    more = "…" if len(it.contains) > 4 else ""
    return f"{it.id} [{inner}{more}]"


def worst_missed(sr: SystemResult, n: int = 10) -> list[QuestionResult]:
    """Answerable questions whose gold is furthest down (absent first), then lowest recall@10."""
    scored = [r for r in sr.results if r.metrics is not None and r.metrics["recall_at_10"] < 1.0]

    def key(r: QuestionResult) -> tuple[float, float, str]:
        rank = first_gold_rank(r.ranked, r.gold)
        return (-(rank if rank is not None else math.inf),
                (r.metrics or {}).get("recall_at_10", 0.0), r.qid)

    return sorted(scored, key=key)[:n]


def write_report(path: Path, metrics: dict[str, Any], runs: Sequence[DatasetRun],
                 violations: Sequence[str], compare: tuple[Path, list[str], list[Any]] | None,
                 plots: Sequence[str]) -> None:
    """report.md: systems × metrics, per-kind breakdown, answers, cost, worst-missed,
    threshold violations and the comparison with an earlier run."""
    L: list[str] = [f"# Eval report — {metrics['created']}", ""]
    st = metrics.get("settings", {})
    if st:
        L += ["Settings: " + ", ".join(f"`{k}={v}`" for k, v in st.items()), ""]
    if violations:
        L += ["## Threshold violations", ""] + [f"- {v}" for v in violations] + [""]
    else:
        L += ["Thresholds: all met.", ""]
    for run in runs:
        entry = metrics["datasets"][run.name]
        L += [f"## {run.name}", ""]
        if run.description:
            L += [run.description, ""]
        if run.skipped:
            L += [f"Skipped: {run.skipped}.", ""]
            continue
        L += [f"Corpus `{run.corpus}`; {entry['questions']} questions "
              f"({entry['answerable']} answerable, {entry['unanswerable']} unanswerable).", ""]
        systems = entry.get("systems", {})
        if systems and entry["answerable"]:
            keys = (*RETRIEVAL_KEYS, "latency_ms_p50", "latency_ms_p95")
            L += _table(["system", *[SHORT.get(k, k) for k in keys]],
                        [[s, *[_f(m.get(k), 1 if "latency" in k else 3) for k in keys]]
                         for s, m in systems.items()])
            kinds = sorted({k for m in systems.values() for k in m.get("by_kind", {})})
            if len(kinds) > 1 or (kinds and kinds[0] != "-"):
                L += ["Per kind (R@10 / nDCG@10):", ""]
                rows = []
                for kind in kinds:
                    n = next((m["by_kind"][kind]["n"] for m in systems.values()
                              if kind in m.get("by_kind", {})), 0)
                    row = [kind, str(n)]
                    for m in systems.values():
                        bk = m.get("by_kind", {}).get(kind, {})
                        row.append(f"{_f(bk.get('recall_at_10'))} / {_f(bk.get('ndcg_at_10'))}")
                    rows.append(row)
                L += _table(["kind", "n", *systems], rows)
        elif systems:
            L += ["No answerable questions: retrieval metrics do not apply.", ""]
        ans = entry.get("answers")
        if ans:
            keys = (*ANSWER_KEYS, "answer_latency_ms_p50", "answer_latency_ms_p95")
            L += ["Answers (hybrid retriever + Answerer):", ""]
            L += _table([k.replace("answer_latency_ms", "ans ms") for k in keys],
                        [[_f(ans.get(k), 1 if "latency" in k else 3) for k in keys]])
        main = run.systems.get("hybrid") or next(iter(run.systems.values()), None)
        if main is not None:
            worst = worst_missed(main)
            if worst:
                L += [f"Worst-missed questions ({main.name}):", ""]
                rows = []
                for r in worst:
                    rank = first_gold_rank(r.ranked, r.gold)
                    got = "; ".join(_item_label(it) for it in r.ranked[:3]) or "(nothing)"
                    gold = "; ".join(docid(*g) for g in sorted(r.gold))
                    rows.append([r.qid, r.question.replace("|", "\\|")[:80], gold,
                                 str(rank) if rank else f">{DEPTH}", got.replace("|", "\\|")])
                L += _table(["id", "question", "gold", "gold rank", "top 3 returned"], rows)
    cost = metrics.get("cost", {})
    if cost:
        L += ["## Cost", ""]
        idx = cost.get("indexes", {})
        if idx:
            L += _table(
                ["corpus", "ingested now", "ingest s", "documents", "chunks", "index MB"],
                [[c, "yes" if v.get("ingested") else "no (cached)", _f(v.get("ingest_s"), 1),
                  _f(v.get("documents")), _f(v.get("chunks")),
                  _f((v.get("size_bytes") or 0) / 1e6, 1)] for c, v in idx.items()])
        for name, b in cost.get("baselines", {}).items():
            L += [f"- {name}: " + ", ".join(f"{k}={v}" for k, v in b.items())]
        L += [f"- peak RSS: {_f(cost.get('peak_rss_mb'), 0)} MB; "
              f"wall time {_f(cost.get('wall_s'), 1)} s", ""]
    if compare is not None:
        cdir, regs, rows = compare
        L += [f"## Comparison with `{cdir}`", ""]
        L += (["Regressions:", ""] + [f"- {r}" for r in regs] + [""]) if regs else \
             ["No regressions.", ""]
        if rows:
            L += _table(["dataset", "system", "metric", "before", "after", "Δ"],
                        [[d, s, k, _f(a), _f(b), f"{b - a:+.3f}"] for d, s, k, a, b in rows
                         if k in ("recall_at_10", "mrr_at_10", "ndcg_at_10", "recall_at_100",
                                  "latency_ms_p95", "citation_precision", "refusal_accuracy")])
    if plots:
        L += ["## Plots", ""] + [f"![{p}]({p})" for p in plots] + [""]
    path.write_text("\n".join(L), encoding="utf-8")


def write_plots(out: Path, metrics: dict[str, Any], runs: Sequence[DatasetRun]) -> list[str]:
    """recall_at_k.png (one panel per dataset, one line per system) and latency.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    panels = [(r.name, metrics["datasets"][r.name]) for r in runs
              if not r.skipped and metrics["datasets"][r.name].get("answerable")]
    if panels:
        fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), squeeze=False)
        for ax, (name, entry) in zip(axes[0], panels, strict=True):
            for sysname, m in entry.get("systems", {}).items():
                curve = m.get("recall_curve", {})
                ks = [int(k) for k in curve]
                ax.plot(ks, [curve[str(k)] for k in ks], marker="o", ms=3, label=sysname)
            ax.set_xscale("log")
            ax.set_ylim(0, 1.02)
            ax.set_xlabel("k")
            ax.set_ylabel("recall@k")
            ax.set_title(name)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "recall_at_k.png", dpi=100)
        plt.close(fig)
        written.append("recall_at_k.png")
    lat: dict[str, list[float]] = defaultdict(list)
    for r in runs:
        for name, sr in r.systems.items():
            lat[name] += [q.latency_ms for q in sr.results]
        if r.answers:
            lat["answer"] += [a.latency_ms for a in r.answers]
    values = [x for xs in lat.values() for x in xs if x > 0]
    if values:
        import numpy as np

        lo, hi = min(values), max(values)
        bins = np.geomspace(lo, hi * 1.0001, 31) if hi > lo else 10
        fig, ax = plt.subplots(figsize=(6, 4))
        for name, xs in lat.items():
            if xs:
                ax.hist([max(x, lo) for x in xs], bins=bins, alpha=0.5, label=name)
        if hi > lo:
            ax.set_xscale("log")
        ax.set_xlabel("latency per question (ms, log scale)")
        ax.set_ylabel("questions")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "latency.png", dpi=100)
        plt.close(fig)
        written.append("latency.png")
    return written


def finish(runs: Sequence[DatasetRun], out: Path, cost: dict[str, Any] | None = None,
           info: dict[str, Any] | None = None, compare: Path | None = None,
           thresholds: dict[str, Any] | None = None, plots: bool = True) -> dict[str, Any]:
    """Write qrels, runs, metrics.json, report.md and plots to ``out``; return the metrics
    (with ``violations`` and, when comparing, ``regressions``)."""
    out.mkdir(parents=True, exist_ok=True)
    qrels: dict[str, set[Pair]] = {}
    by_system: dict[str, dict[str, list[RankedItem]]] = defaultdict(dict)
    for run in runs:
        if run.skipped:
            continue
        for q in run.questions:
            qrels[f"{run.name}/{q.id}"] = q.gold_set
        for name, sr in run.systems.items():
            for r in sr.results:
                by_system[name][f"{run.name}/{r.qid}"] = r.ranked
    write_qrels(out / "qrels.txt", qrels)
    answer_rows = [
        {"qid": f"{run.name}/{a.qid}", "kind": a.kind, "refused": a.record.refused,
         "flagged": a.record.flagged, "citations": a.citations,
         "gold": [docid(*g) for g in sorted(a.record.gold)],
         "latency_ms": round(a.latency_ms, 1), "answer": a.record.answer,
         **({"error": a.error} if a.error else {})}
        for run in runs if not run.skipped for a in (run.answers or [])
    ]
    if answer_rows:
        (out / "answers.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in answer_rows), "utf-8")
    for name, runs_of in by_system.items():
        write_run(out / f"run.{name}.txt", runs_of, name, DEPTH)
    cost = dict(cost or {})
    cost.setdefault("peak_rss_mb", peak_rss_mb())
    metrics = build_metrics(runs, cost, info)
    violations = check_thresholds(metrics, thresholds if thresholds is not None
                                  else load_thresholds())
    metrics["violations"] = violations
    cmp = None
    if compare is not None:
        cpath = compare / "metrics.json" if compare.is_dir() else compare
        try:
            old = json.loads(cpath.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise AssistantError(f"{cpath}: cannot read metrics to compare with ({e})") from None
        regs, rows = compare_metrics(metrics, old)
        metrics["regressions"] = regs
        cmp = (compare, regs, rows)
    names = write_plots(out, metrics, runs) if plots else []
    (out / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2),
                                      encoding="utf-8")
    write_report(out / "report.md", metrics, runs, violations, cmp, names)
    return metrics


def peak_rss_mb() -> float:
    """Peak resident set size of this process (and its waited-for children), MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, kids) / 1024.0, 1)  # Linux reports KiB


# ---------------------------------------------------------------------- index caching

def _index_versions() -> dict[str, str]:
    vers: dict[str, str] = {}
    for mod, attr in (("assistant.chunk", "CHUNKER_VERSION"),
                      ("assistant.tokenize", "TOKENIZER_VERSION"),
                      ("assistant.index", "FORMAT")):
        with contextlib.suppress(Exception):
            import importlib

            vers[attr] = str(getattr(importlib.import_module(mod), attr))
    return vers


def corpus_files(corpus: Path) -> list[Path]:
    """Every non-hidden file under ``corpus``, sorted."""
    return sorted(f for f in corpus.rglob("*") if f.is_file()
                  and not any(p.startswith(".") for p in f.relative_to(corpus).parts))


def corpus_key(corpus: Path, settings: Settings, versions: dict[str, str] | None = None,
               embedder_id: str = "") -> str:
    """Hash of the corpus (relative paths + content hashes) and of what shapes an index
    (embed model and embedder id, chunker/tokenizer/index format versions)."""
    h = hashlib.sha256()
    vers = _index_versions() if versions is None else versions
    h.update(json.dumps({"embed_model": settings.embed_model, "embedder": embedder_id, **vers},
                        sort_keys=True).encode())
    for f in corpus_files(corpus):
        h.update(f.relative_to(corpus).as_posix().encode("utf-8") + b"\0")
        fh = hashlib.sha256()
        with f.open("rb") as fp:
            for block in iter(lambda: fp.read(1 << 20), b""):
                fh.update(block)
        h.update(fh.digest())
    return h.hexdigest()[:16]


def cached_index(corpus: Path, settings: Settings, progress: bool = True,
                 embedder_id: str = "") -> tuple[Settings, dict[str, Any]]:
    """Settings pointing at an index of ``corpus`` under ``cache_dir/eval-index/<key>``,
    ingesting it when not already built; and its cost entry."""
    from .ingest import ingest

    key = corpus_key(corpus, settings, embedder_id=embedder_id)
    path = Path(settings.cache_dir) / "eval-index" / key
    s = settings.with_overrides(index=path)
    ready = path / READY
    info: dict[str, Any] = {"key": key, "index": str(path)}
    if ready.exists():
        info["ingested"] = False
        with contextlib.suppress(OSError, ValueError):
            info["built_ingest_s"] = json.loads(ready.read_text("utf-8")).get("seconds")
        return s, info
    t0 = time.perf_counter()
    rep = ingest([corpus], s, prune=True, progress=progress)
    secs = time.perf_counter() - t0
    failed = [f.path for f in rep.failed]
    if not any(f.status in ("added", "updated", "unchanged") for f in rep.files):
        raise AssistantError(f"{corpus}: no document could be ingested for the eval")
    if rep.pending:
        raise AssistantError(f"{corpus}: {rep.pending} chunks still without vectors after ingest")
    ready.write_text(json.dumps({"seconds": round(secs, 2), "corpus": str(corpus),
                                 "failed": failed}, ensure_ascii=False), "utf-8")
    info.update(ingested=True, ingest_s=round(secs, 2))
    if failed:
        info["failed"] = failed
    return s, info


class FixtureUnavailable(AssistantError):
    """A generated corpus cannot be built here (generator or a font missing)."""


def fixture_corpus(name: str, files: Sequence[str], settings: Settings) -> Path:
    """Generate the corpus ``fixtures:<name>`` from ``tests/fixtures_<name>.py``, once.

    Each entry of ``files`` is ``"<which>.<format>"``, made with the module's
    ``make_standard_<format>(directory, which)``. The directory is keyed by the generator's
    source and the file list and reused once complete, so its content (and the index cache
    key) stays the same across runs even where a format embeds a timestamp.
    """
    import importlib.util

    src = project_root() / "tests" / f"fixtures_{name}.py"
    if not src.exists():
        raise FixtureUnavailable(f"{_rel(src)} not present")
    key = hashlib.sha256(src.read_bytes() + "|".join(files).encode()).hexdigest()[:16]
    target = Path(settings.cache_dir) / "eval-fixtures" / f"{name}-{key}"
    done = target / ".complete"
    if done.exists():
        return target
    spec = importlib.util.spec_from_file_location(f"_eval_fixtures_{name}", src)
    if spec is None or spec.loader is None:
        raise FixtureUnavailable(f"{_rel(src)}: cannot import")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    try:
        spec.loader.exec_module(mod)
        target.mkdir(parents=True, exist_ok=True)
        for item in files:
            which, _, fmt = item.partition(".")
            make = getattr(mod, f"make_standard_{fmt}", None)
            if make is None:
                raise FixtureUnavailable(f"{_rel(src)} has no make_standard_{fmt}")
            make(target, which)
    except FixtureUnavailable:
        raise
    except Exception as e:  # the generator's own "unavailable" (no CJK font, no fpdf2)
        raise FixtureUnavailable(f"fixtures:{name}: {type(e).__name__}: {e}") from None
    done.write_text("\n".join(files), encoding="utf-8")
    return target


# ----------------------------------------------------------------------------- run_eval

@dataclass
class _Env:
    label: str
    settings: Settings
    index: Any
    systems: list[SearchSystem]
    answerer: Any = None


def _settings_info(settings: Settings) -> dict[str, Any]:
    return {k: getattr(settings, k) for k in (
        "embed_model", "fusion", "bm25_weight", "dense_weight", "rrf_k", "candidates",
        "reranker", "rerank_depth", "answer_mode")}


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
    from .embed import get_embedder, warm
    from .index import Index
    from .retrieve import Retriever

    t_start = time.perf_counter()
    if limit is not None and limit <= 0:
        raise ConfigError(f"--limit must be greater than 0. Currently, it is {limit}")
    if corpus is not None and not Path(corpus).is_dir():
        raise AssistantError(f"{corpus}: --corpus must be a folder of documents")
    specs = resolve_datasets(list(datasets))
    out = out or Path("eval") / "runs" / datetime.now().strftime("%Y%m%d-%H%M%S")
    embedder = get_embedder(settings)
    warm(embedder)  # many queries: one engine for the whole run, the faster one warm
    cost: dict[str, Any] = {"indexes": {}, "baselines": {}}
    envs: dict[str, _Env] = {}
    runs: list[DatasetRun] = []
    plan: list[tuple[DatasetSpec, list[Question], str]] = []
    fixture_dirs: dict[str, Path] = {}

    def env_for(target: str) -> _Env:
        if target in envs:
            return envs[target]
        if target.startswith("index:"):
            s = settings.with_overrides(index=Path(target[6:]))
            info: dict[str, Any] = {"index": target[6:], "ingested": False}
        else:
            cdir = fixture_dirs.get(target) or Path(target)
            s, info = cached_index(cdir, settings, progress, getattr(embedder, "id", ""))
        try:  # refuse an index built with another embedder (its vectors would not match)
            idx = Index.open(s, embedder_id=getattr(embedder, "id", ""))
        except TypeError:
            idx = Index.open(s)
        st = idx.stats()
        info.update(documents=st.get("documents"), chunks=st.get("chunks"),
                    size_bytes=st.get("size_bytes"))
        cost["indexes"][_display_target(target)] = info
        retriever = Retriever(idx, s, embedder=embedder)
        systems: list[SearchSystem] = [RetrieverSystem(retriever, "hybrid")]
        wanted = set(BASELINES) if baselines is True else set(baselines or ())
        systems += [RetrieverSystem(retriever, m) for m in ("bm25", "dense") if m in wanted]
        if "llamaindex-default" in wanted:
            from .baselines import LlamaIndexDefault, baseline_cache_dir

            b = LlamaIndexDefault(idx.iter_chunks(), embedder,
                                  baseline_cache_dir(Path(s.cache_dir), embedder.id))
            systems.append(b)
            cost["baselines"][f"{b.name} ({_display_target(target)})"] = b.describe()
        answerer = None
        if answers:
            from .answer import Answerer

            answerer = Answerer(retriever, s)
        envs[target] = _Env(target, s, idx, systems, answerer)
        return envs[target]

    for spec in specs:
        if spec.skipped:
            runs.append(DatasetRun(spec.name, spec.corpus, [], skipped=spec.skipped,
                                   description=spec.description))
            continue
        if corpus is not None:
            target = str(Path(corpus).resolve())
        elif index is not None:
            target = f"index:{index}"
        elif spec.corpus.startswith("fixtures:"):
            target = spec.corpus + ":" + ",".join(spec.fixtures)
            if target not in fixture_dirs:
                try:
                    fixture_dirs[target] = fixture_corpus(spec.corpus[9:], spec.fixtures,
                                                          settings)
                except FixtureUnavailable as e:
                    runs.append(DatasetRun(spec.name, spec.corpus, [], skipped=str(e),
                                           description=spec.description))
                    continue
        elif spec.corpus:
            target = str((project_root() / spec.corpus).resolve())
        else:
            target = f"index:{settings.index}"
        plan.append((spec, load_questions(spec.file, limit), target))

    try:
        for _, _, target in plan:
            env_for(target)
        total = sum(len(qs) * (len(envs[t].systems) + (1 if answers else 0))
                    for _, qs, t in plan)
        with _make_progress(progress) as bar:
            task = bar.add_task("eval", total=total) if bar is not None else None

            def tick() -> None:
                if bar is not None and task is not None:
                    bar.advance(task)

            for spec, qs, target in plan:
                env = envs[target]
                run = DatasetRun(spec.name, _display_target(target), qs,
                                 description=spec.description)
                for system in env.systems:
                    if bar is not None and task is not None:
                        bar.update(task, description=f"{spec.name} · {system.name}")
                    run.systems[system.name] = run_system(system, qs, DEPTH, tick)
                if env.answerer is not None:
                    if bar is not None and task is not None:
                        bar.update(task, description=f"{spec.name} · answers")
                    run.answers = run_answers(env.answerer, qs, tick)
                runs.append(run)
    finally:
        for env in envs.values():
            with contextlib.suppress(Exception):
                env.index.close()
    order = {spec.name: i for i, spec in enumerate(specs)}
    runs.sort(key=lambda r: order.get(r.name, len(order)))
    cost["wall_s"] = round(time.perf_counter() - t_start, 1)
    info = _settings_info(settings)
    info["embedder"] = getattr(embedder, "id", "")
    metrics = finish(runs, out, cost, info, compare, thresholds)
    metrics["out"] = str(out)
    return metrics


def _display_target(target: str) -> str:
    if target.startswith("fixtures:"):
        return target.split(":")[0] + ":" + target.split(":")[1]
    if target.startswith("index:"):
        return target
    return _rel(Path(target))


def iter_violations(metrics: dict[str, Any]) -> Iterator[str]:
    """The threshold violations recorded in a metrics dict."""
    yield from metrics.get("violations", [])
