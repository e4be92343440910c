"""Worker processes and threads never ask for more cores than the process may use."""

from __future__ import annotations

import os

import pytest

from oneiros_server.settings import Settings
from oneiros_server.workers.cores import available_cores, plan


@pytest.fixture
def settings(tmp_path):
    def make(**fields) -> Settings:
        return Settings(model_repository=tmp_path, **fields)

    return make


def test_a_cgroup_quota_caps_the_cores(tmp_path):
    affinity = len(os.sched_getaffinity(0))
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("150000 100000\n")  # 1.5 CPUs: two cores, partly
    assert available_cores(cpu_max) == min(2, affinity)
    cpu_max.write_text("50000 100000\n")
    assert available_cores(cpu_max) == 1
    cpu_max.write_text("max 100000\n")
    assert available_cores(cpu_max) == affinity
    assert available_cores(tmp_path / "absent") == affinity


@pytest.mark.parametrize(
    ("workers", "cores", "expected"),
    [(1, 8, (1, 8, 8)), (0, 8, (8, 1, 1)), (2, 8, (2, 4, 4)), (3, 8, (3, 2, 2)), (4, 2, (4, 1, 1))],
)
def test_threads_are_divided_among_workers(settings, workers, cores, expected):
    layout = plan(settings(workers=workers, torch_threads=0, ort_threads=0), cores)
    assert (layout.workers, layout.torch_threads, layout.ort_threads) == expected
    assert layout.workers * layout.torch_threads <= max(cores, layout.workers)


def test_threads_set_explicitly_are_kept(settings):
    layout = plan(settings(workers=2, torch_threads=3, ort_threads=1), 8)
    assert (layout.torch_threads, layout.ort_threads) == (3, 1)
