"""Defect injectors for the draft-check benchmark: each takes a clean draft (``tests/drafts.py``)
and plants one kind of defect, once or twice, returning the findings the check must report as
(kind, clause label). A few defects honestly cause a second finding (a subdivided 第2章 also
has a hanging paragraph); the injector lists those too.

``seeded(spec)`` → one copy of the draft per kind; ``combined(spec)`` → one copy carrying a
defect of most kinds at once (for the PDF round, where each file costs a LibreOffice render).
"""

from __future__ import annotations

import re
from collections.abc import Callable

try:
    from .drafts import ENTRIES, LEADIN_REFS, Block, Spec
except ImportError:  # run as a plain module (eval/check/bench_check.py puts tests/ on the path)
    from drafts import ENTRIES, LEADIN_REFS, Block, Spec  # type: ignore[no-redef]

Expected = list[tuple[str, str]]
_SHALL = re.compile(r"(?<![相对响适反供效呼感答回顺照报理])应(?![用急答变力届聘征邀允酬付试])")


# -- helpers ------------------------------------------------------------------------------

def clause_at(spec: Spec, i: int) -> str:
    """Label of the clause block ``i`` is in."""
    for b in reversed(spec.blocks[:i + 1]):
        if b.kind in ("h", "term"):
            return b.label
        if b.kind == "annex":
            return "附录" + b.label
        if b.kind in ("front", "back"):
            return b.text
    return "封面"


def _index(spec: Spec, pred: Callable[[Block], bool], start: int = 0) -> int:
    for i in range(start, len(spec.blocks)):
        if pred(spec.blocks[i]):
            return i
    raise LookupError("no such block")


def _heading(spec: Spec, label: str) -> int:
    return _index(spec, lambda b: b.kind == "h" and b.label == label)


def _para_in(spec: Spec, label: str, has: str = "", pattern: re.Pattern[str] | None = None) -> int:
    """First body paragraph of clause ``label`` containing ``has`` (or matching ``pattern``)."""
    i = _heading(spec, label) + 1
    while i < len(spec.blocks) and spec.blocks[i].kind not in ("h", "annex", "back", "term"):
        b = spec.blocks[i]
        if b.kind in ("p", "li") and has in b.text and (pattern is None or pattern.search(b.text)):
            return i
        i += 1
    raise LookupError(f"no paragraph in {label} with {has or pattern}")


def _entry(spec: Spec, prefix: str) -> int:
    return _index(spec, lambda b: b.kind == "p" and b.text.startswith(prefix + "　"))


def _replace_std(spec: Spec, old: str, new: str) -> None:
    """Replace a cited number everywhere (entry and text)."""
    for b in spec.blocks:
        if b.kind in ("p", "li", "note", "ex"):
            b.text = b.text.replace(old, new)


def _mention(spec: Spec, number: str) -> int:
    start = _heading(spec, "4")
    return _index(spec, lambda b: b.kind in ("p", "li") and number in b.text, start)


def _append(spec: Spec, label: str, sentence: str) -> str:
    i = _para_in(spec, label)
    spec.blocks[i].text += sentence
    return label


def _relabel(spec: Spec, old: str, new: str) -> None:
    for b in spec.blocks:
        if b.kind == "h" and (b.label == old or b.label.startswith(old + ".")):
            b.label = new + b.label[len(old):]


# -- normative references -----------------------------------------------------------------

def ref_unlisted(s: Spec) -> Expected:
    where = clause_at(s, _mention(s, "JB/T 99021"))
    del s.blocks[_entry(s, "JB/T 99021—2020")]
    i = _para_in(s, "6.1")
    s.blocks[i].text += "防腐蚀涂层应符合GB/T 90015—2020的规定。"
    return [("ref_unlisted", where), ("ref_unlisted", "6.1")]


def ref_uncited(s: Spec) -> Expected:
    s.blocks.insert(_entry(s, "JB/T 99021—2020"), Block("p", "GB/T 90016—2019　公共场所 视频监控系统技术要求"))
    return [("ref_uncited", "2")]


def ref_undated_specific(s: Spec) -> Expected:
    i = _mention(s, "按GB/T 90013规定")
    s.blocks[i].text = s.blocks[i].text.replace("按GB/T 90013规定", "按GB/T 90013中5.3规定")
    j = _mention(s, "应符合GB 90012—2019的规定")
    s.blocks[j].text = s.blocks[j].text.replace("GB 90012—2019的规定", "GB 90012中表1的规定")
    return [("ref_undated_specific", clause_at(s, i)), ("ref_undated_specific", clause_at(s, j))]


