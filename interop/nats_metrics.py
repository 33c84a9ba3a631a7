"""What a NATS-Bench result becomes in the store: one named figure per split and budget.

NATS-Bench has four training datasets but the store has three: CIFAR-10 was trained twice,
on the train split (``cifar10-valid``, evaluated on the held-out validation split and the
test set) and on train+validation (``cifar10``, evaluated on the test set). NATS-Bench's
protocol reads validation from the first and test from the second; the other two figures
of those runs get their own names rather than being dropped or mixed in.

Every figure is the mean over the seeds the archive holds, with the seed count kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nats_bench.api_utils import ArchResults


@dataclass(frozen=True)
class SetFigure:
    """A (NATS dataset, evaluation set) pair and the store metric its accuracy becomes;
    its loss is ``<metric>_loss``."""

    nats_dataset: str
    setname: str
    dataset: str
    metric: str


SET_FIGURES: tuple[SetFigure, ...] = (
    SetFigure("cifar10-valid", "x-valid", "cifar10", "val"),
    SetFigure("cifar10-valid", "train", "cifar10", "train"),
    SetFigure("cifar10-valid", "ori-test", "cifar10", "test_trainsplit"),
    SetFigure("cifar10", "ori-test", "cifar10", "test"),
    SetFigure("cifar10", "train", "cifar10", "train_trainval"),
    *(
        SetFigure(name, setname, name, metric)
        for name in ("cifar100", "ImageNet16-120")
        for setname, metric in (
            ("train", "train"),
            ("x-valid", "val"),
            ("x-test", "test"),
            ("ori-test", "valtest"),
        )
    ),
)
# Sizes, latency and timings come from the training whose validation accuracy the store
# reports (for CIFAR-10, the train-split run, as NATS-Bench's simulated training uses).
COST_SOURCE = {
    "cifar10": "cifar10-valid",
    "cifar100": "cifar100",
    "ImageNet16-120": "ImageNet16-120",
}


@dataclass(frozen=True)
class Figure:
    dataset: str
    metric: str
    epochs: int
    value: float
    n_seeds: int
    origin: str  # which NATS dataset and set it was read from


def _has_set(results: ArchResults, nats_dataset: str, setname: str) -> bool:
    if setname == "train":
        return True
    trials = results.query(nats_dataset).values()
    return all(setname in trial.get_eval_set() for trial in trials)


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if number == number else None


def _costs(results: ArchResults, nats_dataset: str) -> dict[str, float | None]:
    """``get_compute_costs``; where it gives up (seeds disagree on the size and seed 888,
    its tie-breaker, is absent) the plain mean over the seeds, so one odd architecture does
    not stop an import of thousands."""
    try:
        return dict(results.get_compute_costs(nats_dataset))
    except ValueError:
        trials = list(results.query(nats_dataset).values())
        latencies = [t.get_latency() for t in trials if t.get_latency() > 0]
        costs: dict[str, float | None] = {
            "flops": sum(t.flop for t in trials) / len(trials),
            "params": sum(t.params for t in trials) / len(trials),
            "latency": sum(latencies) / len(latencies) if latencies else None,
        }
        times = [t.get_times() for t in trials]
        for key in times[0]:
            values = [time.get(key) for time in times]
            known = [v for v in values if v is not None]
            costs[key] = sum(known) / len(known) if len(known) == len(values) else None
        return costs


def figures(results: ArchResults, epochs: int) -> list[Figure]:
    """Every figure of one architecture trained for ``epochs`` (one ``hp`` of the archive)."""
    held = set(results.get_dataset_names())
    out: list[Figure] = []
    for spec in SET_FIGURES:
        if spec.nats_dataset not in held or not _has_set(results, spec.nats_dataset, spec.setname):
            continue
        seeds = len(results.get_dataset_seeds(spec.nats_dataset))
        info = results.get_metrics(spec.nats_dataset, spec.setname, is_random=False)
        origin = f"{spec.nats_dataset} {spec.setname}"
        for metric, key in ((spec.metric, "accuracy"), (f"{spec.metric}_loss", "loss")):
            value = _number(info.get(key))
            if value is not None:
                out.append(Figure(spec.dataset, metric, epochs, value, seeds, origin))
    for dataset, nats_dataset in COST_SOURCE.items():
        if nats_dataset not in held:
            continue
        seeds = len(results.get_dataset_seeds(nats_dataset))
        costs = _costs(results, nats_dataset)
        origin = f"{nats_dataset} cost info"
        latency = _number(costs.get("latency"))
        named = {
            "recorded_params_m": _number(costs.get("params")),
            "recorded_flops_m": _number(costs.get("flops")),
            "latency_seconds": latency if latency is not None and latency > 0 else None,
            "train_seconds": _number(costs.get("T-train@total")),
        }
        for spec in SET_FIGURES:
            if spec.nats_dataset == nats_dataset and spec.setname != "train":
                named[f"{spec.metric}_eval_seconds"] = _number(costs.get(f"T-{spec.setname}@total"))
        for metric, value in named.items():
            if value is not None:
                out.append(Figure(dataset, metric, epochs, value, seeds, origin))
    return out
