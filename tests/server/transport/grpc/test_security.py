"""TLS, mutual TLS and bearer tokens, over real channels."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import ValidationError

from oneiros.v1 import oneiros_pb2 as pb
from oneiros.v1 import oneiros_pb2_grpc
from oneiros_server.settings import Settings
from tests.certs import make_pki


@pytest.fixture
def pki(tmp_path):
    folder = tmp_path / "pki"
    folder.mkdir()
    return make_pki(folder)


def _secure_stub(port: int, pki, client_cert: bool):
    credentials = grpc.ssl_channel_credentials(
        root_certificates=pki["ca"].cert.read_bytes(),
        private_key=pki["client"].key.read_bytes() if client_cert else None,
        certificate_chain=pki["client"].cert.read_bytes() if client_cert else None,
    )
    channel = grpc.secure_channel(f"localhost:{port}", credentials)
    return channel, oneiros_pb2_grpc.OneirosStub(channel)


def test_tls_serves_and_plaintext_is_refused(serve, tmp_path, pki):
    running = serve(tmp_path, tls_cert=pki["server"].cert, tls_key=pki["server"].key)
    channel, stub = _secure_stub(running.server.port, pki, client_cert=False)
    with channel:
        assert list(stub.ListModels(pb.ListModelsRequest(), timeout=10).models) == []  # an empty repository, over TLS
    with pytest.raises(grpc.RpcError) as err:
        running.stub.ListModels(pb.ListModelsRequest(), timeout=5)  # the fixture's plaintext channel
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


def test_mutual_tls_requires_a_client_certificate(serve, tmp_path, pki):
    running = serve(tmp_path, tls_cert=pki["server"].cert, tls_key=pki["server"].key, tls_client_ca=pki["ca"].cert)
    channel, stub = _secure_stub(running.server.port, pki, client_cert=True)
    with channel:
        stub.ListModels(pb.ListModelsRequest(), timeout=10)
    channel, stub = _secure_stub(running.server.port, pki, client_cert=False)
    with channel, pytest.raises(grpc.RpcError) as err:
        stub.ListModels(pb.ListModelsRequest(), timeout=5)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


def test_bearer_tokens_guard_every_rpc_but_health(serve, tmp_path):
    token_file = tmp_path / "tokens"
    token_file.write_text("# ops team\nfile-token\n")
    repo = tmp_path / "models"
    repo.mkdir()
    running = serve(repo, auth_tokens="env-token-1,env-token-2", auth_tokens_file=token_file)
    stub = running.stub
    for metadata in ((), (("authorization", "Bearer wrong"),), (("authorization", "Basic env-token-1"),)):
        with pytest.raises(grpc.RpcError) as err:
            stub.ListModels(pb.ListModelsRequest(), metadata=metadata)
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as err:  # server streams are guarded too
        list(stub.SampleStream(pb.SampleRequest(prompt="a")))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    for token in ("env-token-2", "file-token"):
        stub.ListModels(pb.ListModelsRequest(), metadata=(("authorization", f"Bearer {token}"),))
    health = health_pb2_grpc.HealthStub(running.channel)
    assert health.Check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING


def test_tls_settings_are_validated(tmp_path, pki):
    with pytest.raises(ValidationError, match="together"):
        Settings(tls_cert=pki["server"].cert)
    with pytest.raises(ValidationError, match="not a readable file"):
        Settings(tls_cert=tmp_path / "nope.crt", tls_key=pki["server"].key)
