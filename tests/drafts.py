"""Draft standards for the draft check, written at test time: clean drafts in the shape of real
ones and copies with known, injected defects (see ``tests/draft_defects.py``).

Three drafts (their text is invented; numbers chosen not to exist):

* ``"lamp"``  — DB50/T 1999—2025 《山地城市智慧灯杆运行维护规范》, a local standard;
* ``"charge"`` — GB/T 99001—2025 《电动自行车集中充电场所安全技术要求》, national;
* ``"kitchen"`` — T/CQSA 012—2025 《预制菜中央厨房卫生管理规范》, a group standard.

Each has a cover (number, title, ICS/CCS, dates), 前言 (按照 GB/T 1.1—2020 起草), 1 范围,
2 规范性引用文件 with the prescribed lead-in, 3 术语和定义 with its lead-in, technical chapters
with 应/宜/可, 注, 示例, lists and a table, 附录A（规范性）, 附录B（资料性） and 参考文献.
``big_draft(pages)`` repeats technical chapters to the length of a long draft.

Writers: ``write_docx`` (python-docx: running header with the number, page-number footer),
``write_md``, and ``write_pdfs`` (LibreOffice ``soffice --headless --convert-to pdf`` of the
DOCX files, all in one call; :class:`PdfUnavailable` where soffice is missing).
``CATALOG_ROWS`` is the standards catalogue the references are checked against.
"""

from __future__ import annotations

import copy
import io
import os
import random
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


class PdfUnavailable(RuntimeError):
    """No LibreOffice here to render PDFs."""


@dataclass
class Block:
    kind: str  # cover / front / h / p / li / note / ex / table / term / annex / back / title
    text: str = ""
    label: str = ""
    rows: list[list[str]] | None = None
    en: str = ""


@dataclass
class Spec:
    key: str
    std_no: str
    filename: str
    blocks: list[Block]
    expected: list[tuple[str, str]] = field(default_factory=list)  # injected (kind, clause)

    def copy(self, suffix: str) -> Spec:
        return Spec(self.key, self.std_no, f"{self.filename}_{suffix}", copy.deepcopy(self.blocks))


# ---------------------------------------------------------------------------------------------
# the shared references (fictional numbers) and the catalogue that knows them
# ---------------------------------------------------------------------------------------------

CATALOG_ROWS = [
    ("GB 90012—2019", "户外电气设备 安全通用要求", "现行", ""),
    ("GB/T 90011—2021", "城市公共设施 维护管理通用要求", "现行", ""),
    ("GB/T 90011—2015", "城市公共设施 维护管理通用要求", "被代替", "GB/T 90011—2021"),
    ("GB/T 90013—2022", "电气装置 接地电阻测量方法", "现行", ""),
    ("GB/T 90013—2016", "电气装置 接地电阻测量方法", "被代替", "GB/T 90013—2022"),
    ("GB/T 90014—2018", "公共信息 安全标志用图形符号", "现行", ""),
    ("GB/T 90015—2020", "户外设施 防腐蚀涂层技术要求", "现行", ""),
    ("GB/T 90016—2019", "公共场所 视频监控系统技术要求", "现行", ""),
    ("GB/T 90019—2010", "户外设施 巡检记录格式", "废止", ""),
    ("GB/T 90020—2026", "户外设施 远程监测数据接口", "即将实施", ""),
    ("JB/T 99021—2020", "户外设备 电源控制器", "现行", ""),
]


