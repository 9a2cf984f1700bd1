"""Build the standards library under eval/datasets/library/ from tests/library_texts.py.

    python scripts/make_library.py [--out eval/datasets/library] [--only md,docx,...]

Formats (one folder each, the same twelve standards in every one):

    md-front      Markdown with YAML front matter (as converters write it)
    md-plain      Markdown with the cover as paragraphs
    docx          python-docx: cover, Heading 1/2, tables, the number as running header
    pdf-chromium  Chromium's print-to-PDF of the HTML page (default header and footer:
                  date, title, file URL, "n/m")
    pdf-lo        LibreOffice's PDF export of the DOCX
    pdf-scan      the LibreOffice PDF rendered at 300 dpi in black and white (pdftoppm) and
                  put back together as image-only pages: a scan without a text layer

Needs Debian's chromium, libreoffice-writer-nogui, poppler-utils and fonts-noto-cjk. Also
writes eval/datasets/standards-library.jsonl (the questions, gold on md-front).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import fixtures_library as L  # noqa: E402

FORMATS = ("md-front", "md-plain", "docx", "pdf-chromium", "pdf-lo", "pdf-scan")
# the build folder shows in Chromium's footer (file URL): keep it short and neutral
BUILD = Path(tempfile.gettempdir()) / "library"


def _run(cmd: list[str], timeout: int = 300) -> None:
    subprocess.run(cmd, check=True, timeout=timeout, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_markdown(out: Path) -> None:
    for fmt, render in (("md-front", L.render_front_md), ("md-plain", L.render_plain_md)):
        (out / fmt).mkdir(parents=True, exist_ok=True)
        for std in L.standards():
            (out / fmt / f"{L.file_stem(std)}.md").write_text(render(std), "utf-8")


def make_docx(out: Path) -> None:
    (out / "docx").mkdir(parents=True, exist_ok=True)
    for std in L.standards():
        L.write_docx(std, out / "docx" / f"{L.file_stem(std)}.docx")


def make_chromium(out: Path) -> None:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        raise SystemExit("chromium not found: apt-get install chromium")
    (out / "pdf-chromium").mkdir(parents=True, exist_ok=True)
    BUILD.mkdir(parents=True, exist_ok=True)
    for std in L.standards():
        src = BUILD / f"{L.file_stem(std)}.html"
        src.write_text(L.render_html(std), "utf-8")
        pdf = out / "pdf-chromium" / f"{L.file_stem(std)}.pdf"
        _run([exe, "--headless", "--no-sandbox", "--disable-gpu", f"--print-to-pdf={pdf}",
              src.as_uri()])


def make_libreoffice(out: Path) -> None:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        raise SystemExit("soffice not found: apt-get install libreoffice-writer-nogui")
    target = out / "pdf-lo"
    target.mkdir(parents=True, exist_ok=True)
    docs = sorted(str(p) for p in (out / "docx").glob("*.docx"))
    _run([exe, "--headless", "--convert-to", "pdf", "--outdir", str(target), *docs], timeout=900)


def make_scans(out: Path, dpi: int = 300) -> None:
    from PIL import Image

    if not shutil.which("pdftoppm"):
        raise SystemExit("pdftoppm not found: apt-get install poppler-utils")
    (out / "pdf-scan").mkdir(parents=True, exist_ok=True)
    for pdf in sorted((out / "pdf-lo").glob("*.pdf")):
        with tempfile.TemporaryDirectory() as tmp:
            _run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), f"{tmp}/p"])
            # thresholded as a scanner in black-and-white mode does (pdftoppm's -mono
            # dithers, which no scanner does and which ruins bold headings for OCR)
            pages = [Image.open(p).point(lambda v: 255 if v > 160 else 0).convert("1")
                     for p in sorted(Path(tmp).glob("p-*.png"))]
            # black-and-white pages are stored CCITT G4-compressed (30–40 KB a page)
            pages[0].save(out / "pdf-scan" / pdf.name, save_all=True, append_images=pages[1:],
                          resolution=dpi)


def write_questions(path: Path) -> None:
    rows = []
    for qid, question, std, clause in L.questions():
        rows.append({"id": qid, "question": question,
                     "gold": [{"doc": f"{L.file_stem(std)}.md", "clause": clause}],
                     "kind": "fact"})
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "datasets" / "library")
    ap.add_argument("--only", default=",".join(FORMATS))
    args = ap.parse_args()
    only = set(args.only.split(","))
    steps = (("md-front", make_markdown), ("docx", make_docx), ("pdf-chromium", make_chromium),
             ("pdf-lo", make_libreoffice), ("pdf-scan", make_scans))
    for fmt, step in steps:
        if fmt in only or (fmt == "md-front" and "md-plain" in only):
            step(args.out)
            print(f"{fmt}: done")
    write_questions(ROOT / "eval" / "datasets" / "standards-library.jsonl")


if __name__ == "__main__":
    main()
