"""``oneiros-export keras|torch``: load the source, export each graph with parity, write the
version folder with its ``model.json``, and check it as the server will, all or nothing."""

from __future__ import annotations

import argparse
import shlex
import time
from pathlib import Path
from typing import Any

from oneiros_export.byo import Refused, graph
from oneiros_export.byo.attributes import attribute_vectors
from oneiros_export.byo.charlm import import_char_lm, read_vocabulary
from oneiros_export.byo.latent import import_decoder, import_encoder
from oneiros_export.byo.sources import Source, load_keras, load_torch
from oneiros_export.byo.write import model_name, next_version, write_version
from oneiros_export.check import check_model
from oneiros_server.repository.manifest import Manifest, file_ref, sha256_file, write_manifest

ROLES = ("decoder", "generator", "char-lm", "transformer-lm")
KINDS = {"decoder": "VAE", "generator": "GAN", "char-lm": "LANGUAGE_MODEL", "transformer-lm": "LANGUAGE_MODEL"}


def _check_arguments(args: argparse.Namespace) -> None:
    """Refuse option combinations that cannot work, before any model is loaded."""
    role = args.role
    if args.encoder and role != "decoder":
        raise Refused("--encoder goes with --as decoder (a VAE); a GAN or a language model has none")
    if args.attributes and not args.encoder:
        raise Refused("--attributes needs --encoder: the vectors are means of encoded images")
    if role in ("char-lm", "transformer-lm"):
        read_vocabulary(args.vocabulary)
    elif args.vocabulary or args.sequence_length:
        raise Refused(f"--vocabulary and --sequence-length are for a language model, not a {role}")


def _load(args: argparse.Namespace, target: str) -> tuple[Source, dict[str, Any]]:
    if args.origin == "keras":
        path = Path(target)
        source = load_keras(path, args.imports)
        return source, {"path": str(path), "sha256": sha256_file(path), **source.record}
    source = load_torch(target, args.imports)
    return source, {"factory": target, **source.record}


def import_model(args: argparse.Namespace, argv: list[str]) -> Path:
    """Run ``oneiros-export keras|torch`` as parsed into ``args``; returns the new version folder."""
    _check_arguments(args)
    source, source_record = _load(args, args.source)
    default_name = Path(args.source).stem if args.origin == "keras" else args.source.partition(":")[2]
    root = Path(args.repository)
    name = model_name(args.name, default_name)
    version = args.version or next_version(root, name)
    role = "char-lm" if args.role == "transformer-lm" else args.role
    kind = KINDS[args.role]

    def build(folder: Path) -> None:
        training: dict[str, Any] = {"source": source_record}
        exports: dict[str, Any] = {}
        parameters: dict[str, Any] = {}
        if role == "char-lm":
            result = import_char_lm(source, folder, read_vocabulary(args.vocabulary), args.sequence_length)
            files = {"window": result["file"]}
            exports["window"] = result
            parameters = {"temperature": 1.0, "max_tokens": 200}
            spec = result["spec"]
        else:
            result = import_decoder(source, role, folder, args.latent_size, args.pixel_range)
            files = {role: result["file"]}
            exports[role] = result
            spec = result["spec"]
            if args.encoder:
                encoder_source, training["encoder_source"] = _load(args, args.encoder)
                encoded = import_encoder(encoder_source, folder, spec)
                files["encoder"] = encoded["file"]
                exports["encoder"] = encoded
                spec |= encoded["spec"]
            if args.attributes:
                spec["attributes"], spec["attribute_notes"] = attribute_vectors(
                    Path(args.attributes), folder / files["encoder"], spec
                )
        training["command"] = "oneiros-export " + shlex.join(argv)
        training["export"] = {
            role_: {"exporter": r["exporter"], "parity_max_abs": r["parity"]} for role_, r in exports.items()
        }
        training["export"]["tolerance"] = graph.TOLERANCE
        training["imported_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        manifest = Manifest(
            name=name,
            version=version,
            kind=kind,
            runtime="onnxruntime",
            description=args.description or f"{args.role} imported from {Path(args.source).name}",
            files={r: file_ref(folder, f) for r, f in files.items()},
            spec=spec,
            parameters=parameters,
            training=training,
        )
        write_manifest(folder, manifest)
        problems = check_model(folder, folder_names=False)
        if problems:
            raise Refused(f"the written model fails the server's checks: {problems[0]}")

    return write_version(root, name, version, build)
