"""What a question asks for: its *focus* — the quantity asked (a percentage, a duration, a
count with its measure word, an amount, a measure with its unit), a list, a comparison
between versions, a procedure, a yes/no — read from the question's words alone.
:mod:`assistant.focus` looks for it in the retrieved sentences.

Pure Python, deterministic, no model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import CJK, normalize

# ---------------------------------------------------------------------------------------
# the question's focus
# ---------------------------------------------------------------------------------------

# measure words a quantity question names after 多少/几, grouped by the kind of quantity;
# each unit is matched after a number in the sources together with its synonyms
_UNIT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "小时": ("小时", "h"), "分钟": ("分钟", "min"), "秒": ("秒", "s"),
    "天": ("天", "日", "d"), "日": ("日", "天", "d"), "工作日": ("工作日",),
    "个月": ("个月", "月"), "月": ("月", "个月"), "年": ("年",), "周": ("周",), "季度": ("季度",),
    "米": ("米", "m"), "毫米": ("毫米", "mm"), "厘米": ("厘米", "cm"), "公里": ("公里", "千米", "km"),
    "勒克斯": ("勒克斯", "lx"), "伏": ("伏", "v"), "安": ("安", "a"), "瓦": ("瓦", "w"),
    "千克": ("千克", "kg"), "克": ("克", "g"), "吨": ("吨", "t"), "度": ("度", "°", "℃"),
    "元": ("元",), "万元": ("万元", "万"), "亿元": ("亿元", "亿"), "学时": ("学时",),
}
_DURATION_UNITS = ("小时", "分钟", "秒", "天", "日", "工作日", "个月", "月", "年", "周", "季度")
_AMOUNT_UNITS = ("元", "万元", "亿元")
ANY_DURATION = tuple(u for d in _DURATION_UNITS for u in _UNIT_SYNONYMS[d])  # "多久"
COUNTERS = "家个项次批次名人层级条种类倍台套批基所座份户件款章节道根"
ASK = r"(?:多少|(?<!哪)几)"
UNIT_ALT = "|".join(sorted((re.escape(u) for u in _UNIT_SYNONYMS), key=len, reverse=True))
_ASK_UNIT = re.compile(rf"{ASK}\s*(?:个)?({UNIT_ALT})")
_ASK_COUNTER = re.compile(rf"{ASK}\s*(批次|[{COUNTERS}])")
_ASK_PERCENT = re.compile(
    r"百分之多少|多少\s*%|百分比|百分点|比例|占比|比重|权重"
    r"|率[^，。？?]{0,8}(?:多少|几|什么(?:指标|目标|要求)|指标|目标)"
)
_ASK_PERCENT_STRICT = re.compile(r"百分之多少|百分点|多少\s*%")
_ASK_DURATION = re.compile(
    r"多久|多长时间|多长|多少时间|(?:期限|时限|周期|有效期|保存期)[^，,。？?]{0,6}(?:多|几|怎样|如何|什么)")
_ASK_AMOUNT = re.compile(r"金额|罚款|资金|奖励|费用|多少钱")
_ASK_ANY = re.compile(r"多少|(?<!哪)几(?!乎)|多大|多高|多重|多远|多快|什么(?:指标|数值|限值)|限值|上限|下限")
_ASK_LIST = re.compile(r"哪些|哪几|包括什么|包含什么|有什么(?:内容|材料|条件)|什么材料|什么条件|列出")
# a comparison between versions (not "A与B的区别": two concepts): a version must be named
_ASK_COMPARE = re.compile(
    r"上一[版轮届]|旧版|原版|新版|\d{4}\s*年版|(?<!制)修订(?:后|前|版|相比|与)|\d{4}\s*年修订|修改(?:后|前|了)"
    r"|版本|比《[^》]+》|与《[^》]+》(?:相比|比)|与\d{4}\s*年(?:相比|比)"
)
_ASK_PROCEDURE = re.compile(r"如何|怎样|怎么|程序|流程|步骤|手续|需要提交|申请材料|办理")
# what a procedure question asks for, and the words a sentence that gives it uses
OBJECTS: dict[str, tuple[str, ...]] = {
    "材料": ("材料", "资料", "提交", "申请书", "证明"),
    "资料": ("资料", "材料", "提交", "申请书", "证明"),
    "条件": ("条件", "具备", "符合下列", "应当有", "应有"),
    "资格": ("资格", "条件", "具备", "持证"),
    "程序": ("程序", "流程", "步骤", "按照下列", "依照下列"),
    "流程": ("流程", "程序", "步骤", "按照下列", "依照下列"),
    "步骤": ("步骤", "程序", "流程", "先", "然后"),
    "手续": ("手续", "程序", "申请", "办理", "登记", "受理"),
}
_ASK_SUBMIT = re.compile(rf"(?:提交|提供|出具|填写|签署)(?:什么样的|什么|哪些|哪种|何种)([{CJK}]{{2,10}})")
# "如何申请办理…": an administrative procedure, answered only where the text says how to apply
_ASK_APPLY = re.compile(r"(?:如何|怎样|怎么|怎么样)(?:去)?(?:申请办理|办理|申领|申报|报名|备案|登记)")
# conditions and qualifications are a procedure's only where one is named ("报考", "申报")
_PROCEDURE_CONTEXT = re.compile(r"申请|申报|报考|报名|办理|资质|认定|评审|设立|取得|任职|注册|审批|许可")
_ASK_OBJECT = re.compile(rf"(?:哪些|什么|何种|哪种)[^，。？?]{{0,8}}?({'|'.join(OBJECTS)})|({'|'.join(OBJECTS)})[^，。？?]{{0,8}}(?:是什么|有哪些|怎么|如何|是怎样|怎样)")
_YES_NO = re.compile(r"是否|能否|能不能|可否|可不可以|可以不|是不是|有没有|(?:吗|(?<!什)么)[？?]?\s*$")


@dataclass(frozen=True)
class Focus:
    """What a question asks for (empty when it asks for nothing specific)."""

    quantity: str = ""  # "percent" | "duration" | "count" | "amount" | "measure" | "number" | ""
    units: tuple[str, ...] = ()  # the measure words a matching number must carry
    wants_list: bool = False
    comparison: bool = False
    procedure: bool = False
    yes_no: bool = False
    asked_object: str = ""  # "材料", "条件", "程序", "声明" …: what a procedure question asks for
    numbers: frozenset[str] = frozenset()  # the numbers the question itself writes ("2027")
    question: str = ""  # the question, normalised


def question_focus(question: str) -> Focus:
    """The focus of ``question``: which quantity, list, comparison or procedure it asks."""
    q = normalize(question)
    quantity, units = _quantity(q)
    return Focus(
        quantity=quantity,
        units=units,
        wants_list=bool(_ASK_LIST.search(q)),
        comparison=bool(_ASK_COMPARE.search(q)),
        procedure=bool(_ASK_PROCEDURE.search(q)),
        yes_no=bool(_YES_NO.search(q)),
        asked_object=_asked_object(q),
        numbers=frozenset(NUM.findall(q)),
        question=q,
    )


def _asked_object(q: str) -> str:
    """What a procedure question asks for: 材料, 条件, 程序 … or the thing to be submitted
    ("提交什么样的专利实施许可声明" → 声明)."""
    m = _ASK_OBJECT.search(q)
    if m:
        obj = m.group(1) or m.group(2)
        if obj not in ("条件", "资格") or _PROCEDURE_CONTEXT.search(q):
            return obj
    m = _ASK_SUBMIT.search(q)
    if m:
        return m.group(1)[-2:]
    return "手续" if _ASK_APPLY.search(q) else ""


def _quantity(q: str) -> tuple[str, tuple[str, ...]]:
    """The kind of quantity asked and the units a matching number carries."""
    if _ASK_PERCENT_STRICT.search(q):  # "多少个百分点" asks a percentage, not a count
        return "percent", ("%",)
    m = _ASK_UNIT.search(q)
    if m:
        unit = m.group(1)
        kind = ("duration" if unit in _DURATION_UNITS else "amount" if unit in _AMOUNT_UNITS
                else "measure")
        return kind, _UNIT_SYNONYMS[unit]
    m = _ASK_COUNTER.search(q)
    if m:
        return "count", (m.group(1),)
    if _ASK_PERCENT.search(q):
        return "percent", ("%",)
    if _ASK_DURATION.search(q):
        return "duration", ANY_DURATION
    if _ASK_AMOUNT.search(q) and _ASK_ANY.search(q):
        return "amount", tuple(u for a in _AMOUNT_UNITS for u in _UNIT_SYNONYMS[a])
    if _ASK_ANY.search(q):
        return "number", ()
    return "", ()


# numbers as questions and sources write them
_CN_DIGITS = "零〇一二两三四五六七八九十百千万"
NUM = re.compile(rf"\d+(?:\.\d+)?|[{_CN_DIGITS}]+")
