"""Benchmark: the standards library (eval/datasets/library/) in every format — clause labels
and metadata exact, load+parse cost (pages/s, OCR included), exact clause lookups, and
clause-level retrieval (hit@5, MRR@10) on eval/datasets/standards-library.jsonl.

    python eval/bench/bench_library.py [--formats md-front,pdf-chromium,...] [--json]

Each format is ingested into its own temporary index with the configured embedder
(ASSISTANT_EMBED_MODEL; ``fake`` measures BM25 and exact lookups only).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT

FORMATS = ("md-front", "md-plain", "docx", "pdf-chromium", "pdf-lo", "pdf-scan")
_EXT = {"md-front": "md", "md-plain": "md", "docx": "docx"}


def exactness(folder: Path, fmt: str) -> dict[str, float]:
    """Share of standards whose labels / metadata come out exactly; load+parse pages/s."""
    from assistant.load import load_file
    from assistant.parse import parse
    from tests import fixtures_library as L

    labels = meta = pages = ocr = 0
    t0 = time.perf_counter()
    stds = L.standards()
    for std in stds:
        lf = load_file(folder / f"{L.file_stem(std)}.{_EXT.get(fmt, 'pdf')}", folder)
        pages += len(lf.pages) if _EXT.get(fmt, "pdf") == "pdf" else 0
        ocr += len(lf.ocr_pages)
        m = parse(lf).meta
        labels += [c.label for c in parse(lf).clauses] == L.expected_labels(std)
        meta += (m.std_no, m.title, m.issued, m.effective, m.replaces, m.adoption) == (
            std.number, std.title, std.issued, std.effective, std.replaces, std.adoption)
    secs = time.perf_counter() - t0
    return {"labels_exact": labels / len(stds), "meta_exact": meta / len(stds),
            "pages": pages, "ocr_pages": ocr, "load_parse_s": round(secs, 1),
            "pages_per_s": round(pages / secs, 2) if pages else 0.0}


def retrieval(folder: Path, fmt: str) -> dict[str, float]:
    from assistant.config import load_settings
    from assistant.service import Assistant
    from tests import fixtures_library as L

    with tempfile.TemporaryDirectory(prefix="bench-library-") as tmp:
        a = Assistant(load_settings(index=Path(tmp) / "index"))
        t0 = time.perf_counter()
        a.ingest([folder], progress=False)
        ingest_s = time.perf_counter() - t0
        hits5 = rr = 0.0
        qs = L.questions()
        for _qid, question, std, clause in qs:
            seen: list[tuple[str, str]] = []
            for h in a.search(question, 30):
                key = (Path(h.chunk.doc).stem, h.chunk.clause)
                if key not in seen:
                    seen.append(key)
            gold = (L.file_stem(std), clause)
            rank = seen.index(gold) + 1 if gold in seen else 0
            hits5 += 0 < rank <= 5
            rr += 1 / rank if 0 < rank <= 10 else 0.0
        exact = total = 0
        for std in L.standards():
            for label in L.chunk_labels(std)[3:]:  # "1" alone is no clause reference to the retriever
                got = a.search(f"{std.number} {label}", 1)
                total += 1
                exact += bool(got) and got[0].chunk.clause == label and \
                    Path(got[0].chunk.doc).stem == L.file_stem(std)
    return {"hit@5": round(hits5 / len(qs), 3), "mrr@10": round(rr / len(qs), 3),
            "exact_lookup": round(exact / total, 3), "ingest_s": round(ingest_s, 1)}


def cache_ocr() -> None:
    """OCR each scanned page once per process (the exactness pass and the ingest both load
    the scans; the time of the first pass is the one reported)."""
    import hashlib

    from assistant.load import ocr

    done: dict[str, str] = {}
    real = ocr.ocr_page_image

    def cached(page) -> str:  # type: ignore[no-untyped-def]
        key = hashlib.sha256(page.get_contents().get_data() + repr(
            [i.name for i in page.images]).encode() + b"".join(
            i.data[:4096] for i in page.images)).hexdigest()
        if key not in done:
            done[key] = real(page)
        return done[key]

    ocr.ocr_page_image = cached


def ocr_accuracy(library: Path) -> dict[str, float]:
    """Character accuracy of OCR on the 300-dpi scans against the text layer of the PDFs
    they were rendered from (LibreOffice's), whitespace and table bars aside; difflib's
    alignment counts the errors."""
    import difflib

    from assistant.load import load_file
    from tests import fixtures_library as L

    errors = total = 0
    labels_kept = labels = 0
    for std in L.standards():
        name = f"{L.file_stem(std)}.pdf"
        ref = load_file(library / "pdf-lo" / name, library, ocr=False).pages
        got = load_file(library / "pdf-scan" / name, library).pages
        for a, b in zip(ref, got, strict=True):
            a, b = L.squash(a), L.squash(b)
            sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
            errors += sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in sm.get_opcodes()
                          if op != "equal")
            total += len(a)
        text = "\n".join(got)
        for label in L.expected_labels(std)[1:]:
            labels += 1
            labels_kept += any(ln.startswith(label + " ") or ln == label or ln.startswith(label)
                               for ln in text.split("\n"))
    return {"char_accuracy": round(1 - errors / total, 4), "chars": total,
            "labels_at_line_start": round(labels_kept / labels, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--library", type=Path, default=ROOT / "eval" / "datasets" / "library")
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--ocr-accuracy", action="store_true", help="also OCR accuracy of pdf-scan")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    cache_ocr()
    rows: dict[str, dict[str, float]] = {}
    for fmt in args.formats.split(","):
        folder = args.library / fmt
        rows[fmt] = {**exactness(folder, fmt), **retrieval(folder, fmt)}
        if not args.json:
            print(fmt, rows[fmt], flush=True)
    if args.ocr_accuracy:  # after the formats: the scans' pages/s above include their OCR
        rows["ocr"] = ocr_accuracy(args.library)
        if not args.json:
            print("ocr", rows["ocr"], flush=True)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
