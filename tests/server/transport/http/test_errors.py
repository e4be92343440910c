"""The HTTP error table, auth and body limits, against a real server with tiny models."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from tests.server.transport.http.helpers import b64, iter_events, tiny_repository, violations

LONG = {"prompt": "And", "max_tokens": 2000, "temperature": 1.0}


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = tiny_repository(tmp_path_factory.mktemp("models"))
    broken = root / "broken-gan" / "1"
    broken.mkdir(parents=True)
    manifest = {"name": "broken-gan", "version": "1", "kind": "GAN", "runtime": "onnxruntime"}
    manifest["files"] = {"generator": {"path": "g.onnx", "sha256": "0" * 64}}
    (broken / "model.json").write_text(json.dumps(manifest))
    (broken / "g.onnx").write_bytes(b"not the file the manifest describes")
    return root


def client(running, **headers) -> httpx.Client:
    return httpx.Client(base_url=running.http_url, timeout=30, headers=headers)


def error(response: httpx.Response) -> dict:
    assert response.headers["content-type"] == "application/json"
    return response.json()["error"]


def test_the_table(serve, repo):
    running = serve(repo, max_message_bytes=1 << 16)
    with client(running) as http:
        bad = http.post("/v1/sample", json={"prompt": "And", "temperature": -1})
        assert bad.status_code == 400 and error(bad)["status"] == "INVALID_ARGUMENT"
        assert violations(bad) == ["temperature"]
        missing = http.post("/v1/decode", json={"model": "nope", "count": 1})
        assert missing.status_code == 404 and "nope" in error(missing)["message"]
        wrong_kind = http.post("/v1/decode", json={"model": "tiny-lm", "count": 1})
        assert wrong_kind.status_code == 422 and error(wrong_kind)["status"] == "FAILED_PRECONDITION"
        unavailable = http.post("/v1/decode", json={"model": "broken-gan", "count": 1})
        assert unavailable.status_code == 503 and unavailable.headers["retry-after"] == "1"
        late = http.post("/v1/sample", json=LONG | {"max_tokens": 2000, "n": 16}, headers={"timeout": "1ms"})
        assert late.status_code == 504 and error(late)["status"] == "DEADLINE_EXCEEDED"
        late_field = http.post("/v1/sample", json=LONG | {"n": 16, "timeout": 0.001})
        assert late_field.status_code == 504
        assert http.post("/v1/sample", json=LONG, headers={"timeout": "soon"}).status_code == 400


def test_bodies_that_cannot_be_read_are_refused_not_failed(serve, repo):
    running = serve(repo, max_message_bytes=1 << 16)
    with client(running) as http:
        deep = b"[" * 20_000 + b"]" * 20_000
        for body in (b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe", deep, b'{"latents": ' + deep + b"}"):
            reply = http.post("/v1/decode", content=body, headers={"content-type": "application/json"})
            assert reply.status_code == 400, (body[:10], reply.text)
        assert http.post("/v1/decode", json={"count": "many"}).status_code == 400
        assert violations(http.post("/v1/decode", json={"count": -1})) == ["count"]
        assert violations(http.post("/v1/decode", json={"colour": 1})) == ["colour"]
        assert http.post("/v1/decode", content=b"count=1", headers={"content-type": "text/plain"}).status_code == 415
        glued = http.post("/v1/decode", content=b'{"count": 1}', headers={"content-type": URLENCODED})
        assert glued.status_code == 415 and "application/json" in error(glued)["message"]
        big = http.post("/v1/dream", json={"image": {"data": b64(b"x" * (1 << 17))}})
        assert big.status_code == 413
        streamed = http.post("/v1/dream", content=(b"x" * 4096 for _ in range(64)))  # chunked, no length
        assert streamed.status_code == 413
        image_as_text = http.post("/v1/dream", files={"layer_weights": ("a.png", b"png", "image/png")})
        assert image_as_text.status_code == 400
        assert http.get("/v1/nothing-here").status_code == 404
        assert http.delete("/v1/models").status_code == 405
        assert http.post("/v1/decode/stream", json={}).status_code == 404  # Decode has no streaming form
        assert http.post("/v1/decode", json={"stream": True}).status_code == 400


URLENCODED = "application/x-www-form-urlencoded"


def test_bearer_tokens_guard_every_route_but_health_and_the_document(serve, repo):
    running = serve(repo, auth_tokens="s3cret,other")
    with client(running) as anonymous:
        refused = anonymous.get("/v1/models")
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
        assert error(refused)["status"] == "UNAUTHENTICATED"
        assert anonymous.post("/v1/sample/stream", json={"prompt": "A"}).status_code == 401
        assert anonymous.post("/v1/completions", json={"prompt": "A"}).status_code == 401
        assert anonymous.get("/openapi.json").status_code == 200
        assert anonymous.get("/healthz").status_code == 200
    with client(running, authorization="Bearer wrong") as wrong:
        assert wrong.get("/v1/models").status_code == 401
    with client(running, authorization="Bearer other") as known:
        assert known.get("/v1/models").status_code == 200
        assert known.post("/v1/decode", json={"count": 1}).status_code == 200


def test_past_the_call_limit_429_with_retry_after(serve, repo):
    running = serve(repo, max_concurrent_rpcs=1, sample_max_tokens=1 << 20)
    hold = LONG | {"max_tokens": 1 << 20}  # runs until the client leaves
    with client(running) as http, http.stream("POST", "/v1/sample/stream", json=hold) as holder:
        held = iter_events(holder)  # keep it: a dropped iterator closes the connection
        assert next(held)[0] == "message"
        streaming = http.post("/v1/sample/stream", json=LONG)  # a refused stream answers before any event
        assert streaming.status_code == 429
        busy = http.post("/v1/decode", json={"count": 1})
        assert busy.status_code == 429 and int(busy.headers["retry-after"]) >= 1
        assert any(d["@type"].endswith("RetryInfo") for d in error(busy)["details"])


def test_a_bug_is_a_generic_500(serve, repo, monkeypatch):
    running = serve(repo)
    from oneiros_server.transport.convert import latent

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(latent, "_vectors", broken)
    with client(running) as http:
        reply = http.post("/v1/decode", json={"count": 1})
    assert reply.status_code == 500
    assert "secret" not in reply.text and error(reply)["status"] == "INTERNAL"


def test_draining_answers_503(serve, repo):
    running = serve(repo)
    with client(running) as http, http.stream("POST", "/v1/sample/stream", json=LONG | {"max_tokens": 300}) as holder:
        held = iter_events(holder)
        next(held)
        stopper = threading.Thread(target=running.server.stop, kwargs={"grace": 5})
        stopper.start()
        try:
            while not running.server.state.draining.is_set():
                pass
            late = httpx.post(running.http_url + "/v1/decode", json={"count": 1}, timeout=10)
            assert late.status_code == 503 and error(late)["status"] == "UNAVAILABLE"
        except httpx.TransportError:
            pass  # the listener may already be closed: refused, not failed
        rest = list(held)  # the in-flight stream finishes in full
        assert json.loads(rest[-1][1])["finishReason"] == "LENGTH"
        stopper.join()
