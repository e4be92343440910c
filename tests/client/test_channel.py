"""Channels: TLS with a custom CA, and an SDK that needs no torch and no server."""

from __future__ import annotations

from concurrent import futures

import grpc
import pytest

from oneiros.v1 import oneiros_pb2_grpc
from oneiros_client import (
    Client,
    DeadlineExceeded,
    Unavailable,
)
from tests.client.fake_oneiros import FakeOneiros


def test_sdk_does_not_import_torch_or_server():
    import subprocess
    import sys

    code = (
        "import sys, oneiros_client, oneiros_client.cli; print('torch' in sys.modules, 'oneiros_server' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def _self_signed(name: str) -> tuple[bytes, bytes]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def test_tls_channel_with_custom_ca(tmp_path):
    key, cert = _self_signed("oneiros.test")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = FakeOneiros()
    oneiros_pb2_grpc.add_OneirosServicer_to_server(servicer, server)
    port = server.add_secure_port("127.0.0.1:0", grpc.ssl_server_credentials([(key, cert)]))
    server.start()
    try:
        (tmp_path / "ca.pem").write_bytes(cert)
        target = f"127.0.0.1:{port}"
        with Client(
            target, root_certificates=tmp_path / "ca.pem", server_name="oneiros.test", token="t", timeout=5
        ) as c:
            assert len(c.models()) == 2
        assert servicer.metadata[-1]["authorization"] == "Bearer t"
        with Client(target, timeout=1, retries=0) as plain, pytest.raises((Unavailable, DeadlineExceeded)):
            plain.models()  # a plaintext client cannot talk to a TLS server
    finally:
        server.stop(None)
