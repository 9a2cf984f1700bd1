"""The refusal curve: how refusals of unanswerable questions and false refusals of
answerable ones move together as the gate's threshold moves.

Every answered eval question carries the gate's score (``AnswerResult.gate_score``); at a
threshold t a question counts as refused when its score is below t. The curve pools the
answerable questions of all datasets of a run (x: false-refusal rate) and gives one line
per dataset with unanswerable questions (y: its refusal rate).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .scoring import DatasetRun

THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(21))


def refusal_curve(runs: Sequence[DatasetRun], operating: float) -> dict[str, Any] | None:
    """{"thresholds", "operating", "false_refusal" (pooled answerable), "refusal": {dataset:
    [...]}, "answerable", "unanswerable": {dataset: n}}; None when no answer was scored."""
    answerable: list[float] = []
    unanswerable: dict[str, list[float]] = {}
    for run in runs:
        for a in run.answers or []:
            if a.gate_score is None:
                continue
            if a.record.gold:
                answerable.append(a.gate_score)
            else:
                unanswerable.setdefault(run.name, []).append(a.gate_score)
    if not answerable and not unanswerable:
        return None

    def below(scores: list[float]) -> list[float | None]:
        if not scores:
            return [None for _ in THRESHOLDS]
        return [round(sum(s < t for s in scores) / len(scores), 4) for t in THRESHOLDS]

    return {
        "thresholds": list(THRESHOLDS),
        "operating": operating,
        "false_refusal": below(answerable),
        "refusal": {name: below(xs) for name, xs in unanswerable.items()},
        "answerable": len(answerable),
        "unanswerable": {name: len(xs) for name, xs in unanswerable.items()},
    }


def plot_refusal_curve(plt: Any, path: Path, curve: dict[str, Any] | None) -> bool:
    """refusal_curve.png: refusal of each unanswerable set against pooled false refusals."""
    if not curve or not curve["refusal"] or not curve["answerable"]:
        return False
    fig, ax = plt.subplots(figsize=(6, 4.5))
    x = curve["false_refusal"]
    op = min(range(len(curve["thresholds"])),
             key=lambda i: abs(curve["thresholds"][i] - curve["operating"]))
    for name, ys in curve["refusal"].items():
        ax.plot(x, ys, marker="o", ms=3, label=f"{name} (n={curve['unanswerable'][name]})")
        ax.plot([x[op]], [ys[op]], marker="*", ms=12, color="black")
    ax.axvline(0.05, color="grey", ls="--", lw=0.8)
    ax.axhline(0.90, color="grey", ls="--", lw=0.8)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(f"false refusals, answerable questions pooled (n={curve['answerable']})")
    ax.set_ylabel("refusals of unanswerable questions")
    ax.set_title(f"gate threshold 0–1 (★ operating point {curve['operating']:.2f})")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def refusal_lines(curve: dict[str, Any] | None) -> list[str]:
    """report.md section: the curve as a table at a few thresholds."""
    if not curve:
        return []
    names = list(curve["refusal"])
    keep = [i for i, t in enumerate(curve["thresholds"]) if t in (0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6)
            or abs(t - curve["operating"]) < 1e-9]
    head = ["threshold", "false refusal (answerable)", *[f"refusal {n}" for n in names]]
    rows = [[f"{curve['thresholds'][i]:.2f}", _pct(curve["false_refusal"][i]),
             *[_pct(curve["refusal"][n][i]) for n in names]] for i in keep]
    return ["## Refusal curve (gate threshold)", "",
            f"Operating threshold {curve['operating']:.2f}; see refusal_curve.png.", "",
            "| " + " | ".join(head) + " |", "|" + "---|" * len(head),
            *["| " + " | ".join(r) + " |" for r in rows], ""]


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.0%}"
