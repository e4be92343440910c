"""A/B: the same benchmarks on two source trees, alternately, one table of medians and the noise.

    python -m bench.ab --a /work/wt/before --b . [--rounds 2] [--benches decode,sample,dream,stylize]
    python -m bench.ab --a /work/wt/before --b /work/wt/before --rounds 1 --tiny    # a smoke run

Each round runs every chosen bench (``bench.ab_benches``) on tree A, then on tree B
(A B A B ...). A bench is a process started in its tree with that tree's sources first on
PYTHONPATH, as ``wtpy`` does, so the servers it starts and the engines it imports are that
tree's; before the first round, a grandchild process of each tree (as a bench's server is)
prints the ``oneiros_server`` it imports, and the run stops if that is not the tree's own.
The load average is recorded before and after every round.

Per figure: the median over rounds of each tree, B/A, and the spread between rounds of one
tree, (max - min) / median: the noise. A figure of B is called worse only where B/A is worse
than 1 by more than the larger of the two spreads. Peer rows (MLServer, the floor, pastiche)
run the same code in both trees: their B/A shows how far the machine alone moved.
Writes ab.json and each bench run's output to bench/results/ab/<date-time>/.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.ab_benches import BENCHES, Figure
from bench.common import RESULTS, machine, print_table

PATHS = ("server", "training", "export", "proto", "clients/python", ".")  # wtpy's, in its order
PROBE = (
    "import subprocess, sys; subprocess.run([sys.executable, '-c', "
    "'import oneiros_server; print(oneiros_server.__file__)'], check=True)"
)


def tree_env(tree: Path) -> dict[str, str]:
    """This environment with ``tree``'s sources (and nothing else) on PYTHONPATH."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(str((tree / p).resolve()) for p in PATHS)}


