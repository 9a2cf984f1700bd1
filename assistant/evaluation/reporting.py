"""Eval output: metrics.json, TREC qrels/run files, report.md, plots, and the gate.

``finish`` writes everything for a list of ``DatasetRun``s; ``check_thresholds`` holds the
metrics against ``eval/thresholds.toml`` and ``compare_metrics`` against an earlier run.
"""

from __future__ import annotations

import json
import math
import resource
import tomllib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import AssistantError
from ..gate import AUTO_MIN_RELEVANCE
from ..metrics import Pair, RankedItem, docid, first_gold_rank, write_qrels, write_run
from .datasets import project_root
from .refusal import plot_refusal_curve, refusal_curve, refusal_lines
from .scoring import (
    DEPTH,
    DatasetRun,
    SystemResult,
    summarize_answers,
    summarize_system,
    worst_missed,
)

EVAL_FORMAT = 1

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
    out = {
        "format": EVAL_FORMAT,
        "created": datetime.now().isoformat(timespec="seconds"),
        "settings": info or {},
        "datasets": ds,
        "cost": cost,
    }
    curve = refusal_curve(runs, float((info or {}).get("min_relevance") or AUTO_MIN_RELEVANCE))
    if curve is not None:
        out["refusal_curve"] = curve
    return out


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


def write_report(path: Path, metrics: dict[str, Any], runs: Sequence[DatasetRun],
                 violations: Sequence[str], compare: tuple[Path, list[str], list[Any]] | None,
                 plots: Sequence[str]) -> None:
    """report.md: systems × metrics, per-kind breakdown, answers, cost, worst-missed,
    threshold violations and the comparison with an earlier run."""
    L = _report_head(metrics, violations)
    for run in runs:
        L += _report_dataset(run, metrics["datasets"][run.name])
    L += refusal_lines(metrics.get("refusal_curve"))
    L += _report_cost(metrics.get("cost", {}))
    if compare is not None:
        L += _report_compare(*compare)
    if plots:
        L += ["## Plots", ""] + [f"![{p}]({p})" for p in plots] + [""]
    path.write_text("\n".join(L), encoding="utf-8")


def _report_head(metrics: dict[str, Any], violations: Sequence[str]) -> list[str]:
    L: list[str] = [f"# Eval report — {metrics['created']}", ""]
    st = metrics.get("settings", {})
    if st:
        L += ["Settings: " + ", ".join(f"`{k}={v}`" for k, v in st.items()), ""]
    if violations:
        L += ["## Threshold violations", ""] + [f"- {v}" for v in violations] + [""]
    else:
        L += ["Thresholds: all met.", ""]
    return L


def _report_dataset(run: DatasetRun, entry: dict[str, Any]) -> list[str]:
    """One dataset's section: systems, per kind, answers, worst-missed questions."""
    L = [f"## {run.name}", ""]
    if run.description:
        L += [run.description, ""]
    if run.skipped:
        return [*L, f"Skipped: {run.skipped}.", ""]
    L += [f"Corpus `{run.corpus}`; {entry['questions']} questions "
          f"({entry['answerable']} answerable, {entry['unanswerable']} unanswerable).", ""]
    systems = entry.get("systems", {})
    if systems and entry["answerable"]:
        L += _systems_table(systems) + _kinds_table(systems)
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
        L += _worst_table(main)
    return L


def _systems_table(systems: dict[str, Any]) -> list[str]:
    keys = (*RETRIEVAL_KEYS, "latency_ms_p50", "latency_ms_p95")
    return _table(["system", *[SHORT.get(k, k) for k in keys]],
                  [[s, *[_f(m.get(k), 1 if "latency" in k else 3) for k in keys]]
                   for s, m in systems.items()])


def _kinds_table(systems: dict[str, Any]) -> list[str]:
    """R@10 / nDCG@10 per question kind, one column per system ([] with no kinds)."""
    kinds = sorted({k for m in systems.values() for k in m.get("by_kind", {})})
    if not (len(kinds) > 1 or (kinds and kinds[0] != "-")):
        return []
    rows = []
    for kind in kinds:
        n = next((m["by_kind"][kind]["n"] for m in systems.values()
                  if kind in m.get("by_kind", {})), 0)
        row = [kind, str(n)]
        for m in systems.values():
            bk = m.get("by_kind", {}).get(kind, {})
            row.append(f"{_f(bk.get('recall_at_10'))} / {_f(bk.get('ndcg_at_10'))}")
        rows.append(row)
    return ["Per kind (R@10 / nDCG@10):", "", *_table(["kind", "n", *systems], rows)]


def _worst_table(main: SystemResult) -> list[str]:
    worst = worst_missed(main)
    if not worst:
        return []
    rows = []
    for r in worst:
        rank = first_gold_rank(r.ranked, r.gold)
        got = "; ".join(_item_label(it) for it in r.ranked[:3]) or "(nothing)"
        gold = "; ".join(docid(*g) for g in sorted(r.gold))
        rows.append([r.qid, r.question.replace("|", "\\|")[:80], gold,
                     str(rank) if rank else f">{DEPTH}", got.replace("|", "\\|")])
    return [f"Worst-missed questions ({main.name}):", "",
            *_table(["id", "question", "gold", "gold rank", "top 3 returned"], rows)]


