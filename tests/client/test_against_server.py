"""The SDK and CLI against the real server (empty model repository): status parsing, auth, mTLS."""

from __future__ import annotations

import pytest

from oneiros_client import Client, NotFound, Unauthenticated, cli
from tests.certs import make_pki


def test_health_models_and_not_found(serve, tmp_path, capsys):
    running = serve(tmp_path)
    with Client(running.target, timeout=10) as client:
        assert client.health() == "SERVING"
        assert client.models() == []
        with pytest.raises(NotFound) as err:
            client.model("nope")
    assert "nope" in err.value.message
    assert cli.main(["-a", running.target, "health"]) == 0
    assert cli.main(["-a", running.target, "models", "nope"]) == 1
    assert capsys.readouterr().err.startswith("oneiros: error: NOT_FOUND: ")


def test_bearer_token(serve, tmp_path):
    running = serve(tmp_path, auth_tokens="s3cret")
    with Client(running.target, timeout=10, retries=0) as client, pytest.raises(Unauthenticated):
        client.models()
    with Client(running.target, timeout=10, token="s3cret") as client:
        assert client.models() == []
    assert cli.main(["-a", running.target, "--token", "s3cret", "models"]) == 0


def test_mutual_tls(serve, tmp_path):
    (tmp_path / "pki").mkdir()
    pki = make_pki(tmp_path / "pki")
    running = serve(tmp_path, tls_cert=pki["server"].cert, tls_key=pki["server"].key, tls_client_ca=pki["ca"].cert)
    target = f"localhost:{running.server.port}"
    options = dict(
        root_certificates=pki["ca"].cert,
        client_certificate=pki["client"].cert,
        client_key=pki["client"].key,
        timeout=10,
    )
    with Client(target, **options) as client:
        assert client.models() == []
    rc = cli.main(
        [
            "-a",
            target,
            "--ca",
            str(pki["ca"].cert),
            "--cert",
            str(pki["client"].cert),
            "--key",
            str(pki["client"].key),
            "health",
        ]
    )
    assert rc == 0
