"""Sampling policies: each says whether it wants one interaction judged, and why.

A policy is small and pure: built from the `[sampling]` config, it looks at a
`Candidate` and the project's `SamplerState` and returns a `Verdict`. Built-in
policies register by name in `POLICIES`, the same way an extension would; the
name is also what `unit_hash` mixes in, so replicas draw the same numbers.

Priorities, lower first: signal 0, stratified 1, uncertainty 2, uniform 3.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

from liveeval.config.sampling import SamplingConfig, format_window
from liveeval.sampling.candidate import Candidate, SamplerState
from liveeval.sampling.confidence import lowered_by_checks
from liveeval.sampling.hashing import unit_hash


class Priority(IntEnum):
    SIGNAL = 0
    STRATIFIED = 1
    UNCERTAINTY = 2
    UNIFORM = 3
    NONE = 4  # no policy selected the interaction


@dataclass(frozen=True, slots=True)
class Verdict:
    policy: str
    priority: int
    selected: bool
    reason: str  # "<policy>: <why>", readable on its own


class Policy(Protocol):
    @property
    def name(self) -> str:
        """Mixed into `unit_hash`, written in reasons, and the key in `[sampling] policies`."""
        ...

    @property
    def priority(self) -> int:
        """Lower is more urgent: the most urgent policy that wants an interaction decides."""
        ...

    def evaluate(self, candidate: Candidate, state: SamplerState) -> Verdict: ...


def _rate(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True, slots=True)
class SignalPolicy:
    """Always wanted: a trigger signal (even a late one) or a failed check."""

    kinds: frozenset[str]
    on_failed_checks: bool
    name: str = "signal"
    priority: int = Priority.SIGNAL

    def triggered_by(self, candidate: Candidate) -> str | None:
        """What forces judging: the signal kinds ("thumbs_down, regenerated"), else the
        failed checks ("failed check json_schema"), else None."""
        kinds = sorted(self.kinds & {str(kind) for kind in candidate.signals})
        if kinds:
            return ", ".join(kinds)
        if self.on_failed_checks and candidate.failed_checks:
            return "failed check " + ", ".join(sorted(candidate.failed_checks))
        return None

    def evaluate(self, candidate: Candidate, state: SamplerState) -> Verdict:
        trigger = self.triggered_by(candidate)
        reason = f"{self.name}: " + (trigger or "no trigger signal")
        return Verdict(self.name, self.priority, trigger is not None, reason)


@dataclass(frozen=True, slots=True)
class StratifiedPolicy:
    """Wanted while any of the interaction's strata is under its floor this window."""

    floor_for: Callable[[str, str], int]
    dimensions: tuple[str, ...]
    window: str
    name: str = "stratified"
    priority: int = Priority.STRATIFIED

    def evaluate(self, candidate: Candidate, state: SamplerState) -> Verdict:
        strata = strata_of(candidate, self.dimensions)
        if not strata:
            return Verdict(
                self.name, self.priority, False, f"{self.name}: no slice values to stratify on"
            )
        judged = state.judged_in_window
        counts = [
            (f"{dim}={value}", judged.get((dim, value), 0), self.floor_for(dim, value))
            for dim, value in strata
        ]
        under = [entry for entry in counts if entry[1] < entry[2]]
        shown = under or counts
        listed = ", ".join(f"{key} {count}/{floor}" for key, count, floor in shown)
        if under:
            reason = f"{self.name}: under floor {listed} in this {self.window} window"
        else:
            reason = f"{self.name}: strata at their floors ({listed} in this {self.window} window)"
        return Verdict(self.name, self.priority, bool(under), reason)


