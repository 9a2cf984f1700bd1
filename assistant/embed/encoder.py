"""A lean torch forward pass for BERT-family encoders, and the torch plumbing around it:
dtype choice, intra-op threads, chunked weight reads, giving memory back."""

from __future__ import annotations

import contextlib
import functools
import json
import struct
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..errors import EmbedderError

if TYPE_CHECKING:
    import torch

# int8: float32 activations, linear layers quantized (``_FastEncoder.try_int8``)
_DTYPES = {"auto": "", "float32": "float32", "fp32": "float32", "bfloat16": "bfloat16",
           "bf16": "bfloat16", "int8": "float32"}


def _torch_dtype(name: str) -> torch.dtype:
    """``auto`` is bfloat16 where the CPU multiplies bf16 in hardware (AMX), else float32.

    bf16 weights and activations keep the cosine to fp32 above 0.9999 for this model.
    """
    import torch

    if name not in _DTYPES:
        raise EmbedderError(f"unknown embedding dtype {name!r} (auto, float32, bfloat16 or int8)")
    if name == "auto":
        amx = getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
        return torch.bfloat16 if amx() else torch.float32
    return getattr(torch, _DTYPES[name])


WORD_TABLE = "embeddings.word_embeddings.weight"


def _table_dtype(dtype: torch.dtype) -> torch.dtype:
    """The vocabulary table is most of the model (250k × 384: 384 MB in fp32) and only
    gathered from: kept in 16 bits (its values are 4-bit codes × fp16 scales, so fp16
    rounds them by at most 2^-11), rows widened after the gather."""
    import torch

    return torch.float16 if dtype == torch.float32 else dtype


def _position_offset(cfg: dict[str, Any]) -> int:
    """RoBERTa / XLM-R number positions from padding_idx + 1, BERT from 0."""
    if cfg.get("model_type") in ("roberta", "xlm-roberta"):
        return int(cfg.get("pad_token_id") or 0) + 1
    return 0


