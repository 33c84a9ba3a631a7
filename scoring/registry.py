"""The scorer registry: one decorator per scorer, as zero-cost-nas "measures" do.

A scorer is a function ``fn(ctx) -> float`` over a :class:`~tfnas_db.scoring.context.
ScoringContext`, registered with what it needs, so the engine can plan one network build
and shared passes per architecture. Built-in scorers are imported on first use of the
registry (no import-time side effects), and every stored score is "higher is better":
a scorer whose paper ranks by lower values negates it itself.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tfnas_db.errors import TfnasError
from tfnas_db.scoring.minibatch import NATURAL, SYNTHETIC

if TYPE_CHECKING:
    import numpy as np

    from tfnas_db.scoring.context import ScoringContext
    from tfnas_db.scoring.spaces import SearchSpaceInfo
    from tfnas_db.scoring.spaces.base import CostArrays


class Need(enum.Flag):
    """What a scorer consumes; the engine shares each of these across scorers."""

    DATA_FREE = 0
    NETWORK = enum.auto()  # a freshly initialised network (e.g. synflow's own copy)
    FORWARD = enum.auto()  # the train-mode forward on the minibatch (ReLU codes, logits)
    INPUT_GRAD = enum.auto()  # d(sum of logits)/d(input) from that forward
    WEIGHT_GRAD = enum.auto()  # weight gradients of the cross-entropy loss
    LABELS = enum.auto()  # the minibatch labels
    TRAINING = enum.auto()  # a few optimiser steps on a copy of the network (minibatch images)

    @property
    def uses_data(self) -> bool:
        return bool(
            self & (Need.FORWARD | Need.INPUT_GRAD | Need.WEIGHT_GRAD | Need.LABELS | Need.TRAINING)
        )

    @property
    def uses_network(self) -> bool:
        return self != Need.DATA_FREE


ScorerFn = Callable[["ScoringContext"], float]
# (sizes of many architectures, batch size) -> their values; see ScorerSpec.from_costs
FromCosts = Callable[["CostArrays", int], "np.ndarray"]


@dataclass(frozen=True)
class ScorerSpec:
    name: str
    fn: ScorerFn
    needs: Need
    citation: str
    version: int = 1
    aliases: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    # A notion the search space must define (SearchSpaceInfo.supports), e.g. "cell_degree".
    requires: str | None = None
    # Data-free scorers that are a function of the stored size: the same values for many
    # architectures at once (``populate`` scores a whole space in one pass with it).
    from_costs: FromCosts | None = None

    @property
    def data_free(self) -> bool:
        return not self.needs.uses_network

    @property
    def default_data(self) -> str:
        """The minibatch this scorer is scored on unless ``--data`` says otherwise
        ("none" for scorers that read no data); see :data:`DEFAULT_DATA_SOURCE`."""
        if not self.needs.uses_data:
            return "none"
        return DEFAULT_DATA_SOURCE.get(self.name, SYNTHETIC)

    @property
    def summary(self) -> str:
        doc = (self.fn.__doc__ or "").strip().splitlines()
        return doc[0] if doc else ""


BUILTIN_MODULES: tuple[str, ...] = (
    "tfnas_db.scoring.scorers.naswot",
    "tfnas_db.scoring.scorers.jacobian",
    "tfnas_db.scoring.scorers.size",
    "tfnas_db.scoring.scorers.synflow",
    "tfnas_db.scoring.scorers.pruning",
    "tfnas_db.scoring.scorers.loss_slope",
)


class ScorerRegistry:
    """Name -> :class:`ScorerSpec`; duplicate names are an error, lookups list valid names."""

    def __init__(self, modules: Iterable[str] = ()) -> None:
        self._specs: dict[str, ScorerSpec] = {}
        self._aliases: dict[str, str] = {}
        self._modules = tuple(modules)
        self._loaded = False

    def register(self, spec: ScorerSpec) -> None:
        for name in (spec.name, *spec.aliases):
            if name in self._specs or name in self._aliases:
                raise KeyError(f"duplicated scorer name {name!r}")
        self._specs[spec.name] = spec
        for alias in spec.aliases:
            self._aliases[alias] = spec.name

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self._loaded = True
            for module in self._modules:
                importlib.import_module(module)

    def specs(self) -> list[ScorerSpec]:
        """Registered scorers in a stable order: built-in modules first, in the order of
        ``BUILTIN_MODULES``, each in definition order (whatever was imported first)."""
        self._ensure_loaded()
        rank = {module: i for i, module in enumerate(self._modules)}
        position = {name: i for i, name in enumerate(self._specs)}
        return sorted(
            self._specs.values(),
            key=lambda spec: (rank.get(spec.fn.__module__, len(rank)), position[spec.name]),
        )

    def names(self) -> list[str]:
        return [spec.name for spec in self.specs()]

    def get(self, name: str) -> ScorerSpec:
        self._ensure_loaded()
        canonical = self._aliases.get(name, name)
        if canonical not in self._specs:
            raise TfnasError(f"unknown scorer {name!r}; valid scorers: {', '.join(self.names())}")
        return self._specs[canonical]

    def resolve(self, names: str | Iterable[str]) -> list[ScorerSpec]:
        """Comma-separated or listed names (``all`` = every scorer) -> specs, de-duplicated."""
        if isinstance(names, str):
            names = [part.strip() for part in names.split(",") if part.strip()]
        names = list(names)
        if not names:
            raise TfnasError(f"no scorer given; valid scorers: {', '.join(self.names())}")
        if names == ["all"]:
            return self.specs()
        if "all" in names:
            raise TfnasError(
                "'all' already means every scorer: give --scorers all alone, or list the "
                "scorers you want"
            )
        specs: list[ScorerSpec] = []
        for name in names:
            spec = self.get(name)
            if spec not in specs:
                specs.append(spec)
        return specs


REGISTRY = ScorerRegistry(BUILTIN_MODULES)

# Per-scorer default data source, chosen by measurement (bench/data_source_fidelity.py,
# docs/SCORERS.md "Which minibatch each scorer uses"): `natural` only where its Kendall tau
# against NASLib's real-CIFAR score or against accuracy beats `synthetic` and neither is
# worse (on all 725 of NASLib's CIFAR-10 architectures).
DEFAULT_DATA_SOURCE: dict[str, str] = {
    "naswot": NATURAL,
    "jacov": NATURAL,
    "epe_nas": NATURAL,
    "fisher": NATURAL,
}


def check_defined_on(specs: Iterable[ScorerSpec], space: SearchSpaceInfo) -> None:
    """Refuse, before any work, a scorer whose notion the space does not define."""
    for spec in specs:
        if spec.requires is not None and not space.supports(spec.requires):
            raise TfnasError(
                f"scorer {spec.name!r} is not defined on {space.name}: "
                f"{space.why_not(spec.requires)}"
            )


def defined_on(specs: Iterable[ScorerSpec], space: SearchSpaceInfo) -> list[ScorerSpec]:
    """The scorers of ``specs`` that ``space`` defines (what ``--scorers all`` means)."""
    return [s for s in specs if s.requires is None or space.supports(s.requires)]


# What `tfnas-db populate` scores when --scorers is not given: NASWOT and the free size columns.
DEFAULT_SCORERS = ("naswot", "relu_count", "params", "flops")


def scorer(
    name: str,
    *,
    needs: Need,
    citation: str,
    version: int = 1,
    aliases: tuple[str, ...] = (),
    requires: str | None = None,
    from_costs: FromCosts | None = None,
    registry: ScorerRegistry = REGISTRY,
    **options: Any,
) -> Callable[[ScorerFn], ScorerFn]:
    """Register ``fn`` as scorer ``name``; stack it to register variants of one function.
    ``from_costs`` (data-free scorers only) computes the same value from size arrays."""

    def decorate(fn: ScorerFn) -> ScorerFn:
        registry.register(
            ScorerSpec(
                name,
                fn,
                needs,
                citation,
                version,
                tuple(aliases),
                dict(options),
                requires,
                from_costs,
            )
        )
        return fn

    return decorate


def canonical_label(name: str, registry: ScorerRegistry = REGISTRY) -> str:
    """A run label with its scorer part canonical (``nwot@naslib`` -> ``naswot@naslib``).

    An imported label may name a proxy tfnas-db does not define (``l2_norm@naslib``); a
    label without ``@`` must be a registered scorer or alias."""
    scorer, at, tag = name.strip().partition("@")
    if not at:
        return registry.get(scorer).name
    registry._ensure_loaded()
    known = registry._aliases.get(scorer, scorer)
    return f"{known}@{tag}"


def canonical_labels(names: str, registry: ScorerRegistry = REGISTRY) -> list[str]:
    """Comma-separated run labels -> canonical labels, de-duplicated in order."""
    out: list[str] = []
    for part in names.split(","):
        if part.strip():
            label = canonical_label(part, registry)
            if label not in out:
                out.append(label)
    if not out:
        raise TfnasError(f"no scorer given; valid scorers: {', '.join(registry.names())}")
    return out
