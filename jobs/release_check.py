"""Re-score a sample of the bundled release with the current code and compare.

"Scores that do not reproduce" is the standing complaint about published zero-cost proxy
numbers (USER-ASKS); this lets anyone check, on their own machine and on a sample they
choose, that the shipped values are what this code computes from the manifest's options
(data source, batch size, seed, torch threads). ``tests/test_release.py`` runs it on a
fixed sample; ``tfnas-db db verify-release`` on a fresh random one.

Bounds. Recomputed on the scoring machine's CPU type with the manifest's thread count,
every score comes back bit for bit (oneDNN picks its convolution kernels by thread count
and CPU). Elsewhere, scores that go through float32 convolutions differ by rounding, and
some amplify it: epe_nas subtracts near-equal per-class sums (120 classes on
ImageNet16-120) and moved by up to 35 % between 1 and 2 threads (median 0.2 %,
bench/results/layout.json); NASWOT's integer codes flip where a pre-activation is within
rounding of 0 (1e-6); snip and grad_norm moved by up to 2.5e-3 and fisher by up to 1e-2
between 1 and 2 threads (bench/results/thread_drift.json, 12 architectures per dataset);
loss_slope's 10 SGD steps at lr 0.1 amplify rounding most: up to 12 % (median 0.7 % on
CIFAR, 1.5 % on ImageNet16-120; bench/results/thread_drift_loss_slope.json).
The looser bounds, 4-5 times the largest drift measured, apply only off the scoring
machine. Data-free counts (relu_count, params, flops, degree) are exact everywhere.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from tfnas_db.db.release import (
    ReleaseManifest,
    bundled_manifests,
    read_release_table,
    release_folder,
)
from tfnas_db.errors import TfnasError
from tfnas_db.jobs.release_build import machine_cpu
from tfnas_db.scoring.registry import REGISTRY

EXACT_SCORERS = frozenset({"naswot", "relu_count", "params", "flops", "degree"})
SAME_MACHINE_RTOL = 1e-6
OFF_MACHINE_RTOL = {
    "naswot": 1e-4,
    "jacov": 1e-2,
    "epe_nas": 0.5,
    "snip": 1e-2,
    "grad_norm": 1e-2,
    "fisher": 5e-2,
    "loss_slope": 0.5,
}


@dataclass(frozen=True)
class ReleasePick:
    """One bundled value to re-score: the file (by its manifest) and the architecture."""

    path: Path
    manifest: ReleaseManifest
    arch_index: int


@dataclass(frozen=True)
class RescoreCheck:
    pick: ReleasePick
    bundled: float | None  # None: the release stores a non-finite value (status nan)
    rescored: float | None
    rtol: float | None  # None: must be equal
    off_machine: bool

    @property
    def ok(self) -> bool:
        if self.bundled is None or self.rescored is None:
            return self.bundled is None and self.rescored is None
        if self.rtol is None:
            return self.rescored == self.bundled
        return math.isclose(self.rescored, self.bundled, rel_tol=self.rtol)

    @property
    def rel_diff(self) -> float | None:
        if self.bundled is None or self.rescored is None:
            return None
        scale = max(abs(self.bundled), abs(self.rescored))
        return 0.0 if scale == 0 else abs(self.rescored - self.bundled) / scale

    @property
    def bound(self) -> str:
        where = " (off the scoring machine)" if self.off_machine else ""
        return ("equal" if self.rtol is None else f"rel {self.rtol:g}") + where

    def describe(self) -> str:
        m = self.pick.manifest
        return (
            f"{m.scorer} of arch {self.pick.arch_index} on {m.space}/{m.dataset}: bundled "
            f"{self.bundled!r}, re-scored {self.rescored!r} (bound: {self.bound})"
        )


def tolerance(manifest: ReleaseManifest) -> tuple[float | None, bool]:
    """(rtol or None for equality, whether this machine is not the one that scored it)."""
    if not REGISTRY.get(manifest.scorer).needs.uses_data and manifest.scorer in EXACT_SCORERS:
        return None, False  # counts: the same on any machine
    off_machine = manifest.threads is None or manifest.cpu_model != machine_cpu()
    if not off_machine:
        return (None if manifest.scorer in EXACT_SCORERS else SAME_MACHINE_RTOL), False
    return OFF_MACHINE_RTOL.get(manifest.scorer, SAME_MACHINE_RTOL), True


def release_files(
    space: str | None, dataset: str | None, scorers: str | None
) -> list[tuple[Path, ReleaseManifest]]:
    """The bundled files of this space, dataset and comma-separated scorers (None: any);
    a filter that matches nothing is the user's to fix, so the error names what is held."""
    manifests = bundled_manifests()
    wanted = {s.strip() for s in scorers.split(",") if s.strip()} if scorers else None
    chosen = [
        (path, m)
        for path, m in manifests
        if (space is None or m.space == space)
        and (dataset is None or m.dataset == dataset)
        and (wanted is None or m.scorer in wanted)
    ]
    if not chosen:
        sets = sorted({f"{m.space}/{m.dataset}" for _, m in manifests})
        names = sorted({m.scorer for _, m in manifests})
        held = ", ".join(sets) + f" with scorers {', '.join(names)}" if names else "nothing"
        raise TfnasError(
            f"the release in {release_folder()} holds no file for space={space or 'any'}, "
            f"dataset={dataset or 'any'}, scorers={scorers or 'any'}; it holds {held}"
        )
    if wanted is not None and (absent := wanted - {m.scorer for _, m in chosen}):
        raise TfnasError(f"no bundled file for scorer(s) {', '.join(sorted(absent))}")
    return chosen


