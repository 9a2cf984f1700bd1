"""Parsed documents → chunks: the unit that is embedded, indexed, retrieved and cited.

One chunk per clause/article, so that a hit can be cited as "标准化法 第十条" or
"GB/T 1.1—2020 8.6". A long clause is split at paragraph (then sentence) boundaries into parts
that keep its label; a clause that is only a heading ("11.5.14.1 通则" directly followed by its
children) is not a chunk of its own but goes into the heading path of the clause after it.
"""

from __future__ import annotations

import re

from .records import Chunk, Clause, ParsedDocument

# Recorded in the index manifest: an index built by another chunker version is rebuilt.
# Bump whenever the chunks produced for the same input change.
CHUNKER_VERSION = "2"  # 2: front matter as metadata, CJK variants unified, standards status

PATH_SEP = " > "
_SENTENCE = re.compile(r"(?<=[。！？；!?;])")


def _squash(s: str) -> str:
    """Letters and digits only: "一、总体要求", "一 总体要求" and "(一)" vs "（一）" compare equal."""
    return "".join(ch for ch in s if ch.isalnum())


def clause_title(c: Clause) -> str:
    """How a clause names itself in a heading path: "8.6 规范性引用文件", "第十条", "前言"."""
    if not c.heading or _squash(c.heading) == _squash(c.label):
        return c.label
    return f"{c.label} {c.heading}".strip()


def is_heading_only(c: Clause) -> bool:
    """True when the clause's text is nothing but its label and heading."""
    if len(c.text) > 2 * (len(c.label) + len(c.heading)) + 8:
        return False  # cheap: most clauses have a body
    body = _squash(c.text)
    for piece in (_squash(c.label), _squash(c.heading)):
        if piece and body.startswith(piece):
            body = body[len(piece):]
    return not body


def _pieces(text: str, max_chars: int) -> list[tuple[str, str]]:
    """(glue, piece) pairs: paragraphs, and the sentences of over-long paragraphs, each at
    most ``max_chars``; ``glue`` is what joined the piece to the one before ("\n" or "")."""
    out: list[tuple[str, str]] = []
    for para in (p.strip() for p in text.split("\n")):
        if not para:
            continue
        glue = "\n"
        for sent in (s for s in _SENTENCE.split(para) if s) if len(para) > max_chars else [para]:
            while len(sent) > max_chars:  # a sentence longer than a chunk: cut it
                out.append((glue, sent[:max_chars]))
                sent, glue = sent[max_chars:], ""
            out.append((glue, sent))
            glue = ""
    return out


def split_text(text: str, max_chars: int) -> list[str]:
    """Split ``text`` into parts of at most ``max_chars`` at paragraph, then sentence,
    boundaries; parts are about equally long so no tiny tail part is left. A part may exceed
    ``max_chars`` by a tenth where a short title line is kept with the text under it."""
    text = text.strip()
    if len(text) <= max_chars:
        return [text]
    n_parts = -(-len(text) // max_chars)
    target = -(-len(text) // n_parts)
    parts: list[str] = []
    for glue, piece in _pieces(text, max_chars):
        if parts and parts[-1]:
            cur = parts[-1]
            fits = len(cur) + len(glue) + len(piece) <= max_chars and len(cur) < target
            # a lone short line (a title such as "(一)指导思想") is never a part of its own
            if fits or len(cur) < max_chars // 10:
                parts[-1] = cur + glue + piece
                continue
        parts.append(piece)
    return parts


def chunk_document(doc: ParsedDocument, max_chars: int = 1200) -> list[Chunk]:
    """One chunk per clause (split when longer than ``max_chars``), in document order."""
    meta = doc.meta
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    used_ids: set[str] = set()
    pending: list[str] = []  # headings of heading-only clauses waiting for their first child
    clauses = doc.clauses
    for i, c in enumerate(clauses):
        if is_heading_only(c):
            if i + 1 < len(clauses):
                # not a chunk: its title goes into the heading path of the next clause
                pending = [h for h in pending if _is_ancestor(h, c)] + [clause_title(c)]
                continue
            if chunks:
                continue  # a trailing heading with nothing under it: nothing to cite
        path = list(c.path)
        have = {_squash(p) for p in path}
        extra = [h for h in pending if _squash(h) not in have]
        pending = []
        heading = PATH_SEP.join([*path, *extra, clause_title(c)])

        seen[c.label] = seen.get(c.label, 0) + 1
        key = c.label or "_"
        if seen[c.label] > 1:
            key = f"{key}~{seen[c.label]}"  # repeated label: same label, distinct id
        parts = split_text(c.text, max_chars)
        for k, text in enumerate(parts, start=1):
            part = k if len(parts) > 1 else 0
            cid = f"{meta.doc}#{key}#{part}"
            while cid in used_ids:  # "第五条~2" written as a label somewhere: stay unique
                key += "~"
                cid = f"{meta.doc}#{key}#{part}"
            used_ids.add(cid)
            chunks.append(Chunk(
                id=cid, doc=meta.doc, clause=c.label, text=text, heading=heading,
                title=meta.title, std_no=meta.std_no, kind=meta.kind, category=meta.category,
                status=meta.status, page_start=c.page_start, page_end=c.page_end or c.page_start,
                ordinal=len(chunks), part=part,
            ))
    return chunks


def _is_ancestor(pending_heading: str, c: Clause) -> bool:
    """Keep a pending heading when the next heading-only clause is its child (8 → 8.1)."""
    return _squash(pending_heading) in {_squash(p) for p in c.path}


def passage_text(chunk: Chunk) -> str:
    """The text embedded and keyword-indexed: document name, heading path, chunk text.

    The context lines let "标准化法 第十条" or "GB/T 1.1 规范性引用文件" match a chunk whose
    own text names neither the document nor its chapter.
    """
    name = f"{chunk.std_no} {chunk.title}".strip() if chunk.std_no else chunk.title
    path = chunk.heading.split(PATH_SEP) if chunk.heading else []
    if path and _squash(chunk.text[: 2 * len(path[-1]) + 8]).startswith(_squash(path[-1])):
        path = path[:-1]  # the text starts with its own label and heading already
    lines = [x for x in (name, PATH_SEP.join(path)) if x]
    return "\n".join([*lines, chunk.text])
