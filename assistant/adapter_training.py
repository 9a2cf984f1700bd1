"""Training a query adapter (:mod:`assistant.query_adapter`) against an index's vectors.

Pairs (a question and the clauses that answer it, in the eval dataset format) become
examples over the index's chunk matrix: positive rows, rows to leave out of the
negatives (the same text in another version of a law is not a wrong answer), and hard
negatives (what the hybrid ranking put first). The adapter is fitted with a multi-positive
softmax over every chunk vector of the index (torch, CPU, fixed seed).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import QuestionFileError
from .metrics import Pair
from .query_adapter import METHODS

Tick = Callable[[int], None]


@dataclass
class TrainingPair:
    """A question with the clauses that answer it (and, from feedback, ones that do not)."""

    qid: str
    question: str
    gold: list[Pair]
    negatives: list[Pair] = field(default_factory=list)
    source: str = "question"
    weight: float = 1.0


def read_pairs(path: Path, source: str = "question") -> list[TrainingPair]:
    """Pairs from a JSONL file in the eval dataset format; a row may add ``negative``
    (clauses marked wrong, e.g. 👎 in the UI) and ``weight``."""
    out = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise QuestionFileError(f"{path}: cannot read ({e.strerror or e})") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            gold = [(str(g["doc"]), str(g["clause"])) for g in row.get("gold") or []]
            neg = [(str(g["doc"]), str(g["clause"])) for g in row.get("negative") or []]
            q = str(row["question"]).strip()
        except (ValueError, KeyError, TypeError) as e:
            raise QuestionFileError(f"{path}:{n}: needs question and gold [{{doc, clause}}] "
                                    f"({e})") from None
        if q and (gold or neg):
            out.append(TrainingPair(str(row.get("id") or f"{Path(path).name}:{n}"), q, gold,
                                    neg, str(row.get("source") or source),
                                    float(row.get("weight") or 1.0)))
    return out


def merge_pairs(pairs: Sequence[TrainingPair]) -> list[TrainingPair]:
    """One pair per question text: feedback given twice on one question adds up."""
    by_q: dict[str, TrainingPair] = {}
    for p in pairs:
        m = by_q.get(p.question)
        if m is None:
            by_q[p.question] = TrainingPair(p.qid, p.question, list(p.gold), list(p.negatives),
                                            p.source, p.weight)
            continue
        m.gold += [g for g in p.gold if g not in m.gold]
        m.negatives += [g for g in p.negatives if g not in m.negatives]
    return list(by_q.values())


def align_gold(gold: Sequence[Pair], docs: Sequence[str]) -> list[Pair]:
    """Gold clauses with each document named as the index names it: a path the index
    does not hold is matched by its file name when exactly one indexed document has it
    (an index ingested from another root, e.g. a folder of links)."""
    held = set(docs)
    by_name: dict[str, list[str]] = {}
    for d in held:
        by_name.setdefault(d.rsplit("/", 1)[-1], []).append(d)
    out = []
    for doc, clause in gold:
        alt = by_name.get(doc.rsplit("/", 1)[-1], [])
        out.append((alt[0], clause) if doc not in held and len(alt) == 1 else (doc, clause))
    return out


def align_pairs(pairs: Sequence[TrainingPair], docs: Sequence[str]) -> list[TrainingPair]:
    """The pairs with gold and negatives aligned to the index's documents (align_gold)."""
    return [TrainingPair(p.qid, p.question, align_gold(p.gold, docs),
                         align_gold(p.negatives, docs), p.source, p.weight) for p in pairs]


def pairs_hash(pairs: Sequence[TrainingPair]) -> str:
    """A short content hash of training pairs (recorded in the artefact)."""
    h = hashlib.sha256()
    for p in pairs:
        h.update(json.dumps([p.qid, p.question, p.gold, p.negatives], ensure_ascii=False)
                 .encode("utf-8"))
    return h.hexdigest()[:16]


def _text_key(text: str) -> str:
    return hashlib.sha1("".join(text.split()).encode("utf-8")).hexdigest()


