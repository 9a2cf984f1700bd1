"""Uploaded files before ingestion: each one checked on its own (name, type, size) and copied
to ``data_dir/uploads`` under a safe name; a bad file gets a one-line reason in its row of
the result table and the others go on. Plain Python (no gradio).
"""

from __future__ import annotations

import logging
import shutil
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import render

log = logging.getLogger("ui")


@dataclass
class Row:
    """One line of the upload result table."""

    path: str
    status: str
    reason: str = ""
    chunks: int = 0


@dataclass(frozen=True)
class Upload:
    """An uploaded file: where the server holds it and the name its user gave it."""

    path: Path
    name: str

    @classmethod
    def of(cls, value: Any) -> Upload:
        """From what Gradio hands a handler: a path, or a file object with ``orig_name``."""
        if isinstance(value, Upload):
            return value
        path = Path(str(getattr(value, "path", None) or value))
        return cls(path, str(getattr(value, "orig_name", None) or path.name))


def shown_name(name: str) -> str:
    """A file name for one line of the table: control characters as escapes."""
    return "".join(f"\\x{ord(ch):02x}" if unicodedata.category(ch).startswith("C") else ch
                   for ch in name) or "（无文件名）"


def name_problem(name: str) -> str:
    """Why an uploaded file's name is refused ("" if it is fine).

    Names that try to climb out of the upload folder or hide their type are refused rather
    than repaired: a repaired ``..\\..\\x.md`` would silently replace ``x.md``.
    """
    if not name.strip():
        return "文件名为空"
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        return "文件名含换行等控制字符"
    if "/" in name or "\\" in name:
        return "文件名含路径分隔符（/ 或 \\）"
    if ".." in name:
        return "文件名含“..”"
    return ""


def stage(uploads: Iterable[Upload], folder: Path, max_mb: int) -> tuple[list[Path], list[Row]]:
    """Check each upload and copy the good ones to ``folder`` under safe, distinct names."""
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[Path] = []
    rows: list[Row] = []
    used: set[str] = set()
    for up in uploads:
        problem = name_problem(up.name)
        if problem:
            rows.append(Row(shown_name(up.name), "failed", f"{problem}，请改名后重新上传"))
            continue
        name = render.safe_filename(up.name)
        problem = _content_problem(up.path, name, max_mb)
        if problem:
            rows.append(Row(name, "failed", problem))
            continue
        stem, suffix, k = Path(name).stem, Path(name).suffix, 2
        while name in used:
            name, k = f"{stem}-{k}{suffix}", k + 1
        used.add(name)
        dest = folder / name
        try:
            if dest.resolve().parent != folder.resolve():  # belt and braces
                raise OSError("outside the upload folder")
            shutil.copyfile(up.path, dest)
        except OSError as e:
            log.warning("staging upload %r failed: %s", up.name, e)
            rows.append(Row(name, "failed", "无法保存这个文件，请改名后重新上传"))
            continue
        staged.append(dest)
        rows.append(Row(name, "pending"))
    return staged, rows


def _content_problem(path: Path, name: str, max_mb: int) -> str:
    """Why a file with a safe name cannot be ingested: its type or its size ("" if none)."""
    suffix = Path(name).suffix.lower()
    if suffix not in render.UPLOAD_SUFFIXES:
        return f"不支持的文件类型“{suffix or '无扩展名'}”（支持 PDF、DOCX、TXT、MD、HTML）"
    try:
        size = path.stat().st_size
    except OSError:
        return "上传的文件已不存在，请重新上传"
    if size > max_mb * 1024 * 1024:
        return f"文件过大（{size / 1048576:.1f} MB，上限 {max_mb} MB）"
    if size == 0:
        return "文件为空"
    return ""


def discard(folder: Path, name: str) -> None:
    """Delete ``folder/name`` if it is a file directly in ``folder`` (a removed or failed upload)."""
    p = (folder / name).resolve()
    if p.parent == folder.resolve() and p.is_file():
        p.unlink()
