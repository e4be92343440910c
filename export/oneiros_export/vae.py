"""Export a trained VAE into the model repository: ONNX encoder/decoder, held-out ELBO, attribute vectors.

    python -m oneiros_export.vae --checkpoint runs/vae-mnist-2d/vae.pt --classifier runs/classifier/classifier.pt \\
        --name vae-mnist-2d --default-for Decode

writes ``models/<name>/<version>/{encoder.onnx, decoder.onnx, model.json}``. Both ONNX graphs take
and give NHWC float32 in [0, 1] (white digits on black) with a dynamic batch axis; the parity
check against torch (max abs error <= 1e-4) is asserted before anything is written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from oneiros_export import latent_cli
from oneiros_export.latent_checks import attribute_vectors, check_metrics, class_check, sweep_check
from oneiros_export.onnx_utils import export_onnx, parity, session
from oneiros_export.quality import prior_samples, sample_quality
from oneiros_server.repository.manifest import Manifest, file_ref, write_manifest
from oneiros_training.classifier import Classifier, accuracy, load_classifier
from oneiros_training.mnist import Split, load_mnist
from oneiros_training.vae import VAE, evaluate, load_checkpoint

PARITY_TOLERANCE = 1e-4
SWEEP_STRENGTHS = [-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5]


class ServedEncoder(nn.Module):
    """(B, 28, 28, 1) image in [0, 1] -> mean (B, D), logvar (B, D)."""

    def __init__(self, vae: VAE):
        super().__init__()
        self.encoder = vae.encoder

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(image.permute(0, 3, 1, 2))  # (B, 1, 28, 28) in


class ServedDecoder(nn.Module):
    """(B, D) latent -> (B, 28, 28, 1) Bernoulli means in [0, 1]."""

    def __init__(self, vae: VAE):
        super().__init__()
        self.decoder = vae.decoder

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(latent)).permute(0, 2, 3, 1)  # (B, 28, 28, 1)


@torch.no_grad()
def encode_means(vae: VAE, images: torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    """(N, 1, 28, 28) -> (N, D) posterior means."""
    return torch.cat([vae.encoder(images[i : i + batch_size])[0] for i in range(0, len(images), batch_size)]).numpy()


def export_vae(
    vae: VAE,
    record: dict,
    classifier: Classifier,
    data: dict[str, Split],
    out_dir: Path,
    name: str,
    default_for: list[str],
    description: str = "",
    exporter: str = "dynamo",
    check_digits: int = 1000,
    export_command: str = "",
    samples: int = 10_000,
) -> Manifest:
    """Write ONNX files and ``model.json`` into ``out_dir`` (``models/<name>/<version>``)."""
    vae.eval()
    dim = vae.cfg.latent_dim
    out_dir.mkdir(parents=True, exist_ok=True)
    encoder, decoder = ServedEncoder(vae), ServedDecoder(vae)
    export_onnx(
        encoder, (torch.zeros(2, 28, 28, 1),), out_dir / "encoder.onnx", ["image"], ["mean", "logvar"], exporter
    )
    export_onnx(decoder, (torch.zeros(2, dim),), out_dir / "decoder.onnx", ["latent"], ["image"], exporter)

    test = data["test"]
    gen = torch.Generator().manual_seed(0)
    enc_error = parity(encoder, out_dir / "encoder.onnx", (test.images[:64].permute(0, 2, 3, 1).contiguous(),))
    dec_error = parity(decoder, out_dir / "decoder.onnx", (2.0 * torch.randn(64, dim, generator=gen),))
    assert max(enc_error, dec_error) <= PARITY_TOLERANCE, f"ONNX parity failed: {enc_error}, {dec_error}"

    elbo = evaluate(vae, test)
    train = data["train"]
    vectors = attribute_vectors(encode_means(vae, train.images), train.images.numpy(), train.labels.numpy())

    sess = session(out_dir / "decoder.onnx")
    decode = lambda z: sess.run(None, {"latent": np.asarray(z, np.float32)})[0]  # noqa: E731
    held_out = test.head(check_digits)
    z = encode_means(vae, held_out.images)
    sweeps = sweep_check(decode, z, vectors, SWEEP_STRENGTHS)
    classes = class_check(decode, z, held_out.labels.numpy(), vectors, classifier)
    reference = test.images.permute(0, 2, 3, 1).numpy()
    quality = sample_quality(classifier, prior_samples(decode, dim, samples, seed=3)[1], reference) if samples else {}

    manifest = Manifest(
        name=name,
        version=out_dir.name,
        kind="VAE",
        runtime="onnxruntime",
        description=description or f"Convolutional VAE on MNIST with a {dim}-D latent space",
        default_for=default_for,
        files={"encoder": file_ref(out_dir, "encoder.onnx"), "decoder": file_ref(out_dir, "decoder.onnx")},
        spec={
            "latent_size": dim,
            "image_shape": [28, 28, 1],
            "prior": "standard_normal",
            "encoder": {"input": "image", "outputs": ["mean", "logvar"]},
            "decoder": {"input": "latent", "output": "image"},
            "pixel_range": [0.0, 1.0],
            "polarity": "white_on_black",
            "attributes": {k: [round(float(x), 6) for x in v] for k, v in vectors.items()},
            "attribute_notes": (
                "thickness/slant/width: mean latent of the top quartile minus the bottom quartile of the "
                "MNIST training set, measured from pixels (training/oneiros_training/attributes.py); digit_<c>: mean latent "
                "of class c minus the rest (White 2016). Strength 1 moves a point by the whole difference."
            ),
            "attribute_check": {"digits": len(held_out), "split": "test", "sweeps": sweeps, "classes": classes},
        },
        metrics={
            **{k: round(v, 4) for k, v in elbo.items()},
            **{k: round(v, 4) for k, v in check_metrics(sweeps, classes).items()},
            **{f"sample_{k}": round(v, 4) for k, v in quality.items()},
            "parity_max_abs_error": max(enc_error, dec_error),
            "classifier_test_accuracy": round(accuracy(classifier, test), 4),
        },
        training={**record, "export_command": export_command, "model": vae.cfg.__dict__},
    )
    write_manifest(out_dir, manifest)
    return manifest


def main(argv: list[str] | None = None) -> None:
    p = latent_cli.parser(__doc__, "vae.pt from python -m oneiros_training.vae")
    p.add_argument("--description", default="")
    args, command = latent_cli.parse(p, "oneiros_export.vae", argv)
    vae, record = load_checkpoint(args.checkpoint)
    manifest = export_vae(
        vae,
        record,
        load_classifier(args.classifier),
        load_mnist(),
        latent_cli.version_dir(args),
        args.name,
        args.default_for,
        args.description,
        args.exporter,
        export_command=command,
    )
    latent_cli.print_metrics(manifest)


if __name__ == "__main__":
    main()
