"""Every route of the HTTP transport against a real server (gRPC and HTTP on free ports), tiny models."""

from __future__ import annotations

import io
import logging

import httpx
import pytest
from google.protobuf import json_format
from openapi_spec_validator import validate
from PIL import Image

from oneiros.v1 import oneiros_pb2 as pb
from tests.server.transport.http.helpers import D, b64, digit_png, json_events, tiny_repository


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return tiny_repository(tmp_path_factory.mktemp("models"))


@pytest.fixture
def running(serve, repo):
    return serve(repo)


@pytest.fixture
def http(running):
    with httpx.Client(base_url=running.http_url, timeout=30) as client:
        yield client


def test_list_and_get_models_are_the_grpc_messages(running, http):
    listed = http.get("/v1/models")
    assert listed.status_code == 200 and listed.headers["content-type"] == "application/json"
    native = {k: v for k, v in listed.json().items() if k not in ("object", "data")}  # OpenAI's list beside
    assert json_format.ParseDict(native, pb.ListModelsResponse()) == running.stub.ListModels(pb.ListModelsRequest())
    assert listed.json()["object"] == "list"
    assert [m["id"] for m in listed.json()["data"]] == [m["name"] for m in native["models"]]
    vaes = http.get("/v1/models", params={"kind": "VAE"}).json()["models"]
    assert [m["name"] for m in vaes] == ["tiny-vae"]
    one = http.get("/v1/models/tiny-lm").json()
    assert one["kind"] == "LANGUAGE_MODEL" and one["status"] == "READY" and one["vocabularySize"] > 10
    assert http.get("/v1/models/tiny-lm", params={"version": "1"}).json()["version"] == "1"


def test_sample_equals_grpc_and_accepts_both_field_spellings(running, http):
    body = {"prompt": "And God", "max_tokens": 30, "temperature": 0.9, "seed": 5, "n": 2}
    reply = http.post("/v1/sample", json=body)
    assert reply.status_code == 200, reply.text
    expected = running.stub.Sample(pb.SampleRequest(**body))
    assert json_format.ParseDict(reply.json(), pb.SampleResponse()) == expected
    camel = http.post(
        "/v1/sample", json={"prompt": "And God", "maxTokens": 30, "temperature": 0.9, "seed": "5", "n": 2}
    )
    assert camel.json() == reply.json()
    assert [c["finishReason"] for c in reply.json()["completions"]] == ["LENGTH", "LENGTH"]


def test_decode_json_and_png(running, http):
    body = {"count": 3, "seed": 7}
    reply = http.post("/v1/decode", json=body).json()
    assert json_format.ParseDict(reply, pb.DecodeResponse()) == running.stub.Decode(pb.DecodeRequest(**body))
    assert len(reply["images"]) == 3 and all(len(v["values"]) == D for v in reply["latents"])
    image = http.post("/v1/decode", json={"count": 1, "seed": 7}, headers={"accept": "image/png"})
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (28, 28)
    second = http.post("/v1/decode?index=1", json=body, headers={"accept": "image/jpeg"})
    assert second.headers["content-type"] == "image/jpeg" and Image.open(io.BytesIO(second.content)).format == "JPEG"
    several = http.post("/v1/decode", json=body, headers={"accept": "image/png"})
    assert Image.open(io.BytesIO(several.content)).size == (3 * 28 + 4 * 2, 28 + 2 * 2)  # one row, 2 px apart
    grid = http.post("/v1/decode", json={"grid": {"axisX": 0, "axisY": 1, "steps": 3}}).json()
    assert len(grid["images"]) == 9
    sheet = http.post("/v1/decode", json={"grid": {"axisX": 0, "axisY": 1, "steps": 3}}, headers={"accept": "image/*"})
    assert Image.open(io.BytesIO(sheet.content)).size == (3 * 28 + 8, 3 * 28 + 8)
    assert http.post("/v1/decode?index=3", json=body, headers={"accept": "image/png"}).status_code == 400


