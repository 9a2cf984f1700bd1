"""Benchmark: what a cross-encoder reranker costs per query, against hybrid search without
one measured in the same run.

No reranker can be installed offline, so the model is built here with random weights in the
shape of a real one (speed depends on shape and token count, not on the weights) and the
XLM-R tokenizer of the bundled embedder (the tokenizer those rerankers use):

- ``minilm``: 12 layers × 384, as mmarco-mMiniLMv2-L12-H384 (118 M parameters);
- ``base``: 12 layers × 768, as bge-reranker-base (278 M);
- ``large``: 24 layers × 1024, as bge-reranker-v2-m3 (568 M).

Queries are the real questions of ../shared/eval/stard-train.jsonl.

    python eval/bench/bench_rerank.py --index /tmp/laws-index --n 30 --arch minilm base
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, questions, report

ARCH = {"minilm": (12, 384, 12, 1536), "base": (12, 768, 12, 3072), "large": (24, 1024, 16, 4096)}


def make_model(arch: str, tokenizer_dir: Path, out: Path) -> Path:
    """A random-weight XLM-R sequence classifier (one score) with the given shape."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    layers, hidden, heads, inter = ARCH[arch]
    torch.manual_seed(0)
    cfg = XLMRobertaConfig(vocab_size=250002, hidden_size=hidden, num_hidden_layers=layers,
                           num_attention_heads=heads, intermediate_size=inter,
                           max_position_embeddings=514, num_labels=1)
    out.mkdir(parents=True)
    XLMRobertaForSequenceClassification(cfg).save_pretrained(str(out))
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(tokenizer_dir / name, out / name)
    return out


def timed(a, qs: list[str], k: int) -> dict[str, float]:
    from assistant.metrics import percentile

    lat = []
    for q in qs:
        t = time.perf_counter()
        a.search(q, k)
        lat.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": round(statistics.median(lat), 1),
            "p95_ms": round(percentile(lat, 95) or 0.0, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--arch", nargs="+", choices=sorted(ARCH), default=["minilm", "base"])
    ap.add_argument("--depth", type=int, nargs="+", default=[20, 50])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from assistant.config import load_settings
    from assistant.embed import default_model_dir
    from assistant.service import Assistant

    qs = questions(args.n)
    base = Assistant(load_settings(index=args.index))
    base.warm()
    for q in qs[:3]:
        base.search(q, args.k)
    res: dict[str, dict[str, float]] = {"hybrid, no reranker": timed(base, qs, args.k)}
    tok_dir = default_model_dir(Path(base.settings.cache_dir).expanduser())
    with tempfile.TemporaryDirectory() as tmp:
        for arch in args.arch:
            model = make_model(arch, tok_dir, Path(tmp) / arch)
            for depth in args.depth:
                a = Assistant(load_settings(index=args.index, reranker=str(model),
                                            rerank_depth=depth))
                a.warm()
                a.search(qs[0], args.k)  # loads the cross-encoder
                r = timed(a, qs, args.k)
                r["x_p50"] = round(r["p50_ms"] / res["hybrid, no reranker"]["p50_ms"], 1)
                res[f"{arch}, depth {depth}"] = r
    report(res, f"{len(qs)} queries, k={args.k}, index {args.index}", len(qs), args.json,
           width=24)

if __name__ == "__main__":
    main()
