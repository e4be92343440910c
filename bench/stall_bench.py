"""A stalled reader's memory: DreamStream at 512 px with a preview every step, for 40 s.

    python -m bench.stall_bench [--seconds 40] [--side 512]

Two fresh server processes, one after the other, the same request: in one the
client reads every message; in the other it reads the first message and then stops
reading (the connection stays open). The server's resident set is sampled every
second; the figure is its growth over the window (peak minus the value after the
first message), and the stalled reader's growth beyond the full reader's.
"""

from __future__ import annotations

import argparse
import threading
import time

import grpc

from bench.common import machine, print_table, server_process_with_pid, write_results
from bench.soak import rss_bytes, test_image
from oneiros.v1 import oneiros_pb2 as pb
from oneiros.v1 import oneiros_pb2_grpc


def run(stalled: bool, side: int, seconds: float) -> dict:
    request = pb.DreamRequest(
        image=pb.Image(data=test_image(side)),
        max_side=side,
        octaves=1,
        steps_per_octave=2000,
        preview_every=1,
        output_format=pb.PNG,
    )
    with server_process_with_pid("--torch-threads", "1", "--job-max-side", str(side)) as (port, pid, _):
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = oneiros_pb2_grpc.OneirosStub(channel).DreamStream(request, timeout=seconds + 60)
            next(call)
            start = rss_bytes(pid)
            stop = time.monotonic() + seconds
            received = [1]

            def read() -> None:
                try:
                    for _ in call:
                        received[0] += 1
                        if time.monotonic() > stop:
                            break
                except grpc.RpcError:
                    pass

            if not stalled:
                threading.Thread(target=read, daemon=True).start()
            peak = start
            while time.monotonic() < stop:
                time.sleep(1)
                peak = max(peak, rss_bytes(pid))
            call.cancel()
    return {"stalled": stalled, "rss_start_mb": start / 2**20, "rss_peak_mb": peak / 2**20,
            "growth_mb": (peak - start) / 2**20, "messages_read": received[0]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--side", type=int, default=512)
    args = parser.parse_args()
    full = run(False, args.side, args.seconds)
    stalled = run(True, args.side, args.seconds)
    cpu = machine()
    print(f"DreamStream {args.side} px, preview every step, {args.seconds:.0f} s; {cpu['cpu']}, {cpu['cores']} cores")
    rows = [["read in full", *list(full.values())[1:]], ["stalled", *list(stalled.values())[1:]]]
    print_table(["reader", "RSS start MiB", "RSS peak MiB", "growth MiB", "messages read"], rows)
    beyond = stalled["growth_mb"] - full["growth_mb"]
    print(f"stalled reader's growth beyond the full reader's: {beyond:.1f} MiB (target <= 50)")
    path = write_results("stall", {"side": args.side, "seconds": args.seconds, "full": full, "stalled": stalled,
                                   "beyond_mb": beyond})  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
