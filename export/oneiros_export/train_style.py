"""``oneiros-train-style``: a style network for any painting, trained and written into a repository.

    oneiros-train-style painting.jpg --name style-my-painting --minutes 20 [--repository models]

trains on the offline photo set (``oneiros_training.style_photos``; or ``--photos DIR``) with
a progress bar and the time left, resumes from ``runs/<name>/last.pt`` when rerun, then
exports into ``<repository>/<name>/<next version>/``: a model-control server polling that
repository picks the new version up. ``--quality-steps N`` also scores the network against
Gatys with N steps on the evaluation photos (minutes per photo on a CPU) into model.json.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from oneiros_export.style_net import export_style_net
from oneiros_training.style_train import add_arguments, train


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="oneiros-train-style", description=__doc__.split("\n\n")[0])
    add_arguments(p)
    p.set_defaults(minutes=20.0)
    p.add_argument("--name", required=True, help="model name, e.g. style-my-painting")
    p.add_argument("--title", default="", help="the painting: artist, title (year)")
    p.add_argument("--repository", type=Path, default=Path("models"), help="model repository to write into")
    p.add_argument("--out", help="the training run's folder (default runs/<name>; resumes from its last.pt)")
    p.add_argument("--quality-steps", type=int, default=0, help="Gatys steps to score against (0 = skip)")
    args = p.parse_args(argv)
    args.out = args.out or f"runs/{args.name}"
    final = train(args)
    command = "oneiros-train-style " + " ".join(map(shlex.quote, sys.argv[1:] if argv is None else argv))
    version_dir = export_style_net(final, Path(args.painting), args.repository, args.name, args.title, command=command)
    if args.quality_steps:
        from oneiros_export.style_gatys import EVALUATION_PHOTOS
        from oneiros_export.style_quality import measure, write_quality

        result = measure(version_dir, args.quality_steps, 512, list(EVALUATION_PHOTOS), Path("runs/style-gatys"), 1)
        write_quality(version_dir, result)
    print(version_dir)


if __name__ == "__main__":
    main()
