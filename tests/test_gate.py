"""The answerability gate's evidence features (assistant.focus, assistant.gate) on
hand-made hits: what a question asks for, and whether a retrieved sentence gives it."""

from __future__ import annotations

import pytest

from assistant.asking import question_focus
from assistant.focus import carries, sentence_evidence, sibling_subject
from assistant.gate import assess_relevance, coverage, query_terms
from assistant.records import Chunk, Evidence, Hit
from assistant.text import normalize

PLAN = "重庆两江新区质量强区建设实施方案（2024—2027年）"
TARGETS = (
    "（二）主要目标\n到2027年，质量推动经济社会发展的作用明显提升。积极创建全国质量品牌提升示范区，"
    "制造业产品质量合格率大于95%，食品抽检合格率大于98.2%，流通领域药品抽检合格率保持100%，"
    "争创中国质量奖（含提名奖）1个，建成国家质量基础设施集成服务基地1个。"
)
HEALTH = "（十九）提升公共服务质量效率\n完善社区医疗卫生服务网络，扩大家庭医生签约服务覆盖范围。"
REPAIR = "6.2.1 一级故障应在2 h内到达现场，24 h内修复。\n二级故障应在48 h内修复，三级故障应在7 d内修复。"
CYCLE = ("5.1 巡检周期\n智慧路灯的巡检周期应符合表1的规定。\n表1 巡检周期\n设施类别 | 日常巡检 | 定期检测\n"
         "照明单元 | 每周1次 | 每年2次")
PREFACE = ("前言\n本文件代替GB/T 90001.1—2016，与GB/T 90001.1—2016相比，主要技术变化如下（略）。\n"
           "本文件由全国标准编写方法标准化技术委员会（SAC/TC 999）提出并归口。")


def _hit(text: str, clause: str, heading: str = "", title: str = PLAN, std_no: str = "",
         rank: int = 1, sim: float = 0.90) -> Hit:
    c = Chunk(id=f"d#{clause}#0", doc="d.txt", clause=clause, text=text, heading=heading,
              title=title, std_no=std_no)
    return Hit(chunk=c, score=1.0 / rank, rank=rank,
               evidence=Evidence(bm25_rank=rank, dense_rank=rank, dense_sim=sim))


TARGET_HIT = _hit(TARGETS, "（二）", "一、总体要求 > （二）主要目标")
HEALTH_HIT = _hit(HEALTH, "（十九）", "六、促进服务品质提升 > （十九）提升公共服务质量效率", rank=2)
LAMP = "山地城市智慧路灯运行维护规范"
REPAIR_HIT = _hit(REPAIR, "6.2.1", "6 维修 > 6.2 处理时限 > 6.2.1", LAMP, "DB50/T 9123—2022")
CYCLE_HIT = _hit(CYCLE, "5.1", "5 巡检 > 5.1 巡检周期", LAMP, "DB50/T 9123—2022")
PREFACE_HIT = _hit(PREFACE, "前言", "前言", "标准编写规范 第1部分：文件结构与条款表述", "GB/T 90001.1—2023")


def _evidence(question: str, hits: list[Hit]):  # type: ignore[no-untyped-def]
    return sentence_evidence(question_focus(question), hits, query_terms(question), coverage)


# --- what a question asks for -----------------------------------------------------------


@pytest.mark.parametrize(("question", "kind", "unit"), [
    ("家庭医生签约服务覆盖率达到百分之多少？", "percent", "%"),
    ("方案对食品抽检合格率定了什么指标？", "percent", "%"),
    ("二级故障应在多少小时内到达现场？", "duration", "小时"),
    ("巡检记录至少要保存几年？", "duration", "年"),
    ("照明单元的巡检周期是怎样规定的？", "duration", "天"),
    ("要招引多少家检验检测头部企业？", "count", "家"),
    ("每年抽查多少批次？", "count", "批次"),
    ("专项资金是多少亿元？", "amount", "亿元"),
    ("路面平均照度不应低于多少勒克斯？", "measure", "勒克斯"),
    ("外壳温度上限是多少？", "number", ""),
    ("实际提高了多少个百分点？", "percent", "%"),
])
def test_quantity_asked_and_its_unit(question: str, kind: str, unit: str) -> None:
    f = question_focus(question)
    assert f.quantity == kind
    assert (unit in f.units) if unit else f.units == ()


