"""How many cores this process may use, and how the torch/ONNX Runtime threads divide among workers."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from oneiros_server.settings import Settings

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")  # cgroup v2: "<quota> <period>" or "max <period>"


def available_cores(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """CPUs this process may run on, capped by a cgroup CPU quota (a container's CPU limit)."""
    cores = len(os.sched_getaffinity(0))
    try:
        quota, period = cpu_max.read_text().split()
    except (OSError, ValueError):
        return cores
    if quota == "max":
        return cores
    return max(1, min(cores, math.ceil(int(quota) / int(period))))


@dataclass(frozen=True)
class Plan:
    """Worker processes and the threads each may start."""

    workers: int
    torch_threads: int
    ort_threads: int


def plan(settings: Settings, cores: int) -> Plan:
    """``--workers`` (0 = one per core) and threads per worker that never add up to more than ``cores``.

    A thread count set explicitly (``--torch-threads``, ``--ort-threads``) is kept as given.
    """
    workers = settings.workers or cores
    share = max(1, cores // workers)
    return Plan(
        workers=workers,
        torch_threads=settings.torch_threads or share,
        ort_threads=settings.ort_threads or share,
    )
