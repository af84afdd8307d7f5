"""Posteriors of each arm's reward per slice, with forgetting and pooling.

A reward r in [0, 1] counts as r successes and 1 - r failures (the fractional Beta; for
0/1 rewards it is the Beta-Bernoulli). Evidence decays: each outcome of an arm in a slice
multiplies that arm's older evidence there by the task's `decay`, so an arm that changes
loses its old record within a few 1 / (1 - decay) of its own outcomes. An arm that is
rarely played keeps its record (its evidence does not fade into re-exploration while the
others are served); the exploration floor refreshes it.

Pooling: the task ("*") starts from Beta(1, 1); in a slice, an arm starts from its
posterior mean in the parent slice moved by how much the slice's rewards (all arms) differ
from the parent's, with `prior_strength` pseudo-outcomes: a thin slice keeps the arms'
differences seen across the task (a hard category is hard for every arm) until its own
evidence says otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from liveeval.stats.change import PageHinkley
from liveeval.stats.means import Moments
from liveeval.stats.sequential import BetaPrior, rate_bound

from .slices import TASK, parent_of

BASE_PRIOR = BetaPrior(1.0, 1.0)
VARIANCE_PRIOR = 20.0  # pseudo-outcomes of coin variance a cell's variance starts from
MAX_SCALE = 20.0
MIN_SPREAD = 0.05  # the reward sd that change detection assumes at least
MAX_Z = 3.0  # standardised rewards are clipped to +-MAX_Z: one rare failure is no change
EDGE = 0.01  # pooled prior means stay inside [EDGE, 1 - EDGE]


@dataclass(frozen=True, slots=True)
class ChangeDetection:
    """Page-Hinkley on an arm's rewards in a slice (both directions), standardised by their
    mean and standard deviation and clipped to +-MAX_Z (so one setting serves 0/1 outcomes
    and steadier scores, and a rare failure of a 95% arm is not a change): an alarm
    replaces the arm's evidence there with its recent evidence (half-life
    `recent_half_life` outcomes). The detector starts after `min_outcomes` outcomes (the
    spread is known by then) and needs as many again after each alarm. With delta 0.15 and
    threshold 50: no false alarm in 10 x 5,000 Bernoulli outcomes at rates 0.5, 0.8 or
    0.95, and a drop from 0.8 to 0.5 caught after 35 to 125 outcomes.
    """

    delta: float = 0.15
    threshold: float = 50.0
    recent_half_life: float = 20.0
    min_outcomes: int = 30

    def detector(self) -> PageHinkley:
        return PageHinkley(
            self.delta, self.threshold, direction="both", min_samples=self.min_outcomes
        )

    @property
    def recent_decay(self) -> float:
        return 0.5 ** (1.0 / self.recent_half_life)


@dataclass(slots=True)
class Cell:
    """One arm's evidence in one slice: discounted outcome weight and reward sum, the
    same over recent outcomes only, the undiscounted moments of its rewards, its total
    cost, and the change detector with the number of changes it saw."""

    weight: float = 0.0
    total: float = 0.0
    total_sq: float = 0.0
    recent_weight: float = 0.0
    recent_total: float = 0.0
    recent_total_sq: float = 0.0
    moments: Moments = field(default_factory=Moments)
    cost: float = 0.0
    detector: PageHinkley | None = None
    changes: int = 0


@dataclass(frozen=True, slots=True)
class Posterior:
    """Beta(a, b) of an arm's mean reward in a slice."""

    a: float
    b: float
    weight: float  # discounted outcomes behind it
    outcomes: int  # outcomes ever counted
    mean_cost: float | None  # USD per outcome, None without outcomes
    changes: int = 0  # changes detected (each restarted the evidence from recent outcomes)

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """The equal-tailed credible interval."""
        tail = (1.0 + confidence) / 2.0
        prior = BetaPrior(self.a, self.b)
        return (rate_bound(0, 0, prior, tail, upper=False), rate_bound(0, 0, prior, tail, True))


