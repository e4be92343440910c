"""``make image-test``: run the built image as the Deployment runs it, and call it as users do.

The container gets the Deployment's security context (read-only root with a /tmp tmpfs, every
capability dropped, uid 10001, no privilege escalation) and loopback-only published ports. Checked:
the image's HEALTHCHECK survives the build, health reaches SERVING (inside the container too), one
call per RPC family over gRPC and over HTTP, /metrics, with worker processes (``--env
ONEIROS_WORKERS=2``) a killed worker replaced, and a SIGTERM drain that lets an in-flight
stream finish and exits 0. Printed: image size, time to SERVING, idle memory, SIGTERM exit time.

    .venv/bin/python deploy/image_test.py --engine podman --image oneiros:latest [--env ONEIROS_WORKERS=2]
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import threading
import time

import grpc
import httpx
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image

from oneiros.v1 import oneiros_pb2 as pb
from oneiros.v1 import oneiros_pb2_grpc

PORTS = {"grpc": 50051, "http": 8080, "metrics": 9464}
SECURITY = ["--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "--user", "10001"]
SECURITY += ["--security-opt", "no-new-privileges"]
ENGINE = "podman"
# Memory of every process in the container but this probe (the server, or the parent and its workers):
# PSS, where pages shared among them count once.
PSS_MIB = """
import glob, os
total = 0
for path in glob.glob("/proc/[0-9]*/smaps_rollup"):
    if path.split("/")[2] != str(os.getpid()):
        total += sum(int(line.split()[1]) for line in open(path) if line.startswith("Pss:"))
print(total / 1024)
"""


def engine(*args: str, check: bool = True) -> str:
    out = subprocess.run([ENGINE, *args], capture_output=True, text=True)
    if check and out.returncode != 0:
        raise SystemExit(f"{ENGINE} {' '.join(args)} failed:\n{out.stdout}{out.stderr}")
    return out.stdout.strip()


def logs(name: str) -> str:
    """The container's output, stdout and stderr (where the server logs) together."""
    out = subprocess.run([ENGINE, "logs", name], capture_output=True, text=True)
    return out.stdout + out.stderr


def _json_line(line: str) -> dict:
    """A log line's JSON object; {} for other output (the console span exporter's, say)."""
    try:
        entry = json.loads(line)
    except ValueError:
        return {}
    return entry if isinstance(entry, dict) else {}


