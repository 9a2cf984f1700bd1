"""A learned scorer over the fused candidates (issue 16): gradient-boosted trees
(LightGBM, LambdaRank) re-order the head of the hybrid ranking from features the
retriever already has — each retriever's rank and score, the fused score, document-level
evidence, the static priors — and a few cheap lexical ones (how much of the question's
BM25 weight a chunk's text, title and heading carry).

The artefact is LightGBM's model text inside a JSON file with what it belongs to: the
embedder id (dense similarities are features, and they differ between embedders), the
feature names, the head depth and how it was trained. :func:`resolve_scorer` refuses an
artefact made for another embedder. Trained by :mod:`assistant.train_scorer`.
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
)

_CJK_PAIR = re.compile(r"[\u4e00-\u9fff]{2}")
_ARTICLE = re.compile(r"第([零一二三四五六七八九十百千\d]+)条")
_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")}


def _cn_number(s: str) -> int:
    """第一百二十三条 → 123 (also plain digits); 0 when it cannot be read."""
    if s.isdigit():
        return int(s)
    total, cur = 0, 0
    for ch in s:
        if ch in _DIGITS:
            cur = _DIGITS[ch]
        elif ch in "十百千":
            unit = {"十": 10, "百": 100, "千": 1000}[ch]
            total += (cur or 1) * unit
            cur = 0
        else:
            return 0
    return total + cur


def _bigrams(text: str) -> set[str]:
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
    dlow = min(sims) if sims else 0.0
    doc_rows: dict[str, list[int]] = {}
    for i, c in enumerate(ranked):
        doc_rows.setdefault(c.doc or "", []).append(i)
    doc_sum = {d: sum(ranked[i].score for i in rows[:3]) for d, rows in doc_rows.items()}
    doc_max = max(doc_sum.values()) or 1.0
    qterms = math.log1p(len(terms.idf))
    for i, c in enumerate(ranked):
        ev, doc = c.evidence, c.doc or ""
        ch = chunks.get(c.id)
        text = ch.text if ch else ""
        v = versions.get(doc)
        rows = doc_rows[doc]
        m = _ARTICLE.match(c.clause or "")
        x[i] = (
            c.score / top,
            math.log1p(i),
            (ev.bm25_score or 0.0) / bmax,
            math.log1p(ev.bm25_rank or MISSING_RANK),
            ev.dense_sim if ev.dense_sim is not None else dlow - 0.02,
            dtop - (ev.dense_sim if ev.dense_sim is not None else dlow - 0.02),
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
            len(terms.bigrams & _bigrams(text)) / (len(terms.bigrams) or 1),
            math.log1p(len(text)),
            math.log1p(_cn_number(m.group(1))) if m else 0.0,
            float(ch.part > 0) if ch else 0.0,
            qterms,
        )
    return x


class LearnedScorer:
    """A LightGBM ranker over :func:`features`; higher is better."""

    def __init__(self, model_text: str, meta: Mapping[str, Any]) -> None:
        import lightgbm

        self.meta = dict(meta)
        self.head = int(self.meta.get("head", HEAD))
        self._booster = lightgbm.Booster(model_str=model_text)
        names = tuple(self.meta.get("features", FEATURES))
        if names != FEATURES:
            raise ConfigError(f"learned scorer {self.meta.get('path', '')} was trained on "
                              "other features; retrain it with: python -m "
                              "assistant.train_scorer")

    def predict(self, x: np.ndarray) -> np.ndarray:
        if not len(x):
            return np.zeros(0)
        return np.asarray(self._booster.predict(x, num_threads=1), dtype=np.float64)

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
        # Scores stay positive and ordered: the gate and the UI read them as relevance.
        floor = ranked[self.head].score if len(ranked) > self.head else 0.0
        top = max(c.score for c in head)
        span = max(top - floor, 1e-6)
        n = len(order)
        out = [replace(head[i], score=floor + span * (n - r) / n) for r, i in enumerate(order)]
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
    """``none`` → None; ``default`` → the shipped artefact; else a path. An artefact
    trained for another embedder is refused (its dense features mean other things)."""
    if not name or name == "none":
        return None
    path = DEFAULT_PATH if name == "default" else Path(name).expanduser()
    if not path.exists():
        if name == "default":
            raise ConfigError("no learned scorer ships with this build; set "
                              "ASSISTANT_SCORER=none or train one: python -m "
                              "assistant.train_scorer")
        raise ConfigError(f"learned scorer {path} not found; set ASSISTANT_SCORER=none, "
                          "default or an existing file")
    key = (str(path.resolve()), path.stat().st_mtime)
    scorer = _CACHE.get(key)
    if scorer is None:
        scorer = _CACHE[key] = load_scorer(path)
    if scorer.meta.get("embedder") != embedder_id:
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
        return "none"
    v = s.meta.get("validation") or {}
    extra = (f"; validation R@10 {v.get('before', {}).get('recall_at_10', 0):.3f} → "
             f"{v.get('after', {}).get('recall_at_10', 0):.3f}") if v else ""
    return f"{s.meta.get('path')} (trees {s.meta.get('trees')}, head {s.head}{extra})"
