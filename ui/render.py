"""HTML and Markdown rendering for the chat UI: answers with numbered sources, status badges,
clause details, the library table and the Markdown export. Pure Python (no gradio).

Chat messages pass through Gradio's Markdown renderer and HTML sanitizer, which keep tags,
``class`` and ``style`` but drop ``data-*`` attributes; so every message is one HTML block
without blank lines, text is escaped with line breaks as ``<br>``, and the marker number is
carried in a class name (``sa-cite-n-3`` opens ``details.sa-n-3`` of the same message).
"""

from __future__ import annotations

import html
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from assistant.records import WITHDRAWN, Answer, Citation

# status → (css class, background, text colour)
STATUS_STYLE: dict[str, tuple[str, str, str]] = {
    "现行": ("ok", "#1a7f37", "#ffffff"),
    "有效": ("ok", "#1a7f37", "#ffffff"),
    "即将实施": ("soon", "#0969da", "#ffffff"),
    "废止": ("gone", "#cf222e", "#ffffff"),
    "已失效": ("gone", "#cf222e", "#ffffff"),
    "被代替": ("replaced", "#bc4c00", "#ffffff"),
    "未知": ("unknown", "#6e7781", "#ffffff"),
}

KIND_LABELS: dict[str, str] = {
    "standard": "标准",
    "law": "法律法规",
    "policy": "政策文件",
    "other": "其他",
}
CATEGORY_LABELS: dict[str, str] = {
    "national": "国家标准",
    "industry": "行业标准",
    "local": "地方标准",
    "group": "团体标准",
    "enterprise": "企业标准",
}
FORCE_LABELS: dict[str, str] = {"mandatory": "强制性", "recommended": "推荐性", "guidance": "指导性"}

UPLOAD_SUFFIXES = (".pdf", ".docx", ".txt", ".md", ".html", ".htm")
RESULT_LABELS: dict[str, str] = {
    "added": "已添加",
    "updated": "已更新",
    "unchanged": "未变化",
    "failed": "失败",
    "removed": "已移除",
    "pending": "等待中",
}
DOC_COLUMNS = ["编号", "标题", "类型", "类别", "状态", "发布日期", "实施日期", "条文块", "文件",
               "导入时间"]
RESULT_COLUMNS = ["文件", "结果", "条文块", "原因"]

_MARKER = re.compile(r"\[(\d+)\]")


def esc(text: str) -> str:
    """Escape text for HTML; line breaks become ``<br>`` (no raw newlines in chat HTML)."""
    t = html.escape(text or "", quote=True)
    t = t.replace("\r\n", "\n").replace("\r", "\n")
    t = re.sub(r"\n{2,}", "<br><br>", t)
    return t.replace("\n", "<br>")


def status_badge(status: str) -> str:
    """A colour-coded status badge (现行 / 即将实施 / 废止 / 有效 / 已失效 / 被代替 / 未知)."""
    s = (status or "").strip() or "未知"
    cls, bg, fg = STATUS_STYLE.get(s, STATUS_STYLE["未知"])
    return (f'<span class="sa-badge sa-st-{cls}" style="background:{bg};color:{fg};'
            f'border-radius:4px;padding:0 6px;font-size:0.85em;white-space:nowrap">{esc(s)}</span>')


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind or "其他")


def category_label(category: str) -> str:
    return CATEGORY_LABELS.get(category, category)


def citation_name(c: Citation) -> str:
    """Document part of a citation: "GB/T 1.1—2020 标准化工作导则", a law title, or the file."""
    if c.std_no:
        return f"{c.std_no} {c.title}".strip()
    return c.title or c.doc


