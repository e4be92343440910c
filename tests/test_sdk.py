"""The Python SDK and CLI against a fake in-process server (no models, no torch)."""

from __future__ import annotations

import asyncio
import io
import threading
import time
from concurrent import futures

import grpc
import numpy as np
import pytest
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status
from PIL import Image

from oneiros.v1 import oneiros_pb2 as pb
from oneiros.v1 import oneiros_pb2_grpc
from oneiros_client import (
    AsyncClient,
    DeadlineExceeded,
    Client,
    DreamResult,
    Grid,
    InvalidArgument,
    NotFound,
    Progress,
    ResourceExhausted,
    RetryPolicy,
    StylizeResult,
    Unavailable,
    cli,
    make_grid,
)

LATENT = 4


def png(value: int, size: int = 28, mode: str = "L") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (size, size), value).save(buf, format="PNG")
    return buf.getvalue()


def abort(context, code: grpc.StatusCode, message: str, *, violations=(), retry_s: float | None = None):
    details = []
    if violations:
        bad = error_details_pb2.BadRequest(
            field_violations=[error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in violations]
        )
        details.append(bad)
    if retry_s is not None:
        details.append(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(nanos=int(retry_s * 1e9))))
    packed = []
    for d in details:
        a = any_pb2.Any()
        a.Pack(d)
        packed.append(a)
    status = status_pb2.Status(code=getattr(code_pb2, code.name), message=message, details=packed)
    context.abort_with_status(rpc_status.to_status(status))


class FakeOneiros(oneiros_pb2_grpc.OneirosServicer):
    """Fixed answers, recorded requests, scripted failures."""

    def __init__(self):
        self.requests: list = []
        self.metadata: list = []
        self.unavailable_first = 0  # fail this many calls with UNAVAILABLE before answering
        self.attempts = 0
        self.stream_cancelled = threading.Event()

    def _record(self, request, context):
        self.requests.append(request)
        self.metadata.append(dict(context.invocation_metadata()))
        self.attempts += 1
        if self.unavailable_first > 0:
            self.unavailable_first -= 1
            abort(context, grpc.StatusCode.UNAVAILABLE, "shutting down", retry_s=0.01)

    def ListModels(self, request, context):
        self._record(request, context)
        return pb.ListModelsResponse(
            models=[
                pb.ModelInfo(name="vae-mnist-2d", version="1", kind=pb.VAE, runtime="onnxruntime", device="cpu",
                             status=pb.READY, default_for=["Decode"], latent_size=2, attributes=["thickness"],
                             metrics={"neg_elbo_nats": 140.5}),
                pb.ModelInfo(name="char-kjv", version="2", kind=pb.LANGUAGE_MODEL, status=pb.UNAVAILABLE,
                             status_reason="sha256 mismatch"),
            ]
        )  # fmt: skip

    def GetModel(self, request, context):
        self._record(request, context)
        if request.name != "vae-mnist-2d":
            abort(context, grpc.StatusCode.NOT_FOUND, f"no model named {request.name!r}")
        info = pb.ModelInfo(name=request.name, version="1", kind=pb.VAE, status=pb.READY, image_shape=[28, 28, 1])
        info.default_parameters.update({"extent": 2.0})
        return info

    def Decode(self, request, context):
        self._record(request, context)
        if request.count > 64:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "count: must be in [0, 64]",
                  violations=[("count", "must be in [0, 64]")])  # fmt: skip
        if request.HasField("grid"):
            n = request.grid.steps**2
        elif request.latents:
            n = len(request.latents)
        else:
            n = request.count
        latents = [pb.Vector(values=[float(i)] * LATENT) for i in range(n)]
        return pb.DecodeResponse(images=[pb.Image(data=png(10 * i)) for i in range(n)], latents=latents)

    def EditLatent(self, request, context):
        self._record(request, context)
        n = len(request.strengths) or (request.interpolation_steps or 1)
        return pb.EditLatentResponse(
            images=[pb.Image(data=png(20 * i)) for i in range(n)],
            latents=[pb.Vector(values=[0.5 * i] * LATENT) for i in range(n)],
            source_latent=pb.Vector(values=[1.0, 2.0, 3.0, 4.0]),
        )

    def Sample(self, request, context):
        self._record(request, context)
        return pb.SampleResponse(
            completions=[
                pb.Completion(text=f"text{i}", finish_reason=pb.LENGTH, token_count=5, mean_entropy_bits=1.5, index=i)
                for i in reversed(range(request.n or 1))
            ]
        )

    def SampleStream(self, request, context):
        self._record(request, context)
        context.add_callback(self.stream_cancelled.set)
        temperature = request.temperature if request.HasField("temperature") else 1.0
        if request.prompt == "forever":
            while context.is_active():
                yield pb.SampleChunk(text="x")
                time.sleep(0.01)
            return
        for ch in "abc":
            yield pb.SampleChunk(index=0, text=ch)
        yield pb.SampleChunk(index=0, text="!", finish_reason=pb.STOP, token_count=4, mean_entropy_bits=temperature)

    def Dream(self, request, context):
        self._record(request, context)
        return pb.DreamResponse(image=pb.Image(data=png(99, 32, "RGB")), loss_history=[1.0, 2.0], elapsed_ms=12)

    def DreamStream(self, request, context):
        self._record(request, context)
        for step in range(1, 4):
            p = pb.Progress(step=step, total_steps=3, octave=1, loss=float(step))
            if request.preview_every and step % request.preview_every == 0:
                p.preview.data = png(step, 8, "RGB")
            yield pb.DreamProgress(progress=p)
        yield pb.DreamProgress(result=self.Dream(request, context))

    def StylizeStream(self, request, context):
        self._record(request, context)
        for step in range(1, 3):
            yield pb.StylizeProgress(progress=pb.Progress(step=step, total_steps=2, loss=3.0 - step, style_loss=1.0))
        result = pb.StylizeResponse(image=pb.Image(data=png(5, 16, "RGB")), loss_history=[2.0, 1.0],
                                    content_loss=0.5, style_loss=0.25, tv_loss=0.125, elapsed_ms=7)  # fmt: skip
        yield pb.StylizeProgress(result=result)


