"""The CPU's matmul paths (unit) and the speed paths' vectors against fp32 (integration)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant import embed
from assistant.config import Settings
from assistant.embed.cpu import CpuInfo, _cpuinfo, cpu_info

SAPPHIRE = """processor\t: 0
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu avx avx2 fma avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8
processor\t: 1
model name\t: other
flags\t\t: fpu
"""
EPYC = "model name\t: AMD EPYC\nflags\t\t: fpu sse4_2 avx fma avx2 sha_ni\n"

# Real-length law articles (short, medium, several hundred characters).
ARTICLES = [
    "第十条 对保障人身健康和生命财产安全、国家安全、生态环境安全以及满足经济社会管理基本需要的"
    "技术要求，应当制定强制性国家标准。",
    "第二十七条 国家实行团体标准、企业标准自我声明公开和监督制度。",
    "第十五条 国家对产品质量实行以抽查为主要方式的监督检查制度。" * 6,
    "第四条 用人单位应当依法建立和完善劳动规章制度，保障劳动者享有劳动权利、履行劳动义务。" * 3,
    "GB/T 1.1—2020 标准化工作导则 第1部分：标准化文件的结构和起草规则 8.6 条款的表述",
    "第五十四条 国家建立统一的计量器具检定制度。",
] * 4


def _info(text: str, capability: str = "") -> CpuInfo:
    model, flags = _cpuinfo(text)
    return CpuInfo(model, 2, flags, capability)


def test_cpuinfo_reads_the_first_processor() -> None:
    model, flags = _cpuinfo(SAPPHIRE)
    assert model == "Intel(R) Xeon(R) Platinum 8480+"
    assert "amx_bf16" in flags and "fpu" in flags and len(flags) == 10


def test_amx_cpu_takes_bf16_unless_told_otherwise() -> None:
    c = _info(SAPPHIRE, "AVX512")
    assert (c.isa, c.amx_bf16, c.avx512, c.vnni) == ("AMX", True, True, True)
    assert c.matmul_path() == "AMX bf16"
    assert c.matmul_path("float32") == "AMX fp32"
    assert c.matmul_path("int8") == "AMX int8 (VNNI)"
    assert c.summary().endswith("embedder: AMX bf16") and "torch AVX512" in c.summary()


def test_avx2_cpu_takes_fp32() -> None:
    c = _info(EPYC, "AVX2")
    assert (c.isa, c.amx_bf16, c.avx512, c.avx2, c.vnni) == ("AVX2", False, False, True, False)
    assert c.matmul_path() == "AVX2 fp32"
    assert c.matmul_path("bfloat16") == "AVX2 bf16 (emulated, slow)"
    assert replace(c, flags=c.flags | {"avx512f", "avx512_bf16"}).matmul_path("bfloat16") == (
        "AVX-512 bf16 (slower than fp32)")
    assert c.matmul_path("int8") == "AVX2 int8"
    assert c.to_json()["embedder_path"] == "AVX2 fp32"
    assert _info("flags : fpu sse2\n").isa == "baseline"


def test_this_cpu_agrees_with_torch() -> None:
    torch = pytest.importorskip("torch")
    c = cpu_info()
    assert c.cores >= 1 and c.torch_capability == torch.backends.cpu.get_cpu_capability()
    amx = getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
    assert ("bf16" in c.matmul_path()) == bool(amx)  # the path _torch_dtype takes


# ---------------------------------------------------------------------------- integration


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = os.environ.get("ASSISTANT_CACHE_DIR")
    cache = Path(env) if env else tmp_path_factory.mktemp("cache")
    return embed.prepare_default_model(cache, progress=False)


@pytest.mark.integration
def test_batch_size_does_not_change_vectors(model_dir: Path) -> None:
    assert Settings().embed_batch_tokens == 2048
    small = embed.DefaultEmbedder(model_dir, batch_tokens=512, dtype="float32", threads=1)
    large = embed.DefaultEmbedder(model_dir, batch_tokens=8192, dtype="float32", threads=1)
    a, b = small.embed_passages(ARTICLES), large.embed_passages(ARTICLES)
    assert (a * b).sum(1).min() > 0.9999


@pytest.mark.integration
def test_int8_path_stays_close_to_fp32(model_dir: Path) -> None:
    fp32 = embed.DefaultEmbedder(model_dir, dtype="float32", threads=1)
    int8 = embed.DefaultEmbedder(model_dir, dtype="int8", threads=1)
    if not int8.load()._encoder().int8:
        pytest.skip("this torch build has no quantized linear ops")
    a, b = fp32.embed_passages(ARTICLES), int8.embed_passages(ARTICLES)
    sims = (a * b).sum(1)
    assert sims.min() >= 0.99 and sims.max() < 0.99999  # close, and really quantized
    assert np.allclose(np.linalg.norm(b, axis=1), 1, atol=1e-5)
