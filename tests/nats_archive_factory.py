"""Tiny NATS-Bench archives built with ``nats_bench``'s own classes (no download).

Figures are simple functions of (architecture, dataset, set, budget, seed) so tests can
compute by hand what the import must store: seeds 777 and 888 sit 0.5 below and above
their mean, and each epoch's value climbs to the last epoch's, which is the one read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nats_bench.api_utils import ArchResults, ResultsCount, pickle_save

from tfnas_db.scoring.spaces import nats_tss

EVAL_SETS = {
    "cifar10-valid": ("x-valid", "ori-test"),
    "cifar10": ("ori-test",),
    "cifar100": ("x-valid", "x-test", "ori-test"),
    "ImageNet16-120": ("x-valid", "x-test", "ori-test"),
}
CLASSES = {"cifar10-valid": 10, "cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}
SET_BASE = {"train": 95.0, "x-valid": 80.0, "x-test": 79.0, "ori-test": 78.0}
DATASET_OFFSET = {"cifar10-valid": 0.0, "cifar10": 1.0, "cifar100": -20.0, "ImageNet16-120": -40.0}
SEED_OFFSET = {777: -0.5, 888: 0.5, 111: 0.0}
SEEDS = {"01": (777,), "12": (111,), "90": (777, 888), "200": (777, 888)}
TRAIN_EPOCH_SECONDS = 1.5
EVAL_EPOCH_SECONDS = 0.25
LATENCY = 0.0125


def accuracy(index: int, nats_dataset: str, setname: str, hp: str, seed: int) -> float:
    return (
        SET_BASE[setname]
        + index % 10
        + DATASET_OFFSET[nats_dataset]
        + (0.125 if hp == "200" else 0.0)
        + SEED_OFFSET[seed]
    )


def mean_accuracy(index: int, nats_dataset: str, setname: str, hp: str) -> float:
    """What the import must store: the mean over the budget's seeds."""
    values = [accuracy(index, nats_dataset, setname, hp, s) for s in SEEDS[hp]]
    return sum(values) / len(values)


def loss(acc: float) -> float:
    return (100.0 - acc) / 50.0


def params_m(index: int, nats_dataset: str) -> float:
    return 0.25 + index / 1000.0 + CLASSES[nats_dataset] / 10000.0


def _per_epoch(last: float, epochs: int) -> dict[int, float]:
    return {i: last - (epochs - 1 - i) * 0.01 for i in range(epochs)}


def _trial(index: int, arch: str, nats_dataset: str, hp: str, seed: int) -> ResultsCount:
    epochs = int(hp)
    config = {"name": "infer.tiny", "channel": 16, "num_cells": 5, "arch_str": arch}
    config["class_num"] = CLASSES[nats_dataset]
    train_acc = accuracy(index, nats_dataset, "train", hp, seed)
    trial = ResultsCount(
        nats_dataset,
        None,
        _per_epoch(train_acc, epochs),
        _per_epoch(loss(train_acc), epochs),
        params_m(index, nats_dataset),
        10.0 * params_m(index, nats_dataset),
        config,
        seed,
        epochs,
        [LATENCY],
    )
    trial.update_train_info(
        trial.train_acc1es,
        None,
        trial.train_losses,
        dict.fromkeys(range(epochs), TRAIN_EPOCH_SECONDS),
    )
    accs: dict[str, float] = {}
    losses: dict[str, float] = {}
    times: dict[str, float] = {}
    for setname in EVAL_SETS[nats_dataset]:
        last = accuracy(index, nats_dataset, setname, hp, seed)
        for epoch, value in _per_epoch(last, epochs).items():
            accs[f"{setname}@{epoch}"] = value
            losses[f"{setname}@{epoch}"] = loss(value)
            times[f"{setname}@{epoch}"] = EVAL_EPOCH_SECONDS
    trial.update_eval(accs, losses, times)
    return trial


def arch_results(
    index: int, hps: tuple[str, ...] = ("12", "200"), arch: str | None = None
) -> dict[str, dict[str, Any]]:
    """``{hp: ArchResults state dict}`` of one architecture (TSS by default), as NATS-Bench
    stores it."""
    arch = arch or nats_tss.arch_of_index(index)
    out: dict[str, dict[str, Any]] = {}
    for hp in hps:
        results = ArchResults(index, arch)
        for nats_dataset in EVAL_SETS:
            for seed in SEEDS[hp]:
                results.update(nats_dataset, seed, _trial(index, arch, nats_dataset, hp, seed))
        out[hp] = results.state_dict()
    return out


def fast_mode_folder(
    folder: Path,
    indices: list[int],
    meta_archs: list[str] | None = None,
    hps: tuple[str, ...] = ("12", "200"),
) -> Path:
    """A ``NATS-tss-v1_0-3ffb9-simple``-style folder holding ``indices`` (TSS unless
    ``meta_archs`` lists other architectures, e.g. SSS channel configurations)."""
    archs = meta_archs or list(nats_tss.index_table())
    folder.mkdir(parents=True, exist_ok=True)
    pickle_save({"meta_archs": archs}, str(folder / "meta.pickle"))
    for index in indices:
        pickle_save(arch_results(index, hps, archs[index]), str(folder / f"{index:06d}.pickle"))
    return folder


def single_archive(path: Path, indices: list[int]) -> Path:
    """A ``NATS-tss-v1_0-3ffb9.pickle.pbz2``-style single file holding ``indices``."""
    data = {
        "meta_archs": list(nats_tss.index_table()),
        "arch2infos": {index: arch_results(index) for index in indices},
        "evaluated_indexes": list(indices),
    }
    pickle_save(data, str(path).removesuffix(".pbz2"))
    return path
