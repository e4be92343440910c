"""An export that would give an RPC a second default model in its repository says so."""

from __future__ import annotations

import json
from pathlib import Path

from oneiros_export import latent_cli
from oneiros_export.defaults import warn_second_default


def _model(repository: Path, name: str, version: str, default_for: list[str]) -> None:
    folder = repository / name / version
    folder.mkdir(parents=True)
    (folder / "model.json").write_text(json.dumps({"name": name, "version": version, "default_for": default_for}))


def test_a_second_default_is_named_with_the_one_already_there(tmp_path, capsys):
    _model(tmp_path, "charlm-kjv", "1", ["Sample"])
    _model(tmp_path, "vae-mnist-2d", "1", ["Decode"])
    assert warn_second_default(tmp_path, "my-lm", ["Sample"], "pass --no-default-for-sample")
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("warning: charlm-kjv is already the default for Sample")
    assert "my-lm" in err[0] and "--no-default-for-sample" in err[0]


def test_a_new_version_of_the_default_or_another_rpc_is_no_clash(tmp_path, capsys):
    _model(tmp_path, "charlm-kjv", "1", ["Sample"])
    _model(tmp_path, "vae-mnist-2d", "1", ["Decode"])
    assert not warn_second_default(tmp_path, "charlm-kjv", ["Sample"], "")
    assert not warn_second_default(tmp_path, "vae-mnist-16d", ["EditLatent"], "")
    assert capsys.readouterr().err == ""


def test_latent_exporters_warn_on_their_default_for(tmp_path, capsys):
    _model(tmp_path, "vae-mnist-2d", "1", ["Decode"])
    parser = latent_cli.parser(None, "checkpoint")
    argv = ["--checkpoint", "x.pt", "--classifier", "c.pt", "--name", "vae-b", "--repository", str(tmp_path)]
    latent_cli.parse(parser, "oneiros_export.vae", [*argv, "--default-for", "Decode"])
    assert "vae-mnist-2d is already the default for Decode" in capsys.readouterr().err
    latent_cli.parse(parser, "oneiros_export.vae", [*argv, "--default-for", "EditLatent"])
    assert capsys.readouterr().err == ""
