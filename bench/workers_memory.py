"""Memory of the server with 1 and N worker processes, idle, the default models loaded.

    python -m bench.workers_memory [--workers 1,2,4]

Per process, from ``/proc/<pid>/smaps_rollup``: RSS (resident), PSS (resident, shared pages
divided among the processes sharing them) and USS (private: what the process alone holds).
RSS - USS is what a process shares with others (the parent's pages copied at fork, the
shared libraries). The sum of PSS is what the server costs the machine.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.common import machine, print_table, server_process_with_pid, write_results


def smaps(pid: int) -> dict[str, float]:
    """RSS, PSS and USS of ``pid`` in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) / 1024
    return {"rss": fields["Rss"], "pss": fields["Pss"], "uss": fields["Private_Clean"] + fields["Private_Dirty"]}


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    rows, results = [], {}
    for workers in args.workers.split(","):
        with server_process_with_pid("--workers", workers) as (_port, pid, _):
            processes = {"server" if workers == "1" else "parent": smaps(pid)}
            processes |= {f"worker {i}": smaps(child) for i, child in enumerate(children(pid))}
        results[workers] = processes
        for name, m in processes.items():
            rows.append([workers, name, m["rss"], m["pss"], m["uss"], m["rss"] - m["uss"]])
        total = {k: sum(m[k] for m in processes.values()) for k in ("rss", "pss", "uss")}
        rows.append([workers, "total", total["rss"], total["pss"], total["uss"], total["rss"] - total["uss"]])
    cpu = machine()
    print(f"Idle memory, default models, MiB; {cpu['cpu']}, {cpu['cores']} cores")
    print_table(["--workers", "process", "RSS", "PSS", "USS (private)", "shared"], rows)
    print(f"wrote {write_results('workers_memory', results)}")


if __name__ == "__main__":
    main()
