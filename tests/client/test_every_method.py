"""Every public method of Client and AsyncClient, called against the fake server: one table, both clients."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

import grpc
import numpy as np
import pytest

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_client import AsyncClient, Client, DreamResult, Progress, StylizeResult, Unavailable
from tests.client.fake_oneiros import LATENT

IMAGE = np.zeros((8, 8, 3), np.uint8)


def _types(events: list) -> list[type]:
    return [type(e) for e in events]


# name: (args, kwargs, what to look at in (result, the request the fake received), what it must be)
CALLS: dict[str, tuple[tuple, dict[str, Any], Callable[[Any, Any], Any], Any]] = {
    "wait_ready": ((), {"timeout": 5}, lambda result, req: result, None),
    "health": (("oneiros.v1.Oneiros",), {}, lambda result, req: result, "NOT_SERVING"),
    "models": (
        ("VAE",),
        {},
        lambda result, req: ([m.name for m in result], req.kind),
        (["vae-mnist-2d", "char-kjv"], pb.VAE),
    ),
    "model": (
        ("vae-mnist-2d",),
        {"version": "1"},
        lambda result, req: (result.image_shape, req.version),
        ((28, 28, 1), "1"),
    ),
    "sample": (
        ("x",),
        {"n": 2, "seed": 3, "stop": "\n"},
        lambda result, req: ([c.text for c in result], req.seed, list(req.stop)),
        (["text0", "text1"], 3, ["\n"]),
    ),
    "sample_stream": (
        ("x",),
        {"temperature": 0.5},
        lambda result, req: ("".join(c.text for c in result), result[-1].finish_reason, result[-1].mean_entropy_bits),
        ("abc!", "STOP", 0.5),
    ),
    "dream": (
        (IMAGE,),
        {"octaves": 2, "jitter": 0},
        lambda result, req: (result.elapsed_ms, req.octaves, req.HasField("jitter"), req.preview_every),
        (12, 2, True, 0),
    ),
    "dream_stream": (
        (IMAGE,),
        {"preview_every": 2},
        lambda result, req: (_types(result), [e.preview is not None for e in result[:3]], req.preview_every),
        ([Progress, Progress, Progress, DreamResult], [False, True, False], 2),
    ),
    "stylize": (
        (IMAGE, IMAGE),
        {"init": "noise", "steps": 5},
        lambda result, req: (result.tv_loss, result.image.size, req.init, req.steps, req.HasField("seed")),
        (0.125, (16, 16), pb.NOISE, 5, False),
    ),
    "stylize_stream": (
        (IMAGE, IMAGE),
        {"optimizer": "adam", "style_weight": 1e4, "preview_every": 1},
        lambda result, req: (_types(result), req.optimizer, req.HasField("style_weight"), req.preview_every),
        ([Progress, Progress, StylizeResult], pb.ADAM, True, 1),
    ),
    "decode": (
        (),
        {"count": 3, "seed": 1},
        lambda result, req: (len(result.images), result.latents.shape, req.seed),
        (3, (3, LATENT), 1),
    ),
    "edit_latent": (
        (),
        {"latent": [0.0] * LATENT, "sweep_attribute": "thickness", "strengths": [-1, 0, 1]},
        lambda result, req: (len(result.images), req.sweep_attribute, list(req.strengths), req.HasField("latent")),
        (3, "thickness", [-1.0, 0.0, 1.0], True),
    ),
}
NOT_IN_TABLE = {"channel", "close"}  # tested below


def _public(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


def call_sync(target: str, name: str, args: tuple, kwargs: dict[str, Any]) -> Any:
    with Client(target, timeout=5) as client:
        result = getattr(client, name)(*args, **kwargs)
        return list(result) if inspect.isgenerator(result) else result


def call_async(target: str, name: str, args: tuple, kwargs: dict[str, Any]) -> Any:
    async def run() -> Any:
        async with AsyncClient(target, timeout=5) as client:
            result = getattr(client, name)(*args, **kwargs)
            if inspect.isasyncgen(result):
                return [item async for item in result]
            return await result

    return asyncio.run(run())


def test_the_table_calls_every_public_method_of_both_clients():
    assert _public(Client) == _public(AsyncClient) == set(CALLS) | NOT_IN_TABLE


@pytest.mark.parametrize("call", [call_sync, call_async], ids=["Client", "AsyncClient"])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_method(fake, call, name):
    args, kwargs, look, expected = CALLS[name]
    result = call(fake.target, name, args, kwargs)
    assert look(result, fake.requests[-1] if fake.requests else None) == expected


def test_both_clients_take_the_same_parameters_and_document_every_method():
    for name in sorted(_public(Client)):
        sync, aio = getattr(Client, name), getattr(AsyncClient, name)
        assert inspect.getdoc(sync) and inspect.getdoc(aio), name
        if name != "channel":
            assert inspect.signature(sync).parameters == inspect.signature(aio).parameters, name


def test_channel_and_close(fake):
    client = Client(fake.target, timeout=5)
    assert isinstance(client.channel, grpc.Channel) and client.health() == "SERVING"
    client.close()
    with pytest.raises(ValueError, match="closed channel"):
        client.health()

    async def use() -> tuple[bool, str]:
        client = AsyncClient(fake.target, timeout=5)
        first = client.channel
        await client.close()
        return client.channel is not first, await client.health()  # a closed client reopens on next use

    assert asyncio.run(use()) == (True, "SERVING")


@pytest.mark.parametrize("call", [call_sync, call_async], ids=["Client", "AsyncClient"])
def test_wait_ready_gives_up_after_its_timeout(call):
    with pytest.raises(Unavailable, match="not reachable within 0.1 s"):
        call("127.0.0.1:1", "wait_ready", (), {"timeout": 0.1})
