"""The precision setting: what ``auto`` picks from the CPU's evidence, and what GetModel reports."""

from __future__ import annotations

import shutil

import pytest
import torch

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.runtime import precision
from oneiros_server.runtime.precision import Precision, choose_precision
from oneiros_server.settings import Settings
from tests.conftest import REPO_ROOT

CPU = torch.device("cpu")


@pytest.fixture
def cpu(monkeypatch):
    """Pretend to be a CPU with the given /proc/cpuinfo flags and torch kernel level."""

    def pretend(flags: set[str], capability: str = "AVX512") -> None:
        monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(flags))
        monkeypatch.setattr(precision, "cpu_capability", lambda: capability)

    return pretend


def test_auto_is_fp32_on_a_cpu_without_bf16_kernels(cpu):
    cpu({"avx2", "fma", "avx512f"})  # AVX512 but no bf16 instructions (an AMD EPYC of this kind)
    chosen = choose_precision("auto", CPU)
    assert chosen.name == "fp32" and "no amx_bf16/avx512_bf16" in chosen.reason
    cpu({"avx2", "fma"}, "AVX2")
    assert choose_precision("auto", CPU).name == "fp32"


@pytest.mark.parametrize("flag", ["amx_bf16", "avx512_bf16"])
def test_auto_is_bf16_on_a_cpu_with_amx_or_avx512_bf16(cpu, flag):
    cpu({"avx2", "avx512f", flag})
    chosen = choose_precision("auto", CPU)
    assert chosen.name == "bf16" and flag in chosen.reason and chosen.dtype == torch.bfloat16
    cpu({"avx2", flag}, "AVX2")  # torch's kernels would not use them
    assert choose_precision("auto", CPU).name == "fp32"


def test_explicit_settings_win_over_detection(cpu):
    cpu({"amx_bf16"})
    assert choose_precision("fp32", CPU).name == "fp32"
    cpu(set(), "AVX2")
    assert choose_precision("bf16", CPU).name == "bf16"  # slow here, but asked for


def test_autocast_runs_the_backbone_in_bfloat16_only_when_asked():
    conv = torch.nn.Conv2d(3, 4, 3)
    x = torch.rand(1, 3, 8, 8)
    with Precision("bf16", "cpu").autocast():
        assert conv(x).dtype == torch.bfloat16
    with Precision.fp32("cpu").autocast():
        assert conv(x).dtype == torch.float32


def test_the_real_cpu_is_read_from_cpuinfo():
    support = precision.cpu_bf16_support()
    flags = precision.cpu_flags()
    assert support.fast == (
        any(f in flags for f in precision.CPU_BF16_FLAGS) and precision.cpu_capability().startswith("AVX512")
    )
    assert precision.cpu_capability() in support.evidence


def test_precision_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ONEIROS_PRECISION", "bf16")
    assert Settings(model_repository=tmp_path).precision == "bf16"
    monkeypatch.setenv("ONEIROS_PRECISION", "fp16")
    with pytest.raises(ValueError):
        Settings(model_repository=tmp_path)


def test_get_model_reports_device_and_precision(serve, tmp_path, cpu):
    shutil.copytree(REPO_ROOT / "models" / "vgg19-imagenet", tmp_path / "vgg19-imagenet")
    cpu({"avx2"}, "AVX2")
    running = serve(tmp_path, device="cpu", torch_threads=1)
    info = running.stub.GetModel(pb.GetModelRequest(name="vgg19-imagenet"))
    assert (info.device, info.precision) == ("cpu", "fp32")
    forced = serve(tmp_path, device="cpu", torch_threads=1, precision="bf16")
    info = forced.stub.GetModel(pb.GetModelRequest(name="vgg19-imagenet"))
    assert (info.device, info.precision) == ("cpu", "bf16")
