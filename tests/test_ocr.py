"""OCR post-processing: rulings removed before recognition, the two readings merged, and the
usual misreadings of standard numbers and units undone (no Tesseract needed)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from assistant.load import ocr


def test_unrule_whitens_table_rulings_and_keeps_glyph_strokes() -> None:
    a = np.full((400, 600), 255, dtype=np.uint8)
    a[100, 20:580] = 0          # a table's horizontal rule: 560 px at 300 dpi = 47 mm
    a[50:350, 300] = 0          # a vertical rule
    a[200:230, 50:52] = 0       # a glyph's stroke: 30 px = 2.5 mm
    a[240, 60:100] = 0          # a short horizontal stroke
    out = np.asarray(ocr.unrule(Image.fromarray(a), 300))
    assert (out[100, 20:580] == 255).all() and (out[50:350, 300] == 255).all()
    assert (out[200:230, 50:52] == 0).all() and (out[240, 60:100] == 0).all()


def test_unrule_leaves_a_page_without_rulings_alone() -> None:
    img = Image.fromarray(np.full((50, 50), 255, dtype=np.uint8))
    assert ocr.unrule(img, 300) is img


def test_merge_takes_chinese_where_the_mixed_reading_has_latin_garbage() -> None:
    mixed = "3 RAMEN\nGB/T 1.1—2020 规定的术语适用于本文件。\n(ARTE) 附录"
    cjk = "3 术语和定义\nGBA/工 1.1—2020 规定的术语适用于本文件。\n（资料性) 附录"
    got = ocr.merge_readings(mixed, cjk).split("\n")
    assert got[0] == "3 术语和定义"
    assert got[1].startswith("GB/T 1.1")  # the identifier of the mixed reading stays
    assert got[2].startswith("（资料性")


def test_merge_keeps_units_and_lines_when_line_counts_differ() -> None:
    mixed = "温度为 25 ℃，时间 10 min。\n第二行\nBATHE"
    cjk = "温度为 25 ℃，时间 10 三。\n第二行\n多出的一行\n避开干扰源"
    got = ocr.merge_readings(mixed, cjk)
    assert "10 min" in got


@pytest.mark.parametrize(("raw", "want"), [
    ("本文件按照 GBAT 1.1一2020 的规定起草。", "本文件按照GB/T 1.1—2020的规定起草。"),
    ("GBA/工90202一2023", "GB/T90202—2023"),
    ("DB50/工90206一2022", "DB50/T90206—2022"),
    ("GEB 14881 食品安全国家标准", "GB 14881食品安全国家标准"),
    ("炒制温度应控制在 120 °C~160 *C，并记录。", "炒制温度应控制在120 ℃～160 ℃，并记录。"),
    ("库温不宜超过 25 \"C", "库温不宜超过25 ℃"),
    ("面积小于50 m* 的房间，甲醛 0.08 mg/m3", "面积小于50 m²的房间，甲醛0.08 mg/m³"),
    ("绝缘电阻不小于 100 MQ。", "绝缘电阻不小于100 MΩ。"),
])
def test_repairs_of_numbers_and_units(raw: str, want: str) -> None:
    # blanks aside: the accuracy measure and the keyword index ignore them
    assert ocr.clean_ocr_text(raw).replace(" ", "") == want.replace(" ", "")


def test_repairs_leave_ordinary_latin_alone() -> None:
    for s in ("ISO/IEC 27040:2015", "QA 体系", "Q/LJ 90210—2024", "M2 螺钉", "T/CAS 90208",
              "GB 50763 无障碍设计规范", "温度 25 ℃～30 ℃"):
        assert ocr.clean_ocr_text(s).replace(" ", "") == s.replace(" ", "")


def test_merge_restores_a_bold_annex_heading() -> None:
    got = ocr.merge_readings("RA（资料性）在线监测设备的校准", "附录A（资料性）在线监测设备的校准")
    assert got == "附录A（资料性）在线监测设备的校准"


def test_a_comma_read_for_a_full_stop_before_a_heading_ends_the_sentence() -> None:
    raw = "截面不应小于6 mm²,\n5 安装要求\n5.1 安装高度\n温度不大于5%,\n附录A（规范性）\n应符合下列要求,\n按表1"
    got = ocr.clean_ocr_text(raw).split("\n")
    assert got[0].endswith("mm²。") and got[3].endswith("5%。")
    assert got[5].endswith(",") or got[5].endswith("，")  # no heading follows: left alone


def test_printed_gaps_in_chinese_are_kept_spaced_out_lines_are_closed() -> None:
    assert ocr.clean_ocr_text("信息技术 数据备份与恢复 第2部分") == "信息技术 数据备份与恢复 第2部分"
    assert ocr.clean_ocr_text("本 文 件 规 定 了 要 求") == "本文件规定了要求"
