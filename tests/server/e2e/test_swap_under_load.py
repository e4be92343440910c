"""Swaps under load: a new version and a changed file while Decode calls and SampleStreams run.
Every call ends OK, and each answer says which version gave it."""

from __future__ import annotations

import json
import shutil
import threading

import grpc

from oneiros.v1 import oneiros_pb2 as pb
from tests.latent_models import make_latent_model
from tests.lm_tiny import tiny_lm_repository
from tests.waiting import wait_until

STREAM = pb.SampleRequest(model="tiny-lm", prompt="And God", max_tokens=30_000, temperature=1.0)  # seconds long


def test_swaps_under_load_drop_nothing(serve, tmp_path):
    make_latent_model(tmp_path, "a")
    shutil.copytree(tiny_lm_repository() / "tiny-lm", tmp_path / "tiny-lm")
    running = serve(
        tmp_path, model_control_mode="poll", repository_poll_s=0.1, grace_period_s=60, sample_max_tokens=30_000
    )
    repo = running.server.repository
    old_lm = repo.find("tiny-lm")

    stop = threading.Event()
    decoded: list[str] = []  # model_version of each answer
    failures: list[BaseException] = []

    def decode_loop() -> None:
        while not stop.is_set():
            try:
                answer = running.stub.Decode(pb.DecodeRequest(model="a", count=1), timeout=30)
                decoded.append(answer.model_version)
            except grpc.RpcError as exc:
                failures.append(exc)
                return

    streams: list[list[pb.SampleChunk]] = [[] for _ in range(6)]

    def stream(into: list) -> None:
        try:
            into.extend(running.stub.SampleStream(STREAM, timeout=120))
        except grpc.RpcError as exc:
            failures.append(exc)

    threads = [threading.Thread(target=decode_loop) for _ in range(12)]
    threads += [threading.Thread(target=stream, args=(chunks,)) for chunks in streams]
    for t in threads:
        t.start()
    assert wait_until(lambda: len(decoded) > 20 and all(streams), 30)

    make_latent_model(tmp_path, "a", version="2", seed=5)  # a new version of the model being called
    manifest = tmp_path / "tiny-lm" / "1" / "model.json"  # a changed model.json under running streams
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps(data | {"description": "the same weights, a new description"}))

    assert wait_until(lambda: decoded[-5:] == ["2"] * 5, 30)
    assert wait_until(lambda: repo.find("tiny-lm") is not old_lm and repo.find("tiny-lm").ready, 30)
    if not all(t.is_alive() for t in threads[12:]):
        raise AssertionError("a stream ended before the swap: make STREAM longer")
    assert old_lm.state == "UNLOADING" and old_lm.engine_set is not None  # draining its streams
    stop.set()
    for t in threads:
        t.join(120)

    assert failures == []
    assert set(decoded) == {"1", "2"} and decoded.index("2") > 0
    for chunks in streams:
        assert chunks[0].model_version == "1" and all(c.model_version == "" for c in chunks[1:])
        assert sum(len(c.text) for c in chunks) == STREAM.max_tokens and chunks[-1].finish_reason == pb.LENGTH
    assert wait_until(lambda: old_lm.state == "UNLOADED" and old_lm.engine_set is None, 30)
    answer = running.stub.Sample(pb.SampleRequest(model="tiny-lm", prompt="And", max_tokens=5), timeout=30)
    assert answer.model_version == "1" and answer.completions[0].text
