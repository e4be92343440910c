"""Several async iterators as one, tagged with their position, in the order items arrive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, TypeVar

T = TypeVar("T")
_END = object()


class _Failed:
    def __init__(self, exc: Exception):
        self.exc = exc


async def merge(sources: list[AsyncIterator[T]]) -> AsyncIterator[tuple[int, T]]:
    """Yield ``(i, item)`` from every ``sources[i]`` as items come; the first error ends it all.

    One source is passed through without a task. Closing the merged iterator (or an error)
    cancels the readers and closes every source.
    """
    if len(sources) == 1:
        try:
            async for item in sources[0]:
                yield 0, item
        finally:
            await sources[0].aclose()  # type: ignore[attr-defined]
        return
    queue: asyncio.Queue[tuple[int, Any]] = asyncio.Queue(maxsize=len(sources))

    async def read(i: int, source: AsyncIterator[T]) -> None:
        try:
            async for item in source:
                await queue.put((i, item))
            await queue.put((i, _END))
        except Exception as exc:
            await queue.put((i, _Failed(exc)))
        finally:
            await source.aclose()  # type: ignore[attr-defined]

    readers = [asyncio.ensure_future(read(i, s)) for i, s in enumerate(sources)]
    try:
        running = len(readers)
        while running:
            i, item = await queue.get()
            if item is _END:
                running -= 1
            elif isinstance(item, _Failed):
                raise item.exc
            else:
                yield i, item
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
