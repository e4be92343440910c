"""bench.ab's verdicts and the figures it reads from each bench's JSON (no bench is run)."""

from __future__ import annotations

from pathlib import Path

from bench.ab import summarise, tree_env
from bench.ab_benches import Figure, decode_figures, dream_figures


def runs(a: list[float], b: list[float], higher_is_better: bool = True, peer: bool = False) -> dict:
    return {tree: [{"x": Figure(v, higher_is_better, peer)} for v in values] for tree, values in (("A", a), ("B", b))}


def verdict(*args, **kwargs) -> str:
    (row,) = summarise(runs(*args, **kwargs))
    return row["verdict"]


def test_a_drop_inside_the_spread_between_rounds_is_noise():
    assert verdict([100, 120], [100, 104]) == "within noise"  # B/A 0.93, A's rounds 18 % apart


def test_a_drop_beyond_the_spread_is_worse_and_a_rise_better():
    assert verdict([100, 102], [80, 81]) == "WORSE"
    assert verdict([100, 102], [130, 131]) == "better"


def test_for_times_lower_is_better():
    assert verdict([1.0, 1.02], [1.3, 1.31], higher_is_better=False) == "WORSE"
    assert verdict([1.0, 1.02], [0.7, 0.71], higher_is_better=False) == "better"


def test_one_round_gives_no_verdict():
    assert verdict([100], [50]) == "no noise seen (1 round)"


def test_peers_get_no_verdict():
    assert verdict([100, 102], [50, 51], peer=True) == "peer"


def test_a_figure_missing_from_one_run_is_left_out():
    both = runs([1.0, 1.0], [1.0, 1.0])
    del both["B"][1]["x"]
    assert summarise(both) == []


def test_a_tree_env_puts_only_that_trees_sources_on_the_path(tmp_path: Path):
    path = tree_env(tmp_path)["PYTHONPATH"].split(":")
    assert path[0] == str(tmp_path / "server") and all(p.startswith(str(tmp_path)) for p in path)


def test_decode_and_dream_figures_mark_peers_and_directions():
    one = {"throughput": 100.0, "p99_ms": 5.0}
    decode = decode_figures(
        {"median": {"oneiros": {"1": one}, "floor": {"1": one}}, "ratios": {"1": {"vs_floor": 1.0, "p99_vs_x": 2.0}}}
    )
    assert decode["Decode 1 cl, floor req/s"].peer and not decode["Decode 1 cl, oneiros req/s"].peer
    assert decode["Decode 1 cl, oneiros vs_floor"].higher_is_better
    assert not decode["Decode 1 cl, oneiros p99_vs_x"].higher_is_better
    dream = dream_figures({"rows": [{"side": 64, "served_fp32_s_per_step": 1.0, "floor_s_per_step": 0.5,
                                     "served_fp32_vs_floor": 2.0}]})  # fmt: skip
    assert dream["Dream 64 px, floor s/step"].peer and not dream["Dream 64 px, served_fp32 s/step"].higher_is_better
    assert dream["Dream 64 px, served_fp32 / floor"].value == 2.0


def test_the_peers_venv_is_linked_into_each_tree_for_the_run_only(tmp_path: Path, monkeypatch):
    import bench.ab

    (tmp_path / "repo" / ".venv-peers").mkdir(parents=True)
    monkeypatch.setattr(bench.ab, "RESULTS", tmp_path / "repo" / "bench" / "results")
    tree = tmp_path / "before"
    tree.mkdir()
    with bench.ab.shared_peers([tree, tree]):
        assert (tree / ".venv-peers").resolve() == (tmp_path / "repo" / ".venv-peers").resolve()
    assert not (tree / ".venv-peers").exists()