@pytest.mark.parametrize("question", [
    "条款里什么时候可以用“必须”？",  # a condition, not a duration
    "条款标识符由哪几部分组成？",  # 哪几: a list, not a count
    "术语比较多，能不能做成一张表来列？",  # 比较多 is no comparison
    "质量强区建设的指导思想是怎么表述的？",
])
def test_questions_that_ask_no_quantity_or_comparison(question: str) -> None:
    f = question_focus(question)
    assert f.quantity == "" and not f.comparison


def test_procedure_objects_comparisons_and_yes_no() -> None:
    assert question_focus("申请资质认定需要提交哪些材料？").asked_object == "材料"
    assert question_focus("报考注册计量师需要满足哪些学历和工作年限条件？").asked_object == "条件"
    assert question_focus("仓储物保管条件是什么？").asked_object == ""  # no procedure named
    assert not question_focus("保理合同与借贷合同的区别？").comparison  # two concepts, no versions
    assert question_focus("储存期限届满，不提取仓储物怎么办？").quantity == ""
    assert question_focus("评审程序和时间安排是什么？").asked_object == "程序"
    assert question_focus("与上一版相比有哪些技术变化？").comparison
    assert question_focus("方案修订后删除了哪些任务？").comparison
    assert not question_focus("要主导或参与制修订多少项标准？").comparison
    assert question_focus("这个编写规范能用于团体标准吗？").yes_no
    assert not question_focus("评审程序是什么？").yes_no


def test_carries_the_asked_kind_of_quantity() -> None:
    pct = question_focus("覆盖率达到百分之多少？")
    assert carries(pct, "合格率大于95%") and not carries(pct, "扩大签约服务覆盖范围")
    hours = question_focus("多少小时内到达现场？")
    assert carries(hours, "应在2 h内到达现场") and not carries(hours, "应在7 d内修复")
    period = question_focus("巡检周期是多久？")
    assert carries(period, "照明单元 | 每周1次") and carries(period, "7 d内修复")
    count = question_focus("数据分几级？")
    assert carries(count, "分为核心、重要和一般三级") and not carries(count, "一般数据")
    probes = question_focus("要装几个温度探头？")
    assert carries(probes, "应至少安装2个温度探头")
    # the question's own numbers are not its answer
    assert not carries(question_focus("到2027年要达到多少？"), "到2027年")


# --- the evidence in the hits -----------------------------------------------------------


def test_topic_words_without_the_quantity_are_no_answer() -> None:
    q = "方案要求家庭医生签约服务覆盖率达到百分之多少？"
    ev = _evidence(q, [HEALTH_HIT, TARGET_HIT])
    assert ev.sentence_cov > 0.4 and ev.focus_cov == 0.0  # on topic, no percentage for it
    rel = assess_relevance(q, [HEALTH_HIT, TARGET_HIT])
    assert not rel.ok and rel.missing == "该比例" and rel.features["focus_factor"] == 0.0


def test_the_quantity_next_to_the_questions_words_is_an_answer() -> None:
    q = "到2027年两江新区制造业产品质量合格率的目标是多少？"
    ev = _evidence(q, [TARGET_HIT])
    assert ev.focus_cov >= 0.8 and "95%" in ev.sentence
    rel = assess_relevance(q, [TARGET_HIT])
    assert rel.ok and rel.features["focus_factor"] == 1.0


def test_a_sibling_subjects_quantity_is_no_answer() -> None:
    # the target list gives 合格率 for 食品, 药品, 制造业 — not for 农产品 or 医疗器械
    for q in ("方案对医疗器械抽检合格率定了什么指标？", "方案对农产品质量安全抽检合格率的目标是多少？"):
        assert _evidence(q, [TARGET_HIT]).focus_cov == 0.0, q
        assert not assess_relevance(q, [TARGET_HIT]).ok, q
    assert _evidence("方案对食品和药品抽检合格率分别定了什么指标？", [TARGET_HIT]).focus_cov > 0.5
    t = {"医疗器械": 2.0, "抽检": 1.0, "合格率": 1.5}
    assert sibling_subject(normalize("医疗器械抽检合格率是多少"), "食品抽检合格率大于98.2%", t)
    assert not sibling_subject(normalize("食品抽检合格率是多少"), "食品抽检合格率大于98.2%",
                               {"食品": 1.0, "抽检": 1.0, "合格率": 1.5})


