"""Decode and EditLatent end to end through a real server on port 0 (conftest ``serve``), with tiny models."""

from __future__ import annotations

import io

import grpc
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from oneiros.v1 import oneiros_pb2 as pb
from tests.grpc_helpers import field_violations
from tests.latent_models import make_latent_model

D = 4


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    make_latent_model(root, "tiny-vae", D, default_for=("Decode", "EditLatent"))
    make_latent_model(root, "tiny-gan", D, kind="GAN", default_for=())
    return root


@pytest.fixture
def stub(serve, repo):
    return serve(repo, max_images_per_request=64).stub


def png(array: np.ndarray, mode: str = "L") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).convert(mode).save(buffer, "PNG")
    return buffer.getvalue()


def pixels(image: pb.Image) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(image.data)))


def test_models_show_latent_metadata(stub):
    info = stub.GetModel(pb.GetModelRequest(name="tiny-vae"))
    assert info.latent_size == D and list(info.image_shape) == [28, 28, 1]
    assert "thickness" in info.attributes and info.status == pb.READY


def test_decode_with_seed_is_reproducible(stub):
    a = stub.Decode(pb.DecodeRequest(count=3, seed=42))
    b = stub.Decode(pb.DecodeRequest(count=3, seed=42))
    assert [i.data for i in a.images] == [i.data for i in b.images]
    assert len(a.latents) == 3 and len(a.latents[0].values) == D
    assert pixels(a.images[0]).shape == (28, 28)


def test_decode_grid_and_formats(stub):
    r = stub.Decode(pb.DecodeRequest(grid=pb.Grid(axis_x=0, axis_y=3, steps=4), output_format=pb.JPEG))
    assert len(r.images) == 16 and r.images[0].data[:2] == b"\xff\xd8"
    assert r.latents[0].values[0] == pytest.approx(-2.0) and r.latents[0].values[3] == pytest.approx(2.0)
    webp = stub.Decode(pb.DecodeRequest(latents=[pb.Vector(values=[0.0] * D)], output_format=pb.WEBP))
    assert webp.images[0].data[8:12] == b"WEBP"


def test_edit_image_sweep_and_interpolation(stub):
    digit = np.zeros((56, 40), np.uint8)
    digit[8:48, 16:24] = 255
    r = stub.EditLatent(
        pb.EditLatentRequest(
            image=pb.Image(data=png(255 - digit, "RGB")), sweep_attribute="thickness", strengths=[-1, 0, 1]
        )
    )
    assert len(r.images) == 3 and len(r.source_latent.values) == D
    assert list(r.latents[1].values) == pytest.approx(list(r.source_latent.values))
    r = stub.EditLatent(
        pb.EditLatentRequest(
            latent=pb.Vector(values=[1, 0, 0, 0]),
            target_latent=pb.Vector(values=[0, 1, 0, 0]),
            interpolation_steps=5,
            interpolation=pb.SLERP,
            edits=[pb.AttributeEdit(attribute="digit_3", strength=0)],
        )
    )
    assert len(r.images) == 5 and list(r.latents[-1].values) == [0, 1, 0, 0]