def png(side: int, seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def check_image(image: str) -> None:
    info = json.loads(engine("image", "inspect", image))[0]
    size_mb = int(info["Size"]) / 1e6
    health = info.get("Config", {}).get("Healthcheck") or info.get("Healthcheck")
    assert health and "oneiros_server.transport.grpc.healthcheck" in " ".join(health["Test"]), (
        "HEALTHCHECK is missing (podman: build with --format docker)"
    )
    print(f"image {image}: {size_mb:,.0f} MB, HEALTHCHECK kept")


def wait_serving(target: str, name: str, timeout_s: float = 300) -> None:
    start = time.monotonic()
    with grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() - start < timeout_s:
            try:
                if stub.Check(health_pb2.HealthCheckRequest(service="oneiros.v1.Oneiros"), timeout=2).status == 1:
                    return
            except grpc.RpcError:
                pass
            if engine("inspect", "--format", "{{.State.Running}}", name) != "true":
                raise SystemExit("the container exited before SERVING:\n" + logs(name))
            time.sleep(0.25)
    raise SystemExit(f"not SERVING after {timeout_s:.0f} s:\n" + logs(name))


def grpc_calls(target: str) -> None:
    with grpc.insecure_channel(target) as channel:
        stub = oneiros_pb2_grpc.OneirosStub(channel)
        models = stub.ListModels(pb.ListModelsRequest(), timeout=30).models
        assert models, "ListModels is empty"
        text = stub.Sample(pb.SampleRequest(prompt="In the beginning", max_tokens=16, seed=1), timeout=60)
        assert text.completions[0].text
        decoded = stub.Decode(pb.DecodeRequest(count=2, seed=3), timeout=60)
        assert len(decoded.images) == 2
        edited = stub.EditLatent(pb.EditLatentRequest(image=pb.Image(data=png(28, 1))), timeout=60)
        assert edited.images
        dream = stub.Dream(
            pb.DreamRequest(image=pb.Image(data=png(96, 2)), max_side=96, octaves=1, steps_per_octave=2), timeout=120
        )
        assert dream.image.data
        style = stub.Stylize(
            pb.StylizeRequest(content=pb.Image(data=png(96, 3)), style=pb.Image(data=png(96, 4)), max_side=96, steps=2),
            timeout=120,
        )
        assert style.image.data
    print(f"gRPC: ListModels ({len(models)} models), Sample, Decode, EditLatent, Dream, Stylize: OK")


def http_calls(base: str) -> None:
    with httpx.Client(base_url=base, timeout=120) as http:
        assert http.get("/healthz").status_code == 200
        assert http.get("/v1/models").json()["models"]
        calls = {
            "sample": http.post("/v1/sample", json={"prompt": "And God said", "max_tokens": 16, "seed": 1}),
            "decode": http.post("/v1/decode", json={"count": 2, "seed": 3}),
            "edit-latent": http.post("/v1/edit-latent", files={"image": png(28, 1)}),
            "dream": http.post(
                "/v1/dream", files={"image": png(96, 2)}, data={"max_side": 96, "octaves": 1, "steps_per_octave": 2}
            ),
            "stylize": http.post(
                "/v1/stylize",
                files={"content": png(96, 3), "style": png(96, 4)},
                data={"max_side": 96, "steps": 2},
            ),
        }
    failed = {name: r.text[:200] for name, r in calls.items() if r.status_code != 200}
    assert not failed, f"HTTP calls failed: {failed}"
    print("HTTP: /healthz, /v1/models, sample, decode, edit-latent, dream, stylize: OK")


def worker_restart(name: str, target: str) -> None:
    """With --workers: a worker killed with SIGKILL is replaced, and health is SERVING again."""

    def started() -> list[dict]:
        return [e for e in map(_json_line, logs(name).splitlines()) if e.get("msg") == "worker started"]

    if not started():
        return  # a single process
    victim = started()[0]["pid"]
    count = len(started())
    start = time.monotonic()
    engine("exec", name, "python", "-c", f"import os, signal; os.kill({victim}, signal.SIGKILL)")
    while len(started()) == count:
        assert time.monotonic() - start < 60, "the killed worker was not replaced"
        time.sleep(0.2)
    wait_serving(target, name)
    print(f"worker {victim} killed: replaced, SERVING again after {time.monotonic() - start:.1f} s")
    grpc_calls(target)


def sigterm_drain(name: str, target: str) -> None:
    """A stream in flight when SIGTERM arrives ends normally; the container exits 0."""
    outcome: dict[str, object] = {}

    def stream() -> None:
        with grpc.insecure_channel(target) as channel:
            stub = oneiros_pb2_grpc.OneirosStub(channel)
            chunks = stub.SampleStream(pb.SampleRequest(prompt="And", max_tokens=2000, seed=5), timeout=60)
            try:
                outcome["chunks"] = sum(1 for _ in chunks)
                outcome["code"] = "OK"
            except grpc.RpcError as exc:
                outcome["code"] = exc.code().name

    reader = threading.Thread(target=stream)
    reader.start()
    time.sleep(0.5)  # the stream is under way
    start = time.monotonic()
    engine("kill", "--signal", "TERM", name)
    exit_code = engine("wait", name)
    seconds = time.monotonic() - start
    reader.join(timeout=30)
    assert exit_code == "0", f"exit code {exit_code} after SIGTERM:\n" + logs(name)
    assert outcome.get("code") == "OK", f"the in-flight stream ended {outcome}"
    print(f"SIGTERM: exit 0 after {seconds:.1f} s; the stream in flight finished ({outcome['chunks']} chunks)")


def main() -> int:
    global ENGINE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="podman", help="podman or docker")
    parser.add_argument("--image", default="oneiros:latest")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the container (repeatable)")
    args = parser.parse_args()
    ENGINE = args.engine
    check_image(args.image)
    name = f"oneiros-image-test-{int(time.time())}"
    published = [f"--publish=127.0.0.1::{port}" for port in PORTS.values()]
    env = [f"--env={pair}" for pair in args.env]
    start = time.monotonic()
    engine("run", "--detach", "--name", name, *SECURITY, *published, *env, args.image)
    try:
        host = {k: engine("port", name, f"{p}/tcp").splitlines()[0].rsplit(":", 1)[1] for k, p in PORTS.items()}
        target = f"127.0.0.1:{host['grpc']}"
        wait_serving(target, name)
        print(f"SERVING {time.monotonic() - start:.1f} s after `{ENGINE} run` was called")
        inside = engine("exec", name, "python", "-m", "oneiros_server.transport.grpc.healthcheck")
        assert inside == "SERVING", inside
        print(f"idle memory: {float(engine('exec', name, 'python', '-c', PSS_MIB)):.0f} MiB (PSS)")
        grpc_calls(target)
        http_calls(f"http://127.0.0.1:{host['http']}")
        metrics = httpx.get(f"http://127.0.0.1:{host['metrics']}/metrics").text
        assert "oneiros_requests_total{" in metrics, "no oneiros_requests_total in /metrics"
        print("/metrics: oneiros_requests_total present")
        worker_restart(name, target)
        sigterm_drain(name, target)
    finally:
        engine("rm", "--force", name, check=False)
    print("image test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
