"""Batch answering (assistant.batch): input formats, resume, malformed lines, concurrency."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from assistant.batch import run_batch
from assistant.errors import ConfigError, QuestionFileError
from assistant.records import Answer, Citation

ROOT = Path(__file__).resolve().parents[1]


class EchoAnswerer:
    """Answers instantly; questions containing "坏" raise; "红烧肉" is refused."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.thread = threading.get_ident()

    def ask(self, question: str, history: Any = None, filters: Any = None) -> Answer:
        if self.delay:
            time.sleep(self.delay)
        if "坏" in question:
            raise RuntimeError("retriever exploded\nwith a traceback")
        refused = "红烧肉" in question
        cit = Citation(n=1, doc="laws/标准化法.md", title="中华人民共和国标准化法", std_no="",
                       clause="第十条", quote="应当制定强制性国家标准。", text="第十条 …")
        return Answer(question=question, answer="" if refused else f"答：{question}[1]",
                      refused=refused, citations=[] if refused else [cit],
                      timings={"retrieve_ms": 1.0, "answer_ms": 2.0})


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_jsonl_input_with_malformed_lines_failures_and_duplicates(tmp_path: Path) -> None:
    inp = tmp_path / "q.jsonl"
    inp.write_text(
        '{"id": "a", "question": "强制性国家标准由谁制定？"}\n'
        '{"id": "b", "question": "红烧肉怎么做？"}\n'
        "{not json\n"
        "\n"
        '{"id": "c"}\n'
        '{"id": "d", "question": "坏问题"}\n'
        '{"id": "a", "question": "重复的问题"}\n'
        '{"id": 7, "question": "数字编号"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    rep = run_batch(inp, out, EchoAnswerer, progress=False)
    rows = _rows(out)
    assert [r["id"] for r in rows] == ["a", "b", "d", 7]
    by_id = {str(r["id"]): r for r in rows}
    assert by_id["a"]["answer"] == "答：强制性国家标准由谁制定？[1]"
    assert by_id["a"]["citations"][0]["clause"] == "第十条" and "text" not in by_id["a"]["citations"][0]
    assert by_id["a"]["timings"] == {"retrieve_ms": 1.0, "answer_ms": 2.0} and by_id["a"]["error"] is None
    assert by_id["b"]["refused"] is True
    assert by_id["d"]["error"] == "RuntimeError: retriever exploded with a traceback"
    assert set(rows[0]) == {"id", "question", "answer", "refused", "citations", "flags", "timings", "error"}
    assert (rep.total, rep.answered, rep.refused, rep.failed) == (4, 3, 1, 1)
    assert (rep.malformed, rep.duplicates) == (2, 1)
    assert rep.problems[0].startswith("line 3: invalid JSON")
    assert rep.problems[1] == 'line 5: no "question"'
    assert rep.problems[2].startswith("line 7: duplicate id 'a' (first on line 1)")
    assert rep.notes == [
        f"{inp}: line 3 is not valid JSON — fix or remove it",
        f'{inp}: line 5 has no "question" — skipped',
        f"{inp}: line 7 repeats an earlier id — answered once",
    ]
    assert rep.summary().splitlines()[:3] == rep.notes  # the CLI prints the summary
    assert "3 answered" in rep.summary().splitlines()[-1]


def test_csv_and_text_inputs_and_csv_output(tmp_path: Path) -> None:
    inp = tmp_path / "q.csv"
    with open(inp, "w", encoding="utf-8-sig", newline="") as f:  # Excel writes a BOM
        w = csv.writer(f)
        w.writerow(["id", "question", "note"])
        w.writerow(["q1", "强制性国家标准由谁制定？", "x"])
        w.writerow(["q2", "", "empty"])
        w.writerow(["q3", "多行\n问题", ""])
    out = tmp_path / "out.csv"
    rep = run_batch(inp, out, EchoAnswerer, fmt="csv", progress=False)
    assert rep.problems == ["line 3: no question"] and rep.answered == 2
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel opens it as UTF-8
    with open(out, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == ["q1", "q3"]
    assert rows[0]["citations"] == "[1] 中华人民共和国标准化法 第十条"
    assert rows[0]["refused"] == "false" and rows[1]["question"] == "多行\n问题"

    arr = tmp_path / "q.json"  # one JSON array instead of JSON lines
    arr.write_text(json.dumps([{"id": "x", "question": "问题一"}, {"id": "y"}], ensure_ascii=False),
                   encoding="utf-8")
    rep = run_batch(arr, tmp_path / "a.jsonl", EchoAnswerer, progress=False)
    assert rep.answered == 1 and rep.problems == ['line 2: no "question"']

    txt = tmp_path / "q.txt"
    txt.write_text("强制性国家标准由谁制定？\n\n红烧肉怎么做？\n", encoding="gb18030")
    rep = run_batch(txt, tmp_path / "t.jsonl", EchoAnswerer, progress=True)
    assert [r["id"] for r in _rows(tmp_path / "t.jsonl")] == ["1", "3"]
    assert rep.refused == 1


def test_unusable_files_raise_one_line_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text\n1,你好\n", encoding="utf-8")
    with pytest.raises(QuestionFileError, match="no 'question' column"):
        run_batch(bad, tmp_path / "o.jsonl", EchoAnswerer, progress=False)
    junk = tmp_path / "junk.jsonl"
    junk.write_text("{oops\n[1, 2]\n", encoding="utf-8")
    with pytest.raises(QuestionFileError, match=r"no questions found \(line 1: invalid JSON"):
        run_batch(junk, tmp_path / "o.jsonl", EchoAnswerer, progress=False)
    with pytest.raises(QuestionFileError, match="cannot read"):
        run_batch(tmp_path / "missing.jsonl", tmp_path / "o.jsonl", EchoAnswerer, progress=False)
    good = tmp_path / "q.txt"
    good.write_text("问题\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        run_batch(good, tmp_path / "o.xml", EchoAnswerer, fmt="xml", progress=False)
    foreign = tmp_path / "notes.jsonl"
    foreign.write_text('{"hello": 1}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="not a jsonl batch output"):
        run_batch(good, foreign, EchoAnswerer, progress=False)
    assert not (tmp_path / "o.jsonl").exists()  # refused before anything was written


def test_blank_ids_are_refused_and_reruns_answer_each_question_once(tmp_path: Path) -> None:
    """Regression: an empty "id" was written back as "" and never matched on resume, so
    every run answered those questions again (3 runs → 3 rows)."""
    inp = tmp_path / "questions.jsonl"
    inp.write_text(
        '{"id": "a", "question": "问题一"}\n'
        '{"id": "", "question": "空编号"}\n'
        '{"id": "   ", "question": "空白编号"}\n'
        '{"id": " b ", "question": "带空格的编号"}\n'
        '{"question": "没有编号"}\n'
        '{"id": 7, "question": "数字编号"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    reports = [run_batch(inp, out, EchoAnswerer, progress=False) for _ in range(3)]
    rows = _rows(out)
    assert [r["id"] for r in rows] == ["a", "b", "5", 7]  # one row per question
    assert [(r.answered, r.skipped) for r in reports] == [(4, 0), (0, 4), (0, 4)]
    note = f'{inp}: lines 2, 3 have an empty "id" — skipped: give each an id, or drop "id" to number it by its line'
    assert all(r.notes == [note] and r.malformed == 2 for r in reports)
    assert reports[0].problems == ['line 2: empty "id"', 'line 3: empty "id"']


def test_malformed_lines_are_named_in_one_message_and_the_rest_answered(tmp_path: Path) -> None:
    inp = tmp_path / "questions.jsonl"
    lines = [json.dumps({"id": f"q{n}", "question": f"问题{n}"}, ensure_ascii=False)
             for n in range(1, 31)]
    for n in (3, 7):
        lines[n - 1] = '{"id": "broken", "question": '
    inp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    rep = run_batch(inp, out, EchoAnswerer, progress=False)
    assert rep.notes == [f"{inp}: lines 3, 7 are not valid JSON — fix or remove them"]
    assert rep.notes[0] in str(rep) and rep.malformed == 2
    assert rep.answered == 28 and len(_rows(out)) == 28
    # a long list names the first lines and counts the rest
    inp.write_text("".join("{oops\n" if n % 2 else '{"question": "问"}\n'
                           for n in range(1, 61)), encoding="utf-8")
    rep = run_batch(inp, tmp_path / "out2.jsonl", EchoAnswerer, progress=False)
    odd = ", ".join(str(n) for n in range(1, 41, 2))
    assert rep.notes == [f"{inp}: lines {odd}, … (30 lines) are not valid JSON — fix or remove them"]
    assert rep.answered == 30


def test_resume_repairs_half_written_row_and_answers_each_id_once(tmp_path: Path) -> None:
    inp = tmp_path / "q.jsonl"
    inp.write_text("".join(json.dumps({"id": f"q{i}", "question": f"问题{i}"}, ensure_ascii=False) + "\n"
                           for i in range(10)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    # an earlier run wrote 3 rows and died while writing the 4th
    first = _rows_for(["q0", "q1", "q2"])
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in first)
                   + '{"id": "q3", "question": "问', encoding="utf-8")
    rep = run_batch(inp, out, EchoAnswerer, progress=False)
    assert rep.repaired and rep.skipped == 3 and rep.answered == 7
    ids = [r["id"] for r in _rows(out)]
    assert sorted(ids) == [f"q{i}" for i in range(10)]
    # nothing left: a second resume does nothing
    rep = run_batch(inp, out, EchoAnswerer, progress=False)
    assert rep.skipped == 10 and rep.answered == 0 and len(_rows(out)) == 10


def test_resume_csv_with_partial_quoted_row(tmp_path: Path) -> None:
    inp = tmp_path / "q.txt"
    inp.write_text("问题一\n问题二\n问题三\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    run_batch(inp, out, EchoAnswerer, fmt="csv", progress=False)
    full = out.read_text(encoding="utf-8")
    lines = full.splitlines(keepends=True)
    out.write_text("".join(lines[:3]) + '3,问题三,"答：问题三\n还没写完', encoding="utf-8")
    rep = run_batch(inp, out, EchoAnswerer, fmt="csv", progress=False)
    assert rep.repaired and rep.skipped == 2 and rep.answered == 1
    assert out.read_text(encoding="utf-8") == full


def test_retry_errors_reasks_failed_rows(tmp_path: Path) -> None:
    inp = tmp_path / "q.txt"
    inp.write_text("好问题\n坏问题\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert run_batch(inp, out, EchoAnswerer, progress=False).failed == 1
    assert run_batch(inp, out, EchoAnswerer, progress=False).skipped == 2  # errors count as done

    class Fixed(EchoAnswerer):
        def ask(self, question: str, history: Any = None, filters: Any = None) -> Answer:
            return super().ask(question.replace("坏", "修好的"))

    rep = run_batch(inp, out, Fixed, progress=False, retry_errors=True)
    assert rep.answered == 1 and rep.skipped == 1
    rows = _rows(out)
    assert [r["id"] for r in rows] == ["1", "2"] and all(r["error"] is None for r in rows)
    # the same for CSV output
    out_csv = tmp_path / "out.csv"
    assert run_batch(inp, out_csv, EchoAnswerer, fmt="csv", progress=False).failed == 1
    rep = run_batch(inp, out_csv, Fixed, fmt="csv", progress=False, retry_errors=True)
    assert rep.answered == 1
    with open(out_csv, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == ["1", "2"] and [r["error"] for r in rows] == ["", ""]


def test_workers_answer_concurrently_with_one_answerer_per_thread(tmp_path: Path) -> None:
    inp = tmp_path / "q.txt"
    inp.write_text("".join(f"问题{i}\n" for i in range(12)), encoding="utf-8")
    made: list[EchoAnswerer] = []

    def factory() -> EchoAnswerer:
        a = EchoAnswerer(delay=0.1)
        made.append(a)
        return a

    t0 = time.perf_counter()
    rep = run_batch(inp, tmp_path / "out.jsonl", factory, workers=4, progress=False)
    assert time.perf_counter() - t0 < 0.9  # 12 × 0.1 s sequentially
    assert rep.answered == 12 and 2 <= len(made) <= 4
    assert sorted(int(r["id"]) for r in _rows(tmp_path / "out.jsonl")) == list(range(1, 13))


def test_systemic_failure_stops_the_batch(tmp_path: Path) -> None:
    inp = tmp_path / "q.txt"
    inp.write_text("".join(f"坏问题{i}\n" for i in range(40)), encoding="utf-8")
    rep = run_batch(inp, tmp_path / "out.jsonl", EchoAnswerer, progress=False)
    assert rep.aborted and rep.failed >= 20 and rep.failed < 40


SCRIPT = """
import sys, time
from assistant.batch import run_batch
from assistant.records import Answer

class Slow:
    def ask(self, question, history=None, filters=None):
        time.sleep(0.05)
        return Answer(question=question, answer="答：" + question + "[1]", refused=False)

run_batch(sys.argv[1], sys.argv[2], Slow, workers=2, progress=False)
"""


def test_resume_after_killed_process(tmp_path: Path) -> None:
    inp = tmp_path / "q.jsonl"
    n = 60
    inp.write_text("".join(json.dumps({"id": i, "question": f"问题{i}"}, ensure_ascii=False) + "\n"
                           for i in range(n)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    script = tmp_path / "run.py"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, str(script), str(inp), str(out)], env=env)
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            if out.exists() and out.read_text(encoding="utf-8").count("\n") >= 5:
                break
            time.sleep(0.02)
    finally:
        proc.kill()
        proc.wait()
    partial = out.read_text(encoding="utf-8").count("\n")
    assert 5 <= partial < n
    rep = run_batch(inp, out, EchoAnswerer, progress=False)
    rows = _rows(out)
    assert sorted(r["id"] for r in rows) == list(range(n))  # every id exactly once
    assert rep.skipped + rep.answered == n


def _rows_for(ids: list[str]) -> list[dict[str, Any]]:
    return [{"id": i, "question": "…", "answer": "…", "refused": False, "citations": [], "flags": [],
             "timings": {}, "error": None} for i in ids]
