"""A learned scorer over the fused candidates (issue 16): gradient-boosted trees
(LightGBM, LambdaRank) re-order the head of the hybrid ranking from features the
retriever already has — each retriever's rank and score, the fused score, document-level
evidence, the static priors — and a few cheap lexical ones (how much of the question's
BM25 weight a chunk's text, title and heading carry).

The artefact is LightGBM's model text inside a JSON file with what it belongs to: the
embedder id (dense similarities are features, and they differ between embedders), the
feature names, the head depth and how it was trained. :func:`resolve_scorer` refuses an
artefact made for another embedder. Trained by :mod:`assistant.train_scorer` (which needs
lightgbm); searches evaluate the trees with numpy (:class:`Forest`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConfigError
from .fusion import Candidate, Priors
from .identifiers import cn_to_int
from .records import Chunk
from .versions import Version

SCORER_VERSION = "1"
DEFAULT_PATH = Path(__file__).parent / "adapters" / "scorer.json"
HEAD = 200  # candidates re-scored; the rest keep their fused order below them
MISSING_RANK = 1000  # the rank a retriever that did not return a chunk is given

FEATURES = (
    "fused_rel", "fused_rank", "bm25_rel", "bm25_rank", "dense_sim", "dense_gap",
    "dense_rank", "both", "doc_chunks", "doc_best_rank", "doc_rel", "authority",
    "centrality", "citation", "superseded", "named", "cover_text", "cover_title",
    "cover_heading", "bigrams", "length", "article_no", "part", "query_terms",
    "doc_pos", "doc_dense",
)

_CJK_PAIR = re.compile(r"[\u4e00-\u9fff]{2}")
_ARTICLE = re.compile(r"第([零一二三四五六七八九十百千\d]+)条")


def _cn_number(s: str) -> int:
    """第一百二十三条 → 123 (also plain digits); 0 when it cannot be read."""
    return cn_to_int(s) or 0


def cjk_bigrams(text: str) -> set[str]:
    """The pairs of adjacent CJK characters in ``text``."""
    return {text[i:i + 2] for i in range(len(text) - 1)
            if _CJK_PAIR.fullmatch(text[i:i + 2])}


@dataclass
class QueryTerms:
    """The query's BM25 tokens with their idf, and its CJK character bigrams."""

    idf: dict[str, float]
    bigrams: set[str] = field(default_factory=set)

    @property
    def total(self) -> float:
        return sum(self.idf.values()) or 1.0

    def cover(self, text: str) -> float:
        """The share of the query's idf weight whose tokens occur in ``text``."""
        if not text:
            return 0.0
        return sum(w for t, w in self.idf.items() if t in text) / self.total


def features(ranked: Sequence[Candidate], chunks: Mapping[str, Chunk], terms: QueryTerms,
             priors: Priors, versions: Mapping[str, Version], named: set[str]) -> np.ndarray:
    """One row of :data:`FEATURES` per candidate of ``ranked`` (fused, best first)."""
    n = len(ranked)
    x = np.zeros((n, len(FEATURES)), dtype=np.float32)
    if not n:
        return x
    top = ranked[0].score or 1.0
    bmax = max((c.evidence.bm25_score or 0.0 for c in ranked), default=0.0) or 1.0
    sims = [c.evidence.dense_sim for c in ranked if c.evidence.dense_sim is not None]
    dtop = max(sims) if sims else 0.0
    unseen = (min(sims) if sims else 0.0) - 0.02  # the cosine of a chunk dense did not return
    doc_rows: dict[str, list[int]] = {}
    for i, c in enumerate(ranked):
        doc_rows.setdefault(c.doc or "", []).append(i)
    doc_sum = {d: sum(ranked[i].score for i in rows[:3]) for d, rows in doc_rows.items()}
    doc_max = max(doc_sum.values()) or 1.0
    pos = {i: k for rows in doc_rows.values() for k, i in enumerate(rows)}
    doc_dense = {d: max((ranked[i].evidence.dense_sim for i in rows
                         if ranked[i].evidence.dense_sim is not None), default=unseen)
                 for d, rows in doc_rows.items()}
    qterms = math.log1p(len(terms.idf))
    for i, c in enumerate(ranked):
        ev, doc = c.evidence, c.doc or ""
        ch = chunks.get(c.id)
        text = ch.text if ch else ""
        v = versions.get(doc)
        rows = doc_rows[doc]
        m = _ARTICLE.match(c.clause or "")
        sim = ev.dense_sim if ev.dense_sim is not None else unseen
        x[i] = (
            c.score / top,
            math.log1p(i),
            (ev.bm25_score or 0.0) / bmax,
            math.log1p(ev.bm25_rank or MISSING_RANK),
            sim,
            dtop - sim,
            math.log1p(ev.dense_rank or MISSING_RANK),
            float(ev.bm25_rank is not None and ev.dense_rank is not None),
            math.log1p(len(rows)),
            math.log1p(rows[0]),
            doc_sum[doc] / doc_max,
            priors.authority.get(doc, 0.5),
            priors.centrality.get(doc, 0.0),
            priors.citation.get((doc, c.clause), 0.0),
            float(v is not None and not v.current),
            float(doc in named),
            terms.cover(text),
            terms.cover(ch.title) if ch else 0.0,
            terms.cover(ch.heading) if ch else 0.0,
            len(terms.bigrams & cjk_bigrams(text)) / (len(terms.bigrams) or 1),
            math.log1p(len(text)),
            math.log1p(_cn_number(m.group(1))) if m else 0.0,
            float(ch.part > 0) if ch else 0.0,
            qterms,
            math.log1p(pos[i]),
            dtop - doc_dense[doc],
        )
    return x


