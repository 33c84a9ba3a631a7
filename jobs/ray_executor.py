"""``populate --executor ray``: score on a Ray cluster, write from the driver.

Long-lived actors each build one scoring engine around the driver's minibatch (sent
once, so every worker scores the very same images) and score whole chunks; the driver
claims chunks from the same work source as the sequential path, streams each result
into the same :class:`Recorder`, and drives one progress bar. An actor that dies takes
only the chunk it was scoring with it: the driver still holds that chunk (its lease is
renewed by the driver), starts a replacement actor and sends the chunk again, and the
chunk's scores are written once, when its result arrives.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tfnas_db.errors import TfnasError
from tfnas_db.jobs.executors import POLL_SECONDS, Recorder, score_item
from tfnas_db.jobs.work import Chunk, ScoredArch, WorkItem, WorkSource, this_host
from tfnas_db.scoring.minibatch import Minibatch

INSTALL_HINT = 'install Ray for --executor ray: pip install "tfnas-db[ray]"'


@dataclass(frozen=True)
class RaySettings:
    workers: int
    address: str | None = None  # None: a local Ray instance (or the one already running)
    gpus_per_worker: float | None = None  # None: 1 with --device cuda, else 0
    threads: int | None = None  # torch threads per actor (None: its share of the CPUs)


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise TfnasError(f"--executor ray needs the ray package; {INSTALL_HINT}") from None
    return ray


def actor_resources(device: str, settings: RaySettings, cluster_cpus: float) -> dict[str, float]:
    """What one actor asks Ray for: its share of the CPUs, and GPUs when on CUDA."""
    gpus = settings.gpus_per_worker
    if gpus is None:
        gpus = 1.0 if device.startswith("cuda") else 0.0
    if gpus > 0 and not device.startswith("cuda"):
        raise TfnasError("--gpus-per-worker needs --device cuda")
    return {"num_cpus": max(0.01, cluster_cpus / settings.workers), "num_gpus": gpus}


class ScoringActor:
    """One engine per data source, for the actor's whole life (wrapped by ray.remote)."""

    def __init__(
        self,
        space: str,
        dataset: str,
        batch_size: int,
        seed: int,
        device: str,
        minibatches: dict[str, Minibatch | None],
        source_of: dict[str, str],
        scorers: list[str],
        threads: int,
    ) -> None:
        import torch

        from tfnas_db.scoring.datasets import get_dataset
        from tfnas_db.scoring.engine import ScoringEngine, SourcedEngine
        from tfnas_db.scoring.registry import REGISTRY
        from tfnas_db.scoring.spaces import get_space

        torch.set_num_threads(threads)
        # Ray exposes the GPUs it assigned as cuda:0..; a cuda:N of the driver is not ours.
        self.device = "cuda" if device.startswith("cuda") else device
        self.engine = SourcedEngine(
            {
                source: ScoringEngine(
                    get_space(space), get_dataset(dataset), batch_size, seed, self.device, batch
                )
                for source, batch in minibatches.items()
            },
            source_of,
        )
        self.specs = {spec.name: spec for spec in REGISTRY.resolve(scorers)}
        self.host = this_host()

    def score(self, items: list[WorkItem]) -> list[ScoredArch]:
        return [
            score_item(self.engine, self.specs, item, host=self.host, device=self.device)
            for item in items
        ]

    def pid(self) -> int:
        import os

        return os.getpid()


def run_on_ray(
    work: WorkSource,
    recorder: Recorder,
    settings: RaySettings,
    *,
    engine_args: dict[str, Any],
    advance: Callable[[int], None],
) -> None:
    """Score every chunk of ``work`` on Ray actors; see module doc."""
    if settings.workers < 1:
        raise TfnasError(f"--workers must be at least 1, got {settings.workers}")
    ray = import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        try:
            ray.init(
                address=settings.address,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        except (ConnectionError, ValueError, RuntimeError) as exc:
            where = settings.address or "a local instance"
            raise TfnasError(f"cannot start or reach Ray at {where}: {exc}") from None
    try:
        resources = actor_resources(
            str(engine_args["device"]), settings, float(ray.cluster_resources().get("CPU", 1))
        )
        threads = settings.threads or max(1, int(resources["num_cpus"]))
        actor_class = ray.remote(max_restarts=0)(ScoringActor).options(**resources)

        def new_actor() -> Any:
            return actor_class.remote(**engine_args, threads=threads)

        _drive(
            ray, work, recorder, [new_actor() for _ in range(settings.workers)], new_actor, advance
        )
    finally:
        if started_here:
            ray.shutdown()


def _drive(
    ray: Any,
    work: WorkSource,
    recorder: Recorder,
    actors: list[Any],
    new_actor: Callable[[], Any],
    advance: Callable[[int], None],
) -> None:
    idle = list(actors)
    in_flight: dict[Any, tuple[Any, Chunk]] = {}
    deaths = 0
    while True:
        while idle:
            chunk = work.try_claim()
            if chunk is None:
                break
            actor = idle.pop()
            in_flight[actor.score.remote(chunk.items)] = (actor, chunk)
        if not in_flight:
            if work.all_done():
                return
            time.sleep(POLL_SECONDS)
            continue
        ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=POLL_SECONDS)
        for ref in ready:
            actor, chunk = in_flight.pop(ref)
            try:
                scored = ray.get(ref)
            except ray.exceptions.RayActorError:
                deaths += 1
                if deaths > 3 * len(actors):
                    raise TfnasError(
                        f"{deaths} Ray workers died; see the Ray logs (ray status, "
                        "/tmp/ray/session_latest/logs) for why"
                    ) from None
                work.requeue(chunk)  # still ours: scored again by a fresh actor
                idle.append(new_actor())
                continue
            for item, arch in zip(chunk.items, scored, strict=True):
                recorder.accept(chunk, item, arch)
            recorder.write(chunk, final=True)
            advance(len(chunk.items))
            idle.append(actor)
