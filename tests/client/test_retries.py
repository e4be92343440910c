"""Typed errors and the retry policy (sync and asyncio)."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from oneiros_client import (
    AsyncClient,
    Client,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    RetryPolicy,
    Unavailable,
)


def test_error_parsing(client):
    with pytest.raises(InvalidArgument) as info:
        client.decode(count=1000)
    err = info.value
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT and err.field_violations == [("count", "must be in [0, 64]")]
    assert "count" in str(err) and err.fields == ["count"]
    with pytest.raises(NotFound) as info:
        client.model("nope")
    assert info.value.code_name == "NOT_FOUND" and "nope" in info.value.message


def test_retries_unavailable_then_succeeds(client, fake):
    fake.unavailable_first = 2
    assert len(client.models()) == 2
    assert fake.attempts == 3


def test_retries_exhausted_raise_with_hint(fake):
    fake.unavailable_first = 10
    with Client(fake.target, retry_policy=RetryPolicy(retries=2, initial_backoff_s=0.01)) as c:
        with pytest.raises(Unavailable) as info:
            c.models()
    assert fake.attempts == 3 and info.value.retry_after_s == pytest.approx(0.01)
    fake.attempts, fake.unavailable_first = 0, 1
    with Client(fake.target, retries=0) as c, pytest.raises(Unavailable):
        c.models()
    assert fake.attempts == 1


def test_resource_exhausted_is_retried_and_honours_hint():
    policy = RetryPolicy(retries=3, initial_backoff_s=0.001)
    err = ResourceExhausted(grpc.StatusCode.RESOURCE_EXHAUSTED, "queue full", retry_after_s=0.5)
    assert policy.should_retry(err, 0) and policy.delay(err, 0) >= 0.5
    too_big = ResourceExhausted(grpc.StatusCode.RESOURCE_EXHAUSTED, "Received message larger than max (5 vs. 4)")
    assert not policy.should_retry(too_big, 0)
    assert not policy.should_retry(InvalidArgument(grpc.StatusCode.INVALID_ARGUMENT, "x"), 0)


def test_unreachable_server_is_unavailable():
    with Client("127.0.0.1:1", timeout=2, retry_policy=RetryPolicy(retries=1, initial_backoff_s=0.01)) as c:
        with pytest.raises(Unavailable):
            c.models()


def test_async_retries_then_succeeds(fake):
    fake.unavailable_first = 2

    async def run():
        policy = RetryPolicy(retries=2, initial_backoff_s=0.01)
        async with AsyncClient(fake.target, timeout=5, retry_policy=policy) as c:
            return await c.models()

    assert len(asyncio.run(run())) == 2 and fake.attempts == 3


def test_retries_stop_at_the_deadline(fake):
    fake.unavailable_first = 100
    policy = RetryPolicy(retries=100, initial_backoff_s=0.2, max_backoff_s=0.2)
    start = time.monotonic()
    with Client(fake.target, timeout=0.5, retry_policy=policy) as c, pytest.raises(Unavailable):
        c.models()
    assert time.monotonic() - start < 1.5 and fake.attempts < 100


def test_resource_exhausted_is_retried_only_with_a_retry_hint(fake):
    policy = RetryPolicy(retries=3, initial_backoff_s=0.001)
    fake.exhausted_first = 1  # e.g. an error trailer over the metadata limit: the same again on retry
    with Client(fake.target, timeout=5, retry_policy=policy) as c, pytest.raises(ResourceExhausted):
        c.models()
    assert fake.attempts == 1
    fake.attempts, fake.exhausted_first, fake.exhausted_retry_s = 0, 2, 0.01  # a full queue says when
    with Client(fake.target, timeout=5, retry_policy=policy) as c:
        assert len(c.models()) == 2
    assert fake.attempts == 3
    plain = ResourceExhausted(grpc.StatusCode.RESOURCE_EXHAUSTED, "received metadata size exceeds hard limit")
    assert not policy.should_retry(plain, 0)
