"""Catalogues: CSV metadata (title, status, dates, replacement) for laws or standards.

A catalogue row is found by the document's path (relative to the ingested root, or to the
folder the catalogue describes) or by its standard number. Two shapes are known and any mix
of their columns works:

* laws:      ``path,title,level,published,effective,status``
* standards: ``number,title,status,issued,effective,replaced_by``

``lookup`` returns DocMeta field names → values, with blanks left out, dates in ISO form and
the status in the shared vocabulary.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import InputFileError
from . import normalize_status, to_iso_date

# column name (lower case) → DocMeta field
_COLUMNS: dict[str, str] = {
    "path": "path", "file": "path", "doc": "path", "路径": "path", "文件": "path",
    "number": "std_no", "std_no": "std_no", "standard": "std_no", "标准号": "std_no",
    "标准编号": "std_no", "编号": "std_no",
    "title": "title", "name": "title", "标题": "title", "名称": "title", "标准名称": "title",
    "status": "status", "状态": "status", "有效性": "status", "时效性": "status",
    "published": "issued", "issued": "issued", "issue_date": "issued", "publish_date": "issued",
    "发布日期": "issued", "公布日期": "issued", "发文日期": "issued",
    "effective": "effective", "effective_date": "effective", "implemented": "effective",
    "实施日期": "effective", "施行日期": "effective", "生效日期": "effective",
    "replaced_by": "replaced_by", "superseded_by": "replaced_by", "代替标准": "replaces",
    "被代替": "replaced_by", "被替代": "replaced_by", "替代标准": "replaced_by",
    "replaces": "replaces", "代替": "replaces",
    "level": "category", "category": "category", "效力级别": "category", "类别": "category",
    "级别": "category",
    "doc_number": "doc_number", "发文字号": "doc_number", "文号": "doc_number",
    "force": "force", "性质": "force",
    # as front matter, <meta> tags and cover key: value lines name them
    "standard_number": "std_no", "standard_no": "std_no", "std_number": "std_no",
    "stdno": "std_no", "standard_code": "std_no", "标准代号": "std_no",
    "中文名称": "title", "中文标题": "title", "标准中文名称": "title", "articletitle": "title",
    "标准状态": "status", "state": "status",
    "date": "issued", "publication_date": "issued",
    "release_date": "issued", "issued_date": "issued", "发布时间": "issued",
    "implementation_date": "effective", "implement_date": "effective", "实施时间": "effective",
    "supersedes": "replaces", "replace": "replaces", "替代": "replaces",
    "代替以下标准": "replaces", "replaced": "replaced_by", "被以下标准代替": "replaced_by",
    "issuer": "issuer", "publisher": "issuer", "issued_by": "issuer", "issuing_body": "issuer",
    "发布机构": "issuer", "发布单位": "issuer", "发布部门": "issuer", "颁布部门": "issuer",
    "adoption": "adoption", "adopted": "adoption", "采标": "adoption", "采标情况": "adoption",
    "采用国际标准": "adoption", "国际标准": "adoption",
}
_DATE_FIELDS = ("issued", "effective")


def field_of(key: str) -> str:
    """The DocMeta field a column, front-matter key or cover label names ("" if none):
    "Standard-Number", "standard_number", "标准号" → "std_no"."""
    k = key.strip().strip("：:").lower()
    return _COLUMNS.get(k) or _COLUMNS.get(re.sub(r"[\s\-]+", "_", k), "")


def entry_from(raw: dict[str, str]) -> dict[str, str]:
    """Metadata a file states about itself (front matter, <meta>, cover "key：value" lines)
    → DocMeta field names → values, normalised as catalogue rows are; unknown keys and the
    path are dropped."""
    entry: dict[str, str] = {}
    for key, value in raw.items():
        f = field_of(key)
        value = " ".join(str(value).split())
        if f and f != "path" and value and not entry.get(f):
            entry[f] = value
    return normalize_entry(entry)


def normalize_entry(entry: dict[str, str]) -> dict[str, str]:
    """Dates in ISO form, the status in the shared vocabulary, the number in one spelling."""
    for f in _DATE_FIELDS:
        if f in entry:
            entry[f] = to_iso_date(entry[f]) or entry[f]
    if "status" in entry:
        entry["status"] = normalize_status(entry["status"])
    if entry.get("std_no"):
        entry["std_no"] = normalize_number(entry["std_no"])
    return entry


def normalize_number(s: str) -> str:
    """A standard number in the one spelling used as a key ("GB/T 1.1—2020")."""
    try:
        from ..identifiers import normalize_std_no  # type: ignore[attr-defined]
    except ImportError:  # the identifiers helper has not landed yet
        normalize_std_no = None
    if normalize_std_no is not None:
        try:
            out = normalize_std_no(s)
        except Exception:  # a malformed number is a key like any other
            out = ""
        if out:
            return str(out)
    s = re.sub(r"\s+", " ", s.strip().upper().replace("／", "/"))
    s = re.sub(r"\s*[-－–—]\s*(\d{4})$", r"—\1", s)
    return re.sub(r"^([A-Z/]+?)\s*(?=\d)", r"\1 ", s)


def _key_path(p: str) -> str:
    return PurePosixPath(p.strip().replace("\\", "/").removeprefix("./")).as_posix()


@dataclass
class Catalog:
    """Rows of one or more catalogue files, keyed by path and by standard number."""

    by_path: dict[str, dict[str, str]] = field(default_factory=dict)
    by_number: dict[str, dict[str, str]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.by_path) + len(self.by_number)

    @classmethod
    def load(cls, csv_path: str | Path) -> Catalog:
        """Read a catalogue CSV (UTF-8, UTF-8 with BOM or GB18030)."""
        cat = cls()
        cat.add(csv_path)
        return cat

    def add(self, csv_path: str | Path) -> Catalog:
        """Add the rows of another catalogue file (later files win on the same key)."""
        path = Path(csv_path)
        name = path.name
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise InputFileError(name, f"cannot read the catalogue ({e.strerror or e})",
                                 "check the path") from None
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise InputFileError(name, "the catalogue is not UTF-8 or GB18030 text",
                                 "save it as UTF-8 CSV")
        self._read(text, name)
        self.sources.append(str(path))
        return self

    def _read(self, text: str, name: str) -> None:
        try:
            dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
                text[:4096], delimiters=",\t;")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(io.StringIO(text), dialect)
        try:
            header = next(reader)
        except (StopIteration, csv.Error):
            raise InputFileError(name, "the catalogue is empty",
                                 "give a header row such as path,title,status") from None
        fields = [field_of(h) for h in header]
        if "path" not in fields and "std_no" not in fields:
            raise InputFileError(
                name, f"the catalogue has no path or number column (header: {','.join(header)})",
                "name a column path, number or std_no")
        try:
            for lineno, row in enumerate(reader, start=2):
                if not any(x.strip() for x in row):
                    continue
                if len(row) != len(header):
                    raise InputFileError(
                        name, f"line {lineno} has {len(row)} fields, the header {len(header)}",
                        "quote values that contain the delimiter")
                entry: dict[str, str] = {}
                for key, value in zip(fields, row, strict=True):
                    value = value.strip()
                    if key and value and not entry.get(key):
                        entry[key] = value
                self._store(entry)
        except csv.Error as e:
            raise InputFileError(name, f"malformed CSV: {e}", "check quoting") from None

    def _store(self, entry: dict[str, str]) -> None:
        p = entry.pop("path", "")
        normalize_entry(entry)
        if p:
            self.by_path[_key_path(p)] = entry
        if entry.get("std_no"):
            self.by_number[entry["std_no"]] = entry

    def lookup(self, doc_path: str, std_no: str = "") -> dict[str, str]:
        """The row for a document: by exact path, else by the longest catalogue path the
        document's path ends with (a catalogue of ``laws/`` used from its parent), else by
        standard number. ``{}`` when there is none."""
        p = _key_path(doc_path) if doc_path else ""
        if p:
            if p in self.by_path:
                return dict(self.by_path[p])
            best = ""
            for k in self._suffix_candidates(p):
                if len(k) > len(best):
                    best = k
            if best:
                return dict(self.by_path[best])
        if std_no:
            row = self.by_number.get(normalize_number(std_no))
            if row:
                return dict(row)
        return {}

    def _suffix_candidates(self, p: str) -> list[str]:
        parts = p.split("/")
        return [k for k in ("/".join(parts[i:]) for i in range(1, len(parts))) if k in self.by_path]
