"""The SDK and CLI against the real server (empty model repository): status parsing, auth, mTLS."""

from __future__ import annotations

import asyncio
import shutil

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


def test_a_version_is_asked_for_and_named_in_each_answer(serve, tmp_path):
    from oneiros_client import AsyncClient
    from tests.latent_models import make_latent_model
    from tests.lm_tiny import tiny_lm_repository

    make_latent_model(tmp_path, "a")
    make_latent_model(tmp_path, "a", version="2", seed=3)
    shutil.copytree(tiny_lm_repository() / "tiny-lm", tmp_path / "tiny-lm")
    running = serve(tmp_path)
    with Client(running.target, timeout=30) as client:
        assert client.decode(model="a", count=1).model_version == "2"  # the newest READY version
        assert client.decode(model="a", count=1, model_version="1").model_version == "1"
        assert client.edit_latent(model="a", latent=[0.0] * 4, model_version="1").model_version == "1"
        assert {c.model_version for c in client.sample("And", model="tiny-lm", max_tokens=3)} == {"1"}
        chunks = list(client.sample_stream("And", model="tiny-lm", max_tokens=3))
        assert chunks[0].model_version == "1" and all(c.model_version == "" for c in chunks[1:])
        with pytest.raises(NotFound):
            client.decode(model="a", count=1, model_version="9")

    async def over_asyncio() -> str:
        async with AsyncClient(running.target, timeout=30) as client:
            return (await client.decode(model="a", count=1, model_version="1")).model_version

    assert asyncio.run(over_asyncio()) == "1"
