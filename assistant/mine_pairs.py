"""Training pairs mined from the indexed corpus itself, for documents without question sets.

Each pair is a short query and the clause it points to, in the eval dataset format
(``source`` says which rule made it):

- ``term``: a term defined under 术语和定义 → its definition clause (standards);
- ``heading``: a clause's own title (``8.6 规范性引用文件`` → "规范性引用文件") → the clause
  (standards, policy sections);
- ``see``: the sentence around a 见X.Y reference → clause X.Y of the same standard;
- ``cite``: the sentence around 本法第X条 (本条例, 本规定 …) → that article of the same law.

``python -m assistant.mine_pairs --index DIR --out pairs.jsonl`` writes them;
``python -m assistant.train_adapter --mined pairs.jsonl`` trains on them with the questions.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from .records import Chunk

_SENT = re.compile(r"[^。；！？\n]+")
_SEE = re.compile(r"[（(]?见([A-Z]?\d+(?:\.\d+)+|附录[A-Z])[）)]?")
_CITE = re.compile(r"本(?:法|条例|规定|办法|解释|细则|决定)(第[一二三四五六七八九十百零]+条)")
_LABEL = re.compile(r"^(?:[A-Z]?\d+(?:\.\d+)*|附录[A-Z]|第[一二三四五六七八九十百零]+[章节条])\s*")
_LATIN = re.compile(r"[A-Za-z][A-Za-z ,;'()/-]*$")
MIN_QUERY, MAX_QUERY = 2, 80


def _row(kind: str, n: int, doc: str, query: str, clause: str) -> dict[str, object]:
    return {"id": f"mined-{kind}-{n}", "question": query, "source": kind,
            "gold": [{"doc": doc, "clause": clause}]}


def _title(chunk: Chunk) -> str:
    """A clause's own title: the last heading part without its label ('' if only a label)."""
    last = chunk.heading.split(" > ")[-1].strip() if chunk.heading else ""
    return _LABEL.sub("", last).strip()


def _term(chunk: Chunk) -> str:
    """The Chinese term a 术语和定义 entry defines (its English equivalent dropped)."""
    first = _LABEL.sub("", chunk.text.strip().splitlines()[0] if chunk.text.strip() else "")
    return _LATIN.sub("", _title(chunk) or first).strip()


def _without(sentence: str, match: re.Match[str]) -> str:
    rest = sentence[:match.start()] + sentence[match.end():]
    return _LABEL.sub("", rest.strip()).strip(" ，,：:")


def pairs_of_document(chunks: list[Chunk]) -> Iterator[tuple[str, str, str, str]]:
    """(kind, doc, query, clause) of one document's chunks."""
    labels = {c.clause for c in chunks}
    seen: set[tuple[str, str]] = set()

    def once(kind: str, doc: str, query: str, clause: str) -> Iterator[tuple[str, str, str, str]]:
        if MIN_QUERY <= len(query) <= MAX_QUERY and (query, clause) not in seen:
            seen.add((query, clause))
            yield kind, doc, query, clause

    for c in chunks:
        if c.part > 1:
            continue
        if "术语和定义" in c.heading and "." in c.clause:
            yield from once("term", c.doc, _term(c), c.clause)
        elif c.kind in ("standard", "policy") and _title(c):
            yield from once("heading", c.doc, _title(c), c.clause)
        for sent in _SENT.findall(c.text):
            for rx, kind in ((_SEE, "see"), (_CITE, "cite")):
                for m in rx.finditer(sent):
                    target = m.group(1)
                    if target in labels and target != c.clause:
                        yield from once(kind, c.doc, _without(sent, m), target)


def mine(chunks: Iterable[Chunk]) -> list[dict[str, object]]:
    """Pairs from chunks in index order (a document's chunks are contiguous)."""
    out: list[dict[str, object]] = []
    doc: list[Chunk] = []

    def flush() -> None:
        for kind, d, query, clause in pairs_of_document(doc):
            out.append(_row(kind, len(out), d, query, clause))

    for c in chunks:
        if doc and c.doc != doc[0].doc:
            flush()
            doc = []
        doc.append(c)
    flush()
    return out


def main(argv: list[str] | None = None) -> int:
    from .config import load_settings
    from .index import Index

    ap = argparse.ArgumentParser(prog="python -m assistant.mine_pairs",
                                 description="mine training pairs from an index's chunks")
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    rows = mine(Index.open(load_settings(index=a.index)).iter_chunks())
    a.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    kinds: dict[str, int] = {}
    for r in rows:
        kinds[str(r["source"])] = kinds.get(str(r["source"]), 0) + 1
    print(json.dumps({"out": str(a.out), "pairs": len(rows), "by_source": kinds}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
