"""What the CPU offers the embedder: its matmul paths, the one the embedder will take,
and that path's measured peak (what the benchmarks compare the embedder against)."""

from __future__ import annotations

import functools
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

# /proc/cpuinfo flags that decide the embedder's matmul path
_AMX = ("amx_bf16", "amx_tile")
_AVX512 = ("avx512f",)
_VNNI = ("avx512_vnni", "avx_vnni")


@dataclass(frozen=True)
class CpuInfo:
    """The CPU as the embedder sees it."""

    model: str
    cores: int  # usable by this process (affinity)
    flags: frozenset[str]
    torch_capability: str  # torch's own dispatch level (``AVX2``, ``AVX512``, …), "" if unknown

    @property
    def amx_bf16(self) -> bool:
        return all(f in self.flags for f in _AMX)

    @property
    def avx512(self) -> bool:
        return all(f in self.flags for f in _AVX512)

    @property
    def avx2(self) -> bool:
        return "avx2" in self.flags and "fma" in self.flags

    @property
    def vnni(self) -> bool:
        return any(f in self.flags for f in _VNNI)

    @property
    def isa(self) -> str:
        """The widest vector ISA: ``AMX``, ``AVX-512``, ``AVX2`` or ``baseline``."""
        if self.amx_bf16:
            return "AMX"
        if self.avx512:
            return "AVX-512"
        return "AVX2" if self.avx2 else "baseline"

    def matmul_path(self, dtype: str = "auto") -> str:
        """The path passages take with embedding dtype ``dtype`` (as ``_torch_dtype`` picks)."""
        if dtype == "int8":
            return f"{self.isa} int8" + (" (VNNI)" if self.vnni else "")
        bf16 = dtype in ("bfloat16", "bf16") or (dtype == "auto" and self.amx_bf16)
        if bf16:
            if self.amx_bf16:
                return "AMX bf16"
            # AVX512_BF16's dot products do not make up for the conversions: 0.63x the
            # fp32 speed measured on a Xeon with them (eval/README.md); without, emulated
            how = "slower than fp32" if "avx512_bf16" in self.flags else "emulated, slow"
            return f"{self.isa} bf16 ({how})"
        return f"{self.isa} fp32"

    def summary(self, dtype: str = "auto") -> str:
        """One line: model, cores, ISA flags, torch's level and the embedder's path."""
        have = [name for name, on in (("AMX", self.amx_bf16), ("AVX-512", self.avx512),
                                      ("AVX2", self.avx2), ("VNNI int8", self.vnni)) if on]
        torch_cap = f", torch {self.torch_capability}" if self.torch_capability else ""
        return (f"{self.model}, {self.cores} cores ({', '.join(have) or 'no AVX2'}{torch_cap}); "
                f"embedder: {self.matmul_path(dtype)}")

    def to_json(self, dtype: str = "auto") -> dict[str, object]:
        return {"model": self.model, "cores": self.cores, "isa": self.isa,
                "amx_bf16": self.amx_bf16, "avx512": self.avx512, "avx2": self.avx2,
                "vnni": self.vnni, "torch_capability": self.torch_capability,
                "embedder_path": self.matmul_path(dtype)}


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _cpuinfo(text: str) -> tuple[str, frozenset[str]]:
    """Model name and flags of the first processor in a /proc/cpuinfo text."""
    model, flags = "", frozenset[str]()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key == "flags" and not flags:
            flags = frozenset(value.split())
    return model, flags


@functools.cache
def cpu_info(with_torch: bool = True) -> CpuInfo:
    """The CPU, read from /proc/cpuinfo; ``with_torch`` adds torch's capability (imports torch)."""
    try:
        model, flags = _cpuinfo(Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace"))
    except OSError:  # not Linux: no flags, so the fp32 path is assumed
        model, flags = "", frozenset()
    capability = ""
    if with_torch:
        try:
            import torch

            capability = str(torch.backends.cpu.get_cpu_capability())
        except (ImportError, AttributeError):
            pass
    return CpuInfo(model or platform.processor() or platform.machine(), usable_cpus(), flags,
                   capability)


def gemm_peak(threads: int, dtype: str = "float32", n: int = 1024, seconds: float = 1.0
              ) -> float:
    """GFLOPS of ``torch.mm`` on two n×n matrices with ``threads`` intra-op threads: the
    peak of the matmul path, measured now (on a shared machine, in the same run as
    whatever it is compared with). The best of repeated multiplications for ``seconds``."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        a = torch.randn(n, n, dtype=getattr(torch, dtype))
        b = torch.randn(n, n, dtype=a.dtype)
        torch.mm(a, b)  # warm-up: packing buffers, thread pool
        best, end = float("inf"), time.perf_counter() + seconds
        while time.perf_counter() < end:
            t = time.perf_counter()
            torch.mm(a, b)
            best = min(best, time.perf_counter() - t)
        return 2 * n**3 / best / 1e9
    finally:
        torch.set_num_threads(previous)
