"""Regenerate ``data/natural_images.npz``: the photographs behind ``--data natural``.

The natural minibatch needs real photographs, but scoring must not depend on an image
library, and CIFAR cannot be fetched at run time. scikit-image's wheel ships sample
photographs under ``skimage/data/``, each documented (in ``skimage/data/_fetchers.py``)
with its source and licence; this script reads the ones dedicated to the public domain or
CC0 straight from the wheel (no scikit-image import), shrinks each to a short side of
``SHORT_SIDE`` pixels with Pillow's area filter, and writes them as uint8 arrays with
their provenance into one compressed .npz that the package bundles. Pillow is needed
here only (it comes with streamlit); scoring reads the .npz with numpy.

Usage::

    pip download scikit-image==0.26.0 --no-deps -d /tmp/skimg
    python scripts/prepare_natural_images.py /tmp/skimg/scikit_image-0.26.0-*.whl
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

SHORT_SIDE = 128
OUT = Path(__file__).resolve().parent.parent / "data" / "natural_images.npz"


@dataclass(frozen=True)
class Photo:
    """One selected photograph and what its scikit-image docstring says about it."""

    name: str  # scikit-image's loader name
    file: str  # path inside the wheel
    licence: str
    credit: str


# Photographs only (no drawings, scans of text, microscopy or stereo pairs), and only those
# whose documented licence allows redistribution without conditions. Left out:
# immunohistochemistry and coins ("no known copyright restrictions", no dedication),
# motorcycle_* (Middlebury benchmark terms), lfw_subset (Labeled Faces in the Wild),
# hubble_deep_field (almost all black sky), moon (no licence stated).
PHOTOS: tuple[Photo, ...] = (
    Photo("astronaut", "skimage/data/astronaut.png", "public domain", "NASA"),
    Photo("chelsea", "skimage/data/chelsea.png", "CC0", "Stefan van der Walt"),
    Photo("coffee", "skimage/data/coffee.png", "CC0", "Rachel Michetti"),
    Photo("rocket", "skimage/data/rocket.jpg", "public domain", "SpaceX"),
    Photo("retina", "skimage/data/retina.jpg", "CC0", "Mikael Häggström (Wikimedia)"),
    Photo("camera", "skimage/data/camera.png", "CC0", "Lav Varshney"),
    Photo("clock", "skimage/data/clock_motion.png", "public domain", "Stefan van der Walt"),
    Photo("brick", "skimage/data/brick.png", "CC0", "CC0Textures"),
    Photo("grass", "skimage/data/grass.png", "CC0", "linolafett (DeviantArt)"),
    Photo("gravel", "skimage/data/gravel.png", "CC0", "CC0Textures"),
)


def _shrink(image: Image.Image) -> np.ndarray:
    """RGB or grey -> uint8 (H, W, C) with short side SHORT_SIDE (C = 1 for grey)."""
    grey = image.mode in ("L", "I", "I;16", "1", "LA")
    image = image.convert("L" if grey else "RGB")
    scale = SHORT_SIDE / min(image.size)
    size = (round(image.size[0] * scale), round(image.size[1] * scale))
    pixels = np.asarray(image.resize(size, Image.Resampling.BOX), dtype=np.uint8)
    return pixels[:, :, None] if grey else pixels


def prepare(wheel: Path, out: Path = OUT) -> dict[str, object]:
    match = re.match(r"scikit_image-([^-]+)-", wheel.name)
    version = match.group(1) if match else "unknown"
    arrays: dict[str, np.ndarray] = {}
    entries = []
    with zipfile.ZipFile(wheel) as archive:
        for photo in PHOTOS:
            raw = archive.read(photo.file)
            pixels = _shrink(Image.open(io.BytesIO(raw)))
            arrays[photo.name] = pixels
            entries.append(
                {**asdict(photo), "sha256": hashlib.sha256(raw).hexdigest(), "shape": pixels.shape}
            )
    manifest = {
        "source": f"scikit-image {version} wheel, skimage/data/",
        "licences": "public domain or CC0, as documented in skimage/data/_fetchers.py",
        "short_side": SHORT_SIDE,
        "photos": entries,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, manifest=np.array(json.dumps(manifest)), **arrays)
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="a scikit-image wheel (pip download ...)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    manifest = prepare(args.wheel, args.out)
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size / 1024:.0f} KiB, {len(manifest['photos'])} photographs)")


if __name__ == "__main__":
    main()
