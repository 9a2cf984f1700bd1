"""The check report as Markdown (``--out REPORT.md``, the UI's export) and as plain text."""

from __future__ import annotations

from .records import CheckReport, Finding
from .rules import GROUP_TITLES, RULES, by_kind

_SEV = {"error": "错误", "warning": "警告", "note": "提示"}


def _quote(s: str) -> str:
    return " ".join(s.split()).replace("|", "\\|")


def finding_md(f: Finding) -> list[str]:
    page = f"（第{f.page}页）" if f.page else ""
    lines = [f"- **[{_SEV[f.severity]}] {f.clause}**{page}：{f.message}",
             f"  - 原文：> {_quote(f.snippet)}",
             f"  - 依据：{f.rule.citation}（{f.rule.title}）— {f.rule.summary}",
             f"  - 建议：{f.fix}"]
    if f.rule.text:
        lines.append(f"  - 条文（索引）：{_quote(f.rule.text)[:300]}")
    return lines


def to_markdown(r: CheckReport) -> str:
    c = r.counts()
    out = [f"# 草案检查报告：{r.std_no} {r.title}".rstrip(), "",
           f"- 文件：{r.draft}",
           f"- 结论：{c['error']} 个错误，{c['warning']} 个警告，{c['note']} 个提示", ""]
    if r.references:
        out += ["## 引用文件", "", "| 编号 | 第2章 | 规范性引用 | 状态 | 现行版本 | 来源 |",
                "|---|---|---|---|---|---|"]
        for s in r.references:
            out.append(f"| {s.std_no} | {'是' if s.listed else '否'} | {'是' if s.normative else '否'} "
                       f"| {s.status} | {s.current or s.replaced_by} | {s.source or '未找到'} |")
        out.append("")
    out += ["## 检查结果", ""]
    if not r.findings:
        out += ["未发现问题。", ""]
    groups: dict[str, list[str]] = {}
    for kind, fs in by_kind(r.findings).items():
        rule = RULES[kind]
        block = [f"### {rule.title}（{len(fs)}）", ""]
        for f in fs:
            block += finding_md(f)
        groups.setdefault(rule.group, []).extend([*block, ""])
    for g, block in groups.items():
        out += [f"### 【{GROUP_TITLES[g]}】", "", *block]
    out += ["## 相关条款（文库参考，非检查结论）", ""]
    if r.related is None:
        out += [r.related_note, ""]
    else:
        out += [r.related_note, ""]
        for rel in r.related:
            out.append(f"- **{rel.clause}** {_quote(rel.snippet)}")
            for h in rel.hits:
                out.append(f"  - {h.citation}［{h.status}］：{_quote(h.text)[:160]}")
        out.append("")
    return "\n".join(out)


def to_text(r: CheckReport) -> str:
    """Terminal output: findings grouped by kind, one line each plus the fix."""
    c = r.counts()
    out = [f"{r.std_no} {r.title}".strip() + f"  ({r.draft})",
           f"{c['error']} errors, {c['warning']} warnings, {c['note']} notes"]
    for kind, fs in by_kind(r.findings).items():
        rule = RULES[kind]
        out.append("")
        out.append(f"[{kind}] {rule.title} — {rule.group} ({len(fs)})")
        for f in fs:
            out.append(f"  {f.severity:<7} {f.clause:<8} {f.message}  〔{f.rule.citation}〕")
            out.append(f"          > {_quote(f.snippet)}")
            out.append(f"          fix: {f.fix}")
    if r.related is not None:
        out.append("")
        out.append(f"related provisions: {len(r.related)} clauses (see --out REPORT.md)")
    elif r.related_note:
        out.append("")
        out.append(r.related_note)
    return "\n".join(out)