def ref_date_mismatch(s: Spec) -> Expected:
    i = _mention(s, "GB/T 90014—2018")
    s.blocks[i].text = s.blocks[i].text.replace("GB/T 90014—2018", "GB/T 90014—2015")
    where = clause_at(s, i)
    return [("ref_date_mismatch", where), ("ref_superseded", where)]


def _swap_entry(s: Spec, old: str, new: str, title: str) -> None:
    s.blocks[_entry(s, old)].text = f"{new}　{title}"
    _replace_std(s, old, new)


def ref_withdrawn(s: Spec) -> Expected:
    _swap_entry(s, "GB/T 90014—2018", "GB/T 90019—2010", "户外设施 巡检记录格式")
    return [("ref_withdrawn", "2")]


def ref_superseded(s: Spec) -> Expected:
    _swap_entry(s, "GB/T 90011—2021", "GB/T 90011—2015", "城市公共设施 维护管理通用要求")
    return [("ref_superseded", "2")]


def ref_upcoming(s: Spec) -> Expected:
    _swap_entry(s, "GB/T 90014—2018", "GB/T 90020—2026", "户外设施 远程监测数据接口")
    return [("ref_upcoming", "2")]


def ref_unknown(s: Spec) -> Expected:
    _swap_entry(s, "JB/T 99021—2020", "JB/T 99099—2020", "户外设备 防雷装置")
    return [("ref_unknown", "2")]


def ref_number_format(s: Spec) -> Expected:
    i = _mention(s, "GB 90012—2019")
    s.blocks[i].text = s.blocks[i].text.replace("GB 90012—2019", "GB90012-2019")
    j = _entry(s, "GB/T 90014—2018")
    s.blocks[j].text = s.blocks[j].text.replace("GB/T 90014—2018", "GB/T 90014-2018")
    return [("ref_number_format", clause_at(s, i)), ("ref_number_format", "2")]


def ref_order(s: Spec) -> Expected:
    i, j = _entry(s, "GB 90012—2019"), _entry(s, "GB/T 90011—2021")
    s.blocks[i], s.blocks[j] = s.blocks[j], s.blocks[i]
    return [("ref_order", "2")]


def ref_leadin(s: Spec) -> Expected:
    s.blocks[_index(s, lambda b: b.text == LEADIN_REFS)].text = "本文件引用了下列文件。"
    return [("ref_leadin", "2")]


def ref_subdivided(s: Spec) -> Expected:
    s.blocks.insert(_entry(s, ENTRIES[0][0]), Block("h", "国家标准", "2.1"))
    s.blocks.insert(_entry(s, "JB/T 99021—2020"), Block("h", "行业标准", "2.2"))
    return [("ref_subdivided", "2.1"), ("ref_subdivided", "2.2"), ("hanging_paragraph", "2")]


# -- structure ----------------------------------------------------------------------------

def missing_element(s: Spec) -> Expected:
    del s.blocks[_index(s, lambda b: b.kind == "cover" and b.text.startswith("ICS"))]
    i = _index(s, lambda b: b.kind == "front")
    j = _index(s, lambda b: b.kind == "title")
    del s.blocks[i:j]
    return [("missing_element", "封面"), ("missing_element", "前言")]


def element_order(s: Spec) -> Expected:
    r, t, four = _heading(s, "2"), _heading(s, "3"), _heading(s, "4")
    refs, terms = s.blocks[r:t], s.blocks[t:four]
    refs[0].label, terms[0].label = "3", "2"
    for b in terms[1:]:
        if b.kind == "term":
            b.label = "2" + b.label[1:]
    s.blocks[r:four] = terms + refs
    a = _index(s, lambda b: b.kind == "annex" and b.label == "B")
    back = _index(s, lambda b: b.kind == "back")
    s.blocks[a:] = s.blocks[back:] + s.blocks[a:back]
    return [("element_order", "3"), ("element_order", "2"), ("element_order", "参考文献")]


def foreword_basis(s: Spec) -> Expected:
    del s.blocks[_index(s, lambda b: b.kind == "p" and "按照GB/T 1.1—2020" in b.text)]
    return [("foreword_basis", "前言")]


def terms_leadin(s: Spec) -> Expected:
    i = _heading(s, "3") + 1
    s.blocks[i].text = "本章给出本文件使用的术语。"
    return [("terms_leadin", "3")]


def numbering_gap(s: Spec) -> Expected:
    _relabel(s, "5.3", "5.4")
    _relabel(s, "7", "8")
    return [("numbering_gap", "5.4"), ("numbering_gap", "8")]


def numbering_duplicate(s: Spec) -> Expected:
    _relabel(s, "5.3", "5.2")
    _relabel(s, "7.2", "7.1")
    return [("numbering_duplicate", "5.2"), ("numbering_duplicate", "7.1")]


