"""Content photographs for training style networks, all of them to be had offline.

- The photographs among Debian's wallpaper packages (abstract and drawn wallpapers are
  left out), fetched with ``apt-get download`` and unpacked with ``dpkg-deb -x`` (nothing
  is installed); each photo's licence and authors come from the package's copyright
  file (and, for KDE's wallpapers, the wallpaper's own ``metadata.json``).
- scikit-image's photographs, except ``coffee``, ``chelsea`` (and ``cat``, the same
  picture), ``astronaut`` and ``rocket``: those four are the evaluation set.

``prepare()`` writes every photo, its longest side at most ``MAX_SIDE`` px, into
``data/style-photos/`` with ``manifest.json`` (source, licence, authors, size), and
returns the manifest; a second call reads the cache. ``load_photos()`` returns them as
arrays. ``python -m oneiros_training.style_photos`` prepares and lists them.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from oneiros_training.pypi_data import CACHE

MAX_SIDE = 1024
PHOTO_DIR = CACHE / "style-photos"
EVALUATION_SET = ("coffee", "chelsea", "astronaut", "rocket")

# package -> photographs inside it (paths relative to the unpacked package root).
MATE = "usr/share/backgrounds/mate/nature"
KDE = "usr/share/wallpapers"
WALLPAPER_PHOTOS: dict[str, list[str]] = {
    "mate-backgrounds": [
        f"{MATE}/{n}.jpg"
        for n in (
            "Aqua",
            "Blinds",
            "Dune",
            "FreshFlower",
            "Garden",
            "GreenMeadow",
            "LadyBird",
            "RainDrops",
            "Storm",
            "TwoWings",
            "Wood",
            "YellowFlower",
        )
    ],
    "plasma-workspace-wallpapers": [
        f"{KDE}/{n}/contents/images"
        for n in (
            "BytheWater",
            "ColdRipple",
            "ColorfulCups",
            "DarkestHour",
            "EveningGlow",
            "FallenLeaf",
            "Grey",
            "Kite",
            "OneStandsOut",
            "Path",
            "summer_1am",
        )
    ],
}
# scikit-image photographs (greyscale ones are used as grey RGB) and their licences (from each
# function's docstring); not the evaluation set.
SKIMAGE_PHOTOS = {
    "hubble_deep_field": "NASA, public domain",
    "immunohistochemistry": "no known copyright restrictions",
    "retina": "CC0 1.0 (Wikimedia Commons)",
    "camera": "CC0 (Lav Varshney)",
    "coins": "no known copyright restrictions (Brooklyn Museum)",
    "moon": "no known copyright restrictions",
    "clock": "public domain (Stefan van der Walt)",
    "brick": "CC0 (CC0Textures)",
    "grass": "CC0 (linolafett)",
    "gravel": "CC0 (CC0Textures)",
}


def _dep5_licence(copyright_text: str, relative: str) -> tuple[str, str]:
    """(License, Copyright) of the DEP-5 stanza whose ``Files:`` matches ``relative`` (last match wins)."""
    found = ("unknown", "")
    for stanza in re.split(r"\n\s*\n", copyright_text):
        files = re.search(r"^Files:(.*?)(?=^\S)", stanza + "\nX", re.S | re.M)
        if not files:
            continue
        patterns = files.group(1).split()
        if any(Path(relative).match(p) or relative.endswith(p) or p == "*" for p in patterns):
            licence = re.search(r"^License:\s*(.+)$", stanza, re.M)
            holders = re.search(r"^Copyright:(.*?)(?=^\S|\Z)", stanza, re.S | re.M)
            found = (
                licence.group(1).strip() if licence else "unknown",
                " ".join(holders.group(1).split()) if holders else "",
            )
    return found


def _kde_metadata(root: Path, relative: str) -> dict:
    meta_path = root / relative.split("/contents/")[0] / "metadata.json"
    plugin = json.loads(meta_path.read_text())["KPlugin"]
    return {"authors": ", ".join(a["Name"] for a in plugin.get("Authors", [])), "licence": plugin.get("License", "")}


def _save(image: Image.Image, name: str) -> dict:
    image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    path = PHOTO_DIR / f"{name}.jpg"
    image.save(path, quality=95)
    return {"file": path.name, "width": image.width, "height": image.height}


def _unpack(package: str, work: Path) -> tuple[Path, str]:
    """apt-get download + dpkg-deb -x of ``package`` into ``work``: (root, version)."""
    subprocess.run(["apt-get", "download", package], cwd=work, check=True, capture_output=True)
    deb = next(work.glob(f"{package}_*.deb"))
    version = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], check=True, capture_output=True, text=True)
    root = work / package
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root, version.stdout.strip()


def _largest(path: Path) -> Path:
    """``path`` itself, or the largest of a KDE wallpaper's ``<W>x<H>.jpg`` sizes."""
    if path.is_file():
        return path
    return max(path.glob("*.jpg"), key=lambda p: int(p.stem.split("x")[0]) * int(p.stem.split("x")[1]))