def test_a_count_of_something_else_is_no_answer() -> None:
    q = "到2027年两江新区要建成多少个国家技术标准创新基地？"
    assert _evidence(q, [TARGET_HIT]).focus_cov == 0.0  # "服务基地1个" counts another base
    assert _evidence("新区计划争创几个中国质量奖？", [TARGET_HIT]).focus_cov > 0.5


def test_durations_in_clauses_and_table_rows() -> None:
    ev = _evidence("二级故障应在多长时间内修复？", [REPAIR_HIT])
    assert ev.focus_cov > 0.5 and "48 h" in ev.sentence
    ev = _evidence("照明单元的巡检周期是多久？", [CYCLE_HIT])
    assert ev.focus_cov > 0.5 and "每周1次" in ev.sentence  # the row read with its caption


def test_an_elided_text_answers_nothing() -> None:
    q = "GB/T 90001.1—2023与2016年版相比有哪些主要技术变化？"
    ev = _evidence(q, [PREFACE_HIT])
    assert ev.focus_cov == 0.0 and ev.elided  # "主要技术变化如下（略）"
    rel = assess_relevance(q, [PREFACE_HIT])
    assert not rel.ok and "略" in rel.missing


def test_a_number_in_front_matter_counts_half() -> None:
    q = "标准化技术委员会的编号是多少？"
    ev = _evidence(q, [PREFACE_HIT])
    assert ev.front_only and 0 < ev.focus_cov < ev.sentence_cov


def test_procedure_materials_must_be_named() -> None:
    reg = _hit("（二十二）加强检验检测能力建设\n为检验检测机构注册登记和落地审批提供便利。", "（二十二）",
               "七、构建高水平质量基础设施 > （二十二）加强检验检测能力建设")
    q = "检验检测机构在两江新区申请资质认定需要提交哪些材料？"
    assert _evidence(q, [reg]).focus_cov == 0.0
    docs = _hit("7.3 验收资料\n验收资料应包括接线图、接地电阻测试记录和设备合格证。", "7.3", "7 验收 > 7.3 验收资料",
                "电动汽车充电桩安装规范", "DB50/T 90207—2024")
    assert _evidence("充电桩验收要交哪些资料？", [docs]).focus_cov > 0.5


def test_questions_without_a_focus_keep_the_topical_score() -> None:
    q = "质量强区建设的专项资金怎么安排？"
    fund = _hit("（二十九）加大投入力度，强化要素保障\n整合现有资金渠道，安排专项资金，用于支持质量强区建设相关重点项目。",
                "（二十九）", "九、优化质量工作保障机制 > （二十九）加大投入力度，强化要素保障")
    rel = assess_relevance(q, [fund])
    assert rel.ok and rel.features["focus_factor"] == 1.0 and rel.missing == ""
    # … while the same clause does not answer how much money
    assert not assess_relevance("每年安排的专项资金是多少亿元？", [fund]).ok


def test_another_level_or_action_is_no_answer() -> None:
    # 6.2.1 gives the arrival time of 一级 faults only
    q = "智慧路灯二级故障的维修人员应在多少小时内到达现场？"
    assert _evidence(q, [REPAIR_HIT]).focus_cov == 0.0
    assert _evidence("一级故障应在多少小时内到达现场？", [REPAIR_HIT]).focus_cov > 0.5
    # 表1 gives inspection periods (巡检), not how long data are kept (保存)
    assert _evidence("智慧路灯监控单元的视频数据应保存多少天？", [CYCLE_HIT]).focus_cov == 0.0
    keep = _hit("A.2 记录保存\n巡检记录应保存不少于3年。", "A.2", "附录A 巡检记录表 > A.2 记录保存", LAMP,
                "DB50/T 9123—2022")
    assert _evidence("路灯巡检记录至少要保存几年？", [keep]).focus_cov > 0.5
    assert _evidence("智慧路灯的维修记录应保存多少年？", [keep]).focus_cov == 0.0  # 巡检, not 维修


