"""Streams, cancellation on close, and the asyncio client."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from PIL import Image

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_client import (
    AsyncClient,
    DreamResult,
    NotFound,
    Progress,
    StylizeResult,
)
from tests.client.fake_oneiros import LATENT


def test_sample_stream_and_cancellation_on_close(client, fake):
    chunks = list(client.sample_stream("x", temperature=0.5))
    assert "".join(c.text for c in chunks) == "abc!"
    assert chunks[-1].finish_reason == "STOP" and chunks[-1].mean_entropy_bits == 0.5
    assert all(c.finish_reason is None for c in chunks[:-1])

    fake.stream_cancelled.clear()
    stream = client.sample_stream("forever")
    assert next(stream).text == "x"
    stream.close()
    assert fake.stream_cancelled.wait(5), "closing the iterator must cancel the call"


def test_dream_and_stylize_streams(client, fake):
    events = list(client.dream_stream(np.zeros((8, 8, 3), np.uint8), preview_every=2, seed=3, max_loss=10.0))
    req = fake.requests[-1]
    assert req.HasField("seed") and req.HasField("max_loss") and req.preview_every == 2
    assert [type(e) for e in events] == [Progress, Progress, Progress, DreamResult]
    assert events[1].preview is not None and events[0].preview is None
    assert events[-1].image.size == (32, 32) and events[-1].loss_history == [1.0, 2.0]

    content, style = Image.new("RGB", (8, 8)), Image.new("RGB", (8, 8), (255, 0, 0))
    events = list(client.stylize_stream(content, style, optimizer="adam", init="noise", style_weight=1e4))
    req = fake.requests[-1]
    assert req.optimizer == pb.ADAM and req.init == pb.NOISE and req.HasField("style_weight")
    assert not req.HasField("content_weight") and not req.HasField("learning_rate")
    assert isinstance(events[-1], StylizeResult) and events[-1].tv_loss == 0.125
    assert client.dream(b"raw-bytes").elapsed_ms == 12
    assert fake.requests[-1].image.data == b"raw-bytes"


def test_async_client(fake):
    async def run():
        async with AsyncClient(fake.target, timeout=5) as c:
            decoded = await c.decode(count=2, seed=1)
            chunks = [ch.text async for ch in c.sample_stream("x")]
            with pytest.raises(NotFound):
                await c.model("nope")
            fake.stream_cancelled.clear()
            stream = c.sample_stream("forever")
            assert (await stream.__anext__()).text == "x"
            await stream.aclose()
            cancelled = await asyncio.get_running_loop().run_in_executor(None, fake.stream_cancelled.wait, 5)
            return decoded, chunks, cancelled, await c.health()

    decoded, chunks, cancelled, health = asyncio.run(run())
    assert len(decoded.images) == 2 and decoded.latents.shape == (2, LATENT)
    assert "".join(chunks) == "abc!" and cancelled and health == "SERVING"
