"""The datasets scores and accuracies are keyed by (NATS-Bench names), without torch."""

from __future__ import annotations

from dataclasses import dataclass

from tfnas_db.errors import TfnasError


@dataclass(frozen=True)
class DatasetSpec:
    """Shape and normalisation of a dataset as NATS-Bench trains on it."""

    name: str
    n_classes: int
    image_size: int
    channels: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    description: str
    # Images in the training split the minibatch is drawn from: the largest batch that
    # is a minibatch of this dataset (--batch-size is refused above it, synthetic too).
    train_images: int

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.channels, self.image_size, self.image_size)


# mean/std as used by NATS-Bench's training pipeline (xautodl get_datasets).
DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "cifar10",
            10,
            32,
            3,
            (125.3 / 255, 123.0 / 255, 113.9 / 255),
            (63.0 / 255, 62.1 / 255, 66.7 / 255),
            "CIFAR-10, 32x32, 10 classes",
            50_000,
        ),
        DatasetSpec(
            "cifar100",
            100,
            32,
            3,
            (129.3 / 255, 124.1 / 255, 112.4 / 255),
            (68.2 / 255, 65.4 / 255, 70.4 / 255),
            "CIFAR-100, 32x32, 100 classes",
            50_000,
        ),
        DatasetSpec(
            "ImageNet16-120",
            120,
            16,
            3,
            (122.68 / 255, 116.66 / 255, 104.01 / 255),
            (63.22 / 255, 61.26 / 255, 65.09 / 255),
            "ImageNet 16x16, the first 120 classes",
            151_700,
        ),
    )
}

_ALIASES = {
    "cifar10-valid": "cifar10",
    "imagenet16-120": "ImageNet16-120",
    "imagenet16": "ImageNet16-120",
    "imagenet": "ImageNet16-120",
}


def get_dataset(name: str) -> DatasetSpec:
    """Look a dataset up by its NATS-Bench name (a few common spellings are accepted)."""
    if name in DATASETS:
        return DATASETS[name]
    canonical = _ALIASES.get(name.lower()) or _ALIASES.get(name)
    if canonical is None:
        lowered = {key.lower(): key for key in DATASETS}
        canonical = lowered.get(name.lower())
    if canonical is None:
        raise TfnasError(f"unknown dataset {name!r}; valid datasets: {', '.join(DATASETS)}")
    return DATASETS[canonical]