def test_how_to_apply_needs_an_application_procedure() -> None:
    assert question_focus("高处作业人员如何申请办理特种作业操作证？").asked_object == "手续"
    staff = _hit("4.2 运行维护人员应经过专业培训，高处作业人员应持证上岗。", "4.2", "4 基本要求 > 4.2", LAMP,
                 "DB50/T 9123—2022")
    assert _evidence("路灯维修的高处作业人员如何申请办理特种作业操作证？", [staff]).focus_cov == 0.0
    assert _evidence("对从事路灯高处作业的人员有什么资格要求？", [staff]).focus_cov > 0.3


def test_a_product_the_hits_never_name_is_no_answer() -> None:
    q = "智慧路灯上的电动汽车充电桩单元多久巡检一次？"
    ev = _evidence(q, [CYCLE_HIT, REPAIR_HIT])
    assert ev.foreign in ("电动汽车", "充电桩") and ev.focus_cov == 0.0
    rel = assess_relevance(q, [CYCLE_HIT, REPAIR_HIT])
    assert not rel.ok and rel.missing.startswith(f"“{ev.foreign}”的")
    assert _evidence("照明单元多久巡检一次？", [CYCLE_HIT]).foreign == ""


def test_the_thing_to_submit_must_be_named() -> None:
    q = "标准涉及专利时，专利持有人需要提交什么样的专利实施许可声明？"
    assert question_focus(q).asked_object == "声明"
    assert _evidence(q, [PREFACE_HIT]).focus_cov == 0.0


def test_the_focus_can_be_switched_off_for_comparison() -> None:
    from assistant.config import Settings
    from assistant.gate import decide

    q = "方案要求家庭医生签约服务覆盖率达到百分之多少？"
    hits = [HEALTH_HIT, TARGET_HIT]
    assert not decide(q, hits, Settings(embed_model="fake")).ok
    before = decide(q, hits, Settings(embed_model="fake", gate_focus=False))
    assert before.ok and before.missing == ""  # topical relevance alone answers it


# --- issue 19, second round: the asked property, its condition, a list's total ------------

LIB = "火锅底料生产卫生规范"
OIL = "5.1 原料验收\n牛油应有检验合格证明，酸价不应超过2.5 mg/g，辣椒应无霉变。"
OIL_HIT = _hit(OIL, "5.1", "5 生产过程控制 > 5.1 原料验收", LIB, "DB50/T 90207—2024")
PUMP = "4.3 噪声\n在额定工况下，排量不大于25 mL/r的齿轮泵噪声应不大于75 dB(A)。"
PUMP_HIT = _hit(PUMP, "4.3", "4 技术要求 > 4.3 噪声", "液压齿轮泵 技术条件", "JB/T 90204—2021")
LIFT = "5.2 吊点设置\n吊点数量和位置应经计算确定，墙板吊点不应少于2个。"
LIFT_HIT = _hit(LIFT, "5.2", "5 吊具和吊点 > 5.2 吊点设置", "装配式混凝土预制构件吊装技术规程",
                "T/CECS 90209—2022")
STANDARDS = ("（二）主要目标\n主导或参与制修订国际标准、国家标准、行业标准和地方标准不少于200项，"
             "建成国家级质量标准实验室、国家产业计量测试中心各1家。")
STANDARDS_HIT = _hit(STANDARDS, "（二）", "一、总体要求 > （二）主要目标")


STORE_HIT = _hit("6.2 贮存\n成品应在阴凉干燥处贮存，库温不宜超过25 ℃，离地离墙不小于10 cm。", "6.2",
                 "6 检验和贮存 > 6.2 贮存", LIB, "DB50/T 90207—2024")


