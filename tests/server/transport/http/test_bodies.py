"""The body reader on its own: per-route limits, the shared buffer budget, the pool's bounded queue."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request

from oneiros_server.errors import Overloaded
from oneiros_server.settings import Settings
from oneiros_server.transport.http.bodies import BUFFERED_MESSAGES, Bodies, BodyPool, body_limits
from oneiros_server.transport.http.errors import HttpError

CHUNK = 60_000


def settings(tmp_path, **overrides) -> Settings:
    return Settings(**({"model_repository": tmp_path, "metrics_port": -1, "max_message_bytes": 1 << 16} | overrides))


def unfinished_upload(sent: asyncio.Event, hold: asyncio.Event) -> Request:
    """A chunked POST that sends one chunk, then waits for ``hold`` before it ends."""
    steps = [{"type": "http.request", "body": b"x" * CHUNK, "more_body": True}]

    async def receive():
        if steps:
            return steps.pop()
        sent.set()
        await hold.wait()
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "POST", "path": "/v1/dream", "headers": []}
    return Request(scope, receive)


def test_route_limits_follow_the_settings(tmp_path):
    limits = body_limits(settings(tmp_path, sample_max_prompt_chars=100, sample_max_stop=1, max_message_bytes=1 << 30))
    assert limits["Sample"] == (64 << 10) + 12 * 100 * 2 < limits["Decode"] < limits["Dream"] < limits["Stylize"]
    assert max(body_limits(settings(tmp_path)).values()) == 1 << 16  # never above --max-message-bytes


def test_unfinished_uploads_cannot_hold_more_than_the_budget(tmp_path):
    asyncio.run(_unfinished_uploads(tmp_path))


async def _unfinished_uploads(tmp_path):
    bodies = Bodies(settings(tmp_path))
    hold = asyncio.Event()
    fits = BUFFERED_MESSAGES * (1 << 16) // CHUNK
    uploads = []
    for _ in range(fits):
        sent = asyncio.Event()
        uploads.append(asyncio.ensure_future(bodies.parse(unfinished_upload(sent, hold), "Dream", len)))
        await sent.wait()
    with pytest.raises(Overloaded):
        await bodies.parse(unfinished_upload(asyncio.Event(), hold), "Dream", len)
    hold.set()
    assert await asyncio.gather(*uploads) == [CHUNK] * fits
    assert bodies.buffered == 0
    bodies.close()


def test_a_body_over_its_routes_limit_is_refused_while_it_streams(tmp_path):
    asyncio.run(_over_the_limit(tmp_path))


async def _over_the_limit(tmp_path):
    bodies = Bodies(settings(tmp_path, sample_max_prompt_chars=1))  # Sample's limit: 64 KiB + 12 x 9 bytes
    chunks = [{"type": "http.request", "body": b"x" * CHUNK, "more_body": True} for _ in range(3)]

    async def receive():
        return chunks.pop()

    request = Request({"type": "http", "method": "POST", "path": "/", "headers": []}, receive)
    with pytest.raises(HttpError) as refused:
        await bodies.parse(request, "Sample", len)
    assert refused.value.http_status == 413 and len(chunks) == 1  # refused at the second chunk, not the third
    bodies.close()


def test_the_pool_refuses_work_beyond_its_queue():
    asyncio.run(_pool_queue())


async def _pool_queue():
    pool = BodyPool(threads=1, queue=1)
    release = asyncio.Event()
    loop = asyncio.get_running_loop()

    def wait() -> None:
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result()

    busy = [asyncio.ensure_future(pool.run(wait)) for _ in range(2)]
    await asyncio.sleep(0)
    with pytest.raises(Overloaded):
        await pool.run(len, b"")
    release.set()
    await asyncio.gather(*busy)
    assert await pool.run(len, b"abc") == 3
    pool.close()