@pytest.mark.parametrize(
    ("rpc", "request_", "code", "field"),
    [
        (
            "Decode",
            pb.DecodeRequest(latents=[pb.Vector(values=[0, float("nan"), 0, 0])]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "latents[0]",
        ),
        (
            "Decode",
            pb.DecodeRequest(latents=[pb.Vector(values=[0] * D), pb.Vector(values=[0] * 3)]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "latents[1]",
        ),
        ("Decode", pb.DecodeRequest(count=10_000), grpc.StatusCode.INVALID_ARGUMENT, "count"),
        ("Decode", pb.DecodeRequest(grid=pb.Grid(axis_x=0, axis_y=D)), grpc.StatusCode.INVALID_ARGUMENT, "grid.axis_y"),
        ("Decode", pb.DecodeRequest(count=1, output_format=9), grpc.StatusCode.INVALID_ARGUMENT, "output_format"),
        ("Decode", pb.DecodeRequest(model="no-such-model", count=1), grpc.StatusCode.NOT_FOUND, None),
        (
            "EditLatent",
            pb.EditLatentRequest(
                latent=pb.Vector(values=[0] * D), edits=[pb.AttributeEdit(attribute="smile", strength=1)]
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "edits[0].attribute",
        ),
        (
            "EditLatent",
            pb.EditLatentRequest(image=pb.Image(data=b"\x89PNG not really")),
            grpc.StatusCode.INVALID_ARGUMENT,
            "image",
        ),
        (
            "EditLatent",
            pb.EditLatentRequest(latent=pb.Vector(values=[0] * D), target_image=pb.Image(data=b"garbage")),
            grpc.StatusCode.INVALID_ARGUMENT,
            "target_image",
        ),
        (
            "EditLatent",
            pb.EditLatentRequest(latent=pb.Vector(values=[0] * 7)),
            grpc.StatusCode.INVALID_ARGUMENT,
            "latent",
        ),
        (
            "EditLatent",
            pb.EditLatentRequest(model="tiny-gan", image=pb.Image(data=b"whatever")),
            grpc.StatusCode.FAILED_PRECONDITION,
            None,
        ),
    ],
)
def test_error_table(stub, rpc, request_, code, field):
    with pytest.raises(grpc.RpcError) as info:
        getattr(stub, rpc)(request_)
    assert info.value.code() == code
    if field is not None:
        assert field in info.value.details()
        assert field_violations(info.value) == [field]


def test_gan_serves_latents(stub):
    r = stub.Decode(pb.DecodeRequest(model="tiny-gan", count=2, seed=1))
    assert len(r.images) == 2
    with pytest.raises(grpc.RpcError) as info:
        stub.EditLatent(pb.EditLatentRequest(model="tiny-gan", image=pb.Image(data=png(np.zeros((28, 28), np.uint8)))))
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "latent" in info.value.details()


floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32), st.floats(-3, 3, width=32))
vectors = st.lists(floats, min_size=0, max_size=6).map(lambda v: pb.Vector(values=v))
image_bytes = st.one_of(st.binary(max_size=64), st.just(png(np.full((3, 500), 200, np.uint8))))
names = st.sampled_from(["", "tiny-vae", "tiny-gan"])
decode_requests = st.builds(
    pb.DecodeRequest,
    model=names,
    latents=st.lists(vectors, max_size=3),
    count=st.integers(0, 100),
    seed=st.one_of(st.none(), st.integers(0, 2**64 - 1)),
    grid=st.one_of(
        st.none(),
        st.builds(pb.Grid, axis_x=st.integers(0, 6), axis_y=st.integers(0, 6), steps=st.integers(0, 12), extent=floats),
    ),
    output_format=st.integers(0, 3),
)
edit_requests = st.builds(
    lambda model, src, latent, img, edits, direction, strengths, attr, tgt, steps, interp: pb.EditLatentRequest(
        model=model,
        edits=edits,
        strengths=strengths,
        sweep_attribute=attr,
        interpolation_steps=steps,
        interpolation=interp,
        **({"latent": latent} if src else {"image": pb.Image(data=img)}),
        **({"direction": direction} if direction is not None else {}),
        **({"target_latent": tgt} if tgt is not None else {}),
    ),
    names,
    st.booleans(),
    vectors,
    image_bytes,
    st.lists(
        st.builds(pb.AttributeEdit, attribute=st.sampled_from(["thickness", "digit_1", "nope", ""]), strength=floats),
        max_size=3,
    ),
    st.one_of(st.none(), vectors),
    st.lists(floats, max_size=5),
    st.sampled_from(["", "slant", "x"]),
    st.one_of(st.none(), vectors),
    st.integers(0, 80),
    st.integers(0, 2),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request_=st.one_of(decode_requests, edit_requests))
def test_fuzz_never_internal(stub, request_):
    rpc = stub.Decode if isinstance(request_, pb.DecodeRequest) else stub.EditLatent
    try:
        rpc(request_, timeout=10)
    except grpc.RpcError as err:
        assert err.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION), err.details()
    assert len(stub.Decode(pb.DecodeRequest(count=1, seed=0), timeout=10).images) == 1  # still serving