@pytest.fixture()
def fake():
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    servicer = FakeOneiros()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    oneiros_pb2_grpc.add_OneirosServicer_to_server(servicer, server)
    health_servicer = health.HealthServicer()
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_servicer.set("oneiros.v1.Oneiros", health_pb2.HealthCheckResponse.NOT_SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    servicer.target = f"127.0.0.1:{port}"
    yield servicer
    server.stop(None)


@pytest.fixture()
def client(fake):
    with Client(fake.target, timeout=5, retry_policy=RetryPolicy(retries=3, initial_backoff_s=0.01)) as c:
        yield c


# ---------------------------------------------------------------- requests and responses


def test_unset_optionals_stay_unset(client, fake):
    client.sample("In the beginning")
    req = fake.requests[-1]
    assert not req.HasField("temperature") and not req.HasField("top_p") and not req.HasField("seed")
    client.sample("x", temperature=0.0, top_p=0.9, seed=0, stop=["\n"], top_k=3, max_tokens=7, n=2, model="m")
    req = fake.requests[-1]
    assert req.HasField("temperature") and req.temperature == 0.0
    assert req.HasField("seed") and req.seed == 0
    assert req.top_p == pytest.approx(0.9) and list(req.stop) == ["\n"]
    assert (req.top_k, req.max_tokens, req.n, req.model) == (3, 7, 2, "m")


def test_sample_completions_sorted_by_index(client):
    completions = client.sample("x", n=3)
    assert [c.index for c in completions] == [0, 1, 2]
    assert completions[0].finish_reason == "LENGTH" and completions[0].mean_entropy_bits == 1.5


def test_decode_modes_and_conversion(client, fake):
    result = client.decode(grid=Grid(0, 1, steps=3, extent=1.5))
    req = fake.requests[-1]
    assert req.HasField("grid") and (req.grid.axis_x, req.grid.axis_y, req.grid.steps) == (0, 1, 3)
    assert req.grid.extent == pytest.approx(1.5) and not req.HasField("seed")
    assert len(result.images) == 9 and all(isinstance(im, Image.Image) for im in result.images)
    assert result.latents.shape == (9, LATENT) and result.latents.dtype == np.float32

    client.decode(count=4, seed=7)
    req = fake.requests[-1]
    assert req.count == 4 and req.HasField("seed") and req.seed == 7 and not req.HasField("grid")

    z = np.arange(2 * LATENT, dtype=np.float64).reshape(2, LATENT)
    result = client.decode(z, output_format="jpeg")
    req = fake.requests[-1]
    assert [list(v.values) for v in req.latents] == z.tolist() and req.output_format == pb.JPEG
    assert len(result.images) == 2
    client.decode(z[0])
    assert len(fake.requests[-1].latents) == 1


def test_edit_latent_request_mapping(client, fake, tmp_path):
    path = tmp_path / "digit.png"
    path.write_bytes(png(128))
    result = client.edit_latent(path, edits={"thickness": 1.5, "digit_3": -1.0})
    req = fake.requests[-1]
    assert req.WhichOneof("source") == "image" and req.image.data == png(128)
    assert [(e.attribute, e.strength) for e in req.edits] == [("thickness", 1.5), ("digit_3", -1.0)]
    assert req.WhichOneof("target") is None and not req.HasField("direction")
    assert result.source_latent.tolist() == [1.0, 2.0, 3.0, 4.0]

    client.edit_latent(latent=[0.0] * LATENT, sweep_attribute="thickness", strengths=[-2, 0, 2])
    req = fake.requests[-1]
    assert req.WhichOneof("source") == "latent" and req.sweep_attribute == "thickness"
    assert list(req.strengths) == [-2.0, 0.0, 2.0]

    array = np.full((28, 28), 0.5, dtype=np.float32)
    result = client.edit_latent(array, target_latent=np.ones(LATENT), interpolation_steps=5, interpolation="SLERP")
    req = fake.requests[-1]
    assert Image.open(io.BytesIO(req.image.data)).getpixel((0, 0)) == 128
    assert req.WhichOneof("target") == "target_latent" and req.interpolation == pb.SLERP
    assert len(result.images) == 5 and result.latents.shape == (5, LATENT)

    with pytest.raises(ValueError):
        client.edit_latent(array, latent=[0.0] * LATENT)


def test_models_and_model(client):
    models = client.models()
    assert [m.name for m in models] == ["vae-mnist-2d", "char-kjv"]
    assert models[0].kind == "VAE" and models[0].ready and models[0].metrics == {"neg_elbo_nats": 140.5}
    assert models[1].status == "UNAVAILABLE" and models[1].status_reason == "sha256 mismatch"
    info = client.model("vae-mnist-2d")
    assert info.image_shape == (28, 28, 1) and info.default_parameters == {"extent": 2.0}


def test_health_codec(client):
    assert client.health() == "SERVING"
    assert client.health("oneiros.v1.Oneiros") == "NOT_SERVING"


def test_token_sent_as_bearer_metadata(fake):
    with Client(fake.target, token="s3cret") as c:
        c.models()
    assert fake.metadata[-1]["authorization"] == "Bearer s3cret"


# ---------------------------------------------------------------- errors and retries


def test_error_parsing(client):
    with pytest.raises(InvalidArgument) as info:
        client.decode(count=1000)
    err = info.value
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT and err.field_violations == [("count", "must be in [0, 64]")]
    assert "count" in str(err) and err.fields == ["count"]
    with pytest.raises(NotFound) as info:
        client.model("nope")
    assert info.value.code_name == "NOT_FOUND" and "nope" in info.value.message


def test_retries_unavailable_then_succeeds(client, fake):
    fake.unavailable_first = 2
    assert len(client.models()) == 2
    assert fake.attempts == 3


def test_retries_exhausted_raise_with_hint(fake):
    fake.unavailable_first = 10
    with Client(fake.target, retry_policy=RetryPolicy(retries=2, initial_backoff_s=0.01)) as c:
        with pytest.raises(Unavailable) as info:
            c.models()
    assert fake.attempts == 3 and info.value.retry_after_s == pytest.approx(0.01)
    fake.attempts, fake.unavailable_first = 0, 1
    with Client(fake.target, retries=0) as c, pytest.raises(Unavailable):
        c.models()
    assert fake.attempts == 1


def test_resource_exhausted_is_retried_and_honours_hint():
    policy = RetryPolicy(retries=3, initial_backoff_s=0.001)
    err = ResourceExhausted(grpc.StatusCode.RESOURCE_EXHAUSTED, "queue full", retry_after_s=0.5)
    assert policy.should_retry(err, 0) and policy.delay(err, 0) >= 0.5
    too_big = ResourceExhausted(grpc.StatusCode.RESOURCE_EXHAUSTED, "Received message larger than max (5 vs. 4)")
    assert not policy.should_retry(too_big, 0)
    assert not policy.should_retry(InvalidArgument(grpc.StatusCode.INVALID_ARGUMENT, "x"), 0)


def test_unreachable_server_is_unavailable():
    with Client("127.0.0.1:1", timeout=2, retry_policy=RetryPolicy(retries=1, initial_backoff_s=0.01)) as c:
        with pytest.raises(Unavailable):
            c.models()


# ---------------------------------------------------------------- streams


def test_sample_stream_and_cancellation_on_close(client, fake):
    chunks = list(client.sample_stream("x", temperature=0.5))
    assert "".join(c.text for c in chunks) == "abc!"
    assert chunks[-1].finish_reason == "STOP" and chunks[-1].mean_entropy_bits == 0.5
    assert all(c.finish_reason is None for c in chunks[:-1])

    fake.stream_cancelled.clear()
    stream = client.sample_stream("forever")
    assert next(stream).text == "x"
    stream.close()
    assert fake.stream_cancelled.wait(5), "closing the iterator must cancel the call"


def test_dream_and_stylize_streams(client, fake):
    events = list(client.dream_stream(np.zeros((8, 8, 3), np.uint8), preview_every=2, seed=3, max_loss=10.0))
    req = fake.requests[-1]
    assert req.HasField("seed") and req.HasField("max_loss") and req.preview_every == 2
    assert [type(e) for e in events] == [Progress, Progress, Progress, DreamResult]
    assert events[1].preview is not None and events[0].preview is None
    assert events[-1].image.size == (32, 32) and events[-1].loss_history == [1.0, 2.0]

    content, style = Image.new("RGB", (8, 8)), Image.new("RGB", (8, 8), (255, 0, 0))
    events = list(client.stylize_stream(content, style, optimizer="adam", init="noise", style_weight=1e4))
    req = fake.requests[-1]
    assert req.optimizer == pb.ADAM and req.init == pb.NOISE and req.HasField("style_weight")
    assert not req.HasField("content_weight") and not req.HasField("learning_rate")
    assert isinstance(events[-1], StylizeResult) and events[-1].tv_loss == 0.125
    assert client.dream(b"raw-bytes").elapsed_ms == 12
    assert fake.requests[-1].image.data == b"raw-bytes"


def test_async_client(fake):
    async def run():
        async with AsyncClient(fake.target, timeout=5) as c:
            decoded = await c.decode(count=2, seed=1)
            chunks = [ch.text async for ch in c.sample_stream("x")]
            with pytest.raises(NotFound):
                await c.model("nope")
            fake.stream_cancelled.clear()
            stream = c.sample_stream("forever")
            assert (await stream.__anext__()).text == "x"
            await stream.aclose()
            cancelled = await asyncio.get_running_loop().run_in_executor(None, fake.stream_cancelled.wait, 5)
            return decoded, chunks, cancelled, await c.health()

    decoded, chunks, cancelled, health = asyncio.run(run())
    assert len(decoded.images) == 2 and decoded.latents.shape == (2, LATENT)
    assert "".join(chunks) == "abc!" and cancelled and health == "SERVING"


# ---------------------------------------------------------------- images


def test_make_grid_layout():
    tiles = [Image.new("L", (4, 4), v) for v in (0, 100, 200)]
    grid = make_grid(tiles, cols=2, padding=1, scale=2)
    assert grid.size == (2 * 8 + 3, 2 * 8 + 3)
    assert grid.getpixel((1 + 8 + 1, 1)) == 100 and grid.getpixel((1, 1 + 8 + 1)) == 200


# ---------------------------------------------------------------- CLI


def test_cli_decode_grid_writes_png(fake, tmp_path, capsys):
    out = tmp_path / "grid.png"
    rc = cli.main(["-a", fake.target, "decode", "--grid", "0", "1", "--steps", "3", "-o", str(out), "--each"])
    assert rc == 0
    grid = Image.open(out)
    assert grid.size == (3 * 28 + 4 * 2, 3 * 28 + 4 * 2)
    assert (tmp_path / "grid-008.png").exists()
    assert fake.requests[-1].grid.steps == 3


def test_cli_decode_count_and_latents(fake, tmp_path):
    np.save(tmp_path / "z.npy", np.zeros((2, LATENT), np.float32))
    out = tmp_path / "one.png"
    assert cli.main(["decode", "-a", fake.target, "--latent", str(tmp_path / "z.npy"), "--z", "-1,2,3,4", "-o", str(out)]) == 0
    assert len(fake.requests[-1].latents) == 3 and fake.requests[-1].latents[2].values[0] == -1.0
    assert cli.main(["decode", "-a", fake.target, "--count", "1", "--seed", "5", "-o", str(out)]) == 0
    assert Image.open(out).size == (28, 28) and fake.requests[-1].seed == 5


def test_cli_edit_sweep_and_interpolation(fake, tmp_path):
    src = tmp_path / "in.png"
    src.write_bytes(png(50))
    out = tmp_path / "sweep.png"
    args = ["-a", fake.target, "edit", str(src), "--sweep", "thickness", "--strengths", "-2,-1,0,1,2", "-o", str(out)]
    assert cli.main(args) == 0
    req = fake.requests[-1]
    assert list(req.strengths) == [-2, -1, 0, 1, 2] and req.sweep_attribute == "thickness"
    assert Image.open(out).size == (5 * 28 + 6 * 2, 28 + 2 * 2)

    args = ["-a", fake.target, "edit", str(src), "--target", str(src), "--steps", "4", "--slerp", "-o", str(out)]
    assert cli.main(args) == 0
    req = fake.requests[-1]
    assert req.WhichOneof("target") == "target_image" and req.interpolation == pb.SLERP
    assert req.interpolation_steps == 4

    assert cli.main(["-a", fake.target, "edit", str(src), "--edit", "thickness=1.5", "--edit", "slant=-1", "-o", str(out)]) == 0
    assert [(e.attribute, e.strength) for e in fake.requests[-1].edits] == [("thickness", 1.5), ("slant", -1.0)]


def test_cli_models_and_errors(fake, capsys):
    assert cli.main(["-a", fake.target, "models"]) == 0
    out = capsys.readouterr().out
    assert "vae-mnist-2d" in out and "UNAVAILABLE (sha256 mismatch)" in out
    assert cli.main(["-a", fake.target, "models", "nope"]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["oneiros: error: NOT_FOUND: no model named 'nope'"]
    assert cli.main(["-a", fake.target, "decode", "--count", "1000"]) == 1
    assert "INVALID_ARGUMENT" in capsys.readouterr().err


def test_cli_sample_dream_stylize(fake, tmp_path, capsys):
    assert cli.main(["-a", fake.target, "sample", "In", "-t", "0.2", "-t", "1.2", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert out.count("Inabc!") == 2 and "mean entropy 0.200" in out and "1.200" in out
    assert fake.requests[-1].HasField("temperature") and fake.requests[-1].seed == 1

    img = tmp_path / "photo.png"
    img.write_bytes(png(1, 16, "RGB"))
    out_path = tmp_path / "dream.png"
    rc = cli.main(["-a", fake.target, "dream", str(img), "-o", str(out_path), "--layer", "mixed4=1.5",
                   "--preview-every", "1", "--preview-dir", str(tmp_path / "prev"), "-q"])  # fmt: skip
    assert rc == 0 and Image.open(out_path).size == (32, 32)
    assert dict(fake.requests[-1].layer_weights) == {"mixed4": 1.5}
    assert len(list((tmp_path / "prev").glob("*.png"))) == 3

    out_path = tmp_path / "styled.png"
    rc = cli.main(["-a", fake.target, "stylize", str(img), str(img), "-o", str(out_path), "--preserve-color", "-q"])
    assert rc == 0 and Image.open(out_path).size == (16, 16) and fake.requests[-1].preserve_color


def test_cli_serve_without_server_package(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n.startswith("server") else real(n, *a))
    assert cli.main(["serve", "--port", "1"]) == 2
    assert "not installed" in capsys.readouterr().err


def test_sdk_does_not_import_torch_or_server():
    import subprocess
    import sys

    code = "import sys, oneiros_client, oneiros_client.cli; print('torch' in sys.modules, 'server' in sys.modules)"
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
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
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
        with Client(target, root_certificates=tmp_path / "ca.pem", server_name="oneiros.test", token="t", timeout=5) as c:
            assert len(c.models()) == 2
        assert servicer.metadata[-1]["authorization"] == "Bearer t"
        with Client(target, timeout=1, retries=0) as plain, pytest.raises((Unavailable, DeadlineExceeded)):
            plain.models()  # a plaintext client cannot talk to a TLS server
    finally:
        server.stop(None)


def test_async_retries_then_succeeds(fake):
    fake.unavailable_first = 2

    async def run():
        policy = RetryPolicy(retries=2, initial_backoff_s=0.01)
        async with AsyncClient(fake.target, timeout=5, retry_policy=policy) as c:
            return await c.models()

    assert len(asyncio.run(run())) == 2 and fake.attempts == 3


def test_retries_stop_at_the_deadline(fake):
    fake.unavailable_first = 100
    policy = RetryPolicy(retries=100, initial_backoff_s=0.2, max_backoff_s=0.2)
    start = time.monotonic()
    with Client(fake.target, timeout=0.5, retry_policy=policy) as c, pytest.raises(Unavailable):
        c.models()
    assert time.monotonic() - start < 1.5 and fake.attempts < 100
