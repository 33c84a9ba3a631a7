"""The ``natural`` minibatch: seeded crops of public-domain photographs, no image library.

Jacobian-based scores (jacov, epe_nas) and label-dependent ones read how a network
responds to the structure of natural images, which N(0,1) noise with random labels does
not have; real CIFAR/ImageNet16 cannot be fetched at run time. So the package bundles ten
photographs (public domain or CC0, from scikit-image's wheel; see
``scripts/prepare_natural_images.py``) as uint8 arrays, and this module cuts a seeded
minibatch of square crops from them for any dataset shape.

Labels carry structure, not noise: class ``c`` is a region of one photograph (photograph
``c % P``; cell ``c // P`` of a g x g grid over it, g the smallest grid giving every
class its own region), each crop is centred inside its class's region, and the classes
are balanced over the batch. Crops are squares of 25-60 % of the photograph's short side
(whole-object scale, as CIFAR's images are), shrunk to the dataset's size by area
averaging, flipped horizontally with probability 1/2, grey photographs repeated over the
three channels, then normalised with the dataset's mean/std like real data.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from tfnas_db.scoring.datasets import DatasetSpec

BUNDLE = "natural_images.npz"
CROP_FRACTION = (0.25, 0.6)  # side of a crop, as a fraction of its photograph's short side
FLIP_PROBABILITY = 0.5


@lru_cache(maxsize=1)
def load_photographs() -> tuple[tuple[np.ndarray, ...], dict[str, Any]]:
    """The bundled photographs (uint8, (H, W, C), C = 1 or 3) and their manifest."""
    with resources.as_file(resources.files("tfnas_db.data") / BUNDLE) as path, np.load(path) as z:
        manifest = json.loads(str(z["manifest"]))
        photos = tuple(np.asarray(z[entry["name"]]) for entry in manifest["photos"])
    return photos, manifest


def grid_side(n_classes: int, n_photos: int) -> int:
    """Smallest g with n_photos * g * g >= n_classes: each class gets its own region."""
    return max(1, math.ceil(math.sqrt(n_classes / n_photos)))


def area_weights(source: int, target: int) -> np.ndarray:
    """(target, source) matrix averaging ``source`` pixels into ``target`` (box filter).

    Row i averages the source interval [i*s/t, (i+1)*s/t), each pixel weighted by its
    overlap, so a crop shrinks without aliasing; ``W @ X @ W.T`` resizes a square crop.
    """
    edges = np.arange(target + 1) * (source / target)
    left = np.arange(source)[None, :]
    overlap = np.clip(
        np.minimum(edges[1:, None], left + 1) - np.maximum(edges[:-1, None], left), 0, None
    )
    return overlap / overlap.sum(axis=1, keepdims=True)


def crop_and_resize(
    photo: np.ndarray, top: int, left: int, side: int, target: int, flip: bool
) -> np.ndarray:
    """A (3, target, target) float image in [0, 1] from the square crop at (top, left)."""
    crop = photo[top : top + side, left : left + side].astype(np.float64) / 255.0
    weights = area_weights(side, target)
    resized = np.einsum("ij,jkc,lk->cil", weights, crop, weights, optimize=True)
    if resized.shape[0] == 1:
        resized = np.repeat(resized, 3, axis=0)
    return resized[:, :, ::-1] if flip else resized


def _crop_box(
    rng: np.random.Generator, shape: tuple[int, ...], cell: int, grid: int
) -> tuple[int, int, int]:
    height, width = shape[0], shape[1]
    side = round(rng.uniform(*CROP_FRACTION) * min(height, width))
    row, col = divmod(cell, grid)
    centre_y = rng.uniform(row * height / grid, (row + 1) * height / grid)
    centre_x = rng.uniform(col * width / grid, (col + 1) * width / grid)
    top = int(np.clip(round(centre_y - side / 2), 0, height - side))
    left = int(np.clip(round(centre_x - side / 2), 0, width - side))
    return top, left, side


def natural_images(spec: DatasetSpec, batch_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Normalised float32 images (K, 3, H, W) and int64 labels; a pure function of its args."""
    photos, _ = load_photographs()
    grid = grid_side(spec.n_classes, len(photos))
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(batch_size) % spec.n_classes).astype(np.int64)
    images = np.empty((batch_size, 3, spec.image_size, spec.image_size), dtype=np.float32)
    # Two equal crops (same photograph, box and flip; clipped at a border, neighbouring
    # regions can give one) make two equal rows in NASWOT's kernel, whose log-determinant
    # is then -inf for every architecture: a repeated crop is redrawn. Seed 0 at batch
    # 128 draws none on any dataset, so the bundled release's minibatches are unchanged.
    drawn: set[tuple[int, int, int, int, bool]] = set()
    for i, label in enumerate(labels):
        photo_index = int(label) % len(photos)
        photo = photos[photo_index]
        while True:
            top, left, side = _crop_box(rng, photo.shape, int(label) // len(photos), grid)
            flip = bool(rng.random() < FLIP_PROBABILITY)
            if (key := (photo_index, top, left, side, flip)) not in drawn:
                drawn.add(key)
                break
        images[i] = crop_and_resize(photo, top, left, side, spec.image_size, flip)
    mean = np.asarray(spec.mean, dtype=np.float32).reshape(1, -1, 1, 1)
    std = np.asarray(spec.std, dtype=np.float32).reshape(1, -1, 1, 1)
    return (images - mean) / std, labels


def natural_provenance(spec: DatasetSpec) -> dict[str, Any]:
    """What a run on the natural minibatch was cut from: stored in score_run.provenance."""
    _, manifest = load_photographs()
    photos = manifest["photos"]
    return {
        "data": {
            "source": "natural",
            "photographs": manifest["source"],
            "licences": manifest["licences"],
            "selection": [
                {k: p[k] for k in ("name", "file", "licence", "credit", "sha256")} for p in photos
            ],
            "short_side": manifest["short_side"],
            "crop_fraction": list(CROP_FRACTION),
            "flip_probability": FLIP_PROBABILITY,
            "distinct_crops": True,  # a repeated crop is redrawn
            "labels": (
                f"class c = region c // {len(photos)} of a "
                f"{grid_side(spec.n_classes, len(photos))}x"
                f"{grid_side(spec.n_classes, len(photos))} grid over photograph "
                f"c % {len(photos)}; balanced over the batch"
            ),
        }
    }
