"""Export a trained style network into a model repository as a ``STYLE_NETWORK`` version folder.

    python -m oneiros_export.style_net runs/style-starry-night/final.pt --painting docs/img/style-starry-night.jpg \\
        --name style-starry-night --title "Vincent van Gogh, The Starry Night (1889)"

writes ``<repository>/<name>/<version>/`` (the next version number unless ``--version``):
``model.onnx`` (``content`` (B, 3, H, W) RGB in [0, 1] -> ``image``, the same shape; batch,
height and width dynamic, H and W multiples of 4), the painting (copied in), and
``model.json`` (the painting, the network, the training data, command and minutes, and the
sha256 of every file). The ONNX file is checked against torch on two sizes. Quality figures
are added by ``oneiros_export.style_quality``.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import warnings
from pathlib import Path

import torch

from oneiros_export.onnx_utils import parity
from oneiros_server.repository.manifest import Manifest, file_ref, write_manifest
from oneiros_training.style_net import StyleNet, StyleNetConfig
from oneiros_training.style_photos import PHOTO_DIR, data_description, prepare

PARITY_TOLERANCE = 1e-4
DEFAULT_MAX_SIDE = 1024


def load_network(checkpoint: Path) -> tuple[StyleNet, dict]:
    """(network in eval mode, the checkpoint's metadata) from a trainer's ``final.pt`` (or ``last.pt``)."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    net = StyleNet(StyleNetConfig(**state["meta"]["config"]))
    net.load_state_dict(state["net"])
    meta = state["meta"]
    if "step" in state:  # last.pt: where the run stopped
        meta = meta | {"steps": state["step"], "minutes": round(state["elapsed_s"] / 60, 1)}
        meta |= {"cpu_minutes": round(state.get("cpu_s", 0.0) / 60, 1)}
    return net.eval(), meta


def export_onnx(net: StyleNet, path: Path) -> float:
    """Write the ONNX graph (dynamic batch, height, width); returns the parity error vs torch."""
    axes = {"content": {0: "batch", 2: "height", 3: "width"}, "image": {0: "batch", 2: "height", 3: "width"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (torch.rand(1, 3, 64, 64),),
            str(path),
            dynamo=False,
            dynamic_axes=axes,
            input_names=["content"],
            output_names=["image"],
            opset_version=17,
        )
    g = torch.Generator().manual_seed(0)
    samples = [torch.rand(2, 3, 64, 96, generator=g), torch.rand(1, 3, 100, 52, generator=g)]
    return max(parity(net, path, (x,)) for x in samples)


def next_version(repository: Path, name: str) -> str:
    """One more than the largest numeric version folder of ``name`` (1 for a new model)."""
    versions = [int(p.name) for p in (repository / name).glob("*") if p.is_dir() and p.name.isdigit()]
    return str(max(versions, default=0) + 1)


def train_command(args: dict) -> str:
    """The trainer's command line, rebuilt from the arguments saved in its checkpoint."""
    flags = [f"--{k.replace('_', '-')} {shlex.quote(str(v))}" for k, v in args.items() if k != "painting" and v]
    return " ".join(["python -m oneiros_training.style_train", shlex.quote(args["painting"]), *flags])


def training_record(meta: dict, photos: list[dict] | None, command: str) -> dict:
    args = meta["args"]
    record = {
        "data": data_description(photos) if photos else f"photos in {args.get('photos')}",
        "command": train_command(args),
        "export_command": command,
        "steps": meta.get("steps"),
        "minutes": meta.get("minutes"),
        "cpu_minutes": meta.get("cpu_minutes"),
        "threads": args.get("threads"),
        "crop": args.get("size"),
        "batch": args.get("batch"),
        "style_side": args.get("style_side"),
        "backbone_precision": meta["precision"],
        "precision_reason": meta["precision_reason"],
        "loss": {"weights": meta["weights"], "style_layers": meta["style_layers"]}
        | {"content_layers": meta["content_layers"], "objective": "oneiros_server.engines.convnet.style_loss"},
    }
    if "grown_from" in meta:  # the earlier, smaller networks' runs (their steps and minutes not counted above)
        record["grown_from"] = stage_record(meta["grown_from"])
    if photos:
        keys = ("name", "source", "licence", "copyright")
        record["photos"] = [{k: entry[k] for k in keys} for entry in photos]
    return record


def stage_record(stage: dict) -> dict:
    """An earlier training stage as model.json records it: its command line, and its own origin."""
    stage = dict(stage)
    if "args" in stage:
        stage["command"] = train_command(stage.pop("args"))
    if "grown_from" in stage:
        stage["grown_from"] = stage_record(stage["grown_from"])
    return stage


def export_style_net(
    checkpoint: Path,
    painting: Path,
    repository: Path,
    name: str,
    title: str = "",
    version: str | None = None,
    command: str = "",
) -> Path:
    """Write the version folder; returns its path."""
    net, meta = load_network(checkpoint)
    out = repository / name / (version or next_version(repository, name))
    out.mkdir(parents=True, exist_ok=True)
    error = export_onnx(net, out / "model.onnx")
    if error > PARITY_TOLERANCE:
        raise RuntimeError(f"ONNX Runtime differs from torch by {error} (> {PARITY_TOLERANCE})")
    painting_file = "painting" + painting.suffix.lower()
    shutil.copyfile(painting, out / painting_file)
    photos = prepare() if not meta["args"].get("photos") and (PHOTO_DIR / "manifest.json").exists() else None
    manifest = Manifest(
        name=name,
        version=out.name,
        kind="STYLE_NETWORK",
        runtime="onnxruntime",
        description=f"Feed-forward style network (Johnson et al. 2016) for {title or painting.stem}",
        files={"network": file_ref(out, "model.onnx"), "painting": file_ref(out, painting_file)},
        spec={
            "painting": {"file": painting_file, "title": title or painting.stem},
            "input": "content",
            "output": "image",
            "layout": "NCHW",
            "pixel_range": [0.0, 1.0],
            "multiple": StyleNet.MULTIPLE,
            "intra_op_threads": 0,  # every core: one image is one long run
            "architecture": meta["config"]
            | {"painting": title or painting.stem, "parameters": meta["parameters"], "parity_max_abs": error},
        },
        parameters={"stylize": {"max_side": DEFAULT_MAX_SIDE}},
        training=training_record(meta, photos, command),
    )
    write_manifest(out, manifest)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint", type=Path, help="the trainer's final.pt")
    p.add_argument("--painting", type=Path, required=True)
    p.add_argument("--name", required=True, help="model name, e.g. style-starry-night")
    p.add_argument("--title", default="", help="the painting: artist, title (year)")
    p.add_argument("--repository", type=Path, default=Path("models"))
    p.add_argument("--version", help="default: the next number")
    p.add_argument("--command", default="", help="the training command, for model.json")
    args = p.parse_args(argv)
    command = args.command or " ".join(map(shlex.quote, sys.argv))
    print(
        export_style_net(args.checkpoint, args.painting, args.repository, args.name, args.title, args.version, command)
    )


if __name__ == "__main__":
    main()