class Forest:
    """LightGBM's trees read from its model text and evaluated with numpy: importing
    lightgbm pulls in scikit-learn, pandas and scipy (1.4 s and ~100 MB for a one-shot
    search); training alone needs it. Numerical splits only (the features have no
    categories); a NaN or zero value takes the split's default side as LightGBM does."""

    def __init__(self, model_text: str) -> None:
        feats, thrs, lefts, rights, dleft, miss, leaves, roots = [], [], [], [], [], [], [], []
        for block in model_text.split("\nTree=")[1:]:
            kv = dict(line.split("=", 1) for line in block.splitlines()[1:] if "=" in line)
            values = [float(v) for v in kv["leaf_value"].split()]
            base_leaf = len(leaves)
            leaves += values
            if int(kv["num_leaves"]) == 1:
                roots.append(-1 - base_leaf)  # a tree that is one leaf
                continue
            base = len(feats)
            roots.append(base)
            dtype = [int(v) for v in kv["decision_type"].split()]
            if any(d & 1 for d in dtype):
                raise ConfigError("learned scorer: categorical splits are not supported")

            def node(c: str, base: int = base, base_leaf: int = base_leaf) -> int:
                i = int(c)
                return base + i if i >= 0 else -1 - (base_leaf + (-1 - i))

            feats += [int(v) for v in kv["split_feature"].split()]
            thrs += [float(v) for v in kv["threshold"].split()]
            lefts += [node(c) for c in kv["left_child"].split()]
            rights += [node(c) for c in kv["right_child"].split()]
            dleft += [bool(d & 2) for d in dtype]
            miss += [(d >> 2) & 3 for d in dtype]
        if not roots:
            raise ConfigError("learned scorer: the model holds no trees")
        self.feature = np.array(feats, dtype=np.int64)
        self.threshold = np.array(thrs, dtype=np.float64)
        self.left = np.array(lefts, dtype=np.int64)
        self.right = np.array(rights, dtype=np.int64)
        self.default_left = np.array(dleft, dtype=bool)
        self.missing = np.array(miss, dtype=np.int64)  # 0 none, 1 zero, 2 NaN
        self.leaf = np.array(leaves, dtype=np.float64)
        self.roots = np.array(roots, dtype=np.int64)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The sum of the trees' leaf values for each row of ``x``."""
        x = np.asarray(x, dtype=np.float64)
        rows = np.arange(len(x))[:, None]
        at = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        inner = at >= 0
        while inner.any():
            i = np.where(inner, at, 0)
            v = x[rows, self.feature[i]]
            miss = self.missing[i]
            is_missing = ((miss == 2) & np.isnan(v)) | ((miss == 1) & (np.abs(v) <= 1e-35))
            v = np.where(np.isnan(v) & (miss != 2), 0.0, v)  # NaN reads as 0 elsewhere
            go_left = np.where(is_missing, self.default_left[i], v <= self.threshold[i])
            at = np.where(inner, np.where(go_left, self.left[i], self.right[i]), at)
            inner = at >= 0
        return self.leaf[-1 - at].sum(axis=1)