CHECK_HIT = _hit("6.1 出厂检验\n每批产品应检验感官、净含量、酸价和过氧化值。", "6.1",
                 "6 检验和贮存 > 6.1 出厂检验", LIB, "DB50/T 90207—2024")


def test_the_property_asked_with_a_limit_must_be_named() -> None:
    # a limit on the product's storage temperature is not one on its 过氧化值 (which the
    # library names, in a clause without a number)
    hits = [STORE_HIT, CHECK_HIT, OIL_HIT]
    ev = _evidence("火锅底料成品的过氧化值不应超过多少？", hits)
    assert ev.foreign == "" and ev.sentence_cov > 0.3 and ev.focus_cov == 0.0
    assert _evidence("火锅底料成品贮存的库温不宜超过多少度？", [STORE_HIT]).focus_cov > 0.3
    assert _evidence("牛油原料的酸价要求是多少？", [OIL_HIT]).focus_cov > 0.3
    # "噪声" is named, "轮泵噪声" half: both must be
    assert _evidence("齿轮泵的容积效率应不低于多少？", [PUMP_HIT]).focus_cov == 0.0


SMOKE_HIT = _hit("4.3 排烟\n炒制区应设置油烟净化装置，油烟排放浓度不应超过2.0 mg/m³。", "4.3",
                 "4 厂房和设施 > 4.3 排烟", LIB, "DB50/T 90207—2024")


def test_the_comparison_words_do_not_name_the_property() -> None:
    # 过 of "不应超过" and 化 of "净化" are half of 过氧化值's characters, but a limit on
    # 油烟排放浓度 is not one on 过氧化值
    assert _evidence("火锅底料成品的过氧化值不应超过多少？", [CHECK_HIT, SMOKE_HIT]).focus_cov == 0.0
    assert _evidence("炒制区油烟排放浓度不应超过多少？", [SMOKE_HIT]).focus_cov > 0.3


def test_the_questions_condition_the_other_way_is_no_answer() -> None:
    assert _evidence("排量大于25 mL/r的齿轮泵噪声应不大于多少分贝？", [PUMP_HIT]).focus_cov == 0.0
    assert _evidence("排量不大于25 mL/r的齿轮泵噪声应不大于多少分贝？", [PUMP_HIT]).focus_cov > 0.5


def test_another_subject_before_the_shared_words_is_no_answer() -> None:
    # "墙板吊点" is not the 叠合板's; "农产品" ends in the 品 of "食品"
    assert _evidence("预制叠合板的吊点不应少于几个？", [LIFT_HIT]).focus_cov == 0.0
    assert _evidence("预制墙板的吊点不应少于几个？", [LIFT_HIT]).focus_cov > 0.5
    assert _evidence("到2027年两江新区农产品抽检合格率要大于多少？", [TARGET_HIT]).focus_cov == 0.0
    assert _evidence("到2027年两江新区食品抽检合格率要大于多少？", [TARGET_HIT]).focus_cov > 0.5


def test_a_lists_total_is_not_one_items_number() -> None:
    assert _evidence("方案要求主导或参与制修订的国际标准不少于多少项？", [STANDARDS_HIT]).focus_cov == 0.0
    assert _evidence("到2027年新区要主导或参与制修订多少项各级标准？", [STANDARDS_HIT]).focus_cov > 0.5
    # "各1家": a number for each item
    assert _evidence("方案要建成几家国家产业计量测试中心？", [STANDARDS_HIT]).focus_cov > 0.3


def test_a_period_answers_how_often_but_not_how_many_hours() -> None:
    backup = normalize("组织宜每半年至少进行一次恢复演练，验证恢复时间目标能否达到。")
    assert carries(question_focus("恢复演练多久做一次？"), backup)
    assert not carries(question_focus("恢复时间目标应不超过多少小时？"), backup)


def test_a_comparison_needs_a_change_not_a_replacement_notice() -> None:
    q = "T/CAS 90208—2023与2019年版相比增加了哪些技术要求？"
    notice = _hit("前言\n本文件代替T/CAS 90208—2019。", "前言", "前言", "智能门锁通用技术要求",
                  "T/CAS 90208—2023")
    assert _evidence(q, [notice]).focus_cov == 0.0
    assert question_focus("本方案与《质量强国建设纲要》相比，目标高了多少？").comparison