def write_catalog(path: Path) -> Path:
    lines = ["number,title,status,replaced_by"]
    lines += [",".join(r) for r in CATALOG_ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


LEADIN_REFS = ("下列文件中的内容通过文中的规范性引用而构成本文件必不可少的条款。其中，注日期的引用文件，"
               "仅该日期对应的版本适用于本文件；不注日期的引用文件，其最新版本（包括所有的修改单）"
               "适用于本文件。")
ENTRIES = [
    ("GB 90012—2019", "户外电气设备 安全通用要求"),
    ("GB/T 90011—2021", "城市公共设施 维护管理通用要求"),
    ("GB/T 90013", "电气装置 接地电阻测量方法"),
    ("GB/T 90014—2018", "公共信息 安全标志用图形符号"),
    ("JB/T 99021—2020", "户外设备 电源控制器"),
]


def _cover(std_no: str, kind_line: str, code: str, title: list[str], en: str, ics: str,
           ccs: str, issuer: str) -> list[Block]:
    lines = [ics, ccs, code, kind_line, std_no, *title, en, "（征求意见稿）",
             "2025-03-01发布", "2025-06-01实施", issuer]
    return [Block("cover", x) for x in lines]


def _foreword(proposer: str, units: str) -> list[Block]:
    return [Block("front", "前言"),
            Block("p", "本文件按照GB/T 1.1—2020《标准化工作导则 第1部分：标准化文件的结构和起草规则》"
                       "的规定起草。"),
            Block("p", "请注意本文件的某些内容可能涉及专利。本文件的发布机构不承担识别专利的责任。"),
            Block("p", f"本文件由{proposer}提出并归口。"),
            Block("p", f"本文件起草单位：{units}。"),
            Block("p", "本文件主要起草人：赵一、钱二、孙三。")]


def _refs_and_terms(terms: list[tuple[str, str, str]], leadin: str) -> list[Block]:
    out = [Block("h", "规范性引用文件", "2"), Block("p", LEADIN_REFS)]
    out += [Block("p", f"{no}　{title}") for no, title in ENTRIES]
    out += [Block("h", "术语和定义", "3"), Block("p", leadin)]
    for i, (zh, en, definition) in enumerate(terms, 1):
        out.append(Block("term", zh, f"3.{i}", en=en))
        out.append(Block("p", definition))
    return out


def _annexes(a_title: str, a_items: list[tuple[str, str]], b_title: str,
             b_items: list[tuple[str, str]]) -> list[Block]:
    out = [Block("annex", a_title, "A", en="规范性")]
    for i, (t, p) in enumerate(a_items, 1):
        out += [Block("h", t, f"A.{i}"), Block("p", p)]
    out.append(Block("annex", b_title, "B", en="资料性"))
    for i, (t, p) in enumerate(b_items, 1):
        out += [Block("h", t, f"B.{i}"), Block("p", p)]
    out += [Block("back", "参考文献"), Block("p", "[1] GB/T 90030—2017　城市照明 节能评价方法"),
            Block("p", "[2] 城市照明管理规定（住房和城乡建设部令第4号）")]
    return out


def lamp() -> Spec:
    b = _cover("DB50/T 1999—2025", "重庆市地方标准", "DB50", ["山地城市智慧灯杆运行维护规范"],
               "Specification for operation and maintenance of smart lamp poles in mountainous cities",
               "ICS 93.080.40", "CCS P 53", "重庆市市场监督管理局　发布")
    b += _foreword("重庆市城市管理局", "重庆示例市政设施研究院、重庆示例照明工程有限公司")
    b += [Block("title", "山地城市智慧灯杆运行维护规范"),
          Block("h", "范围", "1"),
          Block("p", "本文件规定了山地城市智慧灯杆运行维护的基本要求、巡检、维护、故障处置和记录的要求。"),
          Block("p", "本文件适用于山地城市道路、广场和公园中智慧灯杆的运行维护。")]
    b += _refs_and_terms([
        ("智慧灯杆", "smart lamp pole", "以照明灯杆为载体，集成通信、监测、信息发布等设备的杆体设施。"),
        ("挂载设备", "mounted equipment", "安装在智慧灯杆上并由其供电或提供通信的设备。"),
        ("运维单位", "maintenance organization", "受委托承担智慧灯杆日常运行维护工作的单位。"),
    ], "下列术语和定义适用于本文件。")
    b += [Block("h", "基本要求", "4"),
          Block("h", "组织", "4.1"),
          Block("p", "运维单位应建立运行维护管理制度，明确巡检、维护和故障处置的职责。"),
          Block("p", "运维单位宜配备具有电工作业资格的人员。"),
          Block("h", "安全", "4.2"),
          Block("p", "户外电气部分应符合GB 90012—2019的规定。"),
          Block("p", "作业现场的安全标志应符合GB/T 90014—2018的规定。"),
          Block("note", "注：山地道路坡度较大，作业车辆停放位置需要专门评估。"),
          Block("h", "巡检", "5"),
          Block("h", "巡检周期", "5.1"),
          Block("p", "主干道上的智慧灯杆应每月巡检一次，其他道路上的应每季度巡检一次。"),
          Block("p", "汛期和冰冻天气后可增加巡检次数。"),
          Block("h", "巡检内容", "5.2"),
          Block("p", "巡检应包括下列内容："),
          Block("li", "a) 杆体的倾斜、锈蚀和基础的沉降；"),
          Block("li", "b) 挂载设备的固定和运行状态；"),
          Block("li", "c) 接地装置的完好程度。"),
          Block("p", "杆体倾斜的检查应满足GB/T 90011—2021中5.2的要求。"),
          Block("ex", "示例："),
          Block("p", "坡道上的灯杆以坡面法线为基准判断倾斜方向。"),
          Block("h", "巡检记录", "5.3"),
          Block("p", "巡检记录应按附录A规定的格式填写，并保存不少于3年。"),
          Block("h", "维护", "6"),
          Block("h", "日常维护", "6.1"),
          Block("p", "挂载设备的电源控制器应符合JB/T 99021—2020的规定。"),
          Block("p", "日常清洁不必切断电源，但不应使用高压水枪冲洗设备舱。"),
          Block("table", "表1　维护项目和周期", rows=[["维护项目", "周期", "方法"],
                                                    ["灯具清洁", "每半年", "目视和擦拭"],
                                                    ["接地电阻测量", "每年", "仪器测量"]]),
          Block("h", "接地电阻", "6.2"),
          Block("p", "接地电阻应按GB/T 90013规定的方法测量，测量值不应大于10 Ω。"),
          Block("note", "注：雨后三天内测得的数值偏小。"),
          Block("h", "故障处置", "7"),
          Block("h", "响应时间", "7.1"),
          Block("p", "运维单位接到故障报告后应在2 h内到达现场。"),
          Block("h", "处置记录", "7.2"),
          Block("p", "故障处置完成后应记录故障原因和处置措施，常见故障的处置方法参见附录B。")]
    b += _annexes("智慧灯杆巡检记录格式", [
        ("记录内容", "巡检记录应包括灯杆编号、巡检日期、巡检人员和发现的问题。"),
        ("记录方式", "巡检记录应采用电子方式保存，并能按灯杆编号检索。")],
        "常见故障及处置方法", [
        ("照明故障", "灯具不亮时，先检查电源控制器，再检查灯具本身。"),
        ("通信故障", "挂载设备离线时，先检查杆内交换设备的供电。")])
    return Spec("lamp", "DB50/T 1999—2025", "DB50_T_1999-2025", b)


def charge() -> Spec:
    b = _cover("GB/T 99001—2025", "中华人民共和国国家标准", "GB", ["电动自行车集中充电场所安全技术要求"],
               "Technical requirements for safety of centralized charging sites for electric bicycles",
               "ICS 13.220.01", "CCS C 84", "国家市场监督管理总局　国家标准化管理委员会　发布")
    b += _foreword("全国示例安全标准化技术委员会（SAC/TC 990）", "示例消防研究所、示例电器检测中心")
    b += [Block("title", "电动自行车集中充电场所安全技术要求"),
          Block("h", "范围", "1"),
          Block("p", "本文件规定了电动自行车集中充电场所的选址、充电设施、消防设施和运营管理的安全技术要求。"),
          Block("p", "本文件适用于住宅小区、工业园区内新建和改建的电动自行车集中充电场所。")]
    b += _refs_and_terms([
        ("集中充电场所", "centralized charging site", "供多辆电动自行车同时停放和充电的场所。"),
        ("充电设施", "charging facility", "为电动自行车蓄电池充电的设备及其配电线路。"),
        ("充电车位", "charging space", "设有充电设施并划线标示的单个停车位置。"),
    ], "GB/T 90011界定的以及下列术语和定义适用于本文件。")
    b += [Block("h", "选址", "4"),
          Block("h", "位置", "4.1"),
          Block("p", "集中充电场所应设置在室外或独立的单层建筑内，与人员密集场所的距离不应小于6 m。"),
          Block("p", "集中充电场所的日常管理应符合GB/T 90011—2021的规定。"),
          Block("h", "面积", "4.2"),
          Block("p", "每个充电车位的面积宜不小于1.2 m²。"),
          Block("note", "注：面积不含通道。"),
          Block("h", "充电设施", "5"),
          Block("h", "电气安全", "5.1"),
          Block("p", "充电设施的户外电气部分应符合GB 90012—2019的规定。"),
          Block("p", "充电设施的电源控制器应符合JB/T 99021—2020的规定。"),
          Block("h", "接地", "5.2"),
          Block("p", "充电设施的金属外壳应可靠接地，接地电阻应按GB/T 90013规定的方法测量。"),
          Block("h", "过载保护", "5.3"),
          Block("p", "每个充电车位的充电回路应设置过载保护，充满电后应自动断电。"),
          Block("ex", "示例：充电8 h后自动断开的定时装置。"),
          Block("h", "消防设施", "6"),
          Block("h", "灭火器", "6.1"),
          Block("p", "每20个充电车位应配置不少于2具灭火器。"),
          Block("table", "表1　消防设施配置", rows=[["充电车位数", "灭火器", "消火栓"],
                                                  ["≤20", "2具", "可不设"],
                                                  ["21～50", "4具", "1个"]]),
          Block("h", "标志", "6.2"),
          Block("p", "安全标志应符合GB/T 90014—2018中表2的规定。"),
          Block("p", "场所入口处可设置充电安全须知。"),
          Block("h", "运营管理", "7"),
          Block("h", "巡查", "7.1"),
          Block("p", "运营单位应每日巡查充电设施，巡查内容应符合附录A的规定。"),
          Block("h", "应急处置", "7.2"),
          Block("p", "运营单位应制定火灾应急预案，每年组织演练不少于1次，演练方案参见附录B。")]
    b += _annexes("充电场所巡查项目", [
        ("设施巡查", "巡查应检查充电插座、线路和过载保护装置的状态。"),
        ("环境巡查", "巡查应检查通道是否畅通、灭火器是否在有效期内。")],
        "火灾应急演练方案示例", [
        ("演练目标", "检验初起火灾的发现、报警和扑救能力。"),
        ("演练步骤", "发现火情、切断电源、报警、扑救、疏散和复盘。")])
    return Spec("charge", "GB/T 99001—2025", "GB_T_99001-2025", b)


def kitchen() -> Spec:
    b = _cover("T/CQSA 012—2025", "团体标准", "T/CQSA", ["预制菜中央厨房卫生管理规范"],
               "Hygiene management specification for central kitchens of prepared dishes",
               "ICS 67.020", "CCS X 09", "重庆市示例食品安全协会　发布")
    b += _foreword("重庆市示例食品安全协会", "示例食品检测中心、示例餐饮管理有限公司")
    b += [Block("title", "预制菜中央厨房卫生管理规范"),
          Block("h", "范围", "1"),
          Block("p", "本文件规定了预制菜中央厨房的场所布局、设施设备、加工过程和人员卫生的管理要求。"),
          Block("p", "本文件适用于预制菜中央厨房的卫生管理。")]
    b += _refs_and_terms([
        ("中央厨房", "central kitchen", "集中完成食品成品或半成品加工制作并配送的场所。"),
        ("清洁作业区", "clean operation area", "冷食类食品加工和成品包装的区域。"),
        ("冷链贮存", "cold chain storage", "在规定低温条件下贮存食品的方式。"),
    ], "下列术语和定义适用于本文件。")
    b += [Block("h", "场所布局", "4"),
          Block("h", "分区", "4.1"),
          Block("p", "中央厨房应划分原料处理区、加工区、清洁作业区和贮存区，各区应有明显标识。"),
          Block("p", "安全标志应符合GB/T 90014—2018的规定。"),
          Block("h", "通道", "4.2"),
          Block("p", "人员通道和物料通道宜分开设置。"),
          Block("h", "设施设备", "5"),
          Block("h", "电气设备", "5.1"),
          Block("p", "户外冷机等电气设备应符合GB 90012—2019的规定，其电源控制器应符合JB/T 99021—2020的规定。"),
          Block("h", "接地", "5.2"),
          Block("p", "加工设备的接地电阻应按GB/T 90013规定的方法测量。"),
          Block("h", "冷链设备", "5.3"),
          Block("p", "冷链贮存设备应能显示和记录温度，冷藏温度应保持在0 ℃～8 ℃。"),
          Block("note", "注：开门取货时温度短时升高属于正常现象。"),
          Block("h", "加工过程", "6"),
          Block("h", "原料验收", "6.1"),
          Block("p", "原料验收应查验供货者的许可证明和产品合格证明。"),
          Block("p", "设施的维护管理应符合GB/T 90011—2021的规定。"),
          Block("h", "加工", "6.2"),
          Block("p", "生熟食品的加工工具应分开使用，并有明显区分标志。"),
          Block("ex", "示例：生食工具用红色手柄，熟食工具用绿色手柄。"),
          Block("table", "表1　清洗消毒频次", rows=[["对象", "频次"], ["刀具砧板", "每班"],
                                                 ["冷藏库", "每周"]]),
          Block("h", "人员卫生", "7"),
          Block("h", "健康管理", "7.1"),
          Block("p", "从事接触直接入口食品工作的人员应每年进行健康检查，检查项目应符合附录A的规定。"),
          Block("h", "培训", "7.2"),
          Block("p", "企业应每年组织卫生培训，培训内容参见附录B。")]
    b += _annexes("从业人员健康检查项目", [
        ("检查项目", "健康检查应包括体格检查和病原学检查。"),
        ("结果处理", "检查不合格的人员应调离接触直接入口食品的岗位。")],
        "卫生培训内容示例", [
        ("基础知识", "食品安全法律法规和卫生基础知识。"),
        ("操作规范", "洗手消毒、工具分区使用和冷链操作。")])
    return Spec("kitchen", "T/CQSA 012—2025", "T_CQSA_012-2025", b)


BASES = {"lamp": lamp, "charge": charge, "kitchen": kitchen}


def clean_drafts() -> list[Spec]:
    return [f() for f in BASES.values()]


# ---------------------------------------------------------------------------------------------
# a long draft (timing)
# ---------------------------------------------------------------------------------------------

_SUBJECTS = ["灯杆基础", "挂载设备", "供配电系统", "通信设备", "监测传感器", "信息发布屏", "充电桩",
             "视频监控设备", "应急广播", "环境监测仪", "杆体涂层", "设备舱", "接地装置", "控制柜"]
_ACTS = ["安装", "巡检", "维护", "检测", "更换", "验收"]


def big_draft(pages: int = 50, seed: int = 7, chars_per_page: int = 620) -> Spec:
    """The lamp draft with technical chapters added until it is about ``pages`` pages long
    (LibreOffice sets about 620 characters on a page of these DOCX files)."""
    rnd = random.Random(seed)
    spec = lamp()
    spec.filename = f"DB50_T_1999-2025_{pages}p"
    i = spec.blocks.index(next(b for b in spec.blocks if b.kind == "annex"))
    extra: list[Block] = []
    chapter, chars = 8, sum(len(b.text) for b in spec.blocks)
    while chars < pages * chars_per_page:
        subj = _SUBJECTS[chapter % len(_SUBJECTS)]
        extra.append(Block("h", f"{subj}的运行维护", str(chapter)))
        for k in range(1, 6):
            act = _ACTS[(chapter + k) % len(_ACTS)]
            n = rnd.randint(2, 12)
            extra.append(Block("h", f"{subj}{act}", f"{chapter}.{k}"))
            for sent in (f"{subj}{act}前应核对设备台账和图纸，确认{subj}的型号、数量和安装位置。",
                         f"{subj}{act}应由两名以上人员进行，{act}间隔不应超过{n}个月。",
                         f"{act}结束后宜拍照留存，记录应包括{subj}的编号、{act}日期和责任人员。"):
                extra.append(Block("p", sent))
                chars += len(sent)
            if k == 3:
                extra.append(Block("note", f"注：{subj}位于陡坡时，{act}作业需要增加防坠落措施。"))
        chapter += 1
    spec.blocks[i:i] = extra
    return spec


# ---------------------------------------------------------------------------------------------
# writers
# ---------------------------------------------------------------------------------------------

def _logical(spec: Spec) -> list[tuple[str, object]]:
    """(style, content) paragraphs: "cover", "h1"…"h3", "p", "table", "break"."""
    out: list[tuple[str, object]] = []
    for b in spec.blocks:
        if b.kind == "cover":
            out.append(("cover", b.text))
        elif b.kind in ("front", "back"):
            out += [("break", ""), ("h1", b.text)]
        elif b.kind == "title":
            out += [("break", ""), ("title", b.text)]
        elif b.kind == "h":
            out.append((f"h{min(b.label.count('.') + 1, 3)}", f"{b.label}　{b.text}"))
        elif b.kind == "term":
            out += [("h3", b.label), ("p", f"{b.text}　{b.en}")]
        elif b.kind == "annex":
            out += [("break", ""), ("h1", f"附录{b.label}"), ("p", f"（{b.en}）") if b.en else ("skip", ""),
                    ("p", b.text)]
        elif b.kind == "table":
            out += [("p", b.text), ("table", b.rows)]
        else:
            out.append(("p", b.text))
    return [x for x in out if x[0] != "skip"]


def write_md(spec: Spec, directory: Path) -> Path:
    out: list[str] = []
    for style, value in _logical(spec):
        if style == "table":
            rows = value  # type: ignore[assignment]
            out.append("| " + " | ".join(rows[0]) + " |")
            out.append("|" + "---|" * len(rows[0]))
            out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        elif style.startswith("h") and style[1:].isdigit():
            out.append("#" * (int(style[1:]) + 1) + " " + str(value))
        elif style != "break":
            out.append(str(value))
        out.append("")
    path = Path(directory) / f"{spec.filename}.md"
    path.write_text("\n".join(out), encoding="utf-8")
    return path


def write_docx(spec: Spec, directory: Path) -> Path:
    """DOCX with the number as running header and a PAGE field as footer."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK

    document = docx.Document()
    _header_footer(document, spec.std_no)
    for style, value in _logical(spec):
        if style == "table":
            rows = value  # type: ignore[assignment]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        elif style == "break":
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        elif style.startswith("h") and style[1:].isdigit():
            document.add_heading(str(value), level=int(style[1:]))
        else:
            para = document.add_paragraph(str(value))
            if style in ("cover", "title"):
                para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    path = Path(directory) / f"{spec.filename}.docx"
    buf = io.BytesIO()
    document.save(buf)
    path.write_bytes(buf.getvalue())
    return path


def _header_footer(document, std_no: str) -> None:  # type: ignore[no-untyped-def]
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    section = document.sections[0]
    section.header.paragraphs[0].text = std_no
    section.header.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    para = section.footer.paragraphs[0]
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = "1"
    run.append(t)
    fld.append(run)
    para._p.append(fld)


def write_pdfs(docx_paths: list[Path], directory: Path, timeout: float = 300) -> list[Path]:
    """PDFs of DOCX files, rendered by LibreOffice in one call (a private profile, so that
    other soffice processes on the machine do not interfere)."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        raise PdfUnavailable("LibreOffice (soffice) is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        cmd = [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
               "--outdir", str(directory), *map(str, docx_paths)]
        env = {**os.environ, "HOME": profile}
        subprocess.run(cmd, capture_output=True, timeout=timeout, check=False, env=env)
    out = [directory / (p.stem + ".pdf") for p in docx_paths]
    missing = [p.name for p in out if not p.is_file()]
    if missing:
        raise PdfUnavailable(f"soffice did not write {', '.join(missing[:3])}")
    return out


# ---------------------------------------------------------------------------------------------
# a small library to check against (index tests): two standards in Markdown
# ---------------------------------------------------------------------------------------------

# A stand-in for GB/T 1.1—2020: a few clause headings with one-line paraphrases written for
# these tests (not the standard's text), so that citations can carry "the indexed text".
def _standin() -> str:
    """The stand-in's text: every chapter heading down to the cited clauses (the parser follows
    the clause tree), each cited clause with a paraphrase marked 测试替身."""
    head = ["GB/T 1.1—2020", "中华人民共和国国家标准",
            "标准化工作导则 第1部分：标准化文件的结构和起草规则（测试替身）",
            "2020-03-31发布 2020-10-01实施", "前言", "本文本为测试用替身，只含若干条的概述。"]
    chapters = ["范围", "规范性引用文件", "术语和定义", "文件的类别", "目标、原则和要求",
                "文件名称和结构", "层次的编写", "要素的编写", "要素的表述"]
    said = {"8.6": "本章列出文中规范性引用的文件，以规定的引导语开头，不分条。",
            "8.7": "本章以规定的引导语开头，界定文件中使用的术语。",
            "9.11": "注给出附加信息，不包含要求。"}
    body: list[str] = []
    for n, title in enumerate(chapters, 1):
        body += [f"{n} {title}", f"测试替身：第{n}章的概述。"]
        for k in range(1, 12 if n == 9 else 8 if n == 8 else 0):
            body += [f"{n}.{k} 第{k}条", "测试替身：" + said.get(f"{n}.{k}", "概述。")]
    return "\n\n".join(head + body) + "\n"


RULES_STANDIN = _standin()

LIBRARY_STANDARD = """GB/T 90011—2021

中华人民共和国国家标准

城市公共设施 维护管理通用要求

2021-04-01发布 2021-11-01实施

前言

本文件按照GB/T 1.1—2020《标准化工作导则 第1部分：标准化文件的结构和起草规则》的规定起草。

1 范围

本文件规定了城市公共设施维护管理的通用要求。

2 规范性引用文件

本文件没有规范性引用文件。

3 术语和定义

下列术语和定义适用于本文件。

3.1 灯杆倾斜度

灯杆轴线偏离铅垂线的角度与杆高的比值。

3.2 巡检周期

相邻两次巡检之间的时间间隔。

4 巡检

4.1 巡检频次

城市道路照明设施应每月巡检一次，汛期应增加巡检次数。

4.2 巡检记录

巡检记录应保存不少于3年，并能按设施编号检索。

5 维护

5.1 接地

设施的接地电阻应每年测量一次，测量值不应大于10 Ω。
"""


def write_library(directory: Path) -> Path:
    """The library folder: the stand-in rules and one standard the drafts cite."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "GB_T_1.1-2020.md").write_text(RULES_STANDIN, encoding="utf-8")
    (directory / "GB_T_90011-2021.md").write_text(LIBRARY_STANDARD, encoding="utf-8")
    (directory / "catalog.csv").write_text(
        "number,title,status\nGB/T 1.1—2020,标准化工作导则 第1部分,现行\n"
        "GB/T 90011—2021,城市公共设施 维护管理通用要求,现行\n", encoding="utf-8")
    return directory
