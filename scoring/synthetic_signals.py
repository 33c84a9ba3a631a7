"""GenNAS's synthetic regression targets: one tensor per network stage (numpy only).

GenNAS (Li et al., NeurIPS 2021) replaces labels by signals a good CNN should be able to
reproduce from its feature maps: sinusoids along one axis (Sin1D) or along a diagonal
(Sin2D) of chosen frequencies, sparse +-1 dots (Dot) or those dots blurred (GDot), and
the input resized to the output grid (Resize). Each stage's target is a sum of some of
these, each scaled by a "level". The mix below is GenNAS's published choice for
NAS-Bench-201 (its README runs nasbench201 with its ``CONF_NB101`` configuration); see
docs/SCORERS.md (loss_slope) for how each number was read.

Everything is drawn from one ``numpy.random.Generator``, so the targets are a pure
function of (seed, input images): every architecture of a run regresses the same targets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter

OUTPUT_SIZE = 8  # GenNAS's output grid: every stage's head predicts an 8x8 map


@dataclass(frozen=True)
class Wave:
    """Sinusoids of frequency (cycles per grid step) drawn uniformly from [low, high].

    ``per_sample``: each sample draws its own frequencies and phases (GenNAS "local");
    otherwise one draw per channel is shared by the whole batch.
    """

    level: float
    low: float
    high: float
    per_sample: bool


@dataclass(frozen=True)
class Dots:
    """``fraction`` of the grid positions set to +-1 (random signs), the rest 0; with
    ``gaussian`` blurred by a Gaussian of sigma 1 and rescaled to a peak |value| of 1."""

    level: float
    fraction: float
    per_sample: bool
    gaussian: bool


@dataclass(frozen=True)
class StageSignal:
    channels: int
    sin1d: Wave | None = None
    sin2d: Wave | None = None
    dots: Dots | None = None
    resize: float | None = None  # level of the resized input, None = not used


# GenNAS for NAS-Bench-201: 64 x (1, 0.75, 0.25) output channels; frequency ranges are the
# span of the ten frequencies its configuration lists per basis.
GENNAS_NB201: tuple[StageSignal, ...] = (
    StageSignal(64, sin2d=Wave(1.1, 0.014, 0.023, per_sample=True)),
    StageSignal(
        48,
        sin1d=Wave(1.8, 0.288, 0.306, per_sample=True),
        sin2d=Wave(2.9, 0.265, 0.421, per_sample=True),
        dots=Dots(1.1, 37 / 64, per_sample=True, gaussian=True),
        resize=2.4,
    ),
    StageSignal(
        16,
        sin1d=Wave(1.5, 0.103, 0.158, per_sample=False),
        sin2d=Wave(0.9, 0.086, 0.245, per_sample=False),
        dots=Dots(2.1, 28 / 64, per_sample=False, gaussian=True),
        resize=2.2,
    ),
)


def _draw_shape(batch: int, channels: int, per_sample: bool) -> tuple[int, int]:
    return (batch if per_sample else 1, channels)


def sin1d(
    wave: Wave, batch: int, channels: int, rng: np.random.Generator, size: int = OUTPUT_SIZE
) -> np.ndarray:
    """sin(2 pi f p + phi) along x or y (chosen per map), p = 1..size, phi uniform."""
    shape = _draw_shape(batch, channels, wave.per_sample)
    freq = rng.uniform(wave.low, wave.high, shape)[..., None, None]
    phase = rng.uniform(0.0, 2 * np.pi, shape)[..., None, None]
    along_x = (rng.random(shape) < 0.5)[..., None, None]
    pos = np.arange(1, size + 1, dtype=np.float64)
    p = np.where(along_x, pos[None, None, None, :], pos[None, None, :, None])
    return np.broadcast_to(np.sin(2 * np.pi * freq * p + phase), (batch, channels, size, size))


def sin2d(
    wave: Wave, batch: int, channels: int, rng: np.random.Generator, size: int = OUTPUT_SIZE
) -> np.ndarray:
    """sin(2 pi (s f_y y + f_x x) + phi): a plane wave along a diagonal, s = +-1 (GenNAS
    also uses the wave mirrored in y), both frequencies drawn independently."""
    shape = _draw_shape(batch, channels, wave.per_sample)
    f_y = rng.uniform(wave.low, wave.high, shape)[..., None, None]
    f_x = rng.uniform(wave.low, wave.high, shape)[..., None, None]
    sign = np.where(rng.random(shape) < 0.5, 1.0, -1.0)[..., None, None]
    phase = rng.uniform(0.0, 2 * np.pi, shape)[..., None, None]
    pos = np.arange(1, size + 1, dtype=np.float64)
    y, x = pos[:, None], pos[None, :]
    value = np.sin(2 * np.pi * (sign * f_y * y + f_x * x) + phase)
    return np.broadcast_to(value, (batch, channels, size, size))


def dots(
    spec: Dots, batch: int, channels: int, rng: np.random.Generator, size: int = OUTPUT_SIZE
) -> np.ndarray:
    shape = _draw_shape(batch, channels, spec.per_sample)
    cells = size * size
    count = round(spec.fraction * cells)
    order = rng.random((*shape, cells)).argsort(axis=-1)
    chosen = order < count  # exactly `count` positions per map, uniformly
    signs = np.where(rng.random((*shape, cells)) < 0.5, 1.0, -1.0)
    maps = (chosen * signs).reshape(*shape, size, size)
    if spec.gaussian:
        maps = gaussian_filter(maps, sigma=(0, 0, 1, 1))
        peak = np.abs(maps).max(axis=(2, 3), keepdims=True)
        maps = np.divide(maps, peak, out=np.zeros_like(maps), where=peak > 0)
    return np.broadcast_to(maps, (batch, channels, size, size))


def resized_input(
    images: np.ndarray, channels: int, rng: np.random.Generator, size: int = OUTPUT_SIZE
) -> np.ndarray:
    """The input images, nearest-resized to size x size, scaled batch-wide to [-1, 1];
    each target channel is one input channel (drawn once, shared by the batch)."""
    h, w = images.shape[2:]
    rows = (np.arange(size) * h) // size
    cols = (np.arange(size) * w) // size
    small = images[:, :, rows][:, :, :, cols].astype(np.float64)
    low, high = small.min(), small.max()
    scaled = (small - low) / (high - low) * 2 - 1 if high > low else np.zeros_like(small)
    picks = rng.integers(0, images.shape[1], size=channels)
    return scaled[:, picks]


def stage_targets(
    images: np.ndarray,
    stages: tuple[StageSignal, ...],
    rng: np.random.Generator,
    size: int = OUTPUT_SIZE,
) -> list[np.ndarray]:
    """One float32 (batch, channels, size, size) target per stage: the sum of its bases,
    each times its level (drawn in a fixed order, so the result is a function of rng)."""
    batch = images.shape[0]
    targets = []
    for stage in stages:
        c = stage.channels
        total = np.zeros((batch, c, size, size))
        if stage.sin1d is not None:
            total += stage.sin1d.level * sin1d(stage.sin1d, batch, c, rng, size)
        if stage.sin2d is not None:
            total += stage.sin2d.level * sin2d(stage.sin2d, batch, c, rng, size)
        if stage.dots is not None:
            total += stage.dots.level * dots(stage.dots, batch, c, rng, size)
        if stage.resize is not None:
            total += stage.resize * resized_input(images, c, rng, size)
        targets.append(total.astype(np.float32))
    return targets
