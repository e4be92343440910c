"""The `oneiros` CLI against the fake server."""

from __future__ import annotations

import sys

import numpy as np
from PIL import Image

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_client import (
    cli,
)
from tests.client.fake_oneiros import LATENT, png


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
    assert (
        cli.main(["decode", "-a", fake.target, "--latent", str(tmp_path / "z.npy"), "--z", "-1,2,3,4", "-o", str(out)])
        == 0
    )
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

    assert (
        cli.main(["-a", fake.target, "edit", str(src), "--edit", "thickness=1.5", "--edit", "slant=-1", "-o", str(out)])
        == 0
    )
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
    rc = cli.main(
        [
            "-a",
            fake.target,
            "dream",
            str(img),
            "-o",
            str(out_path),
            "--layer",
            "block4_conv3=1.5",
            "--preview-every",
            "1",
            "--preview-dir",
            str(tmp_path / "prev"),
            "-q",
        ]
    )
    assert rc == 0 and Image.open(out_path).size == (32, 32)
    assert dict(fake.requests[-1].layer_weights) == {"block4_conv3": 1.5}
    assert len(list((tmp_path / "prev").glob("*.png"))) == 3

    out_path = tmp_path / "styled.png"
    rc = cli.main(["-a", fake.target, "stylize", str(img), str(img), "-o", str(out_path), "--preserve-color", "-q"])
    assert rc == 0 and Image.open(out_path).size == (16, 16) and fake.requests[-1].preserve_color


def test_cli_serve_without_server_package(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert cli.main(["serve", "--port", "1"]) == 2
    assert "not installed" in capsys.readouterr().err


def test_cli_serve_finds_the_server_beside_its_interpreter(monkeypatch, tmp_path):
    """`.venv/bin/oneiros serve` runs `.venv/bin/oneiros-server` without the venv on PATH."""
    record = tmp_path / "args.txt"
    server = tmp_path / "oneiros-server"
    server.write_text(f'#!/bin/sh\necho "$@" > {record}\n')
    server.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", "/nonexistent")
    assert cli.main(["serve", "--port", "1"]) == 0
    assert record.read_text().split() == ["--port", "1"]
