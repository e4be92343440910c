"""Style network speed through the server: one Stylize per image against one Gatys step, same server.

A server process serves the repository (the style networks and the VGG19 backbone). Times
are taken by a gRPC client, so decoding the request's PNG, resizing, the network, encoding
the PNG reply and the transport are all included:

- network: unary Stylize with ``--model`` (a STYLE_NETWORK) on a photo at each ``--sizes``
  side (longest side), median of ``--repeats`` calls after two warm-ups;
- Gatys step: StylizeStream with the default model (VGG19) at 512 px, the median time
  between progress events (one L-BFGS step each), same server, same photo;
- throughput: ``--clients`` concurrent clients calling the network at 512 px for ``--seconds``.

The ratio network / Gatys step at 512 px is the figure the issue sets (target at most 0.5).
The CPU is named with its bf16 flags and load average (the machines are shared: rerun on a
quiet one for absolute figures).

    python -m bench.style_net_bench --model style-starry-night --repeats 15
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

import grpc
import numpy as np
from PIL import Image
from skimage import data

from bench.common import closed_loop, cpu_bf16_report, describe_cpu, print_table, server_process, write_results
from oneiros.v1 import oneiros_pb2 as pb
from oneiros.v1 import oneiros_pb2_grpc


def photo_png(side: int) -> bytes:
    """scikit-image's astronaut at ``side`` px (an evaluation photo: never trained on), as PNG."""
    image = Image.fromarray(data.astronaut()).resize((side, side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def network_call(stub, model: str, content: bytes, side: int):
    request = pb.StylizeRequest(model=model, content=pb.Image(data=content), max_side=side)
    return lambda: stub.Stylize(request, timeout=600)


def timed(call, repeats: int) -> list[float]:
    call(), call()  # warm-up: first-call costs, batcher thread start
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def gatys_step_s(stub, content: bytes, style: bytes, steps: int) -> float:
    """Median seconds between StylizeStream progress events (one L-BFGS step each) at 512 px."""
    request = pb.StylizeRequest(content=pb.Image(data=content), style=pb.Image(data=style), steps=steps, max_side=512)
    stamps = [time.perf_counter() for m in stub.StylizeStream(request, timeout=3600) if m.HasField("progress")]
    return statistics.median(np.diff(stamps))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="style-starry-night")
    p.add_argument("--model-repository", default="models")
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--gatys-steps", type=int, default=6, help="steps of the Gatys run whose step time is taken")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--out", default="style_net")
    args = p.parse_args()
    cpu = cpu_bf16_report()
    print(describe_cpu(cpu), flush=True)
    style = open("docs/img/style-starry-night.jpg", "rb").read()
    results: dict = {"cpu": cpu, "model": args.model, "sizes": {}}
    with server_process("--model-repository", args.model_repository) as port:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", 64 << 20)])
        stub = oneiros_pb2_grpc.OneirosStub(channel)
        for side in args.sizes:
            times = timed(network_call(stub, args.model, photo_png(side), side), args.repeats)
            results["sizes"][side] = {"median_s": statistics.median(times), "min_s": min(times), "calls": len(times)}
            print(f"network {side} px: median {statistics.median(times) * 1000:.0f} ms", flush=True)
        results["gatys_step_512_s"] = gatys_step_s(stub, photo_png(512), style, args.gatys_steps)
        load = closed_loop(network_call(stub, args.model, photo_png(512), 512), args.clients, args.seconds)
        results["throughput_512"] = load
        channel.close()
    gatys = results["gatys_step_512_s"]
    rows = [[f"network {s} px", v["median_s"] * 1000, v["min_s"] * 1000, ""] for s, v in results["sizes"].items()]
    rows.append(["Gatys step 512 px", gatys * 1000, "", f"{args.gatys_steps} steps"])
    if 512 in results["sizes"]:
        ratio = results["sizes"][512]["median_s"] / gatys
        results["network_512_over_gatys_step"] = ratio
        rows.append(["network 512 / Gatys step", ratio, "", "target <= 0.5"])
        rows.append(["Gatys 100 steps / network 512", 100 / ratio, "", "x faster"])
    rows.append([f"{args.clients} clients, 512 px", load.throughput, "", f"images/s, p50 {load.p50_ms:.0f} ms"])
    print_table(["what", "median (ms)", "min (ms)", "note"], rows)
    print(write_results(args.out, results))


if __name__ == "__main__":
    main()