def test_how_a_procedure_goes_asks_for_the_procedure() -> None:
    assert question_focus("养老服务机构星级评定的评定程序是怎样的？").asked_object == "程序"


# --- issue 19, third round: a standard's subject, levels, what changed, offsets -----------

PUMP_SCOPE_HIT = _hit("1 范围\n本文件规定了液压齿轮泵的技术要求。本文件适用于额定压力不大于25 MPa的外啮合液压齿轮泵。",
                      "1", "1 范围", "液压齿轮泵 技术条件", "JB/T 90204—2021", rank=2)
LIFT_SCOPE_HIT = _hit("1 范围\n本文件适用于民用建筑预制墙板、叠合板和楼梯的吊装施工。", "1", "1 范围",
                      "装配式混凝土预制构件吊装技术规程", "T/CECS 90209—2022", rank=2)
BRACE_HIT = _hit("6.2 临时支撑\n预制墙板就位后应设置不少于2道斜支撑，斜支撑与地面的夹角宜为45°～60°。", "6.2",
                 "6 吊装作业 > 6.2 临时支撑", "装配式混凝土预制构件吊装技术规程", "T/CECS 90209—2022")


def test_subject_words_are_the_phrase_the_question_opens_with() -> None:
    from assistant.focus import subject_words

    def words(q: str) -> list[str]:
        return subject_words(normalize(q), query_terms(q))

    assert words("液压马达在额定工况下的噪声应不大于多少分贝？") == ["液压", "马达"]
    assert words("住宅室内空气中甲醛的限值是多少？")[0] == "住宅"
    # a standard's number before the subject is passed over; a degree word ends it
    assert words("JB/T 90204—2021规定齿轮泵的容积效率应不低于多少？") == ["齿轮泵"]
    assert "至少" not in words("步道栏杆至少多高？")
    # a verb ends the subject; a question about the document itself has none
    # (智慧路灯 is one word once a standard's terms were added to the tokenizer, two before)
    assert "".join(words("智慧路灯发生一级故障，多长时间内必须到场？")) == "智慧路灯"
    assert words("路灯发生一级故障，多长时间内必须到场？") == ["路灯"]
    assert words("标准文件中条的细分层次最多允许几层？") == []


def test_a_standard_that_never_names_the_subject_does_not_answer() -> None:
    # a gear-pump standard states a noise limit; it names no 液压马达 anywhere retrieved
    hits = [PUMP_HIT, PUMP_SCOPE_HIT]
    ev = _evidence("液压马达在额定工况下的噪声应不大于多少分贝？", hits)
    assert ev.focus_cov == 0.0 and ev.foreign == "马达"
    assert _evidence("齿轮泵在额定工况下的噪声应不大于多少分贝？", hits).focus_cov > 0.3
    # what the standard names beyond the top hits counts: its scope names 楼梯
    ev = sentence_evidence(question_focus("预制楼梯吊装时风速达到多少应停止作业？"), [LIFT_HIT],
                           query_terms("预制楼梯吊装时风速达到多少应停止作业？"), coverage,
                           seen=[LIFT_HIT, LIFT_SCOPE_HIT])
    assert ev.foreign == ""
    # laws (and policy) are written in general words a question paraphrases: no such check
    recall = _hit("第九条 生产者应当建立并保存汽车产品的信息记录，保存期不得少于10年。", "第九条", "第二章",
                  "缺陷汽车产品召回管理条例")
    assert _evidence("商家建立的信息记录保存期不得少于多少年？", [recall]).foreign == ""


def test_another_administrative_level_is_no_answer() -> None:
    # counts of other things (1个, 3个) in the same window: only the level tells it apart
    labs = _hit("（二）主要目标\n争创中国质量奖（含提名奖）1个，重庆市市长质量管理奖（含提名奖）3个，"
                "建成国家级质量标准实验室、国家产业计量测试中心各1家。", "（二）", "一、总体要求 > （二）主要目标")
    assert _evidence("方案要求建成几个市级质量标准实验室？", [labs]).focus_cov == 0.0
    assert _evidence("方案要求建成几个国家级质量标准实验室？", [labs]).focus_cov > 0.3