def _markers(text_html: str, valid: set[int]) -> str:
    def sub(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if n not in valid:
            return m.group(0)
        return (f'<span class="sa-cite sa-cite-n-{n}" title="查看来源 [{n}]" '
                f'style="cursor:pointer;color:#0969da;font-weight:600">[{n}]</span>')

    return _MARKER.sub(sub, text_html)


def render_citation(c: Citation, text: str = "") -> str:
    """One numbered source: a collapsible block whose body is the full clause and its metadata."""
    full = c.text or text or c.quote
    warn = bool(c.warning) or c.status in WITHDRAWN
    classes = f"sa-src sa-n-{c.n}" + (" sa-src-warn" if warn else "")
    head = (f'<span class="sa-num">[{c.n}]</span> <b>{esc(c.label())}</b>'
            + (f' <span class="sa-heading">{esc(c.heading)}</span>' if c.heading else "")
            + f" {status_badge(c.status)}")
    if c.warning:
        head += f' <span class="sa-warn-inline" style="color:#cf222e">⚠ {esc(c.warning)}</span>'
    meta = [f"文档：{esc(c.title or c.doc)}"]
    if c.std_no:
        meta.append(f"编号：{esc(c.std_no)}")
    meta.append(f"条款：{esc(c.clause or '—')}")
    if c.page:
        meta.append(f"页码：第 {esc(c.page)} 页")
    meta.append(f"状态：{status_badge(c.status)}")
    body = f'<div class="sa-meta">{" ｜ ".join(meta)}</div>'
    if c.heading:
        body += f'<div class="sa-path">位置：{esc(c.heading)}</div>'
    body += f'<div class="sa-file">文件：{esc(c.doc)}</div>'
    if c.warning:
        body += (f'<div class="sa-warning" style="color:#cf222e;font-weight:600">⚠ '
                 f'{esc(c.warning)}</div>')
    body += f'<div class="sa-clause">{esc(full)}</div>'
    return (f'<details class="{classes}"><summary>{head}</summary>'
            f'<div class="sa-src-body">{body}</div></details>')


def render_answer(answer: Answer, texts: Mapping[int, str] | None = None) -> str:
    """The chat message of a finished answer: text with clickable markers, then its sources.

    ``texts`` supplies the clause text for citations that came without it (by marker number).
    Refusals ("the documents do not cover this") are a distinct notice.
    """
    texts = texts or {}
    valid = {c.n for c in answer.citations}
    body = _markers(esc(answer.answer), valid)
    if answer.refused:
        out = ('<div class="sa-msg sa-refusal" style="border-left:4px solid #bf8700;'
               'background:#fff8c5;padding:6px 10px;border-radius:4px">'
               '<div class="sa-refusal-head" style="font-weight:700;color:#7d4e00">'
               '⚠ 已收录的文档未涵盖这个问题</div>'
               f'<div class="sa-text">{body}</div>')
        title = "最接近的条文（不足以作答）"
    else:
        out = f'<div class="sa-msg sa-answer"><div class="sa-text">{body}</div>'
        title = "来源（点击编号或条目查看条文全文）"
    if answer.flags and not answer.refused:
        out += ('<div class="sa-flags" style="color:#7d4e00;font-size:0.85em">核查提示：'
                + "；".join(esc(f) for f in answer.flags) + "</div>")
    if answer.citations:
        out += f'<div class="sa-sources"><div class="sa-sources-title">{title}</div>'
        out += "".join(render_citation(c, texts.get(c.n, "")) for c in answer.citations)
        out += "</div>"
    return out + "</div>"


def render_partial(text: str) -> str:
    """The chat message while an answer streams in."""
    return (f'<div class="sa-msg sa-streaming"><div class="sa-text">{esc(text)}'
            '<span class="sa-cursor">▍</span></div></div>')


def render_error(message: str) -> str:
    """The chat message when answering failed (one line, no traceback)."""
    return (f'<div class="sa-msg sa-error" style="border-left:4px solid #cf222e;'
            f'padding:6px 10px;color:#cf222e">出错：{esc(message)}</div>')


def doc_rows(documents: Mapping[str, Any]) -> list[list[Any]]:
    """Rows of the library table from ``Index.documents()`` (doc → DocInfo)."""
    rows = []
    for doc, info in sorted(documents.items(), key=lambda kv: (kv[1].meta.kind, kv[0])):
        m = info.meta
        number = m.std_no or m.doc_number
        kind = kind_label(m.kind)
        if m.force and m.kind == "standard":
            kind += f"（{FORCE_LABELS.get(m.force, m.force)}）"
        status = m.status or "未知"
        if m.replaced_by:
            status += f"（被 {m.replaced_by} 代替）"
        at = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.ingested_at)) if info.ingested_at else ""
        rows.append([number, m.title or doc, kind, category_label(m.category), status,
                     m.issued, m.effective, info.n_chunks, doc, at])
    return rows