def single_subclause(s: Spec) -> Expected:
    del s.blocks[_heading(s, "4.2")]
    return [("single_subclause", "4.1")]


def hanging_paragraph(s: Spec) -> Expected:
    s.blocks.insert(_heading(s, "5") + 1, Block("p", "本章规定了相关的技术要求。"))
    s.blocks.insert(_heading(s, "7") + 1, Block("p", "本章给出管理方面的要求。"))
    return [("hanging_paragraph", "5"), ("hanging_paragraph", "7")]


def annex_unreferenced(s: Spec) -> Expected:
    i = _index(s, lambda b: b.kind == "p" and "参见附录B" in b.text)
    s.blocks[i].text = re.sub(r"，[^，。]*参见附录B", "", s.blocks[i].text)
    return [("annex_unreferenced", "附录B")]


def annex_kind_mismatch(s: Spec) -> Expected:
    a = _index(s, lambda b: b.kind == "annex" and b.label == "A")
    b_ = _index(s, lambda b: b.kind == "annex" and b.label == "B")
    s.blocks[a].en, s.blocks[b_].en = "资料性", "规范性"
    ma = _index(s, lambda b: b.kind == "p" and "附录A" in b.text)
    mb = _index(s, lambda b: b.kind == "p" and "参见附录B" in b.text)
    return [("annex_kind_mismatch", clause_at(s, ma)), ("annex_kind_mismatch", clause_at(s, mb))]


def annex_no_marker(s: Spec) -> Expected:
    s.blocks[_index(s, lambda b: b.kind == "annex" and b.label == "B")].en = ""
    return [("annex_no_marker", "附录B")]


# -- language -----------------------------------------------------------------------------

def _reword(s: Spec, label: str, new: str) -> str:
    i = _para_in(s, label, pattern=_SHALL)
    s.blocks[i].text = _SHALL.sub(new, s.blocks[i].text, count=1)
    return label


def must(s: Spec) -> Expected:
    return [("must", _reword(s, "4.1", "必须")), ("must", _reword(s, "7.1", "必须"))]


def vague_requirement(s: Spec) -> Expected:
    return [("vague_requirement", _reword(s, "5.1", "原则上应")),
            ("vague_requirement", _reword(s, "6.1", "一般应"))]


def prohibition_form(s: Spec) -> Expected:
    return [("prohibition_form", _append(s, "4.1", "作业区内不得吸烟。")),
            ("prohibition_form", _append(s, "7.1", "设备间内不可存放杂物。"))]


def permission_form(s: Spec) -> Expected:
    return [("permission_form", _append(s, "6.1", "夜间可以不开启装饰照明。"))]


def requirement_in_note(s: Spec) -> Expected:
    i = _index(s, lambda b: b.kind == "note")
    s.blocks[i].text = s.blocks[i].text.rstrip("。") + "，并应记录在案。"
    return [("requirement_in_note", clause_at(s, i))]


def requirement_in_example(s: Spec) -> Expected:
    i = _index(s, lambda b: b.kind == "ex")
    j = i + 1 if s.blocks[i].text.endswith("：") else i
    s.blocks[j].text = s.blocks[j].text.rstrip("。") + "，标志应清晰可辨。"
    return [("requirement_in_example", clause_at(s, i))]


def requirement_in_foreword(s: Spec) -> Expected:
    s.blocks.insert(_index(s, lambda b: b.kind == "front") + 2,
                    Block("p", "本文件的使用者应结合当地条件执行本文件。"))
    return [("requirement_in_foreword", "前言")]


def requirement_in_scope(s: Spec) -> Expected:
    s.blocks.insert(_heading(s, "1") + 2, Block("p", "使用单位应按本文件制定实施细则。"))
    return [("requirement_in_scope", "1")]


def term_unused(s: Spec) -> Expected:
    s.blocks[_heading(s, "4"):_heading(s, "4")] = [
        Block("term", "照度均匀度", "3.4", en="illuminance uniformity"),
        Block("p", "规定表面上的最小照度与平均照度之比。")]
    return [("term_unused", "3.4")]


def term_undefined(s: Spec) -> Expected:
    return [("term_undefined", _append(s, "5.1", "“巡检终端”应具备离线存储功能。")),
            ("term_undefined", _append(s, "7.1", "数据采集单元（DCU）应每日上传数据。"))]


