"""AsyncClient: made without a loop, one channel per running loop, usable across asyncio.run calls."""

from __future__ import annotations

import asyncio

from oneiros_client import AsyncClient


def test_client_made_before_any_loop_serves_several_asyncio_runs(fake):
    client = AsyncClient(fake.target, timeout=5)  # no running loop here

    async def use() -> tuple[int, str, object]:
        models = await client.models()
        chunks = [chunk async for chunk in client.sample_stream("hi", max_tokens=3)]
        return len(models), "".join(c.text for c in chunks), client.channel

    first = asyncio.run(use())
    second = asyncio.run(use())
    assert first[:2] == second[:2] and first[0] == 2
    assert first[2] is not second[2]  # each loop had its own channel


def test_close_and_reopen_in_one_loop(fake):
    async def use() -> int:
        client = AsyncClient(fake.target, timeout=5)
        async with client:
            await client.models()
        await client.close()  # closing twice is harmless
        return len(await client.models())  # a closed client reopens on next use

    assert asyncio.run(use()) == 2