def doc_choice(doc: str, meta: Any) -> tuple[str, str]:
    """(label, value) of a document in the "only these documents" selector."""
    name = meta.title or doc
    if meta.std_no:
        name = f"{meta.std_no} {name}"
    return (name if name == doc else f"{name}（{doc}）", doc)


def safe_filename(name: str, default: str = "upload") -> str:
    """A safe base name for an uploaded file: no directories, no traversal, no control
    characters; NFKC-normalised; CJK kept; suffix lower-cased; at most ~120 characters and
    200 bytes."""
    n = (name or "").replace("\\", "/").split("/")[-1]
    # NFKC after the split: full-width slashes ("GB／T") stay in the name, as full-width
    n = unicodedata.normalize("NFKC", n).replace("/", "／").replace("\\", "＼")
    n = "".join(ch for ch in n if not unicodedata.category(ch).startswith("C"))
    n = re.sub(r"[^\w.\-()\[\]【】《》—·+／ ]", "_", n)
    n = re.sub(r"\s+", " ", n)
    n = re.sub(r"\.{2,}", ".", n).strip(" .")
    stem, dot, suffix = n.rpartition(".")
    if not dot:
        stem, suffix = n, ""
    suffix = re.sub(r"[^a-z0-9]", "", suffix.lower())[:10]
    stem = stem.strip(" ._-／")[:100]
    while len(stem.encode("utf-8")) > 180:  # file systems count bytes (255), CJK takes 3
        stem = stem[:-1]
    stem = stem.strip(" ._-／") or default
    return f"{stem}.{suffix}" if suffix else stem


def export_markdown(turns: Sequence[Answer], clause_text: Callable[[Citation], str] | None = None,
                    title: str = "对话导出") -> str:
    """The conversation as Markdown: each question, its answer and its numbered sources."""
    lines = [f"# {title}", "", f"导出时间：{time.strftime('%Y-%m-%d %H:%M:%S')}", ""]
    for i, a in enumerate(turns, 1):
        lines += [f"## 问题 {i}：{a.question.strip()}", ""]
        if a.refused:
            lines += ["> **已收录的文档未涵盖这个问题。**", ""]
        lines += [a.answer.strip(), ""]
        if a.flags:
            lines += ["核查提示：" + "；".join(a.flags), ""]
        if a.citations:
            lines += ["**来源**", ""]
            for c in a.citations:
                extra = [x for x in (c.heading, f"第 {c.page} 页" if c.page else "", c.status) if x]
                line = f"{c.n}. [{c.n}] {citation_name(c)} {c.clause}".rstrip()
                if extra:
                    line += "（" + "，".join(extra) + "）"
                lines.append(line)
                if c.warning:
                    lines.append(f"   - ⚠ {c.warning}")
                text = c.text or (clause_text(c) if clause_text else "") or c.quote
                if text:
                    lines += ["", *("   > " + t if t.strip() else "   >" for t in text.strip().splitlines())]
                lines.append("")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def results_rows(results: Iterable[Any]) -> list[list[Any]]:
    """Rows of the per-file upload result table from FileResult-like objects."""
    return [[r.path, RESULT_LABELS.get(r.status, r.status), r.chunks or "", r.reason]
            for r in results]
