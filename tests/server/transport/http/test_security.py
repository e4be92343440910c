"""HTTPS with the gRPC port's certificate, and client certificates with mutual TLS."""

from __future__ import annotations

import ssl

import httpx
import pytest

from tests.certs import make_pki


@pytest.fixture
def pki(tmp_path):
    folder = tmp_path / "pki"
    folder.mkdir()
    return make_pki(folder)


def _context(pki, client_cert: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki["ca"].cert))
    if client_cert:
        context.load_cert_chain(str(pki["client"].cert), str(pki["client"].key))
    return context


def test_https_with_the_server_certificate(serve, tmp_path, pki):
    running = serve(tmp_path, tls_cert=pki["server"].cert, tls_key=pki["server"].key)
    url = f"https://localhost:{running.server.http_port}/v1/models"
    assert httpx.get(url, verify=_context(pki, client_cert=False), timeout=10).json()["data"] == []  # empty repository
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://localhost:{running.server.http_port}/v1/models", timeout=10)  # plaintext is refused


def test_mutual_tls_needs_a_client_certificate(serve, tmp_path, pki):
    running = serve(tmp_path, tls_cert=pki["server"].cert, tls_key=pki["server"].key, tls_client_ca=pki["ca"].cert)
    url = f"https://localhost:{running.server.http_port}/v1/models"
    assert httpx.get(url, verify=_context(pki, client_cert=True), timeout=10).status_code == 200
    with pytest.raises(httpx.TransportError):
        httpx.get(url, verify=_context(pki, client_cert=False), timeout=10)
