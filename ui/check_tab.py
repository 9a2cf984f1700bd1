"""The 草案检查 tab: upload a draft standard, see the findings grouped by kind, click one to see
the draft's snippet and the cited rule side by side, export the report as Markdown.

``build_check_tab(handlers_or_assistant)`` is called inside a ``gr.Tab("草案检查")`` context;
:class:`CheckHandlers` holds the logic as plain methods that tests call directly.
"""

from __future__ import annotations

import html
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.check import check_draft
from assistant.check.records import CheckReport, Finding
from assistant.check.report import to_markdown
from assistant.check.rules import GROUP_TITLES, RULES, by_kind
from assistant.errors import AssistantError

SEVERITY = {"error": "错误", "warning": "警告", "note": "提示"}
_COLOURS = {"error": "#cf222e", "warning": "#9a6700", "note": "#57606a"}
TABLE_HEADERS = ["#", "类别", "严重性", "位置", "说明"]
_CSS = """<style>
.chk-kind { border: 1px solid var(--border-color-primary); border-radius: 6px; margin: 6px 0;
  padding: 4px 10px; }
.chk-kind > summary { cursor: pointer; font-weight: 600; }
.chk-item { margin: 4px 0 4px 8px; font-size: 0.92em; }
.chk-sev { font-weight: 600; margin-right: 6px; }
.chk-side { display: flex; gap: 12px; }
.chk-pane { flex: 1; border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 8px 12px; }
.chk-pane h4 { margin: 0 0 6px; }
.chk-quote { background: var(--background-fill-secondary); padding: 6px 8px; border-radius: 4px;
  white-space: pre-wrap; }
.chk-muted { color: var(--body-text-color-subdued); font-size: 0.88em; }
</style>"""


def _e(s: object) -> str:
    return html.escape(str(s))


class CheckHandlers:
    """Upload → check; select → side by side; export → Markdown file."""

    def __init__(self, assistant: Any = None, catalog: Any = None,
                 export_dir: Path | None = None) -> None:
        self.assistant = assistant  # an Assistant with an index, or None
        self.catalog = catalog  # an assistant.parse.catalog.Catalog, or None
        self.export_dir = Path(export_dir or tempfile.mkdtemp(prefix="draft-check-"))

    # -- upload ----------------------------------------------------------------------------
    def run(self, path: str | None, progress: Any = None
            ) -> tuple[str, str, list[list[str]], CheckReport | None, str, str]:
        """(summary, findings grouped by kind, table rows, report, detail, related)."""
        if not path:
            return "<p class='chk-muted'>请先上传草案文件（DOCX、PDF、Markdown 或 TXT）。</p>", "", [], None, "", ""

        def tick(stage: str, done: int, total: int) -> None:
            if progress is not None:
                progress((done, total), desc="检查" if stage == "check" else "相关条款")

        try:
            report = check_draft(Path(path), self.assistant, tick, self.catalog)
        except AssistantError as e:
            return f"<p class='chk-error'>无法检查：{_e(e)}</p>", "", [], None, "", ""
        return (summary_html(report), findings_html(report), table_rows(report), report,
                "<p class='chk-muted'>点击表中的一条结果，查看草案原文与所依据的条文。</p>",
                related_html(report))

    # -- select ----------------------------------------------------------------------------
    def select(self, report: CheckReport | None, row: int) -> str:
        """The draft's snippet and the cited rule, side by side, for row ``row`` of the table."""
        if report is None:
            return ""
        ordered = ordered_findings(report)
        if not 0 <= row < len(ordered):
            return ""
        return detail_html(ordered[row])

    # -- export ----------------------------------------------------------------------------
    def export(self, report: CheckReport | None) -> str | None:
        """Path of the report as Markdown (for download), None before a check."""
        if report is None:
            return None
        name = Path(report.draft).stem or "draft"
        self.export_dir.mkdir(parents=True, exist_ok=True)
        out = self.export_dir / f"{name}.check.md"
        out.write_text(to_markdown(report) + "\n", encoding="utf-8")
        return str(out)


def ordered_findings(report: CheckReport) -> list[Finding]:
    return [f for fs in by_kind(report.findings).values() for f in fs]


# -- rendering ------------------------------------------------------------------------------

def summary_html(r: CheckReport) -> str:
    c = r.counts()
    refs = ""
    if r.references:
        rows = "".join(
            f"<tr><td>{_e(s.std_no)}</td><td>{'是' if s.listed else '否'}</td>"
            f"<td>{'是' if s.normative else '否'}</td><td>{_e(s.status)}</td>"
            f"<td>{_e(s.current or s.replaced_by)}</td></tr>" for s in r.references)
        refs = ("<details class='chk-kind'><summary>引用文件及其状态</summary><table>"
                "<tr><th>编号</th><th>第2章</th><th>规范性引用</th><th>状态</th><th>现行版本</th></tr>"
                f"{rows}</table></details>")
    return (f"{_CSS}<div id='chk-summary-text'><b>{_e(r.std_no)} {_e(r.title)}</b><br>"
            f"<span style='color:{_COLOURS['error']}'>{c['error']} 个错误</span>，"
            f"<span style='color:{_COLOURS['warning']}'>{c['warning']} 个警告</span>，"
            f"{c['note']} 个提示</div>{refs}")


