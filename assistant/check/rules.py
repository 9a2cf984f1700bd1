"""The rule catalogue: every kind of finding with the GB/T 1.1—2020 clause that states the
rule, its severity and a fix template.

Clause numbers follow the structure of GB/T 1.1—2020 (6.2 结构, 7.2 章, 7.3 条, 7.4 段,
8.1 封面, 8.3 前言, 8.5 范围, 8.6 规范性引用文件, 8.7 术语和定义, 9.5 引用和提示, 9.6 附录,
9.10 示例, 9.11 注, 附录C 条款类型的表述使用的能愿动词或句子语气类型). The summaries are our
own one-line wording of each rule, not the standard's text; when GB/T 1.1—2020 is indexed the
clause's own text is attached to the finding (see :func:`cite`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .records import Finding, RuleRef, Severity

STANDARD = "GB/T 1.1—2020"


@dataclass(frozen=True)
class Rule:
    kind: str
    group: str  # references / structure / language
    title: str
    clause: str  # clause of GB/T 1.1—2020 that states the rule
    severity: Severity
    summary: str
    fix: str  # template; {placeholders} are filled from the finding's details


def _r(kind: str, group: str, title: str, clause: str, severity: Severity, summary: str,
       fix: str) -> Rule:
    return Rule(kind, group, title, clause, severity, summary, fix)


_REF, _STR, _LAN = "references", "structure", "language"

RULES: dict[str, Rule] = {r.kind: r for r in [
    # -- normative references -----------------------------------------------------------
    _r("ref_unlisted", _REF, "规范性引用的文件未列入第2章", "8.6", "error",
       "文中规范性引用的文件均应在“规范性引用文件”一章中列出。",
       "在第2章中列出 {std}（编号和名称），或将文中的引用改为资料性引用（参见）。"),
    _r("ref_uncited", _REF, "第2章列出的文件未被规范性引用", "8.6", "warning",
       "“规范性引用文件”只列出文中规范性引用的文件。",
       "在文中规范性地引用 {std}（如“应符合…的规定”），或将其从第2章移至参考文献。"),
    _r("ref_undated_specific", _REF, "引用具体章条、图表未注日期", "9.5", "error",
       "引用另一文件的具体章、条、图、表或附录时应注日期。",
       "写明所引版本的年份，如“{std_dated}”，并在第2章中列出该版本。"),
    _r("ref_date_mismatch", _REF, "文中引用的版本与第2章不一致", "9.5", "error",
       "文中注日期引用的版本应与“规范性引用文件”中列出的版本一致。",
       "统一为同一版本：第2章列为 {listed}，文中写作 {cited}。"),
    _r("ref_withdrawn", _REF, "引用的文件已废止", "8.6", "error",
       "规范性引用的文件应现行有效；已废止的文件不应被规范性引用。",
       "删除对 {std} 的引用，或改引现行文件{replacement}。"),
    _r("ref_superseded", _REF, "引用的版本已被代替", "8.6", "warning",
       "注日期引用旧版本时，只有该旧版本适用；引用前应确认不需要现行版本。",
       "核实是否应改引现行版本 {current}；确需旧版本时保留注日期引用。"),
    _r("ref_upcoming", _REF, "引用的文件尚未实施", "8.6", "note",
       "引用即将实施的文件时，应确认本文件的实施日期不早于它。",
       "核对 {std} 的实施日期与本文件的实施日期。"),
    _r("ref_unknown", _REF, "编号未能在文库和目录中找到", "8.6", "note",
       "引用的文件应是已发布的文件；编号无法核实时需人工确认。",
       "核对 {std} 的编号和名称，或用 --catalog 提供标准目录。"),
    _r("ref_number_format", _REF, "文件编号书写格式", "8.6", "warning",
       "文件编号由代号、顺序号（含部分号）和年份号组成，代号与顺序号间空一字，年份前用一字线（—）。",
       "将“{written}”改为“{std}”。"),
    _r("ref_order", _REF, "规范性引用文件的排列顺序", "8.6", "warning",
       "文件清单按国家标准、行业标准、地方标准、团体标准、国际标准、其他文件的顺序排列，"
       "同类按代号和顺序号排列。",
       "将 {std} 移到 {before} 之前。"),
    _r("ref_leadin", _REF, "第2章引导语", "8.6", "error",
       "第2章以规定的引导语开头；没有规范性引用文件时写“本文件没有规范性引用文件。”",
       "使用规定的引导语：“下列文件中的内容通过文中的规范性引用而构成本文件必不可少的条款。"
       "其中，注日期的引用文件，仅该日期对应的版本适用于本文件；不注日期的引用文件，"
       "其最新版本（包括所有的修改单）适用于本文件。”"),
    _r("ref_subdivided", _REF, "第2章不应分条", "8.6", "error",
       "“规范性引用文件”一章不分条。",
       "删除条编号 {label}，将文件直接列在引导语之后。"),
    # -- structure -----------------------------------------------------------------------
    _r("missing_element", _STR, "缺少必备要素", "6.2", "error",
       "封面、前言、范围、规范性引用文件、术语和定义是必备要素。",
       "补充“{element}”（见 GB/T 1.1—2020 {at}）。"),
    _r("element_order", _STR, "要素的位置或顺序", "6.2", "error",
       "要素按规定的位置排列：范围为第1章，规范性引用文件为第2章，术语和定义为第3章，"
       "附录在参考文献之前。",
       "将“{element}”移到{where}。"),
    _r("foreword_basis", _STR, "前言未说明起草依据", "8.3", "warning",
       "前言说明本文件按照 GB/T 1.1—2020 的规定起草。",
       "在前言中写明：“本文件按照GB/T 1.1—2020《标准化工作导则 第1部分：标准化文件的结构和"
       "起草规则》的规定起草。”"),
    _r("terms_leadin", _STR, "术语和定义的引导语", "8.7", "error",
       "“术语和定义”一章以规定的引导语开头（如“下列术语和定义适用于本文件。”）。",
       "使用规定的引导语，如“下列术语和定义适用于本文件。”或“……界定的以及下列术语和定义"
       "适用于本文件。”"),
    _r("numbering_gap", _STR, "章条编号不连续", "7.3", "error",
       "章、条用阿拉伯数字从1开始连续编号。",
       "将 {label} 改为 {expected}，并顺延其后的编号。"),
    _r("numbering_duplicate", _STR, "章条编号重复", "7.3", "error",
       "同一文件中章、条编号不应重复。",
       "将第二个 {label} 改为 {expected}，并顺延其后的编号。"),
    _r("single_subclause", _STR, "同一层次只有一个条", "7.3", "warning",
       "同一层次中有两个或两个以上的条时才设条。",
       "取消 {label} 的编号，将其内容并入 {parent}，或再增设同层次的条。"),
    _r("hanging_paragraph", _STR, "悬置段", "7.4", "warning",
       "不宜在章或条标题与下一层次的条之间设段（悬置段）。",
       "将 {label} 下的段改为一个无标题条（如 {child}），或并入下层条。"),
    _r("annex_unreferenced", _STR, "附录未在文中提及", "9.6", "error",
       "每个附录都应在正文或前言中提及。",
       "在相关条文中提及{annex}，如“应符合{annex}的规定”（规范性）或“参见{annex}”（资料性）。"),
    _r("annex_kind_mismatch", _STR, "附录的性质与提及方式不一致", "9.6", "error",
       "规范性附录以规范性方式提及（如“符合附录A的规定”），资料性附录以资料性方式提及（参见）。",
       "将{annex}标为“（{should}）”，或改变文中提及它的方式。"),
    _r("annex_no_marker", _STR, "附录未标明规范性或资料性", "9.6", "error",
       "附录编号下方标明“（规范性）”或“（资料性）”。",
       "在{annex}编号下标明“（规范性）”或“（资料性）”。"),
    # -- language of provisions ----------------------------------------------------------
    _r("must", _LAN, "使用“必须”", "附录C", "error",
       "要求型条款用“应”“不应”；不使用“必须”替代“应”，以免与外部约束相混淆。",
       "将“必须”改为“应”。"),
    _r("vague_requirement", _LAN, "要求与推荐混用", "附录C", "warning",
       "要求用“应”，推荐用“宜”；“一般应”“原则上应”“应尽量”等既非要求也非推荐。",
       "确定其性质：要求写“应”，推荐写“宜”，或写明例外的条件。"),
    _r("prohibition_form", _LAN, "禁止的表述", "附录C", "warning",
       "表示禁止用“不应”；不使用“不得”“不可”“禁止”代替“不应”。",
       "将“{word}”改为“不应”。"),
    _r("permission_form", _LAN, "允许的否定表述", "附录C", "warning",
       "允许型条款的否定形式用“不必”。",
       "将“{word}”改为“不必”。"),
    _r("requirement_in_note", _LAN, "注中包含要求", "9.11", "error",
       "注只给出理解或使用文件的附加信息，不包含要求或指示。",
       "将要求移入条文，或把“应”改写为陈述。"),
    _r("requirement_in_example", _LAN, "示例中包含要求", "9.10", "error",
       "示例只给出帮助理解的例子，不包含要求或指示。",
       "将要求移入条文，或把“应”改写为陈述。"),
    _r("requirement_in_foreword", _LAN, "前言中包含要求", "8.3", "error",
       "前言不包含要求、指示、推荐或允许型条款。",
       "删除前言中的要求，或移入正文。"),
    _r("requirement_in_scope", _LAN, "范围中包含要求", "8.5", "error",
       "范围只陈述文件的对象、内容和适用界限，不包含要求。",
       "将要求移入正文的技术章条。"),
    _r("term_unused", _LAN, "定义的术语未被使用", "8.7", "warning",
       "术语和定义只界定文件中使用的术语。",
       "在文中使用“{term}”，或删除术语条目 {label}。"),
    _r("term_undefined", _LAN, "使用的术语未定义", "8.7", "warning",
       "文件中使用的、需要定义的术语在“术语和定义”中界定或引用已有定义。",
       "在第3章界定“{term}”{source}，或在引导语中引用界定它的文件。"),
]}

GROUP_TITLES = {_REF: "规范性引用", _STR: "结构", _LAN: "条款表述"}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def cite(kind: str, index_text: dict[str, tuple[str, str]] | None = None,
         clause: str = "") -> RuleRef:
    """The rule of ``kind`` as a citation; ``clause`` overrides the catalogue's clause, and
    ``index_text`` (clause → (text, doc) of GB/T 1.1—2020 where indexed) adds its text."""
    rule = RULES[kind]
    c = clause or rule.clause
    text, doc = (index_text or {}).get(c, ("", ""))
    return RuleRef(kind=kind, title=rule.title, citation=f"{STANDARD} {c}", summary=rule.summary,
                   text=text, doc=doc)


def fix_text(kind: str, **details: Any) -> str:
    """The fix template of ``kind`` with ``details`` filled in (missing ones left blank)."""
    return RULES[kind].fix.format_map(_Blank({k: str(v) for k, v in details.items()}))


def finding(kind: str, clause: str, snippet: str, message: str,
            rule_text: dict[str, tuple[str, str]] | None = None, page: int = 0,
            rule_clause: str = "", **details: Any) -> Finding:
    """A finding of ``kind`` at ``clause``, its rule cited and its fix filled in."""
    rule = RULES[kind]
    return Finding(kind=kind, group=rule.group, severity=rule.severity, clause=clause,
                   snippet=snippet, message=message, rule=cite(kind, rule_text, rule_clause),
                   fix=fix_text(kind, **details), page=page)


def by_kind(findings: list[Finding]) -> dict[str, list[Finding]]:
    """Findings grouped by kind, the groups in catalogue order, each in document order."""
    from ..identifiers import clause_sort_key

    order = {k: i for i, k in enumerate(RULES)}
    out: dict[str, list[Finding]] = {}
    for f in sorted(findings, key=lambda f: (order.get(f.kind, 999), clause_sort_key(f.clause))):
        out.setdefault(f.kind, []).append(f)
    return out
