"""The one minibatch every architecture of a run is scored on (SPEC 3).

Numpy only (no torch, no torchvision): real data is read from the python pickles of
CIFAR-10/100 and ImageNet16 and normalised with NATS-Bench's per-dataset mean/std;
``synthetic`` draws seeded N(0,1) images with uniform random labels; ``natural`` cuts
seeded crops of the bundled public-domain photographs (:mod:`tfnas_db.scoring.natural`).
The sample is a pure function of (dataset, batch size, seed, data source), so every
architecture, and every resumed or parallel worker, sees the same batch. Real data gets
no augmentation (the reference scripts use their training transform with random
crops/flips, which makes the batch depend on loader state).
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tfnas_db.errors import TfnasError
from tfnas_db.scoring.datasets import DatasetSpec

DATA_DIR_ENV = "TFNAS_DATA_DIR"
SYNTHETIC = "synthetic"
NATURAL = "natural"
REAL = "real"
DATA_SOURCES = (SYNTHETIC, NATURAL, REAL)


@dataclass(frozen=True)
class Minibatch:
    images: np.ndarray  # (K, C, H, W) float32, normalised
    labels: np.ndarray  # (K,) int64 in 0..n_classes-1
    dataset: str
    source: str  # "synthetic", "natural" or "real"
    seed: int
    data_dir: str | None = None

    @property
    def size(self) -> int:
        return int(self.images.shape[0])


def synthetic_minibatch(spec: DatasetSpec, batch_size: int, seed: int) -> Minibatch:
    rng = np.random.default_rng(seed)
    images = rng.standard_normal((batch_size, *spec.input_shape), dtype=np.float32)
    labels = rng.integers(0, spec.n_classes, size=batch_size, dtype=np.int64)
    return Minibatch(images, labels, spec.name, SYNTHETIC, seed)


def natural_minibatch(spec: DatasetSpec, batch_size: int, seed: int) -> Minibatch:
    from tfnas_db.scoring.natural import natural_images

    images, labels = natural_images(spec, batch_size, seed)
    return Minibatch(images, labels, spec.name, NATURAL, seed)


# What the CIFAR and ImageNet16 pickles are made of: dicts, lists, bytes and numpy arrays
# (numpy 1 and 2 spell the array reconstructor's module differently; Python 3 pickles of
# Python 2 byte strings use _codecs.encode). Nothing else may be built while loading.
_PICKLE_GLOBALS = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }
)


class _DatasetUnpickler(pickle.Unpickler):
    """Loads a dataset pickle without running code: a crafted ``data_batch_1`` could
    otherwise name any callable (``os.system``...) and plain ``pickle`` would call it."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in _PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"it asks to build {module}.{name}, which a dataset pickle never holds "
            "(refused: loading it could run code)"
        )


def _unpickle(path: Path) -> dict[str, object]:
    with path.open("rb") as handle:
        raw = _DatasetUnpickler(handle, encoding="latin1").load()
    if not isinstance(raw, dict):
        raise ValueError(f"it holds a {type(raw).__name__}, not the dict of a dataset batch")
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in raw.items()}


_HINT = "or use --data natural or --data synthetic to score on a bundled minibatch instead"


def _find_folder(data_dir: Path, name: str) -> Path:
    """``data_dir/name`` or ``data_dir`` itself if it already is that folder."""
    if not data_dir.is_dir():
        raise TfnasError(
            f"data folder {data_dir} does not exist: give --data-dir the folder that holds "
            f"cifar-10-batches-py/, cifar-100-python/ or ImageNet16/, {_HINT}"
        )
    if data_dir.name == name:
        return data_dir
    return data_dir / name


