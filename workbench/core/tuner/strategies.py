"""Search strategies: grid, random, Optuna TPE and Optuna NSGA-II, behind one ask/tell interface.

Strategies see configurations and outcomes only, never devices, so they run identically on live
measurements and on recorded ones. Optuna is driven through ask/tell with an in-memory study; the
durable record is our trial log, which is replayed into the sampler on resume.
"""
from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, IntDistribution
from optuna.trial import TrialState

from workbench.core.errors import WorkbenchError
from workbench.core.tuner.measurement import TrialMeasurement
from workbench.core.tuner.space import TrialConfig, TuningSpace

CONSTRAINT_KEYS = ("stopped_early", "p90_ms", "peak_memory_mb", "fidelity", "energy_mj")
STRATEGIES = ("grid", "random", "tpe", "nsga2")


@dataclass
class Outcome:
    """What a strategy learns from one trial."""

    measurement: TrialMeasurement | None  # None = the run failed
    violations: dict[str, float] = field(default_factory=dict)
    score: float = float("-inf")  # single objective, maximized
    values: tuple[float, ...] = ()  # multi objective (p90 min, fidelity max)


class Strategy(ABC):
    name: str = ""

    def __init__(self, space: TuningSpace, seed: int = 0) -> None:
        self.space = space
        self.seed = seed
        self.told: dict[TrialConfig, Outcome] = {}

    @abstractmethod
    def ask(self) -> TrialConfig | None:
        """Next configuration to measure, or None when the strategy has nothing new to try."""

    def tell(self, config: TrialConfig, outcome: Outcome) -> None:
        self.told[config] = outcome


class GridStrategy(Strategy):
    """Every configuration in declaration order (variants, resolution, batch, threads, ...)."""

    name = "grid"

    def __init__(self, space: TuningSpace, seed: int = 0) -> None:
        super().__init__(space, seed)
        self._order = space.configs()

    def ask(self) -> TrialConfig | None:
        return next((c for c in self._order if c not in self.told), None)


class RandomStrategy(GridStrategy):
    """Uniform sampling without replacement (the space is discrete, so no config is measured twice)."""

    name = "random"

    def __init__(self, space: TuningSpace, seed: int = 0) -> None:
        super().__init__(space, seed)
        random.Random(seed).shuffle(self._order)


def _distribution(values: list) -> BaseDistribution:
    """Evenly spaced integers become an ordered IntDistribution (TPE can exploit the order)."""
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    if ints and len(values) > 1:
        vs = sorted(values)
        steps = {b - a for a, b in zip(vs, vs[1:])}
        if len(steps) == 1:
            return IntDistribution(vs[0], vs[-1], step=steps.pop())
    return CategoricalDistribution(values)


class OptunaStrategy(Strategy):
    """Optuna sampler through ask/tell; each constraint is set on the trial as its relative excess."""

    max_duplicate_asks = 30

    def __init__(self, space: TuningSpace, seed: int = 0, multi_objective: bool = False) -> None:
        super().__init__(space, seed)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        axes = space.axes()
        self._fixed = {k: v[0] for k, v in axes.items() if len(v) == 1}
        self._dists = {k: _distribution(v) for k, v in axes.items() if len(v) > 1}
        self._all = space.configs()
        self._rng = random.Random(seed)
        self.multi = multi_objective
        directions = ["minimize", "maximize"] if multi_objective else ["maximize"]
        self.study = optuna.create_study(directions=directions, sampler=self._sampler(seed))
        self._pending: dict[TrialConfig, optuna.trial.Trial] = {}

    def _sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        raise NotImplementedError

    def _config(self, params: dict) -> TrialConfig:
        return TrialConfig.from_dict({**self._fixed, **params})

    def _finish(self, trial: optuna.trial.Trial, outcome: Outcome) -> None:
        for k in CONSTRAINT_KEYS:  # optuna >= 5 reads constraints from the trial (<= 0 is feasible)
            trial.set_constraint(k, outcome.violations.get(k, 0.0))
        if outcome.measurement is None:
            self.study.tell(trial, state=TrialState.FAIL)
        elif self.multi:
            self.study.tell(trial, list(outcome.values))
        else:
            self.study.tell(trial, outcome.score)

    def ask(self) -> TrialConfig | None:
        if len(self.told) + len(self._pending) >= len(self._all):
            return None
        for _ in range(self.max_duplicate_asks):
            trial = self.study.ask(self._dists)
            config = self._config(trial.params)
            if config in self.told:  # sampler re-proposed a measured config: answer from the log, no re-run
                self._finish(trial, self.told[config])
                continue
            if config in self._pending:
                self.study.tell(trial, state=TrialState.FAIL)
                continue
            self._pending[config] = trial
            return config
        # The sampler is stuck on known points: measure an untried config so the study keeps learning.
        untried = [c for c in self._all if c not in self.told and c not in self._pending]
        config = self._rng.choice(untried)
        self.study.enqueue_trial({k: v for k, v in config.to_dict().items() if k in self._dists})
        self._pending[config] = self.study.ask(self._dists)
        return config

    def tell(self, config: TrialConfig, outcome: Outcome) -> None:
        super().tell(config, outcome)
        trial = self._pending.pop(config, None)
        if trial is None:  # resumed from the log: replay it into the sampler
            self.study.enqueue_trial({k: v for k, v in config.to_dict().items() if k in self._dists})
            trial = self.study.ask(self._dists)
        self._finish(trial, outcome)


class TpeStrategy(OptunaStrategy):
    name = "tpe"

    def _sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        n_startup = max(3, min(10, len(self._all) // 10))
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup, multivariate=True)


class Nsga2Strategy(OptunaStrategy):
    name = "nsga2"

    def __init__(self, space: TuningSpace, seed: int = 0) -> None:
        super().__init__(space, seed, multi_objective=True)

    def _sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        pop = max(4, min(20, len(self._all) // 6))
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=pop)


def make_strategy(name: str, space: TuningSpace, seed: int = 0) -> Strategy:
    classes = {"grid": GridStrategy, "random": RandomStrategy, "tpe": TpeStrategy, "nsga2": Nsga2Strategy}
    if name not in classes:
        raise WorkbenchError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    return classes[name](space, seed)
