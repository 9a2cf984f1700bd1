"""Version families: which indexed documents are versions of one law or standard, which of
them is in force, and what replaced the others. Pure functions over document metadata, so
ingest (counting references on the versions in force) and retrieval share them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .identifiers import law_key, std_base, std_year
from .records import WITHDRAWN, DocMeta

# How law collections name amended versions: "道路运输条例(2023-07-20).md".
_PATH_DATE = re.compile(r"\((\d{4}-\d{2}-\d{2})\)\.\w+$")


@dataclass
class Version:
    """A document's place in its version family."""

    family: str
    current: bool
    replaced_by: str = ""


# What a document missing from the families counts as (indexed after they were computed).
CURRENT = Version("", True)


def version_date(m: DocMeta) -> str:
    """The date that orders versions: a file name's "(2023-07-20)" suffix, else the
    standard's year or the dates of the text."""
    found = _PATH_DATE.search(m.doc)
    if found:
        return found.group(1)
    if m.std_no:
        year = std_year(m.std_no)
        if year:
            return f"{year}"
    return m.effective or m.issued


def family_of(m: DocMeta) -> str:
    """The family key: a standard's number without its year, a law's normalised title,
    else the document itself."""
    if m.std_no:
        return "std:" + (std_base(m.std_no) or m.std_no)
    if m.kind == "law" and m.title:
        return "law:" + law_key(m.title)
    return "doc:" + m.doc


def version_families(metas: Iterable[DocMeta]) -> dict[str, Version]:
    """doc → its version family, whether it is current, and its replacement."""
    fams: dict[str, list[DocMeta]] = {}
    for m in metas:
        fams.setdefault(family_of(m), []).append(m)
    out: dict[str, Version] = {}
    for fam, members in fams.items():
        out.update(_rank_family(fam, members))
    return out


def _rank_family(fam: str, metas: list[DocMeta]) -> dict[str, Version]:
    # Files sharing a title are versions only when dates or statuses tell them apart
    # (the eight parts of 民法典 share one title and are all in force).
    live = [m for m in metas if m.status not in WITHDRAWN]
    newest = max(live or metas, key=lambda m: (version_date(m), m.doc))
    name = newest.std_no or (f"{newest.title}（{newest.issued}）" if newest.issued
                             else newest.title)
    out: dict[str, Version] = {}
    for m in metas:
        if m.status in WITHDRAWN:
            repl = m.replaced_by or (name if newest is not m and newest in live else "")
            out[m.doc] = Version(fam, False, repl)
        elif m is not newest and version_date(m) and version_date(newest) > version_date(m):
            out[m.doc] = Version(fam, False, m.replaced_by or name)
        else:
            out[m.doc] = Version(fam, True, "")
    return out