def sample_release(
    manifests: Sequence[tuple[Path, ReleaseManifest]],
    seed: int,
    per_file: int | None = None,
) -> list[ReleasePick]:
    """``per_file`` architectures per bundled file, drawn with ``seed``; by default 2 for a
    scorer that builds a network on data and 5 for one that does not (seconds in all)."""
    from tfnas_db.scoring.spaces import get_space

    rng = random.Random(seed)
    picks = []
    for path, manifest in manifests:
        n = per_file or (5 if REGISTRY.get(manifest.scorer).data_free else 2)
        n_archs = get_space(manifest.space).n_archs
        picks.extend(ReleasePick(path, manifest, i) for i in rng.sample(range(n_archs), n))
    return picks


class ReleaseRescorer:
    """Re-scores picks on the CPU (where the release was computed), one engine per
    (space, dataset, data source, batch size, seed), with each file's torch thread count."""

    def __init__(self) -> None:
        self._engines: dict[tuple[str, str, str, int, int], object] = {}
        self._tables: dict[Path, dict[str, np.ndarray]] = {}

    def _engine(self, m: ReleaseManifest):  # type: ignore[no-untyped-def]
        from tfnas_db.scoring.datasets import get_dataset
        from tfnas_db.scoring.engine import ScoringEngine
        from tfnas_db.scoring.minibatch import load_minibatch
        from tfnas_db.scoring.spaces import get_space

        key = (m.space, m.dataset, m.data_source, m.batch_size, m.seed)
        if key not in self._engines:
            dataset = get_dataset(m.dataset)
            minibatch = (
                None
                if m.data_source == "none"
                else load_minibatch(dataset, m.batch_size, m.seed, None, m.data_source)
            )
            self._engines[key] = ScoringEngine(
                get_space(m.space), dataset, m.batch_size, m.seed, "cpu", minibatch
            )
        return self._engines[key]

    def _bundled(self, pick: ReleasePick) -> float | None:
        if pick.path not in self._tables:
            self._tables[pick.path] = read_release_table(pick.path, pick.manifest)
        columns = self._tables[pick.path]
        row = int(np.flatnonzero(columns["arch_index"] == pick.arch_index)[0])
        value = columns["value"][row]
        return None if value is None or not np.isfinite(value) else float(value)

    def rescore(self, m: ReleaseManifest, arch_index: int) -> float | None:
        """``m``'s scorer on one architecture, with ``m``'s options and threads, here."""
        import torch

        from tfnas_db.scoring.spaces import get_space

        spec = REGISTRY.get(m.scorer)
        arch_str = get_space(m.space).arch_of_index(arch_index)
        with _torch_threads(m.threads or torch.get_num_threads()):
            value = self._engine(m).score(arch_str, [spec])[spec.name].value
        return None if value is None or not math.isfinite(value) else value

    def check(self, pick: ReleasePick) -> RescoreCheck:
        rescored = self.rescore(pick.manifest, pick.arch_index)
        rtol, off_machine = tolerance(pick.manifest)
        return RescoreCheck(pick, self._bundled(pick), rescored, rtol, off_machine)


def dataset_differences(
    rescorer: ReleaseRescorer, m: ReleaseManifest, dataset: str, indices: Sequence[int]
) -> list[str]:
    """Architectures whose score with ``m``'s options differs, on this machine, between
    ``m``'s dataset and ``dataset`` (bit for bit): before a set is copied to another
    dataset (``scripts/build_release.py --copy-dataset``), this must come back empty."""
    other = replace(m, dataset=dataset)
    differences = []
    for index in indices:
        here, there = rescorer.rescore(m, index), rescorer.rescore(other, index)
        if here != there:
            differences.append(
                f"{m.scorer} of arch {index}: {here!r} on {m.dataset}, {there!r} on {dataset}"
            )
    return differences


@contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