def _load_cifar(spec: DatasetSpec, data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    if spec.name == "cifar10":
        folder = _find_folder(data_dir, "cifar-10-batches-py")
        files = [folder / f"data_batch_{i}" for i in range(1, 6)]
        label_key = "labels"
        expected = f"{folder}/data_batch_1..5 (CIFAR-10 'python version')"
    else:
        folder = _find_folder(data_dir, "cifar-100-python")
        files = [folder / "train"]
        label_key = "fine_labels"
        expected = f"{folder}/train (CIFAR-100 'python version')"
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise TfnasError(f"no {spec.name} training pickles: expected {expected}, {_HINT}")
    images, labels = [], []
    for path in files:
        try:
            batch = _unpickle(path)
            images.append(np.asarray(batch["data"], dtype=np.uint8))
            labels.append(np.asarray(batch[label_key], dtype=np.int64))
        except (KeyError, pickle.UnpicklingError, EOFError, ValueError) as exc:
            raise TfnasError(f"{path} is not a {spec.name} python pickle ({exc!r})") from None
    return np.concatenate(images), np.concatenate(labels)


def _load_imagenet16(spec: DatasetSpec, data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    if not data_dir.is_dir():
        raise TfnasError(
            f"data folder {data_dir} does not exist: give --data-dir the folder that holds "
            f"cifar-10-batches-py/, cifar-100-python/ or ImageNet16/, {_HINT}"
        )
    candidates = [data_dir, data_dir / "ImageNet16", data_dir / "imagenet16"]
    folder = next((c for c in candidates if (c / "train_data_batch_1").is_file()), None)
    if folder is None:
        raise TfnasError(
            f"no ImageNet16 training pickles: expected {data_dir}/ImageNet16/"
            f"train_data_batch_1..10 (or in {data_dir} itself), {_HINT}"
        )
    images, labels = [], []
    for i in range(1, 11):
        path = folder / f"train_data_batch_{i}"
        if not path.is_file():
            continue
        try:
            batch = _unpickle(path)
            data = np.asarray(batch["data"], dtype=np.uint8)
            raw = np.asarray(batch["labels"], dtype=np.int64)
        except (KeyError, pickle.UnpicklingError, EOFError, ValueError) as exc:
            raise TfnasError(f"{path} is not an ImageNet16 pickle ({exc!r})") from None
        keep = raw <= spec.n_classes  # labels are 1..1000; ImageNet16-120 keeps 1..120
        images.append(data[keep])
        labels.append(raw[keep] - 1)
    return np.concatenate(images), np.concatenate(labels)


def real_minibatch(spec: DatasetSpec, batch_size: int, seed: int, data_dir: Path) -> Minibatch:
    if spec.name == "ImageNet16-120":
        pixels, labels = _load_imagenet16(spec, data_dir)
    else:
        pixels, labels = _load_cifar(spec, data_dir)
    if len(pixels) < batch_size:
        raise TfnasError(
            f"{data_dir} holds {len(pixels)} {spec.name} training images, fewer than the "
            f"batch size {batch_size}"
        )
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(pixels), size=batch_size, replace=False))
    images = pixels[chosen].reshape(batch_size, *spec.input_shape).astype(np.float32) / 255.0
    mean = np.asarray(spec.mean, dtype=np.float32).reshape(1, -1, 1, 1)
    std = np.asarray(spec.std, dtype=np.float32).reshape(1, -1, 1, 1)
    images = (images - mean) / std
    return Minibatch(images, labels[chosen].copy(), spec.name, REAL, seed, str(data_dir))


@dataclass(frozen=True)
class DataChoice:
    """What ``--data``/``--data-dir`` asked for: one source for every scorer, or (source
    None) each scorer's own default (:attr:`ScorerSpec.default_data`)."""

    source: str | None
    data_dir: Path | None = None

    def source_for(self, default: str) -> str:
        return self.source or default


def resolve_data(data: str | None, data_dir: str | None) -> DataChoice:
    """``--data``/``--data-dir``/``$TFNAS_DATA_DIR`` -> the data source(s) of a populate.

    A given ``--data-dir`` means real data; with neither option, ``$TFNAS_DATA_DIR`` (if
    set) means real data, else every scorer uses its own default source.
    """
    if data not in (None, *DATA_SOURCES):
        raise TfnasError(f"--data must be one of {', '.join(DATA_SOURCES)}; got {data!r}")
    if data_dir:
        if data not in (None, REAL):
            raise TfnasError(f"--data {data} and --data-dir contradict each other; pick one")
        return DataChoice(REAL, Path(data_dir).expanduser())
    if data in (SYNTHETIC, NATURAL):
        return DataChoice(data)
    folder = os.environ.get(DATA_DIR_ENV)
    if data == REAL and not folder:
        raise TfnasError(f"--data real needs --data-dir DIR (or ${DATA_DIR_ENV}), {_HINT}")
    if folder:
        return DataChoice(REAL, Path(folder).expanduser())
    return DataChoice(None)


def load_minibatch(
    spec: DatasetSpec,
    batch_size: int,
    seed: int,
    data_dir: Path | None,
    source: str | None = None,
) -> Minibatch:
    """The minibatch of ``source`` (default: real if ``data_dir`` is given, else synthetic)."""
    if batch_size < 2:
        raise TfnasError(f"--batch-size must be at least 2, got {batch_size}")
    source = source or (REAL if data_dir is not None else SYNTHETIC)
    if source == NATURAL:
        return natural_minibatch(spec, batch_size, seed)
    if source == SYNTHETIC:
        return synthetic_minibatch(spec, batch_size, seed)
    if data_dir is None:
        raise TfnasError(f"--data real needs --data-dir DIR (or ${DATA_DIR_ENV}), {_HINT}")
    return real_minibatch(spec, batch_size, seed, data_dir)
