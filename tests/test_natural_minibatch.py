"""The natural minibatch: bundled photographs, hand-checked resampling, structured labels,
and populate scoring each scorer on its own default data source."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from helpers import tfnas
from sqlalchemy import select

from tfnas_db.db.coverage import populate_command
from tfnas_db.db.models import Score, ScoreRun
from tfnas_db.db.queries import RunInfo
from tfnas_db.db.store import open_store
from tfnas_db.jobs.populate import PopulateConfig, group_by_source, populate
from tfnas_db.scoring import registry
from tfnas_db.scoring.datasets import get_dataset
from tfnas_db.scoring.minibatch import load_minibatch
from tfnas_db.scoring.natural import (
    area_weights,
    crop_and_resize,
    grid_side,
    load_photographs,
    natural_images,
)


def test_bundle_holds_only_redistributable_photographs() -> None:
    photos, manifest = load_photographs()
    assert len(photos) == len(manifest["photos"]) == 10
    assert {p["licence"] for p in manifest["photos"]} <= {"public domain", "CC0"}
    for photo, entry in zip(photos, manifest["photos"], strict=True):
        assert photo.dtype == np.uint8 and photo.ndim == 3 and photo.shape[2] in (1, 3)
        assert min(photo.shape[:2]) == manifest["short_side"]
        assert list(photo.shape) == entry["shape"] and len(entry["sha256"]) == 64


def test_area_weights_by_hand() -> None:
    assert np.allclose(area_weights(4, 2), [[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]])
    # 3 -> 2: each output pixel covers 1.5 input pixels
    assert np.allclose(area_weights(3, 2), [[2 / 3, 1 / 3, 0], [0, 1 / 3, 2 / 3]])
    assert np.allclose(area_weights(5, 5), np.eye(5))


def test_crop_and_resize_by_hand() -> None:
    # a 4x4 grey photo of 2x2 blocks 0, 51 / 102, 255 -> a 2x2 image of those values / 255
    blocks = np.array([[0, 51], [102, 255]], dtype=np.uint8)
    photo = np.kron(blocks, np.ones((2, 2), dtype=np.uint8))[:, :, None]
    out = crop_and_resize(photo, 0, 0, 4, 2, flip=False)
    assert out.shape == (3, 2, 2)  # grey is repeated over the three channels
    assert np.allclose(out[0], blocks / 255) and np.allclose(out[0], out[2])
    flipped = crop_and_resize(photo, 0, 0, 4, 2, flip=True)
    assert np.allclose(flipped[0], blocks[:, ::-1] / 255)
    # an offset crop: rows 1..2, cols 1..2 hold one pixel of each block
    assert np.isclose(crop_and_resize(photo, 1, 1, 2, 1, flip=False)[0, 0, 0], 408 / 4 / 255)


def test_grid_gives_every_class_its_own_region() -> None:
    assert grid_side(10, 10) == 1
    assert grid_side(100, 10) == 4  # 160 regions for 100 classes (3x3 = 90 is too few)
    assert grid_side(120, 10) == 4
    assert grid_side(5, 10) == 1


@pytest.mark.parametrize(
    ("dataset", "size", "classes"),
    [("cifar10", 32, 10), ("cifar100", 32, 100), ("ImageNet16-120", 16, 120)],
)
def test_natural_minibatch_is_seeded_shaped_and_balanced(
    dataset: str, size: int, classes: int
) -> None:
    spec = get_dataset(dataset)
    a = load_minibatch(spec, 128, 3, None, "natural")
    b = load_minibatch(spec, 128, 3, None, "natural")
    c = load_minibatch(spec, 128, 4, None, "natural")
    assert a.source == "natural" and a.images.shape == (128, 3, size, size)
    assert a.images.dtype == np.float32 and a.labels.dtype == np.int64
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.images, c.images)
    counts = np.bincount(a.labels, minlength=classes)
    assert len(counts) == classes and counts.max() - counts.min() <= 1
    # normalised with the dataset's mean/std: pixels back in [0, 1] after undoing it
    mean = np.asarray(spec.mean).reshape(1, 3, 1, 1)
    std = np.asarray(spec.std).reshape(1, 3, 1, 1)
    pixels = a.images * std + mean
    assert pixels.min() >= -1e-5 and pixels.max() <= 1 + 1e-5


@pytest.mark.parametrize(
    ("dataset", "seed"), [("cifar10", 5), ("cifar100", 1), ("cifar100", 2), ("ImageNet16-120", 1)]
)
def test_no_two_images_of_a_minibatch_are_equal(dataset: str, seed: int) -> None:
    """These seeds used to draw one crop twice (a border-clipped box), which made NASWOT's
    kernel singular: 77 of the first 100 cifar100 architectures scored nan at seed 1."""
    images, _ = natural_images(get_dataset(dataset), 128, seed)
    assert len(np.unique(images.reshape(128, -1), axis=0)) == 128


def test_redrawing_repeated_crops_leaves_the_release_minibatches_as_they_were() -> None:
    """The bundled release is scored at seed 0, batch 128, where no crop repeats: those
    minibatches are unchanged (fingerprints taken before the redraw existed)."""
    fingerprints = {
        "cifar10": (-0.12537266, 0.58850467, 0.13004304),
        "cifar100": (-0.08116286, 0.65030378, -0.50396156),
        "ImageNet16-120": (0.00628671, 0.11303534, -0.42356339),
    }
    for dataset, (mean, first, last) in fingerprints.items():
        images, _ = natural_images(get_dataset(dataset), 128, 0)
        got = (float(images.mean()), float(images[0].mean()), float(images[-1].mean()))
        assert got == pytest.approx((mean, first, last), rel=1e-6), dataset


def test_labels_follow_the_photographs() -> None:
    """CIFAR-10: one class per photograph, so a grey photograph's class is grey."""
    photos, _ = load_photographs()
    spec = get_dataset("cifar10")
    images, labels = natural_images(spec, 64, 0)
    mean = np.asarray(spec.mean).reshape(3, 1, 1)
    std = np.asarray(spec.std).reshape(3, 1, 1)
    for image, label in zip(images, labels, strict=True):
        pixels = image * std + mean
        grey = np.allclose(pixels[0], pixels[1], atol=1e-5)
        assert grey == (photos[label].shape[2] == 1)


