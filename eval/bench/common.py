"""What the search benchmarks share: their queries and how they print results."""

from __future__ import annotations

import json
import resource
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
STARD = ROOT.parent / "shared" / "eval" / "stard-train.jsonl"
FALLBACK = ["强制性国家标准由谁制定？", "产品质量检验机构的资格", "计量器具的检定"]


def questions(n: int) -> list[str]:
    """The first n STARD questions, or a few domain questions repeated without ../shared."""
    if STARD.exists():
        with STARD.open(encoding="utf-8") as f:
            return [json.loads(line)["question"] for line in f][:n]
    return FALLBACK * max(1, n // len(FALLBACK))


def report(res: dict[str, Any], header: str, queries: int, as_json: bool, width: int = 28) -> None:
    """Print one row per measured system plus the process's peak RSS (text or one JSON)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if as_json:
        print(json.dumps({**res, "peak_rss_mb": round(rss), "queries": queries}))
        return
    print(header)
    for name, r in res.items():
        print(f"{name:>{width}}: {r}")
    print(f"{'peak RSS':>{width}}: {rss:.0f} MB")