def findings_html(r: CheckReport) -> str:
    if not r.findings:
        return "<p>未发现问题。</p>"
    out: list[str] = []
    group = ""
    n = 0
    for kind, fs in by_kind(r.findings).items():
        rule = RULES[kind]
        if rule.group != group:
            group = rule.group
            out.append(f"<h4>【{_e(GROUP_TITLES[group])}】</h4>")
        items = []
        for f in fs:
            n += 1
            items.append(f"<div class='chk-item' data-row='{n - 1}'><span class='chk-sev' "
                         f"style='color:{_COLOURS[f.severity]}'>{SEVERITY[f.severity]}</span>"
                         f"#{n} <b>{_e(f.clause)}</b> {_e(f.message)}</div>")
        out.append(f"<details class='chk-kind chk-kind-{kind}' open><summary>{_e(rule.title)}"
                   f"（{len(fs)}）<span class='chk-muted'> {_e(rule.clause)}</span></summary>"
                   + "".join(items) + "</details>")
    return "".join(out)


def table_rows(r: CheckReport) -> list[list[str]]:
    return [[str(i), RULES[f.kind].title, SEVERITY[f.severity], f.clause, f.message]
            for i, f in enumerate(ordered_findings(r), 1)]


def detail_html(f: Finding) -> str:
    page = f"，第{f.page}页" if f.page else ""
    indexed = (f"<div class='chk-quote' id='chk-rule-text'>{_e(f.rule.text[:800])}</div>"
               f"<p class='chk-muted'>条文取自索引：{_e(f.rule.doc)}</p>" if f.rule.text else
               "<p class='chk-muted'>该标准未入索引，只给出编号和条号。</p>")
    return (f"{_CSS}<div class='chk-side'>"
            f"<div class='chk-pane' id='chk-draft-pane'><h4>草案原文 · {_e(f.clause)}{page}</h4>"
            f"<div class='chk-quote'>{_e(f.snippet)}</div>"
            f"<p><span class='chk-sev' style='color:{_COLOURS[f.severity]}'>{SEVERITY[f.severity]}</span>"
            f"{_e(f.message)}</p><p><b>建议：</b>{_e(f.fix)}</p></div>"
            f"<div class='chk-pane' id='chk-rule-pane'><h4>依据 · {_e(f.rule.citation)}</h4>"
            f"<p><b>{_e(f.rule.title)}</b>：{_e(f.rule.summary)}</p>{indexed}</div></div>")


def related_html(r: CheckReport) -> str:
    if r.related is None:
        return f"<p class='chk-muted'>{_e(r.related_note)}</p>"
    out = [f"<p class='chk-muted'>{_e(r.related_note)}</p>"]
    for rel in r.related:
        hits = "".join(f"<li><b>{_e(h.citation)}</b>［{_e(h.status)}］{_e(h.text[:160])}</li>"
                       for h in rel.hits) or "<li class='chk-muted'>无</li>"
        out.append(f"<details class='chk-kind'><summary>{_e(rel.clause)} {_e(rel.snippet[:60])}</summary>"
                   f"<ul>{hits}</ul></details>")
    return "".join(out)


# -- the tab --------------------------------------------------------------------------------

def build_check_tab(handlers_or_assistant: Any = None) -> CheckHandlers:
    """Lay out the tab in the current Blocks/Tab context and wire its events."""
    h = (handlers_or_assistant if isinstance(handlers_or_assistant, CheckHandlers)
         else CheckHandlers(handlers_or_assistant))
    report = gr.State(None)
    with gr.Row():
        upload = gr.File(label="草案文件（DOCX / PDF / Markdown / TXT）", type="filepath",
                         file_types=[".docx", ".pdf", ".md", ".txt"], elem_id="chk-upload")
        with gr.Column():
            run = gr.Button("检查草案", variant="primary", elem_id="chk-run")
            export = gr.Button("导出报告（Markdown）", elem_id="chk-export")
            download = gr.File(label="报告", interactive=False, elem_id="chk-download")
    summary = gr.HTML(elem_id="chk-summary")
    with gr.Row():
        with gr.Column(scale=1):
            grouped = gr.HTML(elem_id="chk-findings")
        with gr.Column(scale=1):
            table = gr.Dataframe(headers=TABLE_HEADERS, interactive=False, wrap=True,
                                 elem_id="chk-table", label="结果（点击一行查看详情）")
    detail = gr.HTML(elem_id="chk-detail")
    with gr.Accordion("相关条款（文库参考，非检查结论）", open=False):
        related = gr.HTML(elem_id="chk-related")

    def on_run(path: str | None, progress: gr.Progress = gr.Progress()) -> tuple:
        return h.run(path, progress)

    def on_select(rep: CheckReport | None, evt: gr.SelectData) -> str:
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        return h.select(rep, int(row))

    run.click(on_run, [upload], [summary, grouped, table, report, detail, related])
    table.select(on_select, [report], [detail])
    export.click(h.export, [report], [download])
    return h