@dataclass(slots=True)
class Evidence:
    """What the outcomes of one task say, per slice and arm; fold outcomes in with
    `observe` (in the order they happened)."""

    arms: tuple[str, ...]
    decay: float = 1.0
    change: ChangeDetection | None = None
    cells: dict[str, dict[str, Cell]] = field(default_factory=dict)

    def observe(self, arm: str, chain: Iterable[str], reward: float, cost: float = 0.0) -> None:
        """Count one outcome of `arm` in each slice of `chain` (see slices.slice_chain)."""
        if arm not in self.arms:
            raise ValueError(f"outcome for unknown arm {arm!r} (arms: {', '.join(self.arms)})")
        if not 0.0 <= reward <= 1.0:
            raise ValueError(f"reward must be in [0, 1], got {reward!r}")
        for key in chain:
            cell = self.cells.setdefault(key, {}).get(arm) or self._new_cell(key, arm)
            cell.weight = cell.weight * self.decay + 1.0
            cell.total = cell.total * self.decay + reward
            cell.total_sq = cell.total_sq * self.decay + reward * reward
            cell.moments = cell.moments + Moments(1, reward, reward * reward)
            cell.cost += cost
            if self.change is None or cell.detector is None:
                continue
            recent = self.change.recent_decay
            cell.recent_weight = cell.recent_weight * recent + 1.0
            cell.recent_total = cell.recent_total * recent + reward
            cell.recent_total_sq = cell.recent_total_sq * recent + reward * reward
            if cell.moments.n <= self.change.min_outcomes:
                continue  # the spread is not known yet
            spread = max(math.sqrt(cell.moments.variance), MIN_SPREAD)
            z = (reward - cell.moments.mean) / spread
            if cell.detector.update(min(MAX_Z, max(-MAX_Z, z))):
                cell.weight, cell.total = cell.recent_weight, cell.recent_total
                cell.total_sq = cell.recent_total_sq
                cell.detector.reset()
                cell.changes += 1

    def _new_cell(self, key: str, arm: str) -> Cell:
        cell = Cell(detector=self.change.detector() if self.change is not None else None)
        self.cells[key][arm] = cell
        return cell

    def outcomes(self, key: str) -> int:
        """Outcomes ever counted in the slice, every arm together."""
        return sum(cell.moments.n for cell in self.cells.get(key, {}).values())

    def moments(self, key: str, arm: str) -> Moments:
        """Undiscounted moments of the arm's rewards in the slice."""
        cell = self.cells.get(key, {}).get(arm)
        return cell.moments if cell is not None else Moments()

    def posteriors(self, key: str, prior_strength: float) -> dict[str, Posterior]:
        """Each arm's posterior in the slice (unseen slices too: the prior from the parents)."""
        parent = parent_of(key)
        if parent is None:
            priors = {arm: BASE_PRIOR for arm in self.arms}
        else:
            above = self.posteriors(parent, prior_strength)
            shift = self.shift(key, parent, prior_strength)
            priors = {}
            for arm, p in above.items():
                mean = min(1.0 - EDGE, max(EDGE, p.mean + shift))
                priors[arm] = BetaPrior(mean * prior_strength, (1.0 - mean) * prior_strength)
        return {arm: self._posterior(key, arm, priors[arm]) for arm in self.arms}

    def shift(self, key: str, parent: str, prior_strength: float) -> float:
        """How far the slice's mean reward (all arms) lies from its parent's, shrunk toward
        0 with `prior_strength` pseudo-outcomes (a slice of few outcomes is not assumed
        to differ much)."""
        weight, total = self._level(key)
        parent_weight, parent_total = self._level(parent)
        if weight <= 0.0 or parent_weight <= 0.0:
            return 0.0
        return weight / (weight + prior_strength) * (total / weight - parent_total / parent_weight)

    def _level(self, key: str) -> tuple[float, float]:
        cells = self.cells.get(key, {}).values()
        return sum(cell.weight for cell in cells), sum(cell.total for cell in cells)

    def _posterior(self, key: str, arm: str, prior: BetaPrior) -> Posterior:
        cell = self.cells.get(key, {}).get(arm) or Cell()
        outcomes = cell.moments.n
        cost = cell.cost / outcomes if outcomes else None
        ratio = variance_ratio(self.cells.get(TASK, {}).values())
        scale = dispersion_scale(cell.weight, cell.total, cell.total_sq, ratio)
        successes = scale * cell.total
        failures = scale * max(0.0, cell.weight - cell.total)
        return Posterior(
            prior.a + successes, prior.b + failures, cell.weight, outcomes, cost, cell.changes
        )

    @property
    def slice_keys(self) -> tuple[str, ...]:
        """Slices with evidence, "*" first."""
        return (TASK, *sorted(key for key in self.cells if key != TASK))


def dispersion_scale(
    weight: float, total: float, total_sq: float, prior_ratio: float = 1.0
) -> float:
    """How many Bernoulli outcomes one reward is worth: m(1 - m) / s^2, at least 1.

    A fractional reward r counted as r successes assumes the variance of a coin, m(1 - m);
    scores in [0, 1] usually vary less, and the Beta would then be wider than the evidence
    (and explore for nothing). Scaling the counts by m(1 - m) / s^2 gives a Beta with the
    mean and the variance of the reward's mean. s^2 is shrunk toward prior_ratio * m(1 - m)
    (the task's own ratio of variance to coin variance, see `variance_ratio`) with
    VARIANCE_PRIOR pseudo-outcomes, so a few similar rewards do not make an arm look
    certain; for 0/1 rewards s^2 = m(1 - m) and the scale stays 1.
    """
    if weight <= 0.0:
        return 1.0
    mean = total / weight
    coin = mean * (1.0 - mean)
    if coin <= 0.0:
        return 1.0
    variance = max(0.0, total_sq / weight - mean * mean)
    prior = prior_ratio * coin
    shrunk = (weight * variance + VARIANCE_PRIOR * prior) / (weight + VARIANCE_PRIOR)
    return min(MAX_SCALE, max(1.0, coin / shrunk))


def variance_ratio(cells: Iterable[Cell]) -> float:
    """The rewards' variance over a coin's with the same mean, pooled over cells (each
    around its own mean), in [1 / MAX_SCALE, 1]; 1 without evidence."""
    weight = squares = coins = 0.0
    for cell in cells:
        if cell.weight <= 0.0:
            continue
        mean = cell.total / cell.weight
        weight += cell.weight
        squares += max(0.0, cell.total_sq - cell.weight * mean * mean)
        coins += cell.weight * mean * (1.0 - mean)
    if weight < VARIANCE_PRIOR or coins <= 0.0:
        return 1.0
    return min(1.0, max(1.0 / MAX_SCALE, squares / coins))
