"""Make the STARD measurement corpus: a folder of links to the laws the STARD questions
cite, every version of each (same title in ``catalog.csv``), plus the catalog.

    python eval/bench/stard_subset.py OUT        # then: assistant --index IDX ingest OUT/laws

Used where the whole laws corpus would take hours to embed (a CPU without AMX). Files are
linked by name; where two cited files share a name, the second gets its folder as prefix.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from pathlib import Path

from common import ROOT

SHARED = ROOT.parent / "shared"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    args = ap.parse_args()
    laws = SHARED / "corpus" / "laws"
    if not laws.exists():
        raise SystemExit(f"{laws} not found: this needs ../shared")
    rows = list(csv.DictReader((laws / "catalog.csv").open(encoding="utf-8")))
    title = {r["path"]: r["title"] for r in rows}
    cited: set[str] = set()
    for line in (SHARED / "eval" / "stard-train.jsonl").open(encoding="utf-8"):
        if line.strip():
            cited.update(g["doc"] for g in json.loads(line)["gold"])
    titles = {title[p] for p in cited if p in title}
    paths = sorted(r["path"] for r in rows if r["title"] in titles or r["path"] in cited)
    dest = args.out / "laws"
    dest.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    for p in paths:
        name = Path(p).name
        if name in used:
            name = f"{Path(p).parent.name}-{name}"
        used.add(name)
        link = dest / name
        if not link.exists():
            os.symlink((laws / p).resolve(), link)
    catalog = dest / "catalog.csv"
    if not catalog.exists():
        os.symlink((laws / "catalog.csv").resolve(), catalog)
    print(f"{len(paths)} files of {len(titles)} laws linked into {dest}")


if __name__ == "__main__":
    main()
