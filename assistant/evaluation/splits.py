"""The fixed train / validation split of question sets, by a hash of each question's id.

A question is in validation iff ``sha256("stard-split:" + id) % 100 < 20``: stable under
reordering, additions and removals, the same on every machine. Nothing is trained or
tuned on validation questions; the learned query side (``assistant.query_adapter``) is
reported on them (eval/README.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Literal, TypeVar

Split = Literal["train", "validation", "all"]
SPLITS: tuple[Split, ...] = ("train", "validation", "all")
SALT = "stard-split:"
VALIDATION_PERCENT = 20

T = TypeVar("T")


def bucket(qid: str, salt: str = SALT) -> int:
    """0–99, from the sha256 of ``salt + qid``."""
    return int(hashlib.sha256((salt + qid).encode("utf-8")).hexdigest(), 16) % 100


def is_validation(qid: str, salt: str = SALT, percent: int = VALIDATION_PERCENT) -> bool:
    """Is the question with this id in the validation split?"""
    return bucket(qid, salt) < percent


def split_of(qid: str, salt: str = SALT, percent: int = VALIDATION_PERCENT) -> Split:
    return "validation" if is_validation(qid, salt, percent) else "train"


def select(items: Iterable[T], split: Split, key: str = "id", salt: str = SALT,
           percent: int = VALIDATION_PERCENT) -> list[T]:
    """The items (records with an ``id`` attribute or key) of one split, in their order."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}; got {split!r}")
    out = []
    for it in items:
        qid = str(it[key] if isinstance(it, dict) else getattr(it, key))
        if split == "all" or split_of(qid, salt, percent) == split:
            out.append(it)
    return out


def split_counts(ids: Sequence[str]) -> dict[str, int]:
    """How many of ``ids`` fall in each split (for reports)."""
    val = sum(is_validation(i) for i in ids)
    return {"train": len(ids) - val, "validation": val}
