"""The numeric precision the VGG19 backbone runs in: float32, or bfloat16 autocast.

``--precision auto`` (the default) picks bfloat16 where the device runs it fast:

- CUDA: when ``torch.cuda.is_bf16_supported()`` (Ampere and later);
- CPU: when the processor has bfloat16 matrix instructions (``amx_bf16`` or
  ``avx512_bf16`` in ``/proc/cpuinfo``, which oneDNN uses for convolutions) and torch's
  own kernels are at least AVX512 (``torch.backends.cpu.get_cpu_capability()``).

Elsewhere ``auto`` means float32: without those instructions bfloat16 is emulated, and a
VGG19 pass is about ten times slower (measured on an AMD EPYC with AVX2 only).
``bf16`` forces autocast anyway (for testing), ``fp32`` turns it off.

Only the backbone's convolutions run in bfloat16: Gram matrices, losses, the optimiser
state and the image stay float32 (float16 Gram matrices overflow; bfloat16 ones lose
too many digits). The detection runs once, when a CONVNET model is loaded.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch

log = logging.getLogger(__name__)

Setting = Literal["auto", "fp32", "bf16"]
CPU_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


def cpu_flags() -> frozenset[str]:
    """The ``flags`` of the first processor in ``/proc/cpuinfo`` (empty where there is none)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def cpu_capability() -> str:
    """torch's vectorised kernel level on this CPU: "DEFAULT", "AVX2", "AVX512", ..."""
    return torch.backends.cpu.get_cpu_capability()


@dataclass(frozen=True)
class Bf16Support:
    """Whether a device runs bfloat16 convolutions fast, and the evidence."""

    fast: bool
    evidence: str  # e.g. "torch capability AVX2; no amx_bf16/avx512_bf16 in /proc/cpuinfo"


def cpu_bf16_support() -> Bf16Support:
    """bfloat16 on this CPU: fast with AMX or AVX512-BF16 and AVX512 torch kernels."""
    capability = cpu_capability()
    present = [flag for flag in CPU_BF16_FLAGS if flag in cpu_flags()]
    fast = bool(present) and capability.startswith("AVX512") and torch.backends.mkldnn.is_available()
    found = ", ".join(present) if present else "no " + "/".join(CPU_BF16_FLAGS)
    return Bf16Support(fast, f"torch capability {capability}; {found} in /proc/cpuinfo")


def cuda_bf16_support(device: torch.device) -> Bf16Support:
    """bfloat16 on a CUDA device: what ``torch.cuda.is_bf16_supported()`` says."""
    fast = torch.cuda.is_bf16_supported()
    return Bf16Support(fast, f"{torch.cuda.get_device_name(device)}: is_bf16_supported={fast}")


def bf16_support(device: torch.device) -> Bf16Support:
    return cuda_bf16_support(device) if device.type == "cuda" else cpu_bf16_support()


@dataclass(frozen=True)
class Precision:
    """The backbone's precision on one device; ``autocast()`` wraps its forward passes."""

    name: Literal["fp32", "bf16"]
    device_type: str  # "cpu" or "cuda"
    reason: str = ""

    @classmethod
    def fp32(cls, device_type: str = "cpu") -> Precision:
        return cls("fp32", device_type, "requested")

    @property
    def dtype(self) -> torch.dtype:
        return torch.bfloat16 if self.name == "bf16" else torch.float32

    def autocast(self) -> AbstractContextManager:
        """bfloat16 autocast for ``bf16``; nothing for ``fp32``."""
        if self.name == "bf16":
            return torch.autocast(self.device_type, dtype=torch.bfloat16)
        return nullcontext()


def choose_precision(setting: Setting, device: torch.device) -> Precision:
    """The precision to run on ``device`` for ``setting`` (auto: bf16 where it is fast)."""
    if setting == "fp32":
        return Precision("fp32", device.type, "--precision fp32")
    support = bf16_support(device)
    if setting == "bf16":
        if not support.fast:
            log.warning("precision bf16 on %s without fast bf16 kernels (%s)", device.type, support.evidence)
        return Precision("bf16", device.type, f"--precision bf16 ({support.evidence})")
    name: Literal["fp32", "bf16"] = "bf16" if support.fast else "fp32"
    return Precision(name, device.type, f"auto: {support.evidence}")
