"""A small hypothesis fuzz of JSON and form bodies on every POST route: answers are 2xx or 4xx,
never 500; with the hostile shapes of issue 25 (integers past 64 bits, NaN and Infinity, lone
surrogates, lists past their caps)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneiros_server.transport.rpcs import RPCS
from tests.server.transport.http.helpers import tiny_repository

POSTS = [r for r in RPCS if r.method == "POST"]
PATHS = [r.path for r in POSTS] + [f"{r.path}/stream" for r in POSTS if r.stream_handler] + ["/v1/completions"]
FIELDS = sorted({f.name for r in POSTS for f in r.request.DESCRIPTOR.fields} | {"prompt", "stream", "timeout", "n"})

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.sampled_from(["", "NaN", "Infinity", "-1", "PNG", "SLERP", "tiny-vae", "tiny-lm", "AAAA", "1e999"]),
    st.text(max_size=8),
    st.sampled_from([2**64, -(2**63) - 1, 10**30, "\ud800", "a\udfffb", "Infinity", "-NaN", "99" * 20]),
)
hostile_lists = st.one_of(
    st.lists(st.just({}), min_size=17, max_size=40),  # past --max-images-per-request (16 here)
    st.lists(st.floats(), min_size=1, max_size=40),
)
values = (
    st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
        max_leaves=8,
    )
    | hostile_lists
)
bodies = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), values, max_size=5)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return tiny_repository(tmp_path_factory.mktemp("models"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), body=bodies)
def test_json_bodies_never_fail_the_server(serve_once, path, body):
    http = serve_once
    data = json.dumps(body).encode()  # NaN and Infinity literals too, as a careless client would send
    reply = http.post(path, content=data, headers={"content-type": "application/json"})
    if reply.headers["content-type"].startswith("text/event-stream"):
        assert reply.status_code == 200 and "INTERNAL" not in reply.text
    else:
        assert 200 <= reply.status_code < 500 or reply.status_code == 504, (path, body, reply.text)
        assert "error" in reply.json() or reply.status_code == 200
    assert http.get("/v1/models").status_code == 200  # still serving


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(PATHS), fields=st.lists(st.tuples(st.sampled_from(FIELDS), st.text(max_size=12)), max_size=6)
)
def test_form_bodies_never_fail_the_server(serve_once, path, fields):
    http = serve_once
    data = urlencode(fields).encode()
    reply = http.post(path, content=data, headers={"content-type": "application/x-www-form-urlencoded"})
    if reply.headers["content-type"].startswith("text/event-stream"):
        assert reply.status_code == 200 and "INTERNAL" not in reply.text
    else:
        assert 200 <= reply.status_code < 500 or reply.status_code == 504, (path, fields, reply.text)


@pytest.fixture
def serve_once(serve, repo):
    running = serve(repo, sample_max_tokens=64, sample_max_n=2, max_images_per_request=16, job_max_steps=2)
    with httpx.Client(base_url=running.http_url, timeout=60) as client:
        yield client
