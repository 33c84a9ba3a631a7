"""Per-architecture scoring context: lazily built, shared artefacts with cost accounting.

The engine creates one context per (architecture, dataset). Scorers ask it for what they
need (the network, the train-mode forward with ReLU codes, the input Jacobian, ...);
each artefact is computed once and reused by every scorer that asks for it. A scorer's
stored seconds are its own work plus the full cost of every artefact it used, i.e. what
it would have cost run alone on a built network.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from tfnas_db.scoring.datasets import DatasetSpec
from tfnas_db.scoring.minibatch import Minibatch
from tfnas_db.scoring.spaces import ArchCost, SearchSpaceInfo

if TYPE_CHECKING:
    import torch
    from torch import nn

    from tfnas_db.scoring.passes import LossGradients, SynflowPass

T = TypeVar("T")


@dataclass
class ForwardPass:
    """One train-mode forward of the minibatch, with what NASWOT needs from its ReLUs.

    ``code_gram`` is the sum over ReLUs of C C^T for the binary codes C = (input > 0)
    (exact integers, as float64) and ``code_units`` the number of ReLU input elements per
    sample; see :func:`tfnas_db.scoring.scorers.naswot.hamming_kernel`.
    """

    logits: torch.Tensor
    inputs: torch.Tensor
    code_gram: np.ndarray
    code_units: int
    relu_modules: int


@dataclass
class _Frame:
    computed: float = 0.0  # inclusive seconds of artefacts computed directly in this frame
    used: set[str] = field(default_factory=set)


@dataclass
class ScoringContext:
    space: SearchSpaceInfo
    arch_str: str
    dataset: DatasetSpec
    batch_size: int
    seed: int
    device: str
    minibatch: Minibatch | None
    input_grad: bool = False  # run the shared forward with input gradients (jacov, epe_nas)
    _cache: dict[str, Any] = field(default_factory=dict)
    _exclusive: dict[str, float] = field(default_factory=dict)
    _deps: dict[str, set[str]] = field(default_factory=dict)
    _stack: list[_Frame] = field(default_factory=list)

    # ---- accounting -------------------------------------------------------------------
    def _artefact(self, name: str, compute: Callable[[], T]) -> T:
        if name in self._cache:
            if self._stack:
                self._stack[-1].used |= {name, *self._deps[name]}
            return self._cache[name]  # type: ignore[no-any-return]
        frame = _Frame()
        self._stack.append(frame)
        start = time.perf_counter()
        try:
            value = compute()
        finally:
            inclusive = time.perf_counter() - start
            self._stack.pop()
        self._exclusive[name] = inclusive - frame.computed
        self._deps[name] = set(frame.used)
        self._cache[name] = value
        if self._stack:
            parent = self._stack[-1]
            parent.computed += inclusive
            parent.used |= {name, *frame.used}
        return value

    def run_scorer(self, fn: Callable[[ScoringContext], float]) -> tuple[float, float]:
        """Run one scorer; returns (value, seconds attributed to it)."""
        frame = _Frame()
        self._stack.append(frame)
        start = time.perf_counter()
        try:
            value = fn(self)
        finally:
            wall = time.perf_counter() - start
            self._stack.pop()
        own = wall - frame.computed
        return value, own + sum(self._exclusive[name] for name in frame.used)

    # ---- data-free ----------------------------------------------------------------------
    @property
    def cost(self) -> ArchCost:
        return self._artefact(
            "cost",
            lambda: self.space.cost(self.arch_str, self.dataset.n_classes, self.dataset.image_size),
        )

    # ---- torch artefacts ---------------------------------------------------------------
    def require_minibatch(self) -> Minibatch:
        if self.minibatch is None:
            raise RuntimeError("this scorer needs a minibatch but the engine built none")
        return self.minibatch

    def inputs(self) -> torch.Tensor:
        def make() -> torch.Tensor:
            import torch

            images = torch.from_numpy(self.require_minibatch().images).to(self.device)
            return images.contiguous(memory_format=torch.channels_last)

        return self._artefact("inputs", make)

    def labels(self) -> torch.Tensor:
        def make() -> torch.Tensor:
            import torch

            return torch.from_numpy(self.require_minibatch().labels).to(self.device)

        return self._artefact("labels", make)

    def fresh_network(self) -> nn.Module:
        """A newly built network initialised from ``torch.manual_seed(seed)``.

        Seeding right before each build makes a score independent of which
        architectures were scored before it (the reference scripts seed once per job).
        Weights and inputs are kept channels-last (NHWC): the same arithmetic, but on a
        CPU oneDNN's NHWC convolutions run the forward and backward 2-2.5x faster than
        the default NCHW layout (docs/PERFORMANCE.md); results differ from NCHW only by
        float rounding.
        """
        import torch

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            net = self.space.build_network(self.arch_str, self.dataset.n_classes)
        return net.to(self.device, memory_format=torch.channels_last).train()

    def network(self) -> nn.Module:
        """The shared network. Scorers that modify weights must work on a copy."""
        return self._artefact("network", self.fresh_network)

    def forward(self) -> ForwardPass:
        from tfnas_db.scoring.passes import forward_with_codes

        return self._artefact(
            "forward",
            lambda: forward_with_codes(self.network(), self.inputs(), self.input_grad),
        )

    def input_jacobian(self) -> np.ndarray:
        """J: d(sum of logits)/d(input) per sample, flattened, float64, shape (K, D)."""
        from tfnas_db.scoring.passes import input_jacobian

        return self._artefact("input_jacobian", lambda: input_jacobian(self.forward()))

    def loss_gradients(self) -> LossGradients:
        from tfnas_db.scoring.passes import loss_gradients

        return self._artefact(
            "loss_gradients", lambda: loss_gradients(self.network(), self.inputs(), self.labels())
        )

    def synflow_pass(self) -> SynflowPass:
        from tfnas_db.scoring.passes import synflow_pass

        return self._artefact(
            "synflow_pass", lambda: synflow_pass(self.network(), self.dataset.input_shape)
        )
