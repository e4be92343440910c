"""Export a trained GAN generator into the model repository, with attribute vectors and quality figures.

    python -m oneiros_export.gan --checkpoint runs/gan-mnist/gan.pt --classifier runs/classifier/classifier.pt \\
        --name gan-mnist --compare models/vae-mnist-16d/1

writes ``models/<name>/<version>/{generator.onnx, model.json}``. The generator takes (B, D) standard
normal latents and gives (B, 28, 28, 1) images in [0, 1]. A GAN has no encoder, so attribute vectors
are found by labelling generated samples: the classifier's digit class, pixel measures for
thickness, slant and width; then mean differences as for the VAE. Quality figures (export/oneiros_export/quality.py)
are measured for the GAN and, with ``--compare``, for a VAE's prior samples, against the test split.
"""

from __future__ import annotations

from pathlib import Path

import torch

from oneiros_export import latent_cli
from oneiros_export.latent_checks import (
    attribute_vectors,
    check_metrics,
    class_check,
    class_probabilities,
    sweep_check,
)
from oneiros_export.onnx_utils import export_onnx, parity
from oneiros_export.quality import model_quality, onnx_decoder, prior_samples, sample_quality
from oneiros_export.vae import PARITY_TOLERANCE, SWEEP_STRENGTHS
from oneiros_server.repository.manifest import Manifest, file_ref, write_manifest
from oneiros_training.classifier import Classifier, load_classifier
from oneiros_training.gan import GANConfig, Generator, load_checkpoint
from oneiros_training.mnist import Split, load_mnist


class ServedGenerator(torch.nn.Module):
    """(B, D) latent -> (B, 28, 28, 1) image in [0, 1]."""

    def __init__(self, generator: Generator):
        super().__init__()
        self.generator = generator

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.generator(latent).permute(0, 2, 3, 1)  # (B, 28, 28, 1)


def export_gan(
    gen: Generator,
    cfg: GANConfig,
    record: dict,
    classifier: Classifier,
    test: Split,
    out_dir: Path,
    name: str,
    default_for: list[str],
    compare: Path | None = None,
    samples: int = 10_000,
    exporter: str = "dynamo",
    export_command: str = "",
    strengths: list[float] = SWEEP_STRENGTHS,
) -> Manifest:
    """Write the ONNX generator and ``model.json`` into ``out_dir`` (``models/<name>/<version>``)."""
    gen.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    served = ServedGenerator(gen)
    export_onnx(served, (torch.zeros(2, cfg.latent_dim),), out_dir / "generator.onnx", ["latent"], ["image"], exporter)
    z = torch.randn(64, cfg.latent_dim, generator=torch.Generator().manual_seed(0))
    error = parity(served, out_dir / "generator.onnx", (z,))
    assert error <= PARITY_TOLERANCE, f"ONNX parity failed: {error}"
    decode = onnx_decoder(out_dir / "generator.onnx")

    z, images = prior_samples(decode, cfg.latent_dim, samples, seed=1)
    labels = class_probabilities(classifier, images).argmax(1)
    vectors = attribute_vectors(z, images, labels)
    z_check, images_check = prior_samples(decode, cfg.latent_dim, 1000, seed=2)
    sweeps = sweep_check(decode, z_check, vectors, strengths)
    labels_check = class_probabilities(classifier, images_check).argmax(1)
    classes = class_check(decode, z_check, labels_check, vectors, classifier)

    reference = test.images.permute(0, 2, 3, 1).numpy()
    quality = sample_quality(classifier, prior_samples(decode, cfg.latent_dim, samples, seed=3)[1], reference)
    metrics = {
        **{f"sample_{k}": v for k, v in quality.items()},
        **check_metrics(sweeps, classes),
        "parity_max_abs_error": error,
    }
    if compare is not None:
        vae_quality = model_quality(compare, classifier, reference, samples)
        metrics |= {f"vae_sample_{k}": v for k, v in vae_quality.items()}
    metrics |= {f"test_digits_{k}": v for k, v in sample_quality(classifier, reference, reference).items()}

    manifest = Manifest(
        name=name,
        version=out_dir.name,
        kind="GAN",
        runtime="onnxruntime",
        description=f"DCGAN generator on MNIST (hinge loss, spectral-norm critic), {cfg.latent_dim}-D latent",
        default_for=default_for,
        files={"generator": file_ref(out_dir, "generator.onnx")},
        spec={
            "latent_size": cfg.latent_dim,
            "image_shape": [28, 28, 1],
            "prior": "standard_normal",
            "generator": {"input": "latent", "output": "image"},
            "pixel_range": [0.0, 1.0],
            "polarity": "white_on_black",
            "attributes": {k: [round(float(x), 6) for x in v] for k, v in vectors.items()},
            "attribute_notes": (
                f"found in z-space from {samples} prior samples: digit_<c> = mean z of samples the classifier "
                "calls c minus the rest; thickness/slant/width = mean z of the top quartile minus the bottom "
                "quartile of the pixel measure (training/oneiros_training/attributes.py)."
            ),
            "attribute_check": {
                "samples": 1000,
                "source": "fresh prior samples (seed 2)",
                "sweeps": sweeps,
                "classes": classes,
            },
            "quality_reference": f"{len(reference)} MNIST test digits; {samples} samples each",
            "compared_with": str(compare) if compare is not None else "",
        },
        metrics={k: round(float(v), 4) if k != "parity_max_abs_error" else v for k, v in metrics.items()},
        training={**record, "export_command": export_command, "model": cfg.__dict__},
    )
    write_manifest(out_dir, manifest)
    return manifest


def main(argv: list[str] | None = None) -> None:
    p = latent_cli.parser(__doc__, "gan.pt from python -m oneiros_training.gan")
    p.add_argument("--compare", type=Path, help="a VAE model folder to measure beside the GAN")
    p.add_argument("--samples", type=int, default=10_000)
    args, command = latent_cli.parse(p, "oneiros_export.gan", argv)
    gen, cfg, record = load_checkpoint(args.checkpoint)
    manifest = export_gan(
        gen,
        cfg,
        record,
        load_classifier(args.classifier),
        load_mnist()["test"],
        latent_cli.version_dir(args),
        args.name,
        args.default_for,
        args.compare,
        args.samples,
        args.exporter,
        command,
    )
    latent_cli.print_metrics(manifest)


if __name__ == "__main__":
    main()