def check_tree(tree: Path) -> str:
    """The ``oneiros_server`` a grandchild process started in ``tree`` imports; it must be the tree's."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tree, env=tree_env(tree), capture_output=True, text=True, check=True
    )
    path = Path(out.stdout.strip()).resolve()
    if not path.is_relative_to(tree.resolve()):
        raise SystemExit(f"{tree}: a server subprocess imports {path}, not the tree's own oneiros_server")
    return str(path)


@contextmanager
def shared_peers(trees: list[Path]) -> Iterator[None]:
    """Let each tree's decode bench use this repository's MLServer venv (one venv for all trees):
    a link in each tree that lacks one, removed afterwards so that the tree is left as found."""
    mine = RESULTS.parent.parent / ".venv-peers"
    links = [t / ".venv-peers" for t in trees if mine.exists() and not (t / ".venv-peers").exists()]
    for link in dict.fromkeys(links):
        link.symlink_to(mine)
    try:
        yield
    finally:
        for link in dict.fromkeys(links):
            link.unlink(missing_ok=True)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_bench(name: str, tree: Path, tiny: bool, log: Path) -> dict[str, Figure] | str:
    """One bench in ``tree``: its figures, or the reason it failed (the log's last lines)."""
    bench = BENCHES[name]
    out = log.with_suffix(".json")
    argv = [sys.executable, "-m", bench.module, *bench.args(tiny, out)]
    started = time.perf_counter()
    with log.open("w") as f:
        f.write(f"# cwd {tree}\n# {' '.join(argv)}\n")
        f.flush()
        done = subprocess.run(argv, cwd=tree, env=tree_env(tree), stdout=f, stderr=subprocess.STDOUT)
    print(f"  {name}: {time.perf_counter() - started:.0f} s", flush=True)
    if done.returncode != 0:
        return f"exit {done.returncode}: " + " / ".join(log.read_text().splitlines()[-3:])
    result = bench.result_path(tree, out)
    figures = bench.figures(json.loads(result.read_text()))
    result.unlink(missing_ok=True)  # no stale file for the next run to read
    return figures


def spread(values: list[float]) -> float:
    mid = statistics.median(values)
    return (max(values) - min(values)) / abs(mid) if mid else float("nan")


def summarise(runs: dict[str, list[dict[str, Figure]]]) -> list[dict]:
    """One row per figure present in every run of both trees."""
    names = [n for n in runs["A"][0] if all(n in r for t in "AB" for r in runs[t])] if runs["A"] else []
    rows = []
    for name in names:
        a = [r[name].value for r in runs["A"]]
        b = [r[name].value for r in runs["B"]]
        figure = runs["A"][0][name]
        row = {"figure": name, "A": statistics.median(a), "B": statistics.median(b), "A_rounds": a, "B_rounds": b}
        row["B/A"] = row["B"] / row["A"] if row["A"] else float("nan")
        row["A_spread"], row["B_spread"] = spread(a), spread(b)
        noise = max(row["A_spread"], row["B_spread"])
        worse = row["B/A"] < 1 - noise if figure.higher_is_better else row["B/A"] > 1 + noise
        better = row["B/A"] > 1 + noise if figure.higher_is_better else row["B/A"] < 1 - noise
        row["verdict"] = "peer" if figure.peer else "WORSE" if worse else "better" if better else "within noise"
        if min(len(a), len(b)) < 2 and not figure.peer:
            row["verdict"] = "no noise seen (1 round)"
        rows.append(row)
    return rows


def run_rounds(trees: dict[str, Path], benches: list[str], rounds: int, tiny: bool, folder: Path):
    """A B A B ...: each tree's figures per round, the failures, the load average around each round."""
    runs: dict[str, list[dict[str, Figure]]] = {"A": [], "B": []}
    failures, loads = [], []
    for round_ in range(1, rounds + 1):
        for label, tree in trees.items():
            before = load_average()
            print(f"round {round_}, {label}: load {before}", flush=True)
            figures: dict[str, Figure] = {}
            for name in benches:
                got = run_bench(name, tree, tiny, folder / f"{round_}{label}-{name}.log")
                if isinstance(got, str):
                    failures.append(f"round {round_}, {label}, {name}: {got}")
                    print(f"  FAILED {failures[-1]}", flush=True)
                else:
                    figures.update(got)
            runs[label].append(figures)
            loads.append({"round": round_, "tree": label, "load_before": before, "load_after": load_average()})
    return runs, failures, loads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", type=Path, required=True, help="tree A (before)")
    parser.add_argument("--b", type=Path, required=True, help="tree B (after)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each tree (A B A B ...)")
    parser.add_argument("--benches", default=",".join(BENCHES), help=f"any of {','.join(BENCHES)}")
    parser.add_argument("--tiny", action="store_true", help="smallest settings: checks the plumbing only")
    args = parser.parse_args()
    benches = args.benches.split(",")
    trees = {"A": args.a.resolve(), "B": args.b.resolve()}
    folder = RESULTS / "ab" / time.strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True)
    cpu = machine()
    print(f"{cpu['cpu']}, {cpu['cores']} cores; benches {', '.join(benches)}; {args.rounds} rounds of each tree")
    for label, tree in trees.items():
        print(f"{label}: {tree} (git {git_head(tree)}) imports {check_tree(tree)}")
    with shared_peers(list(trees.values())):
        runs, failures, loads = run_rounds(trees, benches, args.rounds, args.tiny, folder)
    rows = summarise(runs)
    print(f"\n{cpu['cpu']}, {cpu['cores']} cores; A = {trees['A']}, B = {trees['B']}; medians of {args.rounds}")
    print_table(
        ["figure", "A", "B", "B/A", "A spread", "B spread", "verdict"],
        [[r["figure"], r["A"], r["B"], r["B/A"], r["A_spread"], r["B_spread"], r["verdict"]] for r in rows],
    )
    print_table(["round", "tree", "load before (1/5/15 min)", "load after"],
                [[x["round"], x["tree"], str(x["load_before"]), str(x["load_after"])] for x in loads])  # fmt: skip
    for failure in failures:
        print("FAILED", failure)
    path = folder / "ab.json"
    payload = {"machine": cpu, "trees": {k: str(v) for k, v in trees.items()}, "git": {k: git_head(v) for k, v in
               trees.items()}, "tiny": args.tiny, "rows": rows, "loads": loads, "failures": failures}  # fmt: skip
    path.write_text(json.dumps(payload, indent=2))
    print(f"wrote {path}")


def git_head(tree: Path) -> str:
    out = subprocess.run(["git", "-C", str(tree), "log", "-1", "--format=%h %s"], capture_output=True, text=True)
    return out.stdout.strip()[:72]


if __name__ == "__main__":
    main()
