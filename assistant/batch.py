"""Answer a file of questions: JSONL, CSV or plain text in; JSONL or CSV out.

Resumable (ids already in the output are skipped and the output is appended, one flushed
row per question), concurrent (threads: the LLM call is I/O bound), and it never drops a
question: a failure is written as a row with its error.

Ids: a question without one is numbered by its line; a JSONL question whose "id" is empty
is skipped and reported (written back as "" it would never match, so every resume would ask
it again). Unusable lines are reported one message per kind, naming the file and the lines;
the other questions are answered.
"""

from __future__ import annotations

import csv
import io
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

from .errors import AssistantError, ConfigError, QuestionFileError
from .records import Answer

CSV_FIELDS = ["id", "question", "answer", "refused", "citations", "flags", "timings", "error"]
# Stop when this many questions in a row fail (endpoint down, model missing): the rest
# would only fill the output with the same error. Resuming picks up where it stopped.
MAX_CONSECUTIVE_ERRORS = 20


class AsksQuestions(Protocol):
    def ask(self, question: str, history: Any = None, filters: Any = None) -> Answer: ...


@dataclass
class Question:
    id: str
    question: str
    line: int
    raw_id: Any = None  # the id as written in a JSONL file (kept as int when it was one)


@dataclass
class BatchReport:
    input: str
    output: str
    total: int = 0  # valid, distinct questions in the input
    skipped: int = 0  # already answered in the output (resume)
    answered: int = 0
    refused: int = 0
    failed: int = 0
    malformed: int = 0  # input lines that could not be read
    duplicates: int = 0
    repaired: bool = False  # a half-written last output row was cut off
    aborted: str = ""
    elapsed_s: float = 0.0
    problems: list[str] = field(default_factory=list)  # "line 7: …", one per problem
    notes: list[str] = field(default_factory=list)  # the problems, one message per kind

    def summary(self) -> str:
        parts = [f"{self.answered} answered ({self.refused} refused)", f"{self.failed} failed"]
        if self.skipped:
            parts.append(f"{self.skipped} already done")
        if self.malformed:
            parts.append(f"{self.malformed} malformed lines")
        if self.duplicates:
            parts.append(f"{self.duplicates} duplicate ids")
        s = f"{self.output}: " + ", ".join(parts) + f" in {self.elapsed_s:.1f} s"
        if self.aborted:
            s += f"; stopped: {self.aborted}"
        return "\n".join([*self.notes, s])  # the input's problems first, the outcome last

    def __str__(self) -> str:
        return self.summary()


# ---------------------------------------------------------------------------------------
# input
# ---------------------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise QuestionFileError(f"{path}: cannot read ({e.strerror or e})") from None
    for enc in ("utf-8-sig", "gb18030"):  # Chinese Windows tools still write GB18030
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise QuestionFileError(f"{path}: not UTF-8 or GB18030 text")


def _input_format(path: Path, text: str) -> str:
    ext = path.suffix.lower()
    if ext in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    if ext in (".csv", ".tsv"):
        return "csv"
    if ext in ("", ".txt", ".text", ".md"):
        first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        return "jsonl" if first.startswith("{") else "txt"
    raise QuestionFileError(f"{path}: unknown question file type {ext!r} (use .jsonl, .csv or .txt)")


@dataclass
class Problem:
    """One unusable input line: its number, what is wrong (a key of ``_GROUPS``), details."""

    line: int
    kind: str
    detail: str = ""

    def __str__(self) -> str:
        return f"line {self.line}: {_GROUPS[self.kind][0]}{self.detail}"


# kind → (per-line text, with one line, with several, what happens to them)
_GROUPS = {
    "json": ("invalid JSON", "is not valid JSON", "are not valid JSON", "fix or remove {}"),
    "object": ("not a JSON object", "is not a JSON object", "are not JSON objects",
               "fix or remove {}"),
    "question": ('no "question"', 'has no "question"', 'have no "question"', "skipped"),
    "csv-question": ("no question", "has no question", "have no question", "skipped"),
    "blank-id": ('empty "id"', 'has an empty "id"', 'have an empty "id"',
                 'skipped: give each an id, or drop "id" to number it by its line'),
    "duplicate": ("duplicate id", "repeats an earlier id", "repeat earlier ids",
                  "answered once"),
}
LISTED_LINES = 20  # line numbers named in one message; the rest are counted