class LearnedScorer:
    """A LambdaRank forest over :func:`features`; higher is better."""

    def __init__(self, model_text: str, meta: Mapping[str, Any]) -> None:
        self.meta = dict(meta)
        self.head = int(self.meta.get("head", HEAD))
        names = tuple(self.meta.get("features", FEATURES))
        if names != FEATURES:
            raise ConfigError(f"learned scorer {self.meta.get('path', '')} was trained on "
                              "other features; retrain it with: python -m "
                              "assistant.train_scorer")
        self._forest = Forest(model_text)

    def predict(self, x: np.ndarray) -> np.ndarray:
        if not len(x):
            return np.zeros(0)
        return self._forest.predict(x)

    def rescore(self, ranked: Sequence[Candidate], chunks: Mapping[str, Chunk],
                terms: QueryTerms, priors: Priors, versions: Mapping[str, Version],
                named: set[str]) -> list[Candidate]:
        """The first :attr:`head` candidates re-ordered by the model (ties by their fused
        order), each scored above the rest, which keep their fused order."""
        head = list(ranked[: self.head])
        if len(head) < 2:
            return list(ranked)
        pred = self.predict(features(head, chunks, terms, priors, versions, named))
        order = sorted(range(len(head)), key=lambda i: (-pred[i], i))
        # The r-th hit gets the r-th best fused score: the scores keep their scale and gaps
        # (the answer gate and the citation cut read them), only who holds them changes.
        # A hair less per rank keeps the order strict where fused scores tie.
        levels = sorted((c.score for c in head), reverse=True)
        out = [replace(head[i], score=levels[r] - r * 1e-9,
                       evidence=replace(head[i].evidence, fused_rank=i + 1))
               for r, i in enumerate(order)]
        return out + list(ranked[self.head:])


def save_scorer(path: Path, model_text: str, meta: Mapping[str, Any]) -> None:
    data = {"version": SCORER_VERSION, "features": list(FEATURES), **meta,
            "model": model_text}
    Path(path).write_text(json.dumps(data, ensure_ascii=False), "utf-8")


def load_scorer(path: Path) -> LearnedScorer:
    try:
        data = json.loads(Path(path).read_text("utf-8"))
        model = data.pop("model")
    except (OSError, ValueError, KeyError) as e:
        raise ConfigError(f"learned scorer {path}: cannot read it ({e}); "
                          "make one with: python -m assistant.train_scorer") from None
    if str(data.get("version")) != SCORER_VERSION:
        raise ConfigError(f"learned scorer {path} is version {data.get('version')}, this "
                          f"assistant reads {SCORER_VERSION}; retrain it")
    data["path"] = str(path)
    return LearnedScorer(model, data)


_CACHE: dict[tuple[str, float], LearnedScorer] = {}


def resolve_scorer(name: str, embedder_id: str) -> LearnedScorer | None:
    """``none`` → None; ``default`` → the shipped artefact where it was trained for this
    embedder (another embedder simply has none); else a path, refused when trained for
    another embedder (its dense features mean other things there)."""
    name = (name or "").strip()
    if name.lower() in ("", "none", "off"):
        return None
    default = name.lower() == "default"
    path = DEFAULT_PATH if default else Path(name).expanduser()
    if not path.exists():
        if default:
            return None
        raise ConfigError(f"learned scorer {path} not found; set ASSISTANT_SCORER=none, "
                          "default or an existing file")
    key = (str(path.resolve()), path.stat().st_mtime)
    scorer = _CACHE.get(key)
    if scorer is None:
        scorer = _CACHE[key] = load_scorer(path)
    if scorer.meta.get("embedder") != embedder_id:
        if default:
            return None
        raise ConfigError(f"learned scorer {path} was trained for embedder "
                          f"{scorer.meta.get('embedder')}, not {embedder_id}; use "
                          "ASSISTANT_SCORER=none or train one for this embedder")
    return scorer


def describe(name: str, embedder_id: str) -> str:
    """One line for ``assistant info``."""
    try:
        s = resolve_scorer(name, embedder_id)
    except ConfigError as e:
        return f"refused: {e}"
    if s is None:
        return "none" if name in ("", "none", "off") else f"none ({name}: none for this embedder)"
    return (f"{s.meta.get('path')} ({s.meta.get('trees')} trees over the first {s.head} "
            f"fused hits, trained on {s.meta.get('questions')} questions)")
