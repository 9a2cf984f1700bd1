"""Benchmark of ``assistant check`` (issue 17): the seeded-defect drafts in every format and the
time for a long draft.

    python eval/check/bench_check.py                       # md, docx, pdf; 50 pages; library index
    python eval/check/bench_check.py --formats md,docx --index DIR --pages 50

1. Recall per kind, precision and error findings on the clean drafts, for each format: the
   three clean drafts of tests/drafts.py and one copy per (draft, kind) from
   tests/drafts_defects.py (PDFs rendered by LibreOffice).
2. The time to check a generated long draft (DOCX and PDF), without and with the related-
   provisions section. With ``--index DIR`` that index is searched (the configured embedder);
   without it a small index of the test library is built with the fake embedder in a
   temporary folder (``--embed-model`` to choose another).

Wall and CPU seconds are both printed: the machine is shared, and CPU time is what the check
itself costs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import drafts as D  # noqa: E402
import drafts_defects as X  # noqa: E402

from assistant.parse.catalog import Catalog  # noqa: E402


def render(specs: list[D.Spec], fmt: str, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "md":
        return [D.write_md(s, out) for s in specs]
    docx = [D.write_docx(s, out) for s in specs]
    return docx if fmt == "docx" else D.write_pdfs(docx, out / "pdf", timeout=3600)


def seeded_round(formats: list[str], work: Path, catalog: Catalog) -> dict[str, dict]:
    specs = X.seeded_specs()
    results = {}
    for fmt in formats:
        t = time.perf_counter()
        paths = render(specs, fmt, work / fmt)
        t_render = time.perf_counter() - t
        t = time.perf_counter()
        results[fmt] = X.run_bench(specs, paths, catalog)
        results[fmt]["seconds"] = (t_render, time.perf_counter() - t)
    return results


def print_seeded(results: dict[str, dict]) -> None:
    fmts = list(results)
    print(f"{'kind':<26}" + "".join(f"{f:>10}" for f in fmts))
    for kind in X.INJECTORS:
        cells = []
        for f in fmts:
            h, n = results[f]["per_kind"].get(kind, (0, 0))
            cells.append(f"{h}/{n}")
        print(f"{kind:<26}" + "".join(f"{c:>10}" for c in cells))
    for label, key, fmt_ in (("recall", "recall", "{:.3f}"), ("precision", "precision", "{:.3f}"),
                             ("injected", "injected", "{}")):
        print(f"{label:<26}" + "".join(f"{fmt_.format(results[f][key]):>10}" for f in fmts))
    print(f"{'clean-draft errors':<26}" + "".join(f"{len(results[f]['clean_errors']):>10}" for f in fmts))
    print(f"{'render / check s':<26}" + "".join(
        f"{results[f]['seconds'][0]:>5.0f}/{results[f]['seconds'][1]:<4.0f}" for f in fmts))
    for f in fmts:
        for name, kind, clause in results[f]["false"]:
            print(f"{f}: false finding {kind} at {clause} in {name}")
        gate = X.gate(results[f])
        print(f"{f}: {'targets met' if not gate else '; '.join(gate)}")


def library_assistant(args: argparse.Namespace, work: Path):  # type: ignore[no-untyped-def]
    from assistant.config import load_settings
    from assistant.service import Assistant

    if args.index:
        return Assistant(load_settings(index=args.index, embed_model=args.embed_model))
    lib = D.write_library(work / "library")
    s = load_settings(index=work / "index", embed_model=args.embed_model or "fake",
                      cache_dir=work / "cache")
    a = Assistant(s)
    a.ingest([lib, ROOT / "corpus"], catalog=lib / "catalog.csv", progress=False)
    return a


def timing_round(args: argparse.Namespace, work: Path, catalog: Catalog) -> None:
    from assistant.check import check_draft

    spec = D.big_draft(args.pages)
    (work / "big").mkdir(parents=True, exist_ok=True)
    docx = D.write_docx(spec, work / "big")
    paths = [docx]
    if "pdf" in args.formats:
        paths += D.write_pdfs([docx], work / "big" / "pdf")
        from pypdf import PdfReader

        print(f"long draft: {len(PdfReader(paths[-1]).pages)} PDF pages, "
              f"{sum(len(b.text) for b in spec.blocks):,} characters")
    a = library_assistant(args, work)
    a.warm()
    check_draft(D.write_md(D.lamp(), work), a, catalog=catalog)  # first search loads the index
    for path in paths:
        for related in (False, True):
            w, c = time.perf_counter(), time.process_time()
            r = check_draft(path, a if related else None, catalog=catalog, related=related)
            w, c = time.perf_counter() - w, time.process_time() - c
            n = len(r.related) if r.related is not None else 0
            print(f"{path.suffix[1:]:<5} related={'yes' if related else 'no ':<3}  wall {w:5.1f} s  "
                  f"cpu {c:5.1f} s  (load {r.timings['load_s']:.1f} s, related {r.timings['related_s']:.1f} s "
                  f"for {n} clauses)  findings {len(r.findings)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--formats", default="md,docx,pdf", help="comma-separated: md, docx, pdf")
    ap.add_argument("--pages", type=int, default=50, help="length of the long draft")
    ap.add_argument("--index", type=Path, help="search this index for related provisions")
    ap.add_argument("--embed-model", help="embedder for --index or the library index")
    ap.add_argument("--skip-seeded", action="store_true", help="only the timing round")
    ap.add_argument("--skip-timing", action="store_true", help="only the seeded round")
    args = ap.parse_args()
    args.formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
        work = Path(tmp)
        catalog = Catalog.load(D.write_catalog(work / "catalog.csv"))
        if not args.skip_seeded:
            print_seeded(seeded_round(args.formats, work, catalog))
        if not args.skip_timing:
            timing_round(args, work, catalog)


if __name__ == "__main__":
    main()
