"""Minibatches: seeded synthetic data, and real data from pickles in the exact format."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from helpers import tfnas
from sqlalchemy import select

from tfnas_db.db.models import ScoreRun
from tfnas_db.db.store import open_store
from tfnas_db.errors import TfnasError
from tfnas_db.scoring.datasets import get_dataset
from tfnas_db.scoring.minibatch import DataChoice, load_minibatch, resolve_data


def test_synthetic_is_seeded_and_shaped_per_dataset() -> None:
    for name, shape, classes in [
        ("cifar10", (3, 32, 32), 10),
        ("ImageNet16-120", (3, 16, 16), 120),
    ]:
        spec = get_dataset(name)
        a = load_minibatch(spec, 64, 7, None)
        b = load_minibatch(spec, 64, 7, None)
        c = load_minibatch(spec, 64, 8, None)
        assert a.images.shape == (64, *shape) and a.images.dtype == np.float32
        assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
        assert not np.array_equal(a.images, c.images)
        assert a.labels.min() >= 0 and a.labels.max() < classes
        assert a.source == "synthetic"
        assert abs(float(a.images.mean())) < 0.05 and abs(float(a.images.std()) - 1) < 0.05


def _write_pickle(path: Path, payload: dict) -> None:  # type: ignore[type-arg]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        pickle.dump(payload, handle)


def _cifar10_folder(root: Path, per_batch: int = 20) -> None:
    rng = np.random.default_rng(0)
    for i in range(1, 6):
        # the CIFAR site's python pickles have bytes keys (they were written by Python 2)
        _write_pickle(
            root / "cifar-10-batches-py" / f"data_batch_{i}",
            {
                b"batch_label": f"training batch {i} of 5".encode(),
                b"labels": rng.integers(0, 10, per_batch).tolist(),
                b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                b"filenames": [b"x.png"] * per_batch,
            },
        )


def test_cifar10_pickles_are_read_and_normalised(tmp_path: Path) -> None:
    _cifar10_folder(tmp_path)
    spec = get_dataset("cifar10")
    batch = load_minibatch(spec, 32, 0, tmp_path)
    assert batch.images.shape == (32, 3, 32, 32)
    assert batch.source == "real"
    assert batch.labels.max() < 10
    # the normalisation is per channel with NATS-Bench's CIFAR-10 mean/std
    raw = (
        batch.images * np.asarray(spec.std).reshape(1, 3, 1, 1)
        + np.asarray(spec.mean).reshape(1, 3, 1, 1)
    ) * 255
    assert np.allclose(raw, np.round(raw), atol=1e-3)
    assert np.array_equal(load_minibatch(spec, 32, 0, tmp_path).images, batch.images)
    # the batches folder itself is accepted as --data-dir too
    same = load_minibatch(spec, 32, 0, tmp_path / "cifar-10-batches-py")
    assert np.array_equal(same.images, batch.images)


def test_cifar100_uses_fine_labels(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    _write_pickle(
        tmp_path / "cifar-100-python" / "train",
        {
            b"fine_labels": rng.integers(0, 100, 50).tolist(),
            b"coarse_labels": rng.integers(0, 20, 50).tolist(),
            b"data": rng.integers(0, 256, (50, 3072), dtype=np.uint8),
        },
    )
    batch = load_minibatch(get_dataset("cifar100"), 40, 0, tmp_path)
    assert batch.images.shape == (40, 3, 32, 32)
    assert batch.labels.max() < 100


def test_imagenet16_keeps_labels_up_to_120_and_shifts_them(tmp_path: Path) -> None:
    labels = list(range(1, 241))  # 1..240: half of them are beyond the 120 classes
    rng = np.random.default_rng(2)
    _write_pickle(
        tmp_path / "ImageNet16" / "train_data_batch_1",
        {
            "data": rng.integers(0, 256, (240, 768), dtype=np.uint8),
            "labels": labels,
            "mean": np.zeros(768),
        },
    )
    batch = load_minibatch(get_dataset("ImageNet16-120"), 100, 0, tmp_path)
    assert batch.images.shape == (100, 3, 16, 16)
    assert batch.labels.min() >= 0 and batch.labels.max() <= 119
    with pytest.raises(TfnasError, match="fewer than the batch size"):
        load_minibatch(get_dataset("ImageNet16-120"), 121, 0, tmp_path)


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "ImageNet16-120"])
def test_missing_or_wrong_folder_is_one_clear_error(tmp_path: Path, dataset: str) -> None:
    spec = get_dataset(dataset)
    with pytest.raises(TfnasError, match="--data synthetic"):
        load_minibatch(spec, 8, 0, tmp_path / "nowhere")
    with pytest.raises(TfnasError, match="--data synthetic"):
        load_minibatch(spec, 8, 0, tmp_path)  # exists but holds no pickles


def test_data_options_resolve(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TFNAS_DATA_DIR", raising=False)
    assert resolve_data(None, None) == DataChoice(None)  # each scorer's own default
    assert resolve_data("synthetic", None) == DataChoice("synthetic")
    assert resolve_data("natural", None) == DataChoice("natural")
    assert resolve_data(None, str(tmp_path)) == DataChoice("real", tmp_path)
    assert resolve_data("real", str(tmp_path)) == DataChoice("real", tmp_path)
    with pytest.raises(TfnasError, match="--data-dir"):
        resolve_data("real", None)
    with pytest.raises(TfnasError, match="contradict"):
        resolve_data("natural", str(tmp_path))
    with pytest.raises(TfnasError, match="natural, real"):
        resolve_data("noise", None)
    monkeypatch.setenv("TFNAS_DATA_DIR", str(tmp_path))
    assert resolve_data(None, None) == DataChoice("real", tmp_path)
    assert resolve_data("synthetic", None) == DataChoice("synthetic")
    assert resolve_data("real", None) == DataChoice("real", tmp_path)


@pytest.mark.parametrize(
    ("dataset", "size", "writer"), [("cifar10", 32, "cifar"), ("ImageNet16-120", 16, "in16")]
)
def test_real_pixels_land_where_the_pickle_format_puts_them(
    tmp_path: Path, dataset: str, size: int, writer: str
) -> None:
    """Rows are channel planes (R, G, B), each row-major: one marked pixel per image at
    channel 1, row 2, column 3 must come out there after un-normalising."""
    n = 12
    data = np.zeros((n, 3 * size * size), dtype=np.uint8)
    data[:, size * size + 2 * size + 3] = 255
    if writer == "cifar":
        for i in range(1, 6):
            _write_pickle(
                tmp_path / "cifar-10-batches-py" / f"data_batch_{i}",
                {b"labels": list(range(n)), b"data": data},
            )
    else:
        _write_pickle(
            tmp_path / "ImageNet16" / "train_data_batch_1",
            {"data": data, "labels": list(range(1, n + 1))},
        )
    spec = get_dataset(dataset)
    batch = load_minibatch(spec, 8, 0, tmp_path)
    pixels = batch.images * np.asarray(spec.std).reshape(1, 3, 1, 1) + np.asarray(
        spec.mean
    ).reshape(1, 3, 1, 1)
    assert np.allclose(pixels[:, 1, 2, 3], 1.0, atol=1e-5)
    pixels[:, 1, 2, 3] = 0
    assert np.allclose(pixels, 0.0, atol=1e-5)
    assert batch.source == "real" and batch.data_dir == str(tmp_path)


def test_populate_records_a_real_data_run(sqlite_store_url: str, tmp_path: Path) -> None:
    _cifar10_folder(tmp_path)
    args = ["--scorers", "naswot", "--limit", "2", "--batch-size", "16", "--quiet"]
    out = tfnas("populate", "--db", sqlite_store_url, *args, "--data-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    natural = tfnas("populate", "--db", sqlite_store_url, *args, "--data", "natural")
    assert natural.returncode == 0, natural.stderr
    with open_store(sqlite_store_url).session() as session:
        runs = {r.data_source: r for r in session.scalars(select(ScoreRun))}
        assert set(runs) == {"real", "natural"}
        assert runs["real"].data_dir == str(tmp_path) and runs["real"].provenance is None
        assert runs["natural"].data_dir is None and runs["natural"].provenance is not None
    clash = tfnas("populate", "--db", sqlite_store_url, "--data", "natural", "--data-dir", ".")
    assert clash.returncode == 2 and "contradict" in clash.stderr
