"""Benchmark of the browser app under concurrent users.

N simulated users (threads, one ``gradio_client.Client`` each) ask Q questions each about the
built-in Liangjiang plan through the app's ``/ask`` endpoint, in extractive mode. Reports the
number of errors and the time to a full answer (p50 / p95 / max) as a table.

    python eval/bench/bench_ui.py            # real default embedder, temporary index of corpus/
    python eval/bench/bench_ui.py --fake     # deterministic fake embedder (no model needed)
    python eval/bench/bench_ui.py --url http://127.0.0.1:7860   # an app that is already running
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

QUESTIONS = [
    "两江新区质量强区建设的主要目标是什么？",
    "质量强区建设的指导思想是什么？",
    "如何加强检验检测能力建设？",
    "怎样提升计量支撑服务能力？",
    "提升认证服务水平有哪些措施？",
    "如何强化工程质量基础保障？",
    "消费品质量提升行动包括什么？",
    "如何推进质量数字化和信用建设？",
    "质量强区建设的组织领导怎么加强？",
    "怎样提高建筑材料供给质量？",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    v = sorted(values)
    k = max(0, min(len(v) - 1, round(p / 100 * len(v) + 0.5) - 1))
    return v[k]


def start_app(args: argparse.Namespace) -> tuple[Any, str, Path | None]:
    """Index corpus/ into a temporary directory and launch the app in-process."""
    from assistant.config import Settings
    from assistant.service import Assistant
    from ui.app import launch

    tmp = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    index = Path(args.index) if args.index else tmp / "index"
    kw: dict[str, Any] = {"index": index, "data_dir": tmp / "data", "answer_mode": "extractive",
                          "port": free_port(), "host": "127.0.0.1"}
    if args.fake:
        kw.update(embed_model="fake", cache_dir=tmp / "cache")
    s = Settings(**kw)
    a = Assistant(s)
    t0 = time.perf_counter()
    rep = a.ingest([ROOT / "corpus"], progress=False)
    print(f"index: {index} ({rep.summary()}; {time.perf_counter() - t0:.1f} s)", flush=True)
    t0 = time.perf_counter()
    a.search("两江新区 质量强区 主要目标", 5)  # load the embedder before timing
    print(f"warm-up search: {time.perf_counter() - t0:.1f} s", flush=True)
    demo = launch(s, prevent_thread_lock=True, quiet=True, assistant=a,
                  concurrency=args.concurrency)
    return demo, demo.local_url, tmp


def run(url: str, users: int, per_user: int) -> tuple[list[float], list[str], float]:
    """Each user asks ``per_user`` questions in turn; returns latencies, errors, wall time."""
    from gradio_client import Client

    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(users)

    def user(u: int) -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as e:
            with lock:
                errors.extend([f"user {u}: connect: {type(e).__name__}: {e}"] * per_user)
            barrier.wait()
            return
        barrier.wait()
        for i in range(per_user):
            q = QUESTIONS[(u + i) % len(QUESTIONS)]
            t0 = time.perf_counter()
            try:
                out = client.predict(q, api_name="/ask")
                dt = time.perf_counter() - t0
                ok = isinstance(out, dict) and out.get("answer") and (
                    out.get("refused") or out.get("citations"))
                with lock:
                    if ok:
                        times.append(dt)
                    else:
                        errors.append(f"user {u}: {q}: unexpected reply {json.dumps(out)[:120]}")
            except Exception as e:
                with lock:
                    errors.append(f"user {u}: {q}: {type(e).__name__}: {str(e)[:120]}")

    threads = [threading.Thread(target=user, args=(u,)) for u in range(users)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, errors, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fake", action="store_true", help="use the fake embedder")
    ap.add_argument("--users", type=int, default=10)
    ap.add_argument("--questions", type=int, default=5, help="questions per user")
    ap.add_argument("--concurrency", type=int, default=4, help="app queue concurrency")
    ap.add_argument("--index", help="index directory to build/reuse (default: a temporary one)")
    ap.add_argument("--url", help="benchmark an app that is already running at this URL")
    args = ap.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    demo, tmp = None, None
    if args.url:
        url = args.url
    else:
        demo, url, tmp = start_app(args)
    try:
        times, errors, wall = run(url, args.users, args.questions)
    finally:
        if demo is not None:
            demo.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    n = args.users * args.questions
    rows = [
        ("embedder", "fake" if args.fake else ("(remote app)" if args.url else "default")),
        ("users × questions", f"{args.users} × {args.questions} = {n}"),
        ("app concurrency", str(args.concurrency) if not args.url else "?"),
        ("answers", str(len(times))),
        ("errors", str(len(errors))),
        ("p50 time to answer", f"{percentile(times, 50):.2f} s"),
        ("p95 time to answer", f"{percentile(times, 95):.2f} s"),
        ("max", f"{max(times):.2f} s" if times else "-"),
        ("mean", f"{statistics.fmean(times):.2f} s" if times else "-"),
        ("wall time", f"{wall:.1f} s"),
        ("throughput", f"{len(times) / wall:.2f} answers/s" if wall else "-"),
    ]
    w = max(len(k) for k, _ in rows)
    print()
    print(f"{'metric':<{w}} | value")
    print(f"{'-' * w}-+-{'-' * 24}")
    for k, v in rows:
        print(f"{k:<{w}} | {v}")
    for e in errors[:10]:
        print("error:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