def test_edit_latent_json_and_multipart_agree(running, http):
    digit = digit_png()
    json_reply = http.post(
        "/v1/edit-latent", json={"image": {"data": b64(digit)}, "edits": [{"attribute": "thickness", "strength": 1.5}]}
    )
    assert json_reply.status_code == 200, json_reply.text
    form_reply = http.post(
        "/v1/edit-latent",
        files={"image": ("digit.png", digit, "image/png")},
        data={"edits": '[{"attribute": "thickness", "strength": 1.5}]'},
    )
    assert form_reply.status_code == 200, form_reply.text
    assert form_reply.json() == json_reply.json()
    expected = running.stub.EditLatent(
        pb.EditLatentRequest(image=pb.Image(data=digit), edits=[pb.AttributeEdit(attribute="thickness", strength=1.5)])
    )
    assert json_format.ParseDict(json_reply.json(), pb.EditLatentResponse()) == expected
    sweep = http.post(
        "/v1/edit-latent",
        data={"latent": '{"values": [0, 0, 0, 0]}', "sweep_attribute": "slant", "strengths": ["-1", "0", "1"]},
    )
    assert sweep.status_code == 200, sweep.text
    assert len(sweep.json()["images"]) == 3
    row = http.post(
        "/v1/edit-latent",
        files={"image": ("digit.png", digit, "image/png")},
        data={"sweep_attribute": "slant", "strengths": "[-1, 0, 1]"},
        headers={"accept": "image/png"},
    )
    assert row.status_code == 200 and Image.open(io.BytesIO(row.content)).size == (3 * 28 + 8, 28 + 4)


def test_urlencoded_form_and_json_without_content_type(http):
    form = http.post("/v1/decode", data={"count": "2", "seed": "3"})
    raw = http.post("/v1/decode", content=b'{"count": 2, "seed": 3}')
    assert form.status_code == raw.status_code == 200
    assert form.json() == raw.json()


def test_sample_stream_route_and_stream_field(http):
    body = {"prompt": "And", "max_tokens": 12, "seed": 1}
    with http.stream("POST", "/v1/sample/stream", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        chunks = json_events(response)
    with http.stream("POST", "/v1/sample", json=body | {"stream": True}) as response:
        again = json_events(response)  # chunks merge while a reader lags, so compare the text
    text = http.post("/v1/sample", json=body).json()["completions"][0]["text"]
    assert "".join(c.get("text", "") for c in chunks) == "".join(c.get("text", "") for c in again) == text
    assert chunks[-1]["finishReason"] == again[-1]["finishReason"] == "LENGTH"
    assert chunks[-1]["tokenCount"] == 12


def test_request_id_is_echoed_or_made_and_logged(http, caplog):
    caplog.set_level(logging.DEBUG, logger="oneiros.calls")
    assert http.get("/v1/models", headers={"x-request-id": "abc-123"}).headers["x-request-id"] == "abc-123"
    assert len(http.get("/v1/models").headers["x-request-id"]) >= 8
    logged = [r for r in caplog.records if getattr(r, "request_id", "") == "abc-123"]
    assert [(r.rpc, r.transport, r.code) for r in logged] == [("ListModels", "http", "OK")]


def test_openapi_describes_every_route(http):
    document = http.get("/openapi.json").json()
    validate(document)  # a valid OpenAPI 3.1 document
    paths = document["paths"]
    for path, method in [
        ("/v1/models", "get"),
        ("/v1/models/{name}", "get"),
        ("/v1/sample", "post"),
        ("/v1/sample/stream", "post"),
        ("/v1/dream", "post"),
        ("/v1/dream/stream", "post"),
        ("/v1/stylize", "post"),
        ("/v1/stylize/stream", "post"),
        ("/v1/decode", "post"),
        ("/v1/edit-latent", "post"),
        ("/v1/completions", "post"),
    ]:
        assert method in paths[path], path
    schemas = document["components"]["schemas"]
    assert set(schemas["SampleRequest"]["properties"]) >= {"prompt", "maxTokens", "temperature", "seed", "stop"}
    assert schemas["DreamRequest"]["properties"]["image"] == {"$ref": "#/components/schemas/Image"}
    assert "multipart/form-data" in paths["/v1/stylize"]["post"]["requestBody"]["content"]


def test_health(running, http):
    assert http.get("/healthz").json() == {"status": "SERVING"}


def test_cors_for_the_listed_origins_only(serve, repo):
    running = serve(repo, http_cors_origins="https://app.example")
    with httpx.Client(base_url=running.http_url, timeout=30) as http:
        preflight = http.options(
            "/v1/decode",
            headers={"origin": "https://app.example", "access-control-request-method": "POST"},
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        simple = http.get("/v1/models", headers={"origin": "https://app.example"})
        assert simple.headers["access-control-allow-origin"] == "https://app.example"
        assert "x-request-id" in simple.headers["access-control-expose-headers"]
        stranger = http.get("/v1/models", headers={"origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in stranger.headers


def test_accept_event_stream_asks_for_the_stream(http):
    with http.stream(
        "POST", "/v1/sample", json={"prompt": "And", "max_tokens": 4}, headers={"accept": "text/event-stream"}
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert json_events(response)[-1]["finishReason"] == "LENGTH"