def _wallpapers(work: Path) -> list[dict]:
    entries = []
    for package, photos in WALLPAPER_PHOTOS.items():
        root, version = _unpack(package, work)
        copyright_text = (root / f"usr/share/doc/{package}/copyright").read_text()
        for relative in photos:
            stem = (
                relative.split("/contents/")[0].rsplit("/", 1)[-1] if "/contents/" in relative else Path(relative).stem
            )
            dep5 = relative.split("backgrounds/mate/")[-1]
            licence, holders = _dep5_licence(copyright_text, dep5)
            entry = {"name": f"{package.split('-')[0]}-{stem}", "source": f"{package} {version} /{relative}"}
            entry |= {"licence": licence, "copyright": holders}
            if package == "plasma-workspace-wallpapers":
                meta = _kde_metadata(root, relative)
                entry |= {"copyright": meta["authors"], "licence": f"{licence} (copyright file); {meta['licence']}"}
            with Image.open(_largest(root / relative)) as image:
                entries.append(entry | _save(image, entry["name"]))
    return entries


def _skimage_photos() -> list[dict]:
    import skimage
    import skimage.data

    entries = []
    for name, licence in SKIMAGE_PHOTOS.items():
        array = np.asarray(getattr(skimage.data, name)())
        image = Image.fromarray(array).convert("RGB")
        entry = {"name": f"skimage-{name}", "source": f"scikit-image {skimage.__version__} skimage.data.{name}()"}
        entries.append(entry | {"licence": licence, "copyright": ""} | _save(image, entry["name"]))
    return entries


def prepare() -> list[dict]:
    """Fetch, unpack and shrink every training photo once; the manifest (a list of entries)."""
    manifest_path = PHOTO_DIR / "manifest.json"
    if manifest_path.exists():
        return json.loads(manifest_path.read_text())
    PHOTO_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        entries = _wallpapers(Path(work)) + _skimage_photos()
    manifest_path.write_text(json.dumps(entries, indent=1) + "\n")
    return entries


def load_photos(folder: Path | None = None) -> list[np.ndarray]:
    """Every training photo as (H, W, 3) uint8: ``folder``'s images, or the prepared set."""
    if folder is not None:
        paths = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))
    else:
        paths = [PHOTO_DIR / e["file"] for e in prepare()]
    photos = []
    for path in paths:
        with Image.open(path) as image:
            photos.append(np.asarray(image.convert("RGB")))
    if not photos:
        raise ValueError(f"no photos in {folder}")
    return photos


def data_description(entries: list[dict]) -> str:
    """One line for model.json: how many photos from where."""
    wallpapers = sum(1 for e in entries if not e["name"].startswith("skimage-"))
    return (
        f"{len(entries)} photographs: {wallpapers} from Debian's mate-backgrounds and plasma-workspace-wallpapers "
        f"(GPL-2+ / LGPL-3), {len(entries) - wallpapers} from scikit-image; random crops at several scales and flips; "
        f"evaluation photos ({', '.join(EVALUATION_SET)}) held out"
    )


if __name__ == "__main__":
    for e in prepare():
        print(f"{e['name']:32} {e['width']:5}x{e['height']:<5} {e['licence']:40} {e['copyright'][:50]}")
