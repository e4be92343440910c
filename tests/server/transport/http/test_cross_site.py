"""Browsers cannot be turned against the server (issue 25, items 5 and 6): cross-site POSTs are
refused, the page's own same-origin requests and non-browser clients are not, no Host is reflected."""

from __future__ import annotations

import httpx
import pytest

from tests.server.transport.http.helpers import tiny_repository

FORM = {"content-type": "application/x-www-form-urlencoded"}
EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return tiny_repository(tmp_path_factory.mktemp("models"))


def sample_form(running, **headers) -> httpx.Response:
    body = b"prompt=And&max_tokens=1"
    return httpx.post(running.http_url + "/v1/sample", content=body, headers=FORM | headers, timeout=30)


def test_a_cross_site_form_post_is_refused(serve, repo):
    running = serve(repo)
    refused = sample_form(running, origin=EVIL)
    assert refused.status_code == 403 and refused.json()["error"]["status"] == "PERMISSION_DENIED"
    assert "evil.example" in refused.json()["error"]["message"]
    assert sample_form(running, origin="null").status_code == 403  # sandboxed frames, file: pages
    text = {"content-type": "text/plain", "origin": EVIL}
    assert httpx.post(running.http_url + "/v1/decode", content=b"{}", headers=text, timeout=30).status_code == 403
    for site in ("cross-site", "same-site"):  # no Origin, but the browser says where it comes from
        assert sample_form(running, **{"sec-fetch-site": site}).status_code == 403
    completions = httpx.post(running.http_url + "/v1/completions", json={"prompt": "A"}, headers={"origin": EVIL})
    assert completions.status_code == 403


def test_same_origin_pages_and_plain_clients_keep_working(serve, repo):
    running = serve(repo)
    own = running.http_url  # http://127.0.0.1:<port>, what a page served by this port sends
    assert sample_form(running, origin=own, **{"sec-fetch-site": "same-origin"}).status_code == 200
    assert sample_form(running, **{"sec-fetch-site": "none"}).status_code == 200  # typed in the address bar
    assert sample_form(running).status_code == 200  # curl, SDKs: no Origin, no Sec-Fetch-Site
    mixed = sample_form(running, origin=own, **{"sec-fetch-site": "cross-site"})
    assert mixed.status_code == 403
    reading = httpx.get(running.http_url + "/v1/models", headers={"origin": EVIL}, timeout=30)
    assert reading.status_code == 200 and "access-control-allow-origin" not in reading.headers  # CORS closed


def test_listed_origins_may_call(serve, repo):
    running = serve(repo, http_cors_origins="https://app.example")
    allowed = sample_form(running, origin="https://app.example")
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert sample_form(running, origin=EVIL).status_code == 403
    anyone = serve(repo, http_cors_origins="*")
    assert sample_form(anyone, origin=EVIL).status_code == 200


def test_a_loopback_server_refuses_other_hosts(serve, repo):
    running = serve(repo)  # bound to 127.0.0.1: a rebound DNS name must not reach it
    url = running.http_url + "/v1/models"
    assert httpx.get(url, headers={"host": "evil.example"}, timeout=30).status_code == 403
    for host in ("localhost", "127.0.0.1:8080", "[::1]:8080", "localhost:1"):
        assert httpx.get(url, headers={"host": host}, timeout=30).status_code == 200, host


def test_no_redirect_names_the_clients_host(serve, repo):
    running = serve(repo, host="0.0.0.0")  # every Host is accepted here
    reply = httpx.get(running.http_url + "/v1/models/", headers={"host": "evil.example"}, timeout=30)
    assert reply.status_code == 404 and "location" not in reply.headers
    assert "evil.example" not in reply.text