class _FastEncoder:
    """A lean forward pass of BERT / RoBERTa / XLM-R encoders plus mean or CLS pooling.

    Why not ``model(**batch)``: on CPUs with AMX, bf16 matmuls run several times faster
    than fp32 ones (cosine to fp32 > 0.9999), and of what remains this path avoids the
    overhead — one fused QKV projection, weights pre-packed for oneDNN with bias, GELU
    and residual add fused into the matmul, one attention mask shared by all layers.
    """

    ARCHITECTURES = ("BertModel", "RobertaModel", "XLMRobertaModel")

    def __init__(self, weight: Callable[[str], torch.Tensor], cfg: dict[str, Any],
                 pooling: str, dtype: torch.dtype) -> None:
        import torch

        def t(name: str) -> torch.Tensor:
            return weight(name).detach().to(dtype).contiguous()

        self.pooling = pooling
        self.dtype = dtype
        self.hidden = int(cfg["hidden_size"])
        self.heads = int(cfg["num_attention_heads"])
        self.eps = float(cfg["layer_norm_eps"])
        self.pos_offset = _position_offset(cfg)
        self.word = weight(WORD_TABLE).detach().to(_table_dtype(dtype)).contiguous()
        self.pos = t("embeddings.position_embeddings.weight")
        self.type0 = t("embeddings.token_type_embeddings.weight")[0].contiguous()
        self.emb_ln = (t("embeddings.LayerNorm.weight"), t("embeddings.LayerNorm.bias"))
        self.layers: list[dict[str, Any]] = []
        for i in range(int(cfg["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            qkv = [p + f"attention.self.{n}" for n in ("query", "key", "value")]
            self.layers.append({
                "qkv": (torch.cat([t(n + ".weight") for n in qkv]),
                        torch.cat([t(n + ".bias") for n in qkv])),
                "o": (t(p + "attention.output.dense.weight"), t(p + "attention.output.dense.bias")),
                "ln1": (t(p + "attention.output.LayerNorm.weight"),
                        t(p + "attention.output.LayerNorm.bias")),
                "fi": (t(p + "intermediate.dense.weight"), t(p + "intermediate.dense.bias")),
                "fo": (t(p + "output.dense.weight"), t(p + "output.dense.bias")),
                "ln2": (t(p + "output.LayerNorm.weight"), t(p + "output.LayerNorm.bias")),
            })
        self.fused = False
        self.int8 = False

    @classmethod
    def supports(cls, cfg: dict[str, Any], architecture: str, pooling: str | None) -> bool:
        return (architecture in cls.ARCHITECTURES and pooling in ("mean", "cls")
                and cfg.get("position_embedding_type", "absolute") == "absolute"
                and cfg.get("hidden_act") == "gelu" and not cfg.get("is_decoder", False))

    def try_fuse(self, pack_batch: int) -> bool:
        """Switch to oneDNN packed weights with fused epilogues if they give the same result.

        The ops are torch internals (what ``torch.compile`` emits on CPU); a build
        without them, or one where they disagree with plain torch, keeps plain torch.
        """
        import torch

        ids = torch.arange(2 * 24, dtype=torch.long).view(2, 24) * 37 % (self.word.shape[0] - 5) + 5
        lengths = torch.tensor([24, 11])
        plain = [dict(ly) for ly in self.layers]
        try:
            with torch.inference_mode():
                ref = self(ids, lengths)
                for ly in self.layers:
                    for k in ("qkv", "o", "fi", "fo"):
                        w, b = ly[k]
                        ly[k] = (torch.ops.mkldnn._reorder_linear_weight(w, pack_batch), b)
                self.fused = True
                got = self(ids, lengths)
            ok = bool(torch.nn.functional.cosine_similarity(ref, got).min() >= 0.9999)
        except Exception:  # missing or failing op in this torch build
            ok = False
        if not ok:
            self.layers, self.fused = plain, False
        return ok

    def try_int8(self) -> bool:
        """Switch the linear layers to int8 (weights per output channel, activations per
        batch, quantized on the fly: torch's dynamic quantization, fbgemm / oneDNN kernels).

        About 1.5× the fp32 speed on AVX2 without VNNI; vectors move (cosine to fp32
        0.995–0.997 on law articles), so it is used only when asked for. False where this torch
        build lacks the quantized ops.
        """
        import torch

        if self.dtype != torch.float32 or self.fused or self.int8:
            return self.int8
        try:
            packed = []
            for ly in self.layers:
                packed.append({k: torch.ops.quantized.linear_prepack(_int8_weight(ly[k][0]),
                                                                     ly[k][1])
                               for k in ("qkv", "o", "fi", "fo")})
        except (AttributeError, RuntimeError):  # no quantized engine in this build
            return False
        for ly, p in zip(self.layers, packed, strict=True):
            ly.update(p)
        self.int8 = True
        return True

    def _linear(self, x: torch.Tensor, wb: Any,
                gelu: bool = False, add: torch.Tensor | None = None) -> torch.Tensor:
        import torch
        import torch.nn.functional as F

        if self.int8:
            # full 8-bit activations: within cosine 0.995 of fp32 on real passages, where
            # reduce_range (7 bits, no int16 saturation on AVX2) falls to 0.985
            y = torch.ops.quantized.linear_dynamic(x, wb, False)
            if gelu:
                y = F.gelu(y)
            if add is not None:
                y += add
            return y
        w, b = wb
        if self.fused:
            if add is not None:
                return torch.ops.mkldnn._linear_pointwise.binary(x, add, w, b, "add")
            if gelu:  # algorithm "none" is the exact erf GELU the model was trained with
                return torch.ops.mkldnn._linear_pointwise(x, w, b, "gelu", [], "none")
            return torch.ops.mkldnn._linear_pointwise(x, w, b, "none", [], "")
        y = F.linear(x, w, b)
        if gelu:
            y = F.gelu(y)
        if add is not None:
            y += add
        return y

    def __call__(self, ids: torch.Tensor, lengths: torch.Tensor,
                 starts: torch.Tensor | None = None) -> Any:
        """Pooled float32 (B, hidden) of right-padded ``ids`` (B, T) with ``lengths``.

        With ``starts`` (B,), also the mean of each row's tokens from its start on (mean
        pooling only): a second view of the row's tail, read in the context of its head, at
        no extra cost. A row whose span is empty (truncated away) gets its whole mean."""
        import torch
        import torch.nn.functional as F

        n, seq = ids.shape
        h, heads = self.hidden, self.heads
        positions = torch.arange(self.pos_offset, self.pos_offset + seq)
        x = self.word[ids].to(self.dtype)
        x += self.pos[positions]
        x += self.type0
        x = F.layer_norm(x, (h,), *self.emb_ln, self.eps).view(n * seq, h)
        valid = torch.arange(seq)[None, :] < lengths[:, None]  # (B, T)
        mask = None
        if not bool(valid.all()):  # additive key mask, built once for all layers
            mask = torch.zeros(n, 1, 1, seq, dtype=self.dtype)
            mask.masked_fill_(~valid[:, None, None, :], torch.finfo(self.dtype).min)
        for ly in self.layers:
            qkv = self._linear(x, ly["qkv"]).view(n, seq, 3, heads, h // heads)
            q, k, v = qkv.permute(2, 0, 3, 1, 4)
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            ctx = ctx.transpose(1, 2).reshape(n * seq, h)
            x = F.layer_norm(self._linear(ctx, ly["o"], add=x), (h,), *ly["ln1"], self.eps)
            mid = self._linear(x, ly["fi"], gelu=True)
            x = F.layer_norm(self._linear(mid, ly["fo"], add=x), (h,), *ly["ln2"], self.eps)
        out = x.view(n, seq, h)
        if self.pooling == "cls":
            if starts is not None:
                raise ValueError("span pooling needs mean pooling")
            return out[:, 0].float()
        m = valid.unsqueeze(-1).to(torch.float32)
        full = (out.float() * m).sum(1) / lengths[:, None].to(torch.float32)
        if starts is None:
            return full
        span = valid & (torch.arange(seq)[None, :] >= starts[:, None])
        count = span.sum(1, keepdim=True)
        tail = (out.float() * span.unsqueeze(-1)).sum(1) / count.clamp_min(1)
        return full, torch.where(count > 0, tail, full)


def _int8_weight(w: torch.Tensor) -> torch.Tensor:
    """``w`` (out, in) as symmetric per-output-channel qint8."""
    import torch

    scale = (w.abs().amax(dim=1).double() / 127).clamp_min(1e-12)
    zero = torch.zeros(w.shape[0], dtype=torch.long)
    with warnings.catch_warnings():  # deprecated, not gone: try_int8 falls back if it goes
        warnings.simplefilter("ignore", UserWarning)
        return torch.quantize_per_channel(w, scale, zero, 0, torch.qint8)


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    """Run torch ops with ``n`` intra-op threads, restoring the previous count after.

    The embedders parallelise across batches instead (one worker thread per core): the
    ops of a 384-wide encoder are small, and with OpenMP every op ends in a barrier that
    waits for the slowest thread — milliseconds each when other processes share the CPU.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class _TensorFile:
    """Tensors of a ``.safetensors`` file, read with plain file reads in chunks.

    safetensors' own reader maps the file; every page it touches counts as resident
    memory while the mapping lives, which nearly doubles the peak RSS of a model load.
    """

    _DTYPES: ClassVar[dict[str, Any]] = {"F32": np.float32, "F16": np.float16}

    def __init__(self, path: Path) -> None:
        self._file = path.open("rb")
        (size,) = struct.unpack("<Q", self._file.read(8))
        self._header = json.loads(self._file.read(size))
        self._base = 8 + size

    def __enter__(self) -> _TensorFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()

    def reader(self, dtype: torch.dtype, overrides: dict[str, torch.dtype] | None = None
               ) -> Callable[[str], torch.Tensor]:
        """``get(name)``: the named tensor converted to ``dtype`` (or ``overrides[name]``)
        while it is read, so that no full-size copy in the file's dtype is ever held."""
        import torch

        def get(name: str) -> torch.Tensor:
            meta = self._header[name]
            if meta["dtype"] not in self._DTYPES:
                raise ValueError(f"{name}: unsupported tensor dtype {meta['dtype']}")
            out = torch.empty(meta["shape"], dtype=(overrides or {}).get(name, dtype))
            flat = out.view(-1)
            buf = np.empty(min(flat.numel(), 1 << 22), dtype=self._DTYPES[meta["dtype"]])
            self._file.seek(self._base + meta["data_offsets"][0])
            for i in range(0, flat.numel(), len(buf)):
                chunk = buf[: min(len(buf), flat.numel() - i)]
                if self._file.readinto(chunk.view(np.uint8)) != chunk.nbytes:
                    raise ValueError(f"{name}: file truncated")
                flat[i : i + len(chunk)] = torch.from_numpy(chunk)
            return out

        return get


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        import ctypes

        return ctypes.CDLL(None).malloc_trim  # glibc only
    except (OSError, AttributeError):
        return None


def _release_memory() -> None:
    """Give freed activation buffers back to the OS.

    glibc keeps freed large blocks in each thread's arena, so a process that embedded a
    corpus would otherwise stay ~300 MB per worker larger than it needs to be.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