def test_a_change_of_another_thing_is_no_answer() -> None:
    preface = _hit("前言\n本文件代替GB 90201—2018。与GB 90201—2018相比，增加了热失控报警要求，"
                   "更改了过充电试验的充电电压。", "前言", "前言", "电动自行车用锂离子蓄电池安全技术规范",
                   "GB 90201—2024")
    assert _evidence("GB 90201—2024与2018年版相比，外部短路试验的要求有什么变化？", [preface]).focus_cov == 0.0
    assert _evidence("GB 90201—2024与2018年版相比，过充电试验的充电电压有什么变化？", [preface]).focus_cov > 0.3
    assert _evidence("GB 90201—2024与2018年版相比有哪些变化？", [preface]).focus_cov > 0.3


def test_a_count_for_another_subject_after_a_modal_and_a_verb() -> None:
    # "就位后应设置几道": the subject before the shared "就位后" is 楼梯, the clause's 墙板
    assert question_focus("预制楼梯就位后应设置几道斜支撑？").units == ("道",)
    # (the scope names 楼梯: the standard covers it, the clause does not)
    hits = [BRACE_HIT, LIFT_SCOPE_HIT]
    ev = _evidence("预制楼梯就位后应设置几道斜支撑？", hits)
    assert ev.foreign == "" and ev.focus_cov == 0.0
    assert _evidence("预制墙板就位后至少要设置几道斜支撑？", hits).focus_cov > 0.3


def test_a_period_counted_from_the_property_is_not_its_value() -> None:
    records = _hit("A.2 保存期限\n炒制记录应保存至产品保质期满后6个月，且不少于2年。", "A.2", "附录A > A.2 保存期限",
                   LIB, "DB50/T 90207—2024")
    assert _evidence("火锅底料成品的保质期一般为多少个月？", [records]).focus_cov == 0.0
    data = _hit("6.1 数据保存\n温度数据应上传至公司平台，保存期限不少于产品保质期后6个月。", "6.1",
                "6 数据保存和异常处置 > 6.1 数据保存", "冷链物流温度记录规范", "Q/CQSC 90211—2023")
    assert _evidence("冷链温度数据的保存期限是多久？", [data]).focus_cov > 0.3


# --- fourth round: the subject and the regulation of questions that ask no quantity -----

COLD = "冷链物流温度记录规范"
PROBE_HIT = _hit("4.2 安装位置\n冷藏车厢内应至少安装2个温度探头，分别位于车厢前部和后部上方。", "4.2",
                 "4 监测设备 > 4.2 安装位置", COLD, "Q/CQSC 90211—2023")
PATROL_HIT = _hit("5.2.1 照明单元\n照明单元的巡检应包括以下内容：\na) 灯具亮灭状态和亮度；\nb) 控制器的工作状态。",
                  "5.2.1", "5 巡检 > 5.2 巡检内容 > 5.2.1 照明单元", LAMP, "DB50/T 9123—2022")


def test_a_place_or_list_question_on_a_standard_that_never_names_its_subject() -> None:
    # where a probe goes in a 冷藏仓库: the standard places them in a 冷藏车厢 only
    ev = _evidence("冷藏仓库的温度探头应安装在什么位置？", [PROBE_HIT])
    assert ev.foreign == "仓库" and ev.focus_cov == 0.0
    assert not assess_relevance("冷藏仓库的温度探头应安装在什么位置？", [PROBE_HIT]).ok
    assert _evidence("冷藏车厢的温度探头应安装在什么位置？", [PROBE_HIT]).foreign == ""
    assert assess_relevance("冷藏车厢的温度探头应安装在什么位置？", [PROBE_HIT]).ok
    # what a patrol covers for 地下车库 lamps: a street-lamp standard does not say
    assert _evidence("地下车库照明灯具的巡检内容包括哪些？", [PATROL_HIT]).foreign == "地下"
    assert _evidence("智慧路灯照明单元的巡检内容包括哪些？", [PATROL_HIT]).foreign == ""
    # a question that does not open with its subject has none to check ("哪些情况下…")
    assert _evidence("哪些情况下要做照明单元巡检？", [PATROL_HIT]).foreign == ""