@dataclass
class IndexVectors:
    """An index's chunk vectors with where each row sits (document, clause, text key)."""

    ids: list[str]
    matrix: np.ndarray  # float32 (n, dim), L2-normalised rows
    docs: list[str]
    clauses: list[str]
    text_keys: list[str]

    def __post_init__(self) -> None:
        self.row_of = {cid: i for i, cid in enumerate(self.ids)}
        self.by_clause: dict[Pair, list[int]] = {}
        self.by_doc: dict[str, list[int]] = {}
        self.by_text: dict[str, list[int]] = {}
        for i, (d, c, t) in enumerate(zip(self.docs, self.clauses, self.text_keys, strict=True)):
            self.by_clause.setdefault((d, c), []).append(i)
            self.by_doc.setdefault(d, []).append(i)
            self.by_text.setdefault(t, []).append(i)

    @classmethod
    def from_index(cls, index: Any) -> IndexVectors:
        """Read the vectors (``Index.vectors``) and the chunks they belong to."""
        ids, mat = index.vectors()
        chunks = index.get_chunks(ids)
        keep = [i for i, cid in enumerate(ids) if cid in chunks]
        ids = [ids[i] for i in keep]
        cs = [chunks[c] for c in ids]
        return cls(ids, np.ascontiguousarray(mat[keep], dtype=np.float32),
                   [c.doc for c in cs], [c.clause for c in cs], [_text_key(c.text) for c in cs])

    def rows(self, pair: Pair) -> list[int]:
        """The rows of a clause; for a heading or annex, those of its sub-clauses."""
        exact = self.by_clause.get(pair)
        if exact:
            return exact
        doc, clause = pair
        prefix = (clause[2:] if clause.startswith("附录") else clause) + "."
        return [i for i in self.by_doc.get(doc, []) if self.clauses[i].startswith(prefix)]

    def duplicates(self, rows: Sequence[int]) -> set[int]:
        """Rows holding the same text as any of ``rows`` (other versions of one law)."""
        return {j for i in rows for j in self.by_text[self.text_keys[i]]}


@dataclass
class Example:
    """One pair as rows of the index matrix."""

    pos: np.ndarray  # rows that answer
    excl: np.ndarray  # rows neither positive nor negative (duplicates of a positive)
    hard: np.ndarray  # rows to weigh more as negatives
    groups: list[list[int]]  # rows of each gold clause (for recall)
    weight: float = 1.0


def make_examples(pairs: Sequence[TrainingPair], iv: IndexVectors,
                  hard: dict[str, list[str]] | None = None
                  ) -> tuple[list[Example], list[int]]:
    """Examples for the pairs whose gold is in the index, and which pairs those are.
    ``hard`` maps a pair's qid to chunk ids ranked first for it (hard negatives)."""
    out, kept = [], []
    for k, p in enumerate(pairs):
        groups = [g for g in (iv.rows(pair) for pair in p.gold) if g]
        pos = sorted({i for g in groups for i in g})
        if not pos:
            continue
        dup = iv.duplicates(pos) - set(pos)
        negs = {i for pair in p.negatives for i in iv.rows(pair)}
        ranked = {iv.row_of[c] for c in (hard or {}).get(p.qid, []) if c in iv.row_of}
        hard_rows = sorted((ranked | negs) - set(pos) - dup)
        out.append(Example(np.array(pos), np.array(sorted(dup), dtype=int),
                           np.array(hard_rows, dtype=int), groups, p.weight))
        kept.append(k)
    return out, kept


def dense_metrics(queries: np.ndarray, examples: Sequence[Example], matrix: np.ndarray,
                  ks: Sequence[int] = (10, 100)) -> dict[str, float]:
    """Dense-only recall@k (per gold clause) and MRR@10 over the matrix: a quick proxy
    for choosing epochs and settings (the hybrid is measured through the Retriever)."""
    if not examples:
        return {}
    top = max(max(ks), 10)
    rec = {k: 0.0 for k in ks}
    mrr = 0.0
    for s in range(0, len(examples), 256):
        sims = queries[s:s + 256] @ matrix.T
        order = (np.argpartition(-sims, top, axis=1)[:, :top] if top < sims.shape[1]
                 else np.tile(np.arange(sims.shape[1]), (len(sims), 1)))
        for j, ex in enumerate(examples[s:s + 256]):
            best = order[j][np.argsort(-sims[j, order[j]])]
            rank = {int(r): i for i, r in enumerate(best)}
            for k in ks:
                rec[k] += np.mean([any(rank.get(r, top) < k for r in g) for g in ex.groups])
            first = min((rank.get(int(r), top) for r in ex.pos), default=top)
            mrr += 1.0 / (first + 1) if first < 10 else 0.0
    n = len(examples)
    return {**{f"dense_recall_at_{k}": round(v / n, 4) for k, v in rec.items()},
            "dense_mrr_at_10": round(mrr / n, 4)}


