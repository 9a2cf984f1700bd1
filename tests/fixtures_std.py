"""Fictional standards in the shape of real ones, written at test time in every input format.

Two standards (their text is invented for these tests; numbers chosen not to exist):

* ``"gbt"`` — GB/T 90001.1—2023 《标准编写规范 第1部分：文件结构与条款表述》, a
  drafting-rules-like national standard that replaces GB/T 90001.1—2016; 前言, 引言,
  terms, clauses to five levels, a table, annexes A (规范性) and B (资料性), 参考文献;
* ``"db50"`` — DB50/T 9123—2022 《山地城市智慧路灯运行维护规范》, a Chongqing local
  standard; 前言 only, terms, tables (one with numbered rows), annex A.

Generators (each writes into ``directory`` and returns the path)::

    make_standard_pdf(d, "gbt")        multi-page PDF, Noto CJK font, running headers (the
                                       number) and footers (I, II … / 1, 2 … or "- 3 -")
    make_standard_docx(d, "gbt")       headings, paragraphs and a real table
    make_standard_txt(d, "gbt")        hard-wrapped lines as pdftotext gives them;
                                       encoding="gbk" for a GBK file, form_feeds=True for
                                       pages separated by \\f with headers/footers kept
    make_standard_md(d, "gbt")         Markdown: # headings, paragraphs, | tables |
    make_all_standards(d)              all of the above for both standards, by name
    make_bad_inputs(d)                 {name: path} of files load_file must refuse;
                                       BAD_EXPECTED[name] = (exception class name, message
                                       part); needs fpdf2 and Pillow but no CJK font

``expected(which)`` gives the ground truth: number, title, dates, replaces, category and,
for each clause, label, heading, path, first and last PDF page and a snippet of its text.

Needs fpdf2 and a CJK font (``fonts-noto-cjk``: NotoSansCJK-Regular.ttc or
NotoSerifCJK-Regular.ttc; any CJK .ttf/.otf/.ttc listed by ``fc-list :lang=zh-cn`` works).
:class:`FixtureUnavailable` is raised when no CJK font is installed.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

__all__ = [
    "BAD_EXPECTED", "SPECS", "ExpectedClause", "ExpectedDoc", "FixtureUnavailable", "cjk_font",
    "expected", "layout", "make_all_standards", "make_bad_inputs", "make_standard_docx",
    "make_standard_md", "make_standard_pdf", "make_standard_txt",
]


class FixtureUnavailable(RuntimeError):
    """The fixture cannot be built here (no CJK font installed)."""


# ---------------------------------------------------------------------------------------------
# content model
# ---------------------------------------------------------------------------------------------

@dataclass
class H:  # numbered heading with a title
    label: str
    title: str


@dataclass
class U:  # untitled numbered clause: label + text on the same line
    label: str
    text: str


@dataclass
class Term:  # terminological entry
    label: str
    term: str
    english: str
    definition: str
    same_line: bool = False  # "3.1 术语 english" or "3.1" / "术语 english"
    note: str = ""


@dataclass
class P:  # paragraph, wrapped automatically
    text: str


@dataclass
class Lines:  # a paragraph with explicit physical lines (to put a number at a line start)
    lines: list[str]


@dataclass
class L:  # list items ("a) …", "——…"), each wrapped
    items: list[str]


@dataclass
class T:  # table with caption
    caption: str
    rows: list[list[str]]


@dataclass
class Front:  # 前言 / 引言 on a new page
    label: str


@dataclass
class Annex:  # 附录A（规范性） title, on a new page
    letter: str
    kind: str
    title: str
    spaced: bool = False  # "附录 B" / "(资料性)" typography


@dataclass
class Biblio:
    entries: list[str]


@dataclass
class StdSpec:
    key: str
    std_no: str
    filename: str
    kind_line: str
    codes: list[str]
    replaces: list[str]
    title_lines: list[str]
    title: str
    english: list[str]
    issued: str
    effective: str
    issuers: list[str]
    category: tuple[str, str]
    blocks: list
    lines_per_page: int = 36
    heading_sep: str = "\u3000"
    decorated_page_numbers: bool = False
    extra_cover: list[str] = field(default_factory=list)


GBT = StdSpec(
    key="gbt",
    std_no="GB/T 90001.1—2023",
    filename="GB_T_90001.1-2023",
    kind_line="中华人民共和国国家标准",
    codes=["ICS 01.120", "CCS A 00"],
    replaces=["GB/T 90001.1—2016"],
    title_lines=["标准编写规范", "第1部分：文件结构与条款表述"],
    title="标准编写规范 第1部分：文件结构与条款表述",
    english=["Specification for drafting standards—", "Part 1: Document structure and wording of provisions"],
    issued="2023-05-23",
    effective="2023-12-01",
    issuers=["国家市场监督管理总局", "国家标准化管理委员会"],
    category=("national", "recommended"),
    lines_per_page=34,
    blocks=[
        Front("前言"),
        P("本文件按照GB/T 1.1—2020《标准化工作导则 第1部分：标准化文件的结构和起草规则》的规定起草。"),
        P("本文件是GB/T 90001《标准编写规范》的第1部分。GB/T 90001已经发布了以下部分："),
        L(["——第1部分：文件结构与条款表述；", "——第2部分：图、表和公式的编排。"]),
        P("本文件代替GB/T 90001.1—2016《标准编写规范 第1部分：结构》，与GB/T 90001.1—2016相比，"
          "除结构调整和编辑性改动外，主要技术变化如下："),
        L(["a) 增加了条款类型的表述规则（见第6章）；",
           "b) 更改了术语条目的编排要求（见5.4，2016年版的4.3）；",
           "c) 删除了关于封面颜色的规定（见2016年版的4.1）。"]),
        P("请注意本文件的某些内容可能涉及专利。本文件的发布机构不承担识别专利的责任。"),
        P("本文件由全国标准编写方法标准化技术委员会（SAC/TC 999）提出并归口。"),
        P("本文件起草单位：示例标准化研究院、示例大学、示例检测中心。"),
        P("本文件主要起草人：张明、李华、王芳。"),
        P("本文件及其所代替文件的历次版本发布情况为："),
        L(["——2016年首次发布为GB/T 90001.1—2016；", "——本次为第一次修订。"]),
        Front("引言"),
        P("标准是经济活动和社会发展的技术支撑。为了使标准文件结构清晰、表述准确、便于使用，"
          "需要对文件的结构和条款的表述作出统一规定。"),
        P("GB/T 90001旨在确立起草标准文件普遍适用的规则，拟由两个部分构成。"),
        L(["——第1部分：文件结构与条款表述。目的在于确立文件层次和要素的编写规则。",
           "——第2部分：图、表和公式的编排。目的在于确立图、表和公式的表述规则。"]),
        "BODY",
        H("1", "范围"),
        P("本文件规定了标准文件的层次划分、要素编写和条款表述的规则，描述了各类条款的表述形式。"),
        P("本文件适用于国家标准、行业标准和地方标准的起草，团体标准和企业标准的起草参照使用。"),
        H("2", "规范性引用文件"),
        P("下列文件中的内容通过文中的规范性引用而构成本文件必不可少的条款。其中，注日期的引用文件，"
          "仅该日期对应的版本适用于本文件；不注日期的引用文件，其最新版本（包括所有的修改单）适用于本文件。"),
        Lines(["GB/T 1.1—2020 标准化工作导则 第1部分：标准化文件的结构和起草规则"]),
        Lines(["GB/T 20000.1 标准化工作指南 第1部分：标准化和相关活动的通用术语"]),
        H("3", "术语和定义"),
        P("GB/T 20000.1界定的以及下列术语和定义适用于本文件。"),
        Term("3.1", "条款", "provision", "在文件中表达应用该文件需要遵守、符合、理解或作出选择的表述。",
             same_line=True),
        Term("3.1.1", "要求", "requirement",
             "表达声明符合该文件需要满足的客观可证实的准则，并且不准许存在偏差的条款。"),
        Term("3.1.2", "推荐", "recommendation", "表达建议或指导的条款。",
             note="注：推荐型条款通常使用“宜”或“不宜”表述。"),
        Term("3.2", "层次", "level", "文件内部按照隶属关系划分的结构单元。"),
        H("4", "文件的层次"),
        H("4.1", "层次的划分"),
        P("文件可划分为以下层次："),
        L(["a) 章；", "b) 条；", "c) 段；", "d) 列项。"]),
        H("4.2", "章"),
        P("章是文件层次划分的基本单元。每一章均应有章标题，并置于编号之后。"),
        H("4.3", "条"),
        U("4.3.1", "条是章内有编号的细分层次。条可进一步细分，细分层次不宜超过五层，例如5.2.1.1.1。"),
        U("4.3.2", "第一层次的条宜给出条标题，同一层次中有无标题应统一。"),
        H("4.4", "段"),
        P("段是章或条内没有编号的细分层次。为了不在引用时产生混淆，不宜在章标题与条之间或条标题与下一层次条之间设段，"
          "见4.3.2。"),
        H("5", "要素的编写"),
        H("5.1", "通则"),
        U("5.1.1", "各要素应按照表1给出的顺序编排，并符合表1中对要素类别的规定。"),
        T("表1 要素的类别和编排", [["要素", "类别", "性质"], ["封面", "必备", "资料性"],
                                   ["目次", "可选", "资料性"], ["前言", "必备", "资料性"],
                                   ["范围", "必备", "规范性"], ["术语和定义", "必备", "规范性"]]),
        P("注：表中“性质”指要素在文件中所起的作用。"),
        U("5.1.2", "各要素的编写应符合5.2至5.4的规定。"),
        H("5.2", "范围的编写"),
        H("5.2.1", "表述形式"),
        H("5.2.1.1", "通则"),
        U("5.2.1.1.1", "范围应表述为一系列事实的陈述，使用“本文件规定了……”“本文件适用于……”等句式。"),
        U("5.2.1.1.2", "范围中不应包含要求，也不应包含推荐或允许。"),
        H("5.2.2", "适用界限"),
        P("范围应指明文件的适用界限。必要时，可同时指出文件不适用的界限。"),
        Lines(["适用界限的表述还应考虑文件的引用关系，具体按照", "5.3 中规定的引用原则执行。"]),
        P("5.3的规定同样适用于范围中提及的文件。"),
        H("5.3", "规范性引用文件的编写"),
        H("5.3.1", "引导语"),
        P("规范性引用文件清单应由引导语引出。引导语应表述为：“下列文件中的内容通过文中的规范性引用而构成本文件"
          "必不可少的条款。”"),
        H("5.3.2", "清单的编排"),
        P("文件清单中，引用文件应按照以下顺序排列："),
        L(["a) 国家标准化文件；", "b) 行业标准化文件；", "c) 本行政区域的地方标准化文件（仅适用于地方标准的引用）；",
           "d) 团体标准化文件；", "e) ISO、ISO/IEC或IEC标准化文件；", "f) 其他机构或组织的标准化文件。"]),
        P("国家标准化文件应按照文件代号的字母顺序排列，代号相同的按照顺序号由小到大排列，例如GB 2760、GB/T 1.1、"
          "GB/T 20000.1。行业标准化文件和地方标准化文件的排列原则与国家标准化文件相同。"),
        P("清单中引用文件的编号和名称之间空一个汉字的间隙，名称不加书名号。注日期引用的文件应给出年号，"
          "不注日期引用的文件不应给出年号。"),
        P("11.5的试验方法不适用于本条；清单的排列不因引用文件的发布时间而改变。"),
        H("5.4", "术语和定义的编写"),
        U("5.4.1", "术语条目应包括条目编号、术语、英文对应词和定义，必要时可包括注。"),
        U("5.4.2", "术语条目不应编排成表的形式。术语条目中引用文件的排列同样按照5.3.2的规定。"),
        H("6", "条款的表述"),
        H("6.1", "要求"),
        U("6.1.1", "要求型条款应使用“应”或“不应”表述。"),
        U("6.1.2", "在要求型条款中，不应使用“必须”作为“应”的替代词。"),
        H("6.2", "推荐"),
        P("推荐型条款应使用“宜”或“不宜”表述。"),
        Lines(["与推荐型条款相对应的允许型条款的表述，应同时满足", "6.3 中规定的助动词要求。"]),
        H("6.3", "允许"),
        P("允许型条款应使用“可”或“不必”表述。表示允许时，不应使用“能”或“可能”。"),
        Annex("A", "规范性", "条款类型的表述形式"),
        H("A.1", "通则"),
        P("条款类型的表述形式应符合表A.1的规定。"),
        T("表A.1 条款类型与助动词", [["条款类型", "肯定形式", "否定形式"], ["要求", "应", "不应"],
                                    ["推荐", "宜", "不宜"], ["允许", "可", "不必"]]),
        H("A.2", "特殊情况"),
        U("A.2.1", "在特殊情况下，如国际协议规定的义务，可使用“必须”表示外部约束。"),
        P("A.3的规定适用于特殊情况的标注。"),
        U("A.2.2", "特殊情况不应扩大适用。"),
        Annex("B", "资料性", "文件结构示例", spaced=True),
        H("B.1", "层次编号示例"),
        P("文件的层次编号示例如下："),
        Lines(["5 要素"]),
        Lines(["5.2.3.1.4 第五层次条的编号"]),
        H("B.2", "要素编排示例"),
        P("要素编排示例见表1。"),
        Biblio(["[1] GB/T 20000.2 标准化工作指南 第2部分：采用国际标准",
                "[2] ISO/IEC Directives, Part 2, Principles and rules for the structure and drafting of "
                "ISO and IEC documents"]),
    ],
)

DB50 = StdSpec(
    key="db50",
    std_no="DB50/T 9123—2022",
    filename="DB50_T_9123-2022",
    kind_line="重庆市地方标准",
    codes=["ICS 93.080.40", "CCS P 66"],
    extra_cover=["DB50"],
    replaces=[],
    title_lines=["山地城市智慧路灯运行维护规范"],
    title="山地城市智慧路灯运行维护规范",
    english=["Specification for operation and maintenance of smart street lamps in mountainous cities"],
    issued="2022-08-15",
    effective="2022-11-15",
    issuers=["重庆市市场监督管理局"],
    category=("local", "recommended"),
    lines_per_page=26,
    heading_sep=" ",
    decorated_page_numbers=True,
    blocks=[
        Front("前言"),
        P("本文件按照GB/T 1.1—2020《标准化工作导则 第1部分：标准化文件的结构和起草规则》的规定起草。"),
        P("请注意本文件的某些内容可能涉及专利。本文件的发布机构不承担识别专利的责任。"),
        P("本文件由重庆市城市管理局提出并归口。"),
        P("本文件起草单位：示例市政设施运行中心、示例照明工程有限公司。"),
        P("本文件主要起草人：陈立、刘洋、赵敏。"),
        "BODY",
        H("1", "范围"),
        P("本文件规定了山地城市智慧路灯运行维护的基本要求、巡检、维修和安全要求。"),
        P("本文件适用于城市道路、桥梁和隧道出入口等场所智慧路灯的运行维护。"),
        H("2", "规范性引用文件"),
        P("下列文件中的内容通过文中的规范性引用而构成本文件必不可少的条款。其中，注日期的引用文件，"
          "仅该日期对应的版本适用于本文件；不注日期的引用文件，其最新版本（包括所有的修改单）适用于本文件。"),
        Lines(["GB 7000.1 灯具 第1部分：一般要求及试验"]),
        Lines(["GB/T 31832 LED城市道路照明应用技术要求"]),
        Lines(["CJJ 45 城市道路照明设计标准"]),
        H("3", "术语和定义"),
        P("下列术语和定义适用于本文件。"),
        Term("3.1", "智慧路灯", "smart street lamp",
             "以路灯杆为载体，集成照明、监控、通信和信息发布等功能的城市公共设施。", same_line=True),
        Term("3.2", "运行维护", "operation and maintenance",
             "为保持智慧路灯正常运行而进行的巡检、维修、保养和数据管理等活动。"),
        H("4", "基本要求"),
        U("4.1", "运行维护单位应建立智慧路灯设施台账，台账内容应包括设施编号、位置、型号和投运日期。"),
        U("4.2", "运行维护人员应经过专业培训，高处作业人员应持证上岗。"),
        U("4.3", "坡度大于8%的道路，智慧路灯的巡检频次应按照表1的规定提高一级。"),
        H("5", "巡检"),
        H("5.1", "巡检周期"),
        P("智慧路灯的巡检周期应符合表1的规定。"),
        T("表1 巡检周期", [["设施类别", "日常巡检", "定期检测"], ["照明单元", "每周1次", "每年2次"],
                          ["通信单元", "每周1次", "每季度1次"], ["监控单元", "每日1次", "每季度1次"]]),
        P("注：雨季和冰冻期间，巡检周期可缩短。"),
        H("5.2", "巡检内容"),
        H("5.2.1", "照明单元"),
        P("照明单元的巡检应包括以下内容："),
        L(["a) 灯具亮灭状态和亮度；", "b) 灯具外壳、透光罩的完好情况；", "c) 控制器的工作状态。"]),
        H("5.2.2", "杆体与基础"),
        U("5.2.2.1", "杆体应无明显倾斜、锈蚀和变形。山地道路边坡处的杆体，应同时检查基础周边土体的稳定性，"
                     "发现裂缝、沉降或排水不畅时应记录其位置和范围，并拍摄照片存档。"),
        U("5.2.2.2", "发现基础松动时，应设置警示标志，并按6.1的规定处理。"),
        H("6", "维修"),
        H("6.1", "故障分级"),
        P("故障按照影响程度分为以下三级："),
        L(["a) 一级故障：连续3基及以上路灯不亮，或杆体存在倒伏风险；", "b) 二级故障：单基路灯不亮或通信中断；",
           "c) 三级故障：不影响照明功能的外观缺陷。"]),
        H("6.2", "处理时限"),
        U("6.2.1", "一级故障应在2 h内到达现场，24 h内修复。"),
        U("6.2.2", "二级故障应在48 h内修复，三级故障应在7 d内修复。"),
        Lines(["修复时限自接到报修时起计算，节假日不顺延，超出时限的应按照", "6.3 中规定的程序报告。"]),
        P("6.2.1的时限要求同样适用于隧道出入口的路灯。"),
        H("6.3", "维修记录"),
        P("每次维修应形成记录，记录格式见附录A。"),
        H("7", "安全要求"),
        U("7.1", "维修作业前应切断电源，并在作业区域设置安全围挡。"),
        U("7.2", "遇有雷雨、大风等恶劣天气时，不应进行高处作业。"),
        Annex("A", "资料性", "巡检记录表"),
        H("A.1", "记录内容"),
        P("巡检记录应包括表A.1所列内容。"),
        T("表A.1 巡检记录表", [["序号", "项目", "结果"], ["1", "灯具状态", "正常"], ["2", "杆体状态", "正常"],
                              ["3", "通信状态", "中断"]]),
        H("A.2", "记录保存"),
        P("巡检记录应保存不少于3年。"),
    ],
)

SPECS: dict[str, StdSpec] = {"gbt": GBT, "db50": DB50}


# ---------------------------------------------------------------------------------------------
# layout: physical lines per page, and the ground truth
# ---------------------------------------------------------------------------------------------

@dataclass
class ExpectedClause:
    label: str
    heading: str
    path: list[str]
    page_start: int
    page_end: int
    snippet: str  # a piece of the clause's own text


@dataclass
class ExpectedDoc:
    std_no: str
    title: str
    issued: str
    effective: str
    replaces: list[str]
    category: str
    force: str
    pages: int
    clauses: list[ExpectedClause]

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.clauses]

    def clause(self, label: str) -> ExpectedClause:
        return next(c for c in self.clauses if c.label == label)


@dataclass
class Page:
    lines: list[str]
    number: str  # the printed page number ("" on the cover)


@dataclass
class Layout:
    spec: StdSpec
    pages: list[Page]
    clauses: list[ExpectedClause]
    cover: list[str]
    toc: list[str]


_WIDTH = 40.0  # full-width characters per line
_TOKEN = re.compile(
    r"(?:GB|DB\d\d|[A-Z]{2,4})(?:/[TZ])? \d[\d.]*(?:—\d{4})?|[A-Za-z0-9][A-Za-z0-9./—\-:%]*|\s+|.")
_NO_LINE_START = set("，。、；：？！）》”’")


def _w(s: str) -> float:
    return sum(0.55 if ch.isascii() else 1.0 for ch in s)


def wrap(text: str, width: float = _WIDTH) -> list[str]:
    """Break a paragraph into lines as a typesetter would (no line starts with ，。、；：)."""
    lines: list[str] = []
    cur = ""
    for tok in _TOKEN.findall(text):
        if cur and _w(cur + tok) > width and tok not in _NO_LINE_START and not tok.isspace():
            lines.append(cur.rstrip())
            cur = tok.lstrip()
        else:
            cur += tok
    if cur.strip():
        lines.append(cur.rstrip())
    return lines


def _roman(n: int) -> str:
    vals = [(10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for v, s in vals:
        while n >= v:
            out += s
            n -= v
    return out


@cache
def layout(which: str) -> Layout:
    """Lay the standard out on pages: cover, 目次, front matter, body, annexes."""
    spec = SPECS[which]
    cover = list(spec.codes) + list(spec.extra_cover) + [spec.kind_line, spec.std_no]
    if spec.replaces:
        cover.append("代替 " + "、".join(spec.replaces))
    cover += spec.title_lines + spec.english
    cover += [f"{spec.issued}发布 {spec.effective}实施"]
    cover += [*spec.issuers[:-1], spec.issuers[-1] + " 发布"]

    body_pages: list[list[str]] = []  # pages after the 目次
    page_kinds: list[str] = []  # "front" / "body"
    clauses: list[ExpectedClause] = []
    headings: dict[str, str] = {}
    annex_path = ""
    sep = spec.heading_sep
    state = {"kind": "front"}

    def new_page() -> None:
        body_pages.append([])
        page_kinds.append(state["kind"])

    def put(line: str, track: bool = True) -> None:
        if not body_pages or len(body_pages[-1]) >= spec.lines_per_page:
            new_page()
        body_pages[-1].append(line)
        if clauses and track:
            clauses[-1].page_end = len(body_pages)  # fixed up to absolute pages below

    def open_clause(label: str, heading: str, snippet: str) -> None:
        if label[0].isdigit() or (label[0].isalpha() and "." in label):
            parts = label.split(".")
            anc = [".".join(parts[:k]) for k in range(1, len(parts))]
            path = ([annex_path] if label[0].isalpha() else []) + [
                f"{a} {headings.get(a, '')}".strip() for a in anc if a in headings]
        else:
            path = []
        headings[label] = heading
        clauses.append(ExpectedClause(label, heading, path, 0, 0, snippet))

    def first_line_page() -> int:
        if not body_pages or len(body_pages[-1]) >= spec.lines_per_page:
            return len(body_pages) + 1
        return len(body_pages)

    for b in spec.blocks:
        if b == "BODY":
            state["kind"] = "body"
            new_page()
            for t in spec.title_lines:  # the title again above chapter 1: in no clause
                put(t, track=False)
            continue
        if isinstance(b, Front):
            new_page()
            open_clause(b.label, b.label, "")
            clauses[-1].page_start = first_line_page()
            put(b.label[0] + "\u3000\u3000" + b.label[1])
        elif isinstance(b, Annex):
            new_page()
            label = "附录" + b.letter
            annex_path = f"{label} {b.title}"
            open_clause(label, b.title, "")
            clauses[-1].page_start = first_line_page()
            if b.spaced:
                put(f"附录 {b.letter}")
                put(f"({b.kind})")
            else:
                put(f"附录{b.letter}")
                put(f"（{b.kind}）")
            put(b.title)
        elif isinstance(b, Biblio):
            new_page()
            open_clause("参考文献", "参考文献", b.entries[0][:8])
            clauses[-1].page_start = first_line_page()
            put("参\u3000考\u3000文\u3000献")
            for e in b.entries:
                for ln in wrap(e):
                    put(ln)
        elif isinstance(b, H):
            open_clause(b.label, b.title, "")
            clauses[-1].page_start = first_line_page()
            put(f"{b.label}{sep}{b.title}")
        elif isinstance(b, U):
            open_clause(b.label, "", b.text[:10])
            lines = wrap(f"{b.label}{sep}{b.text}")
            clauses[-1].page_start = first_line_page()
            for ln in lines:
                put(ln)
        elif isinstance(b, Term):
            open_clause(b.label, b.term, b.definition[:10])
            clauses[-1].page_start = first_line_page()
            if b.same_line:
                put(f"{b.label}{sep}{b.term} {b.english}")
            else:
                put(b.label)
                put(f"{b.term} {b.english}")
            for ln in wrap(b.definition):
                put(ln)
            if b.note:
                for ln in wrap(b.note):
                    put(ln)
        elif isinstance(b, P):
            if clauses and not clauses[-1].snippet:
                clauses[-1].snippet = b.text[:10]
            for ln in wrap(b.text):
                put(ln)
        elif isinstance(b, Lines):
            if clauses and not clauses[-1].snippet:
                clauses[-1].snippet = b.lines[0][:10]
            for ln in b.lines:
                put(ln)
        elif isinstance(b, L):
            for item in b.items:
                for ln in wrap(item):
                    put(ln)
        elif isinstance(b, T):
            if clauses and not clauses[-1].snippet:
                clauses[-1].snippet = b.caption
            put(b.caption)
            for row in b.rows:
                put(" ".join(row))  # the PDF renderer puts cells in columns
        else:  # pragma: no cover
            raise TypeError(b)

    # absolute page numbers: 1 cover, 2 目次, then body_pages
    offset = 2
    for c in clauses:
        c.page_start += offset
        c.page_end = max(c.page_end + offset, c.page_start)
    pages = [Page(cover, "")]
    n_front = page_kinds.count("front") + 1  # + 目次
    numbers: list[str] = []
    fi = bi = 0
    for kind in ["front", *page_kinds]:
        if kind == "front":
            fi += 1
            numbers.append(_roman(fi))
        else:
            bi += 1
            numbers.append(str(bi))
    assert len(numbers) == n_front + page_kinds.count("body")
    # 目次
    toc = ["目\u3000\u3000次"]
    for c in clauses:
        if c.label in ("前言", "引言", "参考文献") or c.label.startswith("附录") or (
                c.label.isdigit()):
            if c.label.startswith("附录"):
                letter = c.label[-1]
                kind = next(b.kind for b in spec.blocks if isinstance(b, Annex) and b.letter == letter)
                name = f"附录{letter}（{kind}） {c.heading}"
            elif c.label.isdigit():
                name = f"{c.label} {c.heading}"
            else:
                name = c.label
            toc.append(f"{name}{'…' * 8}{numbers[c.page_start - 2]}")
    pages.append(Page(toc, numbers[0]))
    for lines, num in zip(body_pages, numbers[1:], strict=True):
        pages.append(Page(lines, num))
    return Layout(spec, pages, clauses, cover, toc)


def expected(which: str) -> ExpectedDoc:
    """The ground truth for ``which`` ("gbt" or "db50")."""
    lay = layout(which)
    s = lay.spec
    return ExpectedDoc(
        std_no=s.std_no, title=s.title, issued=s.issued, effective=s.effective,
        replaces=list(s.replaces), category=s.category[0], force=s.category[1],
        pages=len(lay.pages),
        clauses=[ExpectedClause(c.label, c.heading, list(c.path), c.page_start, c.page_end,
                                c.snippet) for c in lay.clauses])


# ---------------------------------------------------------------------------------------------
# fonts
# ---------------------------------------------------------------------------------------------

_FONT_CANDIDATES = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/simsun.ttc",
]


@cache
def cjk_font() -> tuple[Path, int] | None:
    """(font file, index in the collection) of an installed CJK font, or None."""
    paths = [Path(p) for p in _FONT_CANDIDATES]
    if shutil.which("fc-list"):
        # fc-list, not fc-match: fc-match always names a font, DejaVu where no CJK font is
        # installed, and a fixture set in it silently loses its Chinese text
        try:
            out = subprocess.run(["fc-list", ":lang=zh-cn", "file"], capture_output=True,
                                 text=True, timeout=10).stdout
            paths += sorted(Path(line.strip().rstrip(":")) for line in out.splitlines() if line.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    for p in paths:
        if p.is_file():
            return p, _collection_index(p)
    return None


def _collection_index(p: Path) -> int:
    if p.suffix.lower() != ".ttc":
        return 0
    try:
        from fontTools.ttLib import TTCollection

        coll = TTCollection(str(p), lazy=True)
        for i, font in enumerate(coll.fonts):
            name = font["name"].getDebugName(1) or ""
            if name.endswith((" SC", "SC")) or "Simplified" in name:
                return i
    except Exception:
        pass
    return 0


def _pdf(font_size: float = 10.5):
    try:
        from fpdf import FPDF
    except ImportError as e:  # pragma: no cover
        raise FixtureUnavailable("fpdf2 is not installed") from e
    found = cjk_font()
    if found is None:
        raise FixtureUnavailable("no CJK font installed (apt-get install fonts-noto-cjk)")
    path, index = found
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.add_font("cjk", "", str(path), collection_font_number=index)
    for font in pdf.fonts.values():  # halves the time fpdf2 spends subsetting a CFF font
        if getattr(font, "ttfont", None) is not None:
            font.ttfont.recalcBBoxes = False
    pdf.set_font("cjk", size=font_size)
    pdf.set_creator("fixtures_std")
    pdf.set_creation_date(__import__("datetime").datetime(2024, 1, 1))
    return pdf


# ---------------------------------------------------------------------------------------------
# writers
# ---------------------------------------------------------------------------------------------

_LEFT, _TEXT_W, _LINE_H, _TOP = 25.0, 160.0, 6.6, 24.0


def _pdf_bytes(which: str) -> bytes:
    lay = layout(which)
    spec = lay.spec
    pdf = _pdf()
    # cover
    pdf.add_page()
    y = 20.0
    for line in lay.cover:
        if "发布 " in line and "实施" in line:
            left, right = line.split(" ", 1)
            pdf.set_xy(_LEFT, 250)
            pdf.cell(60, 8, left)
            pdf.set_xy(_LEFT + _TEXT_W - 60, 250)
            pdf.cell(60, 8, right, align="R")
            y = 262
            continue
        align = "C"
        if line == spec.std_no:
            align = "R"
        elif line.startswith(("ICS", "CCS")) or line in spec.extra_cover:
            align = "L"
        pdf.set_xy(_LEFT, y)
        pdf.cell(_TEXT_W, 8, line, align=align)
        y += 10 if y < 250 else 8
    # other pages
    for i, page in enumerate(lay.pages[1:], start=2):
        pdf.add_page()
        pdf.set_xy(_LEFT, 12)
        pdf.cell(_TEXT_W, 6, spec.std_no, align="R" if i % 2 else "L")
        y = _TOP
        for line in page.lines:
            pdf.set_xy(_LEFT, y)
            if line in _table_rows(spec):
                cells = line.split(" ")
                x = _LEFT + 10
                for cell in cells:
                    pdf.set_xy(x, y)
                    pdf.cell(45, _LINE_H, cell, border=1)
                    x += 45
            elif _is_centered(line, spec):
                pdf.cell(_TEXT_W, _LINE_H, line, align="C")
            else:
                pdf.cell(_TEXT_W, _LINE_H, line)
            y += _LINE_H
        num = f"- {page.number} -" if spec.decorated_page_numbers else page.number
        pdf.set_xy(_LEFT, 282)
        pdf.cell(_TEXT_W, 6, num, align="C")
    out = pdf.output()
    return bytes(out)


def _table_rows(spec: StdSpec) -> frozenset[str]:
    return _table_rows_of(spec.key)


@cache
def _table_rows_of(which: str) -> frozenset[str]:
    return frozenset(" ".join(r) for b in SPECS[which].blocks if isinstance(b, T) for r in b.rows)


def _is_centered(line: str, spec: StdSpec) -> bool:
    return (line in spec.title_lines or line.startswith(("前\u3000", "引\u3000", "目\u3000", "参\u3000"))
            or line.startswith("附录") or line.startswith(("（规范性", "（资料性", "(资料性", "(规范性"))
            or bool(re.match(r"表[A-Z]?\.?\d", line)))


@cache
def _pdf_cached(which: str) -> bytes:
    return _pdf_bytes(which)


def make_standard_pdf(directory: Path, which: str = "gbt", name: str | None = None) -> Path:
    """The standard as a multi-page PDF with running headers and page numbers."""
    path = Path(directory) / (name or f"{SPECS[which].filename}.pdf")
    path.write_bytes(_pdf_cached(which))
    return path


def _all_lines(which: str, furniture: bool = False) -> list[list[str]]:
    lay = layout(which)
    pages = []
    for i, page in enumerate(lay.pages, start=1):
        lines = list(page.lines)
        if furniture and i > 1:
            num = f"- {page.number} -" if lay.spec.decorated_page_numbers else page.number
            lines = [lay.spec.std_no, *lines, num]
        pages.append(lines)
    return pages


def _txt_text(which: str, form_feeds: bool) -> str:
    lay = layout(which)
    rows = _table_rows(lay.spec)
    pages = _all_lines(which, furniture=form_feeds)
    out = []
    for page in pages:
        lines = [" | ".join(x.split(" ")) if x in rows and not form_feeds else x for x in page]
        out.append("\n".join(lines))
    return ("\n\f" if form_feeds else "\n").join(out) + "\n"


def make_standard_txt(directory: Path, which: str = "gbt", encoding: str = "utf-8",
                      form_feeds: bool = False, name: str | None = None) -> Path:
    """The standard as hard-wrapped text. ``form_feeds``: pages separated by \\f with the
    running header and page number kept, as ``pdftotext`` writes it."""
    suffix = ".ff" if form_feeds else ""
    enc = "" if encoding == "utf-8" else f".{encoding}"
    path = Path(directory) / (name or f"{SPECS[which].filename}{suffix}{enc}.txt")
    path.write_bytes(_txt_text(which, form_feeds).encode(encoding))
    return path


def _logical_blocks(which: str):
    """(kind, text) blocks for DOCX/MD: whole paragraphs, headings, tables."""
    lay = layout(which)
    spec = lay.spec
    sep = spec.heading_sep
    out: list[tuple[str, object]] = []
    for line in lay.cover:
        out.append(("cover", line))
    for b in spec.blocks:
        if b == "BODY":
            out.append(("title", spec.title))
        elif isinstance(b, Front):
            out.append(("h1", b.label[0] + "\u3000\u3000" + b.label[1]))
        elif isinstance(b, Annex):
            kind = f"({b.kind})" if b.spaced else f"（{b.kind}）"
            out.append(("h1", f"附录 {b.letter}" if b.spaced else f"附录{b.letter}"))
            out.append(("p", kind))
            out.append(("p", b.title))
        elif isinstance(b, Biblio):
            out.append(("h1", "参\u3000考\u3000文\u3000献"))
            out.extend(("p", e) for e in b.entries)
        elif isinstance(b, H):
            level = b.label.count(".") + 1
            out.append((f"h{min(level, 6)}", f"{b.label}{sep}{b.title}"))
        elif isinstance(b, U):
            out.append(("p", f"{b.label}{sep}{b.text}"))
        elif isinstance(b, Term):
            if b.same_line:
                out.append(("h3", f"{b.label}{sep}{b.term} {b.english}"))
            else:
                out.append(("h3", b.label))
                out.append(("p", f"{b.term} {b.english}"))
            out.append(("p", b.definition))
            if b.note:
                out.append(("p", b.note))
        elif isinstance(b, P):
            out.append(("p", b.text))
        elif isinstance(b, Lines):
            out.append(("p", "".join(b.lines)))
        elif isinstance(b, L):
            out.extend(("p", item) for item in b.items)
        elif isinstance(b, T):
            out.append(("p", b.caption))
            out.append(("table", b.rows))
    return out


def make_standard_docx(directory: Path, which: str = "gbt", name: str | None = None) -> Path:
    """The standard as DOCX: cover paragraphs, headings, paragraphs, real tables."""
    import docx

    document = docx.Document()
    for kind, value in _logical_blocks(which):
        if kind == "table":
            rows = value  # type: ignore[assignment]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        elif kind.startswith("h") and kind[1:].isdigit():
            document.add_heading(str(value), level=int(kind[1:]))
        else:
            document.add_paragraph(str(value))
    path = Path(directory) / (name or f"{SPECS[which].filename}.docx")
    buf = io.BytesIO()
    document.save(buf)
    path.write_bytes(buf.getvalue())
    return path


def md_table(rows: list[list[str]]) -> list[str]:
    """A Markdown pipe table, the first row as header."""
    return ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0]),
            *("| " + " | ".join(r) + " |" for r in rows[1:])]


def make_standard_md(directory: Path, which: str = "gbt", name: str | None = None) -> Path:
    """The standard as Markdown (as converters write it)."""
    out: list[str] = []
    for kind, value in _logical_blocks(which):
        if kind == "table":
            out.extend(md_table(value))  # type: ignore[arg-type]
            out.append("")
        elif kind.startswith("h") and kind[1:].isdigit():
            out.append("#" * (int(kind[1:]) + 1) + " " + str(value))
            out.append("")
        elif kind == "title":
            out.append("# " + str(value))
            out.append("")
        else:
            out.append(str(value))
            out.append("")
    path = Path(directory) / (name or f"{SPECS[which].filename}.md")
    path.write_text("\n".join(out), encoding="utf-8")
    return path


def make_all_standards(directory: Path) -> dict[str, Path]:
    """Every format of both standards: keys "gbt.pdf", "gbt.docx", "gbt.txt", "gbt.gbk.txt",
    "gbt.ff.txt", "gbt.md" and the same for "db50"."""
    d = Path(directory)
    out: dict[str, Path] = {}
    for which in SPECS:
        out[f"{which}.pdf"] = make_standard_pdf(d, which)
        out[f"{which}.docx"] = make_standard_docx(d, which)
        out[f"{which}.txt"] = make_standard_txt(d, which)
        out[f"{which}.gbk.txt"] = make_standard_txt(d, which, encoding="gbk")
        out[f"{which}.ff.txt"] = make_standard_txt(d, which, form_feeds=True)
        out[f"{which}.md"] = make_standard_md(d, which)
    return out


# ---------------------------------------------------------------------------------------------
# bad inputs
# ---------------------------------------------------------------------------------------------

# name → (exception class name, part of the reason in its message)
BAD_EXPECTED: dict[str, tuple[str, str]] = {
    "scanned.pdf": ("NeedsOCR", "no text layer (scanned PDF)"),
    "encrypted.pdf": ("InputFileError", "encrypted PDF (password required)"),
    "truncated.pdf": ("InputFileError", "truncated or corrupt PDF"),
    "not_a_pdf.pdf": ("InputFileError", "not a PDF"),
    "empty.txt": ("InputFileError", "empty file"),
    "blank.md": ("InputFileError", "empty file"),
    "binary.txt": ("InputFileError", "binary data"),
    "corrupt.docx": ("InputFileError", "not a valid DOCX"),
    "legacy.doc": ("InputFileError", "unsupported format .doc"),
    "slides.pptx": ("InputFileError", "unsupported format .pptx"),
}


def _scanned_pdf() -> bytes:
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    img = Image.new("L", (600, 840), 255)
    draw = ImageDraw.Draw(img)
    for k in range(30):  # strokes that look like lines of print
        draw.rectangle([60, 80 + k * 24, 60 + (k * 37) % 400 + 80, 92 + k * 24], fill=40)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    pdf = FPDF(format="A4")
    for _ in range(2):
        pdf.add_page()
        pdf.image(io.BytesIO(buf.getvalue()), x=10, y=10, w=190)
        pdf.rect(15, 15, 180, 267)
    return bytes(pdf.output())


def _latin_pdf(user_password: str | None = None, pages: int = 1) -> bytes:
    """A small PDF in a core font (no CJK font needed, fast), encrypted if a password is set."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_font("helvetica", size=11)
    for i in range(pages):
        pdf.add_page()
        pdf.set_xy(25, 30)
        pdf.cell(160, 8, "GB/T 90001.1-2023 Specification for drafting standards")
        for k in range(30):
            pdf.set_xy(25, 40 + 7 * k)
            pdf.cell(160, 8, f"{i + 1}.{k + 1} Scope: this document specifies the structure of standards.")
    if user_password is not None:
        pdf.set_encryption(owner_password="owner-secret", user_password=user_password)
    return bytes(pdf.output())