def _report_cost(cost: dict[str, Any]) -> list[str]:
    if not cost:
        return []
    L = ["## Cost", ""]
    idx = cost.get("indexes", {})
    if idx:
        L += _table(
            ["corpus", "ingested now", "ingest s", "documents", "chunks", "index MB"],
            [[c, "yes" if v.get("ingested") else "no (cached)", _f(v.get("ingest_s"), 1),
              _f(v.get("documents")), _f(v.get("chunks")),
              _f((v.get("size_bytes") or 0) / 1e6, 1)] for c, v in idx.items()])
    for name, b in cost.get("baselines", {}).items():
        L += [f"- {name}: " + ", ".join(f"{k}={v}" for k, v in b.items())]
    return [*L, f"- peak RSS: {_f(cost.get('peak_rss_mb'), 0)} MB; "
                f"wall time {_f(cost.get('wall_s'), 1)} s", ""]


def _report_compare(cdir: Path, regs: list[str], rows: list[Any]) -> list[str]:
    L = [f"## Comparison with `{cdir}`", ""]
    L += (["Regressions:", ""] + [f"- {r}" for r in regs] + [""]) if regs else \
         ["No regressions.", ""]
    if rows:
        L += _table(["dataset", "system", "metric", "before", "after", "Δ"],
                    [[d, s, k, _f(a), _f(b), f"{b - a:+.3f}"] for d, s, k, a, b in rows
                     if k in ("recall_at_10", "mrr_at_10", "ndcg_at_10", "recall_at_100",
                              "latency_ms_p95", "citation_precision", "refusal_accuracy")])
    return L


def write_plots(out: Path, metrics: dict[str, Any], runs: Sequence[DatasetRun]) -> list[str]:
    """recall_at_k.png (one panel per dataset, one line per system) and latency.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    if _plot_recall(plt, out / "recall_at_k.png", metrics, runs):
        written.append("recall_at_k.png")
    if _plot_latency(plt, out / "latency.png", runs):
        written.append("latency.png")
    if plot_refusal_curve(plt, out / "refusal_curve.png", metrics.get("refusal_curve")):
        written.append("refusal_curve.png")
    return written


def _plot_recall(plt: Any, path: Path, metrics: dict[str, Any],
                 runs: Sequence[DatasetRun]) -> bool:
    panels = [(r.name, metrics["datasets"][r.name]) for r in runs
              if not r.skipped and metrics["datasets"][r.name].get("answerable")]
    if not panels:
        return False
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
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def _plot_latency(plt: Any, path: Path, runs: Sequence[DatasetRun]) -> bool:
    lat: dict[str, list[float]] = defaultdict(list)
    for r in runs:
        for name, sr in r.systems.items():
            lat[name] += [q.latency_ms for q in sr.results]
        if r.answers:
            lat["answer"] += [a.latency_ms for a in r.answers]
    values = [x for xs in lat.values() for x in xs if x > 0]
    if not values:
        return False
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
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def finish(runs: Sequence[DatasetRun], out: Path, cost: dict[str, Any] | None = None,
           info: dict[str, Any] | None = None, compare: Path | None = None,
           thresholds: dict[str, Any] | None = None, plots: bool = True) -> dict[str, Any]:
    """Write qrels, runs, metrics.json, report.md and plots to ``out``; return the metrics
    (with ``violations`` and, when comparing, ``regressions``)."""
    out.mkdir(parents=True, exist_ok=True)
    write_trec_files(out, runs)
    answer_rows = _answer_rows(runs)
    if answer_rows:
        (out / "answers.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in answer_rows), "utf-8")
    cost = dict(cost or {})
    cost.setdefault("peak_rss_mb", peak_rss_mb())
    metrics = build_metrics(runs, cost, info)
    violations = check_thresholds(metrics, thresholds if thresholds is not None
                                  else load_thresholds())
    metrics["violations"] = violations
    cmp = None
    if compare is not None:
        regs, rows = compare_metrics(metrics, _read_metrics(compare))
        metrics["regressions"] = regs
        cmp = (compare, regs, rows)
    names = write_plots(out, metrics, runs) if plots else []
    (out / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2),
                                      encoding="utf-8")
    write_report(out / "report.md", metrics, runs, violations, cmp, names)
    return metrics


def write_trec_files(out: Path, runs: Sequence[DatasetRun]) -> None:
    """qrels.txt and one run.<system>.txt, question ids as ``<dataset>/<id>``."""
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
    for name, runs_of in by_system.items():
        write_run(out / f"run.{name}.txt", runs_of, name, DEPTH)


def _answer_rows(runs: Sequence[DatasetRun]) -> list[dict[str, Any]]:
    return [
        {"qid": f"{run.name}/{a.qid}", "kind": a.kind, "refused": a.record.refused,
         "flagged": a.record.flagged, "citations": a.citations,
         "gold": [docid(*g) for g in sorted(a.record.gold)],
         "latency_ms": round(a.latency_ms, 1), "answer": a.record.answer,
         **({"error": a.error} if a.error else {})}
        for run in runs if not run.skipped for a in (run.answers or [])
    ]


def _read_metrics(compare: Path) -> dict[str, Any]:
    """The metrics.json of an earlier run (its folder or the file itself)."""
    cpath = compare / "metrics.json" if compare.is_dir() else compare
    try:
        return json.loads(cpath.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise AssistantError(f"{cpath}: cannot read metrics to compare with ({e})") from None


def peak_rss_mb() -> float:
    """Peak resident set size of this process (and its waited-for children), MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, kids) / 1024.0, 1)  # Linux reports KiB


def iter_violations(metrics: dict[str, Any]) -> Iterator[str]:
    """The threshold violations recorded in a metrics dict."""
    yield from metrics.get("violations", [])