def group_problems(path: str | Path, problems: list[Problem]) -> list[str]:
    """One message per kind of problem naming the file and the lines, e.g.
    ``q.jsonl: lines 3, 7 are not valid JSON — fix or remove them``."""
    out = []
    for kind, (_, one, several, then) in _GROUPS.items():
        lines = sorted(p.line for p in problems if p.kind == kind)
        if not lines:
            continue
        listed = ", ".join(map(str, lines[:LISTED_LINES]))
        if len(lines) > LISTED_LINES:
            listed += f", … ({len(lines)} lines)"
        what = f"line {listed} {one}" if len(lines) == 1 else f"lines {listed} {several}"
        out.append(f"{path}: {what} — {then.format('it' if len(lines) == 1 else 'them')}")
    return out


def read_questions(path: str | Path) -> tuple[list[Question], list[Problem]]:
    """Parse a question file → (questions, problems).

    Lines that cannot be used are skipped and returned as problems; a file that is unusable
    as a whole raises QuestionFileError.
    """
    p = Path(path)
    text = _read_text(p)
    fmt = _input_format(p, text)
    if fmt == "jsonl":
        qs, problems = _read_jsonl(text)
    elif fmt == "csv":
        qs, problems = _read_csv(p, text)
    else:
        qs = [Question(str(n), line.strip(), n, str(n))
              for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        problems = []
    if not qs:
        why = f" ({problems[0]})" if problems else ""
        raise QuestionFileError(f"{p}: no questions found{why}")
    return qs, problems


def _read_jsonl(text: str) -> tuple[list[Question], list[Problem]]:
    """JSON lines (or one JSON array of objects). Without "id" a question is numbered by
    its line; an empty "id" is refused: written back as "" it would never match on resume."""
    problems: list[Problem] = []
    items: list[tuple[int, Any]] = []
    whole = _json_array(text)
    if whole is not None:  # a .json file holding one array of objects
        items = [(n, obj) for n, obj in enumerate(whole, 1)]
    for n, line in enumerate([] if whole is not None else text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            items.append((n, json.loads(line)))
        except json.JSONDecodeError as e:
            problems.append(Problem(n, "json", f" ({e.msg})"))
    qs: list[Question] = []
    for n, obj in items:
        if not isinstance(obj, dict):
            problems.append(Problem(n, "object"))
            continue
        q = obj.get("question", obj.get("query"))
        if not isinstance(q, str) or not q.strip():
            problems.append(Problem(n, "question"))
            continue
        raw = obj.get("id")
        if raw is None:
            qs.append(Question(str(n), q.strip(), n, str(n)))
        elif not str(raw).strip():
            problems.append(Problem(n, "blank-id"))
        else:
            # a string id is written back stripped, so the resume check finds it again;
            # a number stays a number
            qid = str(raw).strip()
            qs.append(Question(qid, q.strip(), n, qid if isinstance(raw, str) else raw))
    return qs, problems


def _read_csv(p: Path, text: str) -> tuple[list[Question], list[Problem]]:
    """CSV/TSV with a header naming a question column (and optionally an id column; a
    blank id cell numbers the question by its line)."""
    delim = "\t" if p.suffix.lower() == ".tsv" else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    header = next(reader, None)
    if not header:
        raise QuestionFileError(f"{p}: empty CSV file")
    cols = [h.strip().lower() for h in header]
    qcol = next((cols.index(c) for c in ("question", "问题", "query") if c in cols), None)
    if qcol is None:
        raise QuestionFileError(f"{p}: CSV header has no 'question' column (found: {', '.join(header)})")
    icol = next((cols.index(c) for c in ("id", "编号") if c in cols), None)
    qs: list[Question] = []
    problems: list[Problem] = []
    for row in reader:
        n = reader.line_num
        if not any(x.strip() for x in row):
            continue
        if len(row) <= qcol or not row[qcol].strip():
            problems.append(Problem(n, "csv-question"))
            continue
        qid = row[icol].strip() if icol is not None and len(row) > icol and row[icol].strip() else str(n)
        qs.append(Question(qid, row[qcol].strip(), n, qid))
    return qs, problems


def _json_array(text: str) -> list[Any] | None:
    if not text.lstrip().startswith("["):
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, list) else None


def _dedupe(qs: list[Question]) -> tuple[list[Question], list[Problem]]:
    seen: dict[str, int] = {}
    out: list[Question] = []
    problems: list[Problem] = []
    for q in qs:
        if q.id in seen:
            problems.append(Problem(q.line, "duplicate",
                                    f" {q.id!r} (first on line {seen[q.id]}), answered once"))
            continue
        seen[q.id] = q.line
        out.append(q)
    return out, problems


# ---------------------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------------------


def _done_ids(path: Path, fmt: str, retry_errors: bool) -> tuple[set[str], bool]:
    """Ids already answered in ``path`` → (ids, repaired).

    A half-written last row (the process was killed mid-write) is cut off. With
    ``retry_errors`` the rows that recorded an error are removed so they are asked again.
    """
    if not path.exists() or path.stat().st_size == 0:
        return set(), False
    text = path.read_bytes().decode("utf-8", errors="replace")
    rows, good_end, recognised = _jsonl_rows(text) if fmt == "jsonl" else _csv_rows(text)
    if not recognised:
        raise ConfigError(f"{path} exists but is not a {fmt} batch output; choose another output file")
    repaired = good_end != len(text)
    keep = [r for r in rows if not (retry_errors and r[1].get("error"))]
    if repaired or len(keep) < len(rows):
        if len(keep) < len(rows):
            body = ("\ufeff" + _csv_header() if fmt == "csv" else "") + "".join(r[2] for r in keep)
        else:
            body = text[:good_end]
            if good_end > len(text):  # the last row was complete but lacked its newline
                body = text + "\n"
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(body, encoding="utf-8", newline="")
        os.replace(tmp, path)
    return {str(r[0]) for r in keep}, repaired


Rows = list[tuple[str, dict[str, Any], str]]


def _jsonl_rows(text: str) -> tuple[Rows, int, bool]:
    """(rows, offset after the last complete line, whether any line is one of our rows)."""
    rows: Rows = []
    pos = good_end = 0
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        pos += len(line)
        last = i == len(lines) - 1
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            if last and not line.endswith("\n"):
                break  # the row in flight when the process died: cut it off
            good_end = pos  # an unreadable row in the middle: kept, its id is asked again
            continue
        if isinstance(obj, dict) and "id" in obj and "answer" in obj:
            if not line.endswith("\n"):
                line += "\n"
                pos += 1  # good_end > len(text) tells the caller to add the newline
            rows.append((str(obj["id"]), obj, line))
        good_end = pos
    return rows, good_end, bool(rows) or not text.strip()


def _csv_rows(text: str) -> tuple[Rows, int, bool]:
    lines = text.splitlines(keepends=True)
    consumed = [0]

    def feed() -> Iterator[str]:
        for ln in lines:
            consumed[0] += len(ln)
            yield ln

    reader = csv.reader(feed())
    rows: Rows = []
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return [], 0, not text.strip()
    if [h.lstrip("\ufeff") for h in header] != CSV_FIELDS:
        return [], 0, False
    good_end = start = consumed[0]
    try:
        for row in reader:
            end = consumed[0]
            record, start = text[start:end], end
            if not record.endswith("\n") or len(row) != len(header):
                break  # the row in flight when the process died
            d = dict(zip(CSV_FIELDS, row, strict=True))
            rows.append((d["id"], d, record))
            good_end = end
    except csv.Error:  # EOF inside a quoted field: the row in flight
        pass
    return rows, good_end, True


def _csv_header() -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(CSV_FIELDS)
    return buf.getvalue()


def _row(q: Question, ans: Answer | None, error: str) -> dict[str, Any]:
    if ans is None:
        return {"id": q.raw_id, "question": q.question, "answer": "", "refused": False,
                "citations": [], "flags": [], "timings": {}, "error": error}
    d = ans.to_json()
    return {"id": q.raw_id, "question": q.question, "answer": d["answer"], "refused": d["refused"],
            "citations": d["citations"], "flags": d["flags"], "timings": d["timings"], "error": None}


def _format_row(row: dict[str, Any], fmt: str) -> str:
    if fmt == "jsonl":
        return json.dumps(row, ensure_ascii=False) + "\n"
    cites = "; ".join(
        f"[{c['n']}] " + f"{c.get('std_no') or c.get('title') or c.get('doc')} {c.get('clause', '')}".strip()
        for c in row["citations"]
    )
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([
        row["id"], row["question"], row["answer"], "true" if row["refused"] else "false", cites,
        "; ".join(row["flags"]), json.dumps(row["timings"]), row["error"] or "",
    ])
    return buf.getvalue()


# ---------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------


def run_batch(
    input_path: str | Path,
    output_path: str | Path,
    answerer_factory: Callable[[], AsksQuestions],
    fmt: str = "jsonl",
    workers: int = 1,
    progress: bool = True,
    retry_errors: bool = False,
) -> BatchReport:
    """Answer every question of ``input_path`` into ``output_path``.

    ``answerer_factory`` is called once per worker thread (retrievers hold per-thread
    resources such as SQLite connections), and only when there is work to do.
    """
    if fmt not in ("jsonl", "csv"):
        raise ConfigError(f"batch output format must be jsonl or csv, not {fmt!r}")
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, not {workers}")
    t0 = time.perf_counter()
    inp, out = Path(input_path), Path(output_path)
    report = BatchReport(input=str(inp), output=str(out))
    todo = _todo(inp, out, fmt, retry_errors, report)
    if todo:
        out.parent.mkdir(parents=True, exist_ok=True)
        new_file = not out.exists() or out.stat().st_size == 0
        answer = _answer_per_thread(answerer_factory)
        bar = _Progress(len(todo)) if progress else None
        try:
            with open(out, "a", encoding="utf-8", newline="") as f:
                if new_file and fmt == "csv":
                    f.write("\ufeff" + _csv_header())  # the BOM makes Excel read it as UTF-8
                    f.flush()
                _answer_all(todo, answer, f, fmt, workers, report, bar)
        finally:
            if bar:
                bar.close()
    report.elapsed_s = time.perf_counter() - t0
    return report


def _todo(inp: Path, out: Path, fmt: str, retry_errors: bool,
          report: BatchReport) -> list[Question]:
    """The input's questions not yet answered in ``out``; fills the report's counts and
    problems (the input is read before anything is written)."""
    qs, problems = read_questions(inp)
    qs, dup_problems = _dedupe(qs)
    report.malformed, report.duplicates = len(problems), len(dup_problems)
    every = sorted(problems + dup_problems, key=lambda pr: pr.line)
    report.problems = [str(pr) for pr in every]
    report.notes = group_problems(report.input, every)
    report.total = len(qs)
    if out.exists() and inp.resolve() == out.resolve():
        raise ConfigError(f"{out}: the output must not be the input file")
    done, report.repaired = _done_ids(out, fmt, retry_errors)
    todo = [q for q in qs if q.id not in done]
    report.skipped = len(qs) - len(todo)
    return todo


def _answer_per_thread(answerer_factory: Callable[[], AsksQuestions]
                       ) -> Callable[[Question], dict[str, Any]]:
    """A function answering one question into a row, with one answerer per thread."""
    # the first answerer is made here so a broken setup (no index …) fails at once, as
    # one error, instead of once per question
    spare = [answerer_factory()]
    local = threading.local()
    lock = threading.Lock()

    def answer(q: Question) -> dict[str, Any]:
        try:
            if not hasattr(local, "answerer"):
                with lock:
                    made = spare.pop() if spare else None
                local.answerer = made if made is not None else answerer_factory()
            return _row(q, local.answerer.ask(q.question), "")
        except AssistantError as e:
            return _row(q, None, f"{type(e).__name__}: {' '.join(str(e).split())}")
        except Exception as e:  # one question must not sink the batch
            return _row(q, None, f"{type(e).__name__}: {' '.join(str(e).split())[:300]}")

    return answer


def _answer_all(todo: list[Question], answer: Callable[[Question], dict[str, Any]],
                f: TextIO, fmt: str, workers: int, report: BatchReport,
                bar: _Progress | None) -> None:
    """Answer ``todo`` on ``workers`` threads, writing and flushing each row as it comes."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="batch")
    pending: set[Future[dict[str, Any]]] = set()
    seq: dict[Future[dict[str, Any]], int] = {}
    it = iter(todo)
    consecutive = 0
    try:
        while True:
            # keep a small window in flight, so an interrupt leaves little to cancel
            while len(pending) < workers * 2 and not report.aborted:
                q = next(it, None)
                if q is None:
                    break
                fut = pool.submit(answer, q)
                seq[fut] = len(seq)
                pending.add(fut)
            if not pending:
                break
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in sorted(finished, key=seq.__getitem__):  # input order when possible
                row = fut.result()
                f.write(_format_row(row, fmt))
                f.flush()  # a kill loses at most the rows still in flight
                consecutive = _tally(row, report, consecutive)
                if bar:
                    bar.advance()
            if consecutive >= MAX_CONSECUTIVE_ERRORS and not report.aborted:
                report.aborted = f"{consecutive} questions in a row failed (last: {row['error']})"
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _tally(row: dict[str, Any], report: BatchReport, consecutive: int) -> int:
    """Count one written row; returns the new number of failures in a row."""
    if row["error"]:
        report.failed += 1
        return consecutive + 1
    report.answered += 1
    report.refused += bool(row["refused"])
    return 0


class _Progress:
    """The answering progress bar (count, questions/s, ETA)."""

    def __init__(self, total: int) -> None:
        from .progress import make_progress

        self._p = make_progress("q/s")
        self._task = self._p.add_task("answering", total=total)
        self._p.start()

    def advance(self) -> None:
        self._p.advance(self._task)

    def close(self) -> None:
        self._p.stop()
