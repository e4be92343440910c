"""Images as devices make them: each decodes as displayed, or is a clear INVALID_ARGUMENT (issue 10)."""

from __future__ import annotations

import io
import shutil

import grpc
import numpy as np
import pytest
from PIL import Image

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.errors import FieldError
from oneiros_server.transport.convert.images import decode_image, to_mode
from tests.conftest import REPO_ROOT
from tests.latent_models import make_latent_model
from tests.server.image_files import (
    BLUE,
    RED,
    WHITE,
    digit,
    exif_rotated_jpeg,
    halves,
    png16_rgb,
    raw_png,
    save,
)

LIMITS = dict(max_bytes=16 << 20, max_pixels=4096 * 4096)


def _decode(data: bytes, mode: str = "RGB", **options) -> np.ndarray:
    return np.asarray(decode_image(data, "image", **(LIMITS | options), mode=mode)).astype(int)


def _animated_webp() -> bytes:
    frames = [Image.new("RGB", (32, 32), RED), Image.new("RGB", (32, 32), BLUE)]
    return save(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True, duration=100)


def _palette_with_transparency() -> bytes:
    image = Image.new("P", (32, 32), 1)
    image.putpalette([0, 0, 0, *RED] + [0] * 762)
    image.paste(0, (0, 0, 16, 32))  # left half: index 0, transparent
    return save(image, "PNG", transparency=0)


def _la() -> bytes:
    la = np.zeros((32, 32, 2), np.uint8)
    la[:, 16:] = (0, 255)  # right half: opaque black; left half: transparent
    return save(Image.fromarray(la, "LA"), "PNG")


def test_16_bit_grey_is_scaled_not_saturated():
    ring = digit()
    eight = _decode(save(Image.fromarray((ring * 255 + 0.5).astype(np.uint8)), "PNG"), "L")
    sixteen = _decode(save(Image.fromarray((ring * 65535 + 0.5).astype(np.uint16)), "PNG"), "L")
    assert np.abs(eight - sixteen).max() <= 1  # main: almost pure white


def test_16_bit_rgb_keeps_its_colours():
    array = np.random.default_rng(0).integers(0, 65536, (8, 8, 3)).astype(np.uint16)
    assert np.abs(_decode(png16_rgb(array)) - array / 257).max() <= 1


def test_exif_orientation_gives_the_displayed_picture():
    image = _decode(exif_rotated_jpeg(80, 40, orientation=6))  # turn 90 degrees clockwise to display
    assert image.shape == (80, 40, 3)  # displayed 40 wide, 80 high
    top, bottom = image[:30].mean(axis=(0, 1)), image[50:].mean(axis=(0, 1))
    assert top[0] > 200 > top[2] and bottom[2] > 200 > bottom[0]  # stored left (red) is now on top


def test_cmyk_palette_alpha_and_animation():
    cmyk = _decode(save(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), "JPEG", quality=95))
    assert np.abs(cmyk - RED).max() < 16
    palette = _decode(_palette_with_transparency())
    assert (palette[:, :16] == WHITE).all() and (palette[:, 16:] == RED).all()
    la = _decode(_la(), "L")
    assert (la[:, :16] == 255).all() and (la[:, 16:] == 0).all()
    first = _decode(_animated_webp())
    assert first.shape == (32, 32, 3) and np.abs(first - RED).max() < 8  # the first frame


def test_integer_and_float_modes_are_scaled():
    ramp = np.linspace(0, 1, 64 * 64).reshape(64, 64)
    for image in (
        Image.fromarray((ramp * 65535).astype(np.int32), "I"),
        Image.fromarray(ramp.astype(np.float32), "F"),
        Image.fromarray((ramp * 1e6).astype(np.int32), "I"),
        Image.fromarray((ramp * 1000 - 500).astype(np.float32), "F"),
    ):
        grey = np.asarray(to_mode(image, "RGB")).astype(int)[..., 0]
        assert grey.min() <= 1 and grey.max() >= 254, image.mode
        assert np.abs(grey - ramp * 255).max() <= 2, image.mode


@pytest.mark.parametrize(
    "data, words",
    [
        (
            save(Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)), "PNG")[:3000],
            "could not be decoded",
        ),
        (exif_rotated_jpeg()[:400], "could not be decoded"),
        (raw_png(100_000, 100_000, 8, 2, None), "limit of 16777216 pixels"),
        (raw_png(5000, 4000, 8, 2, None), "5000x4000 = 20000000 pixels"),
        (b"GIF89a" + b"\x00" * 64, "could not be decoded"),
    ],
)
def test_truncated_files_and_bombs_are_clear_field_errors(data, words):
    with pytest.raises(FieldError) as err:
        _decode(data)
    assert err.value.field == "image" and words in err.value.message


def test_large_images_are_reduced_while_decoding():
    photo = save(halves(2000, 1000), "JPEG")
    assert _decode(photo, max_side=256).shape == (128, 256, 3)
    assert _decode(save(halves(1000, 2000), "PNG"), max_side=300).shape == (300, 150, 3)


def test_dream_of_a_phone_photo_is_upright(serve, tmp_path):
    shutil.copytree(REPO_ROOT / "models" / "vgg19-imagenet", tmp_path / "vgg19-imagenet")
    running = serve(tmp_path, torch_threads=1)
    request = pb.DreamRequest(
        image=pb.Image(data=exif_rotated_jpeg(80, 40)),
        octaves=1,
        steps_per_octave=1,
        layer_weights={"block1_conv1": 1.0},
        max_side=80,
        step_size=0.001,
    )
    reply = running.stub.Dream(request, timeout=60)
    assert Image.open(io.BytesIO(reply.image.data)).size == (40, 80)


def test_edit_latent_encodes_a_16_bit_digit_like_its_8_bit_twin(serve, tmp_path):
    make_latent_model(tmp_path, "tiny-vae", 4)
    stub = serve(tmp_path).stub
    ring = digit()
    latents = []
    for array in ((ring * 255 + 0.5).astype(np.uint8), (ring * 65535 + 0.5).astype(np.uint16)):
        reply = stub.EditLatent(pb.EditLatentRequest(image=pb.Image(data=save(Image.fromarray(array), "PNG"))))
        latents.append(np.array(reply.source_latent.values))
    assert np.abs(latents[0] - latents[1]).max() < 0.05 * (1 + np.abs(latents[0]).max())


def test_bomb_through_the_server_names_the_pixel_limit(serve, tmp_path):
    make_latent_model(tmp_path, "tiny-vae", 4)
    stub = serve(tmp_path).stub
    with pytest.raises(grpc.RpcError) as err:
        stub.EditLatent(pb.EditLatentRequest(image=pb.Image(data=raw_png(100_000, 100_000, 8, 0, None))))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "pixels" in err.value.details()