def test_another_regulations_procedure_is_not_in_a_standard() -> None:
    alarm = _hit("4.5 热失控报警\n单个电池单体发生热失控时，电池组应在5 min内发出声光报警。", "4.5",
                 "4 安全要求 > 4.5 热失控报警", "电动自行车用锂离子蓄电池安全要求", "GB 90201—2024")
    q = "电动自行车锂电池发生热失控事故后，生产企业应如何向监管部门报告？"
    assert _evidence(q, [alarm]).foreign == "监管部门"
    assert not assess_relevance(q, [alarm]).ok  # no quantity asked: the foreign word alone refuses
    # laws are written in the general words a question uses: not checked
    law = _hit("第十二条 生产者获知汽车产品可能存在缺陷的，应当立即组织调查分析。", "第十二条", "第三章",
               "缺陷汽车产品召回管理条例")
    assert _evidence("电动自行车存在缺陷时生产者应如何向监管部门报告？", [law]).foreign == ""


def test_a_word_the_standard_writes_whole_elsewhere_is_not_foreign() -> None:
    ground = _hit("5.2 接地\n充电桩外壳应可靠接地，接地电阻不应大于4 Ω。", "5.2", "5 安装要求 > 5.2 接地",
                  "新能源汽车充电桩安装验收规范", "Q/LJ 90210—2024")
    scope = _hit("1 范围\n本文件适用于本公司承建的住宅小区和公共停车场充电桩工程。", "1", "1 范围",
                 "新能源汽车充电桩安装验收规范", "Q/LJ 90210—2024", rank=7)
    q = "住宅小区充电桩的接地电阻不应大于多少欧姆？"
    ev = sentence_evidence(question_focus(q), [ground], query_terms(q), coverage, seen=[ground, scope])
    assert ev.foreign == "" and ev.focus_cov > 0.3
    assert _evidence(q, [ground]).foreign == "住宅小区"  # what was not retrieved is not known
    # half the pairs elsewhere is not the word: 钢结构 is not 混凝土结构
    q = "钢结构构件吊装时吊点不应少于几个？"
    ev = sentence_evidence(question_focus(q), [LIFT_HIT], query_terms(q), coverage, seen=[LIFT_HIT, LIFT_SCOPE_HIT])
    assert ev.focus_cov == 0.0


def test_retriever_confidence_is_read_from_the_fused_order() -> None:
    # The learned scorer moved the best-cosine clause (fused rank 1) below the top three:
    # the dense signal stays that of the fused order's first hits, so the decision is the
    # same as without the re-ordering; the words are still read from the new top three.
    from dataclasses import replace

    def moved(h: Hit, rank: int, fused: int, sim: float) -> Hit:
        ev = Evidence(bm25_rank=fused, dense_rank=fused, dense_sim=sim, fused_rank=fused)
        return replace(h, rank=rank, evidence=ev)

    q = "到2027年两江新区食品抽检合格率要大于多少？"
    plain = [TARGET_HIT, replace(HEALTH_HIT, evidence=Evidence(bm25_rank=2, dense_rank=2,
                                                               dense_sim=0.86))]
    before = assess_relevance(q, plain)
    filler = [moved(_hit(f"其他内容{i}", f"（{i}）"), i + 2, i + 3, 0.80) for i in range(3)]
    reordered = [moved(TARGET_HIT, 1, 2, 0.86), *filler, moved(HEALTH_HIT, 5, 1, 0.90)]
    after = assess_relevance(q, reordered)
    assert after.features["dense_sim"] == 0.90  # the fused first's, not the top three's best
    assert after.features["strong_agree"] == 1.0
    # without the marks the same hits read as a less sure retrieval
    unmarked = [replace(h, evidence=replace(h.evidence, fused_rank=None)) for h in reordered]
    assert assess_relevance(q, unmarked).features["dense_sim"] == 0.86
    assert before.ok and after.ok