INJECTORS: dict[str, Callable[[Spec], Expected]] = {f.__name__: f for f in [
    ref_unlisted, ref_uncited, ref_undated_specific, ref_date_mismatch, ref_withdrawn,
    ref_superseded, ref_upcoming, ref_unknown, ref_number_format, ref_order, ref_leadin,
    ref_subdivided, missing_element, element_order, foreword_basis, terms_leadin, numbering_gap,
    numbering_duplicate, single_subclause, hanging_paragraph, annex_unreferenced,
    annex_kind_mismatch, annex_no_marker, must, vague_requirement, prohibition_form,
    permission_form, requirement_in_note, requirement_in_example, requirement_in_foreword,
    requirement_in_scope, term_unused, term_undefined]}

# kinds that touch the same places and so cannot share one combined copy
_APART = {"ref_withdrawn", "ref_upcoming", "ref_unknown", "ref_superseded", "ref_date_mismatch",
          "element_order", "missing_element", "numbering_duplicate", "annex_kind_mismatch",
          "ref_subdivided", "ref_order", "single_subclause", "ref_unlisted", "numbering_gap",
          "ref_number_format"}


def seeded(spec: Spec) -> list[Spec]:
    """One defective copy of ``spec`` per kind, each with its expected findings."""
    out = []
    for kind, inject in INJECTORS.items():
        s = spec.copy(kind)
        s.expected = inject(s)
        out.append(s)
    return out


def combined(spec: Spec) -> Spec:
    """One copy with a defect of every kind that does not interfere with the others."""
    s = spec.copy("combined")
    for kind, inject in INJECTORS.items():
        if kind not in _APART:
            s.expected += inject(s)
    return s


# -- scoring ------------------------------------------------------------------------------

def score(runs: list[tuple[Spec, list[tuple[str, str, str]], list[tuple[str, str, str]]]]
          ) -> dict:
    """Recall per kind and precision over a benchmark.

    ``runs``: (spec, findings of its clean base, findings of the spec) with findings as
    (kind, clause, severity). A clean draft's findings are all false; a seeded copy's new
    findings (not on its clean base) are true when they match an expected (kind, clause).
    """
    per_kind: dict[str, list[int]] = {}
    tp = fp = 0
    clean_errors: list[tuple[str, str, str]] = []
    false: list[tuple[str, str, str]] = []  # (draft, kind, clause) of each false finding
    for spec, base, found in runs:
        if not spec.expected:
            fp += len(found)
            false += [(spec.filename, k, c) for k, c, _ in found]
            clean_errors += [f for f in found if f[2] == "error"]
            continue
        got = {(k, c) for k, c, _ in found}
        for k, c in spec.expected:
            hit = per_kind.setdefault(k, [0, 0])
            hit[1] += 1
            hit[0] += (k, c) in got
        new = [f for f in found if f not in base]
        want = set(spec.expected)
        tp += sum(1 for k, c, _ in new if (k, c) in want)
        wrong = [(spec.filename, k, c) for k, c, _ in new if (k, c) not in want]
        fp += len(wrong)
        false += wrong
    injected = sum(n for _, n in per_kind.values())
    recalled = sum(h for h, _ in per_kind.values())
    return {"per_kind": per_kind, "injected": injected, "recall": recalled / max(injected, 1),
            "precision": tp / max(tp + fp, 1), "tp": tp, "fp": fp, "clean_errors": clean_errors,
            "false": false}


RECALL_MIN, PRECISION_MIN = 0.95, 0.90


def gate(result: dict) -> list[str]:
    """What the benchmark misses of the issue's targets (empty: all met)."""
    out = []
    if result["recall"] < RECALL_MIN:
        out.append(f"recall {result['recall']:.3f} < {RECALL_MIN}")
    if result["precision"] < PRECISION_MIN:
        out.append(f"precision {result['precision']:.3f} < {PRECISION_MIN}")
    if result["clean_errors"]:
        out.append(f"{len(result['clean_errors'])} error findings on clean drafts")
    return out


def run_bench(specs: list[Spec], paths: list, catalog: object) -> dict:
    """Check ``paths`` (the rendered ``specs``; each clean base before its copies) and score."""
    from assistant.check import check_draft

    base: dict[str, list[tuple[str, str, str]]] = {}
    runs = []
    for spec, path in zip(specs, paths, strict=True):
        r = check_draft(path, catalog=catalog, related=False)  # type: ignore[arg-type]
        found = [(f.kind, f.clause, f.severity) for f in r.findings]
        if not spec.expected:
            base[spec.key] = found
        runs.append((spec, base.get(spec.key, []) if spec.expected else [], found))
    return score(runs)


def seeded_specs() -> list[Spec]:
    """Every clean draft followed by its seeded copies."""
    try:
        from .drafts import clean_drafts
    except ImportError:
        from drafts import clean_drafts  # type: ignore[no-redef]
    out: list[Spec] = []
    for base in clean_drafts():
        out += [base, *seeded(base)]
    return out