@dataclass
class FitConfig:
    """How one adapter is fitted; recorded in the artefact."""

    method: str = "linear"
    rank: int = 64  # lowrank
    hidden: int = 512  # mlp
    epochs: int = 20
    lr: float = 2e-3
    weight_decay: float = 1e-2
    tau: float = 0.05  # softmax temperature over cosines
    batch: int = 64
    hard_weight: float = 3.0  # a hard negative counts this many times in the softmax
    seed: int = 0
    mem_tau: float = 0.05  # memory: attention temperature
    mem_alpha: float = 0.5  # memory: weight of the recalled targets
    mem_null: float = 0.85  # memory: cosine below which a remembered question hardly counts

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def memory_part(queries: np.ndarray, examples: Sequence[Example], matrix: np.ndarray,
                cfg: FitConfig) -> dict[str, np.ndarray]:
    """The memory adapter: keys = the training questions' vectors, values = the mean
    vector of the clauses that answer each (no gradient descent)."""
    vals = np.stack([matrix[ex.pos].mean(axis=0) for ex in examples])
    vals /= np.maximum(np.linalg.norm(vals, axis=1, keepdims=True), 1e-12)
    return {"K": queries.astype(np.float32), "V": vals.astype(np.float32),
            "tau": np.float32(cfg.mem_tau), "alpha": np.float32(cfg.mem_alpha),
            "null": np.float32(cfg.mem_null)}


def _residual_module(method: str, dim: int, cfg: FitConfig) -> Any:
    import torch

    nn = torch.nn

    class Residual(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            if method == "linear":
                self.W = nn.Parameter(torch.zeros(dim, dim))
            elif method == "lowrank":
                self.A = nn.Parameter(torch.randn(dim, cfg.rank) / math.sqrt(dim))
                self.B = nn.Parameter(torch.zeros(cfg.rank, dim))
            elif method == "mlp":
                self.W1 = nn.Parameter(torch.randn(dim, cfg.hidden) / math.sqrt(dim))
                self.b1 = nn.Parameter(torch.zeros(cfg.hidden))
                self.W2 = nn.Parameter(torch.zeros(cfg.hidden, dim))
            else:
                raise ValueError(f"no gradient training for method {method!r}")
            self.b = nn.Parameter(torch.zeros(dim))

        def forward(self, q: torch.Tensor) -> torch.Tensor:
            if method == "linear":
                return q @ self.W + self.b
            if method == "lowrank":
                return (q @ self.A) @ self.B + self.b
            return torch.relu(q @ self.W1 + self.b1) @ self.W2 + self.b

        def export(self) -> dict[str, np.ndarray]:
            w = {k: v.detach().numpy().astype(np.float32) for k, v in self.named_parameters()}
            if method == "mlp":
                w["b2"] = w.pop("b")
            return w

    return Residual()


def _batch_loss(scores: Any, exs: Sequence[Example], cfg: FitConfig) -> Any:
    """Multi-positive softmax loss: -log(sum over positives / sum over all but excluded)."""
    import torch

    bias = torch.zeros_like(scores)
    pos = torch.zeros_like(scores, dtype=torch.bool)
    for j, ex in enumerate(exs):
        pos[j, torch.from_numpy(ex.pos)] = True
        if len(ex.excl):
            bias[j, torch.from_numpy(ex.excl)] = -1e4
        if len(ex.hard):
            bias[j, torch.from_numpy(ex.hard)] = math.log(cfg.hard_weight)
    logits = scores / cfg.tau + bias
    lse_all = torch.logsumexp(logits, dim=1)
    lse_pos = torch.logsumexp(logits.masked_fill(~pos, -1e4), dim=1)
    w = torch.tensor([ex.weight for ex in exs], dtype=scores.dtype)
    return ((lse_all - lse_pos) * w).sum() / w.sum()


def fit(queries: np.ndarray, examples: Sequence[Example], matrix: np.ndarray,
        cfg: FitConfig, frozen: np.ndarray | None = None, tick: Tick | None = None
        ) -> dict[str, np.ndarray]:
    """Fit one residual part of ``cfg.method`` (linear, lowrank, mlp) and return its arrays.

    ``frozen`` is a fixed residual already added to each query (the parts of an adapter
    being extended); ``tick(1)`` after each epoch.
    """
    import torch

    # One thread: these matrices are small, and on a shared machine a paused OpenMP
    # worker stalls every step of a multi-threaded one.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _fit(queries, examples, matrix, cfg, frozen, tick)
    finally:
        torch.set_num_threads(threads)


def _fit(queries: np.ndarray, examples: Sequence[Example], matrix: np.ndarray,
         cfg: FitConfig, frozen: np.ndarray | None, tick: Tick | None) -> dict[str, np.ndarray]:
    import torch

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    q = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32))
    base = q + torch.from_numpy(frozen.astype(np.float32)) if frozen is not None else q
    p = torch.from_numpy(np.ascontiguousarray(matrix, dtype=np.float32))
    model = _residual_module(cfg.method, q.shape[1], cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    n = len(examples)
    for _ in range(cfg.epochs):
        order = rng.permutation(n)
        for s in range(0, n, cfg.batch):
            idx = order[s:s + cfg.batch]
            t = torch.from_numpy(idx)
            qa = torch.nn.functional.normalize(base[t] + model(q[t]), dim=1)
            loss = _batch_loss(qa @ p.T, [examples[i] for i in idx], cfg)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if tick is not None:
            tick(1)
    return model.export()


def check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
