"""The search strategies behind ``tfnas-db search --strategy``: one entry per strategy.

Each strategy is a pure function of (arrays loaded by one query, options, seed), so it is
testable without a database. Scores are always "higher is better"; size penalties apply
to every strategy that ranks by a score: random search normalises the score over each
run's N candidates, the others over all candidates (their candidate set is the space).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tfnas_db.errors import TfnasError
from tfnas_db.search.baselines import DEFAULT_BUDGET, budgeted_random_search, training_cost
from tfnas_db.search.etnas import EtnasScores, etnas
from tfnas_db.search.evolution import regularized_evolution
from tfnas_db.search.mutation import MutationTable, NeighbourCodes
from tfnas_db.search.pareto import best_under_budget, score_size_front
from tfnas_db.search.penalties import get_penalty, penalised
from tfnas_db.search.random_search import SearchResult, random_search


@dataclass(frozen=True)
class SearchOptions:
    n: int = 100
    runs: int = 500
    seed: int = 0
    penalty: str = "none"
    mu: float = 0.2
    sigma: float = 0.4
    population: int = 20
    sample: int = 5
    cycles: int | None = None  # None: the strategy's default
    budget_seconds: float = DEFAULT_BUDGET
    max_params: float | None = None


@dataclass(frozen=True)
class SearchInputs:
    """Row-aligned candidate arrays (see tfnas_db.db.queries.ScoreTable)."""

    scores: dict[str, np.ndarray]
    seconds: dict[str, np.ndarray]
    params_m: np.ndarray
    val_acc_12ep: np.ndarray
    train_seconds_full: np.ndarray  # of the space's full schedule
    codes: np.ndarray  # (M,) the space's int64 code of each candidate, for mutations
    neighbour_codes: NeighbourCodes  # the space's codes -> codes one move away
    eligible: np.ndarray  # hard limits (--max-params/--max-flops)
    full_schedule_epochs: int = 200  # the schedule train_seconds_full was recorded over


@dataclass(frozen=True)
class Strategy:
    name: str
    summary: str
    scorers: Callable[[str | None], list[str]]  # scorers it reads, given --scorer
    run: Callable[[SearchInputs, SearchOptions], SearchResult]
    uses_n: bool = False
    takes_scorer: bool = True  # ranks by the one scorer the user names (--scorer)
    penalisable: bool = True  # ranks by a score, so a size penalty applies
    requires: str | None = None  # a notion the space must define (SearchSpaceInfo.supports)
    # scorers it reads only for a few candidates it visits (NaN elsewhere; see ScoresNeeded)
    on_demand: tuple[str, ...] = ()


def _one_scorer(scorer: str | None) -> list[str]:
    if not scorer:
        raise TfnasError("this strategy ranks by a stored score: give --scorer NAME")
    return [scorer]


def _global_fitness(inputs: SearchInputs, name: str, options: SearchOptions) -> np.ndarray:
    """Score to maximise, penalised with normalisation over all eligible candidates."""
    score = inputs.scores[name]
    if options.penalty == "none":
        return score
    fitness = np.full(len(score), -np.inf)
    rows = inputs.eligible
    fitness[rows] = penalised(
        score[rows], inputs.params_m[rows], options.penalty, options.mu, options.sigma
    )
    return fitness


def _mutations(inputs: SearchInputs) -> MutationTable:
    return MutationTable.build(inputs.codes, inputs.neighbour_codes, inputs.eligible)


def _random(inputs: SearchInputs, options: SearchOptions) -> SearchResult:
    name = next(iter(inputs.scores))  # the --scorer (first of the loaded scores)
    eligible = None if inputs.eligible.all() else inputs.eligible
    return random_search(
        inputs.scores[name],
        inputs.params_m,
        n=options.n,
        runs=options.runs,
        seed=options.seed,
        penalty=options.penalty,
        mu=options.mu,
        sigma=options.sigma,
        eligible=eligible,
    )


def _rea(inputs: SearchInputs, options: SearchOptions) -> SearchResult:
    name = next(iter(inputs.scores))  # the --scorer (first of the loaded scores)
    return regularized_evolution(
        _global_fitness(inputs, name, options),
        _mutations(inputs),
        runs=options.runs,
        seed=options.seed,
        population=options.population,
        sample=options.sample,
        cycles=100 if options.cycles is None else options.cycles,
        eligible=inputs.eligible,
    )


def _etnas(inputs: SearchInputs, options: SearchOptions) -> SearchResult:
    weight = None
    if options.penalty != "none":
        weight = get_penalty(options.penalty)(inputs.params_m, options.mu, options.sigma)
    scores = EtnasScores(
        logsynflow=inputs.scores["logsynflow"],
        naswot=inputs.scores["naswot"],
        loss_slope=inputs.scores["loss_slope"],
        degree=inputs.scores["degree"],
        seconds_logsynflow=inputs.seconds["logsynflow"],
        seconds_naswot=inputs.seconds["naswot"],
        seconds_loss_slope=inputs.seconds["loss_slope"],
    )
    return etnas(
        scores,
        _mutations(inputs),
        runs=options.runs,
        seed=options.seed,
        population=options.population,
        cycles=60 if options.cycles is None else options.cycles,
        sample=options.sample,
        weight=weight,
        eligible=inputs.eligible,
    )


def _pareto(inputs: SearchInputs, options: SearchOptions) -> SearchResult:
    name = next(iter(inputs.scores))  # the --scorer (first of the loaded scores)
    rows = np.flatnonzero(inputs.eligible)
    score = _global_fitness(inputs, name, options)[rows]
    size = inputs.params_m[rows]
    front = rows[score_size_front(score, size)]
    best = best_under_budget(score, size, options.max_params)
    if best is None:
        raise TfnasError(f"no candidate has at most {options.max_params} M params")
    seconds = np.array([inputs.seconds[name][rows].sum()])
    return SearchResult(
        picks=np.array([rows[best]]), samples=rows[None, :], search_seconds=seconds, front=front
    )


def _train_random(inputs: SearchInputs, options: SearchOptions) -> SearchResult:
    return budgeted_random_search(
        np.nan_to_num(inputs.val_acc_12ep, nan=-np.inf),
        training_cost(inputs.train_seconds_full, inputs.full_schedule_epochs),
        budget=options.budget_seconds,
        runs=options.runs,
        seed=options.seed,
        eligible=inputs.eligible,
    )


def _train_rea(inputs: SearchInputs, options: SearchOptions) -> SearchResult:
    cost = training_cost(inputs.train_seconds_full, inputs.full_schedule_epochs)
    result = regularized_evolution(
        np.nan_to_num(inputs.val_acc_12ep, nan=-np.inf),
        _mutations(inputs),
        runs=options.runs,
        seed=options.seed,
        population=options.population,
        sample=options.sample,
        cycles=None,
        cost=cost,
        budget=options.budget_seconds,
        eligible=inputs.eligible,
    )
    seconds = result.seconds_per_run(cost)
    return SearchResult(result.picks, result.samples, search_seconds=seconds)


STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        Strategy(
            "random",
            "NASWOT Algorithm 2: best score among N random architectures",
            _one_scorer,
            _random,
            uses_n=True,
        ),
        Strategy(
            "rea",
            "regularized evolution with the score as fitness (P, S, cycles)",
            _one_scorer,
            _rea,
        ),
        Strategy(
            "etnas",
            "ET-NAS Algorithm 1 (logsynflow, degree, naswot, loss_slope)",
            lambda _s: ["logsynflow", "naswot", "loss_slope", "degree"],
            _etnas,
            takes_scorer=False,
            requires="cell_degree",
            on_demand=("loss_slope",),
        ),
        Strategy(
            "pareto",
            "non-dominated set of score vs params; best score under --max-params",
            _one_scorer,
            _pareto,
        ),
        Strategy(
            "train-random",
            "baseline: random search on 12-epoch validation accuracy, "
            "simulated training time under --budget-seconds",
            lambda _s: [],
            _train_random,
            takes_scorer=False,
            penalisable=False,
        ),
        Strategy(
            "train-rea",
            "baseline: REA on 12-epoch validation accuracy, simulated "
            "training time under --budget-seconds",
            lambda _s: [],
            _train_rea,
            takes_scorer=False,
            penalisable=False,
        ),
    )
}


def get_strategy(name: str) -> Strategy:
    if name not in STRATEGIES:
        raise TfnasError(f"unknown strategy {name!r}; valid strategies: {', '.join(STRATEGIES)}")
    return STRATEGIES[name]
