"""The SSE response alone, with a fake stream and a fake ASGI connection (no server)."""

from __future__ import annotations

import asyncio

from starlette.responses import JSONResponse

from oneiros_server.dataplane import Call
from oneiros_server.errors import FieldError
from oneiros_server.scheduling.control import CallControl
from oneiros_server.transport.http import sse


async def _run(events, heartbeat_s: float = 15.0, done: bytes = b"") -> list[dict]:
    sent: list[dict] = []
    forever = asyncio.Event()

    async def receive():
        await forever.wait()  # the client stays

    async def send(message):
        sent.append(message)

    stream = sse.EventStream(
        Call("SampleStream", "", "rid", CallControl()),
        events,
        error_response=lambda exc: JSONResponse({"error": str(type(exc).__name__)}, status_code=400),
        error_event=lambda exc: sse.event({"error": "late"}, "error"),
        headers={"x-request-id": "rid"},
        done=done,
    )
    stream.heartbeat_s = heartbeat_s
    await stream({"type": "http"}, receive, send)
    return sent


def _bodies(sent: list[dict]) -> list[bytes]:
    return [m["body"] for m in sent if m["type"] == "http.response.body"]


def test_events_then_done_and_a_heartbeat_in_a_quiet_gap():
    async def events():
        yield {"step": 1}
        await asyncio.sleep(0.3)  # a long step
        yield {"step": 2}

    sent = asyncio.run(_run(events(), heartbeat_s=0.05, done=b"data: [DONE]\n\n"))
    assert sent[0]["status"] == 200 and (b"x-request-id", b"rid") in sent[0]["headers"]
    bodies = _bodies(sent)
    assert bodies[0] == b'data: {"step":1}\n\n' and bodies[-2] == b'data: {"step":2}\n\n'
    assert bodies[-1] == b"data: [DONE]\n\n" and sent[-1]["more_body"] is False
    assert sse.HEARTBEAT in bodies[1:-2]


def test_an_error_before_the_first_event_is_a_status_and_after_it_an_event():
    async def refused():
        raise FieldError("prompt", "bad")
        yield  # pragma: no cover

    early = asyncio.run(_run(refused()))
    assert early[0]["status"] == 400

    async def fails_later():
        yield {"text": "a"}
        raise FieldError("prompt", "bad")

    late = asyncio.run(_run(fails_later()))
    assert late[0]["status"] == 200
    assert _bodies(late)[-1] == b'event: error\ndata: {"error":"late"}\n\n'
    assert sse.HEARTBEAT not in _bodies(late)  # the default interval never passed