@dataclass(frozen=True, slots=True)
class UncertaintyPolicy:
    """Low confidence (after failed checks lower it) is judged at a higher rate."""

    threshold: float
    rate: float
    failed_check_factor: float
    name: str = "uncertainty"
    priority: int = Priority.UNCERTAINTY

    def evaluate(self, candidate: Candidate, state: SamplerState) -> Verdict:
        confidence = lowered_by_checks(
            candidate.confidence, len(candidate.failed_checks), self.failed_check_factor
        )
        if confidence is None:
            return Verdict(self.name, self.priority, False, f"{self.name}: confidence unknown")
        low = f"confidence {confidence:.3f}"
        if candidate.failed_checks:
            low += f" (after {len(candidate.failed_checks)} failed check(s))"
        if confidence >= self.threshold:
            reason = f"{self.name}: {low} ≥ threshold {_rate(self.threshold)}"
            return Verdict(self.name, self.priority, False, reason)
        draw = unit_hash(candidate.trace_id, self.name)
        low += f" < threshold {_rate(self.threshold)}"
        if draw < self.rate:
            reason = f"{self.name}: {low}, hash {draw:.4f} < rate {_rate(self.rate)}"
            return Verdict(self.name, self.priority, True, reason)
        reason = f"{self.name}: {low} but hash {draw:.4f} ≥ rate {_rate(self.rate)}"
        return Verdict(self.name, self.priority, False, reason)


@dataclass(frozen=True, slots=True)
class UniformPolicy:
    """A deterministic random share of all traffic."""

    rate: float
    name: str = "uniform"
    priority: int = Priority.UNIFORM

    def evaluate(self, candidate: Candidate, state: SamplerState) -> Verdict:
        draw = unit_hash(candidate.trace_id, self.name)
        selected = draw < self.rate
        sign = "<" if selected else "≥"
        reason = f"{self.name}: hash {draw:.4f} {sign} rate {_rate(self.rate)}"
        return Verdict(self.name, self.priority, selected, reason)


def strata_of(candidate: Candidate, dimensions: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """The (dimension, value) strata of an interaction; dimensions without a value are skipped.

    When an interaction is sampled (by any policy), each of these counts one
    more in `SamplerState.judged_in_window`.
    """
    strata = []
    for dimension in dimensions:
        value = candidate.slice.get(dimension)
        if value:
            strata.append((dimension, value))
    return tuple(strata)


PolicyFactory = Callable[[SamplingConfig], Policy]

POLICIES: dict[str, PolicyFactory] = {}


def register_policy(name: str, factory: PolicyFactory) -> None:
    """Make a policy available to `[sampling] policies` under `name`."""
    if name in POLICIES:
        raise ValueError(f"a sampling policy named {name!r} is already registered")
    POLICIES[name] = factory
    _BUILT.clear()


def build_policies(config: SamplingConfig) -> tuple[Policy, ...]:
    """The configured policies, most urgent first; built once per (frozen) config."""
    cached = _BUILT.get(id(config))
    if cached is not None and cached[0] is config:
        return cached[1]
    policies = [POLICIES[name](config) for name in config.policies]
    built = tuple(sorted(policies, key=lambda policy: policy.priority))
    if len(_BUILT) > 64:
        _BUILT.clear()
    _BUILT[id(config)] = (config, built)
    return built


# id(config) → (config, its policies): configs are frozen, and keeping the config
# alive here means its id cannot be reused by another.
_BUILT: dict[int, tuple[SamplingConfig, tuple[Policy, ...]]] = {}


def signal_policy(config: SamplingConfig) -> SignalPolicy:
    return SignalPolicy(
        kinds=frozenset(str(kind) for kind in config.signal.kinds),
        on_failed_checks=config.signal.on_failed_checks,
    )


register_policy("signal", signal_policy)
register_policy(
    "stratified",
    lambda config: StratifiedPolicy(
        floor_for=config.stratified.floor_for,
        dimensions=config.stratified.dimensions,
        window=format_window(config.stratified.window),
    ),
)
register_policy(
    "uncertainty",
    lambda config: UncertaintyPolicy(
        threshold=config.uncertainty.threshold,
        rate=config.uncertainty.rate,
        failed_check_factor=config.uncertainty.failed_check_factor,
    ),
)
register_policy("uniform", lambda config: UniformPolicy(rate=config.uniform.rate))