def make_bad_inputs(directory: Path) -> dict[str, Path]:
    """Files load_file must refuse, each with its one-line reason (see BAD_EXPECTED).

    Also writes ``owner_only.pdf`` (encrypted with an owner password only: it opens) — not
    in the returned dict."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    good = _latin_pdf(pages=3)
    files: dict[str, bytes] = {
        "scanned.pdf": _scanned_pdf(),
        "encrypted.pdf": _latin_pdf("user-secret"),
        "truncated.pdf": good[: int(len(good) * 0.55)],
        "not_a_pdf.pdf": "这不是PDF文件，只是改了扩展名的文本。\n".encode(),
        "empty.txt": b"",
        "blank.md": b"  \n\n\t \n",
        "binary.txt": bytes(range(256)) * 8 + b"\x00\x01\x02PK\x03\x04" * 50,
        "corrupt.docx": b"PK\x03\x04" + bytes(range(200)) * 3,
        "legacy.doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512,
        "slides.pptx": b"PK\x03\x04 not really",
    }
    out: dict[str, Path] = {}
    for name, data in files.items():
        p = d / name
        p.write_bytes(data)
        out[name] = p
    (d / "owner_only.pdf").write_bytes(_latin_pdf(""))
    return out


def make_two_versions(directory: Path) -> tuple[str, str]:
    """The "gbt" standard as TXT in two versions, the 2016 one replaced by the 2023 one per
    a catalogue. Returns (new number, old number)."""
    new_no, old_no = "GB/T 90001.1—2023", "GB/T 90001.1—2016"
    new = make_standard_txt(directory, "gbt")
    (Path(directory) / "gbt-2016.txt").write_text(
        new.read_text("utf-8").replace(new_no, old_no), "utf-8")
    (Path(directory) / "catalog.csv").write_text(
        f"number,title,status,replaced_by\n{old_no},旧版,废止,{new_no}\n{new_no},新版,现行,\n",
        "utf-8")
    return new_no, old_no