def _values(url: str, run_id: int) -> dict[int, float]:
    store = open_store(url)
    with store.session() as session:
        rows = session.execute(
            select(Score.architecture_id, Score.value).where(Score.run_id == run_id)
        ).all()
    store.close()
    return {arch: value for arch, value in rows}


def test_populate_scores_each_scorer_on_its_own_default_source(
    sqlite_store_url: str,
    seeded_sqlite_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry, "DEFAULT_DATA_SOURCE", {"jacov": "natural"})
    scorers = "naswot,jacov,params"
    # one torch thread in both stores: jacov's last digits move with the thread count, and
    # the default count depends on how many populates this host runs at that moment
    config = PopulateConfig(scorers=scorers, limit=3, batch_size=16, seed=5, threads=1)
    groups = group_by_source(registry.REGISTRY.resolve(scorers), config)
    assert {source: [s.name for s in group] for source, group in groups.items()} == {
        "synthetic": ["params", "naswot"],
        "natural": ["jacov"],
    }
    store = open_store(sqlite_store_url)
    mixed = populate(store, config, show_progress=False)
    with store.session() as session:
        runs = {name: session.get(ScoreRun, run_id) for name, run_id in mixed.run_ids.items()}
        sources = {name: run.data_source for name, run in runs.items() if run is not None}
        jacov, naswot = runs["jacov"], runs["naswot"]
        assert jacov is not None and naswot is not None
        provenance, naswot_provenance = jacov.provenance, naswot.provenance
    store.close()
    assert sources == {"naswot": "synthetic", "jacov": "natural", "params": "none"}
    assert provenance is not None and provenance["data"]["source"] == "natural"
    assert "CC0" in provenance["data"]["licences"]
    assert {p["name"] for p in provenance["data"]["selection"]} >= {"chelsea", "astronaut"}
    assert naswot_provenance is None

    # Each scorer's values equal a populate of that scorer alone with --data its source,
    # in a second store: the mixed populate gave each group its own minibatch.
    alone = tmp_path / "alone.db"
    shutil.copy(seeded_sqlite_template, alone)
    alone_url = f"sqlite:///{alone}"
    for name, source in (("jacov", "natural"), ("naswot", "synthetic")):
        forced = PopulateConfig(
            scorers=name, limit=3, batch_size=16, seed=5, data_source=source, threads=1
        )
        summary = populate(open_store(alone_url), forced, show_progress=False)
        expected = _values(alone_url, summary.run_ids[name])
        assert len(expected) == 3
        assert _values(sqlite_store_url, mixed.run_ids[name]) == expected
    # and jacov on noise is another run with other values
    noise = PopulateConfig(scorers="jacov", limit=3, batch_size=16, seed=5, data_source="synthetic")
    summary = populate(open_store(sqlite_store_url), noise, show_progress=False)
    assert summary.run_ids["jacov"] != mixed.run_ids["jacov"]
    natural_values = _values(sqlite_store_url, mixed.run_ids["jacov"])
    noise_values = _values(sqlite_store_url, summary.run_ids["jacov"])
    assert natural_values.keys() == noise_values.keys()
    assert all(natural_values[k] != noise_values[k] for k in natural_values)


def _run(scorer: str, data_source: str) -> RunInfo:
    return RunInfo(
        id=3,
        scorer=scorer,
        dataset="cifar10",
        space="nats-tss",
        data_source=data_source,
        batch_size=64,
        seed=0,
        device="cpu",
        started_at=datetime.now(UTC),
        finished_at=None,
        n_ok=5,
        n_nan=0,
        n_error=0,
    )


def test_the_resume_command_names_a_source_only_when_it_is_not_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry, "DEFAULT_DATA_SOURCE", {"jacov": "natural"})
    start = "tfnas-db populate --dataset cifar10 --scorers"
    for scorer, source, expected in [
        ("jacov", "natural", f"{start} jacov --batch-size 64"),
        ("jacov", "synthetic", f"{start} jacov --batch-size 64 --data synthetic"),
        ("snip", "natural", f"{start} snip --batch-size 64 --data natural"),
        ("snip", "synthetic", f"{start} snip --batch-size 64"),
        ("params", "none", f"{start} params --batch-size 64"),
        ("snip", "real", f"{start} snip --batch-size 64 --data real --data-dir DIR"),
    ]:
        assert populate_command(_run(scorer, source), "nats-tss", "cifar10", [scorer]) == expected


def test_the_measured_defaults_are_listed_by_the_scorers_command() -> None:
    rows = {row["name"]: row for row in json.loads(tfnas("scorers", "--format", "json").stdout)}
    for name, spec in ((s.name, s) for s in registry.REGISTRY.specs()):
        assert rows[name]["data"] == spec.default_data
    assert rows["jacov"]["data"] == "natural" and rows["snip"]["data"] == "synthetic"
    assert rows["fisher"]["data"] == "natural" and rows["grasp"]["data"] == "synthetic"
    assert rows["params"]["data"] == "none"
