"""What the sampler knows: one interaction, and the project's usage so far."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Candidate:
    """One interaction as the sampler sees it, at ingest or when a late signal arrives."""

    trace_id: str
    span_id: str
    project: str
    slice: Mapping[str, str | None] = field(default_factory=dict)
    """Slice values by dimension (model, prompt_version, route, language, segment)."""
    signals: frozenset[str] = frozenset()
    """Signal kinds seen so far (`SignalKind` values)."""
    failed_checks: frozenset[str] = frozenset()
    """Names of the cheap checks that failed."""
    confidence: float | None = None
    """0..1 (see `confidence_from_metadata`), None when unknown."""


@dataclass(frozen=True, slots=True)
class SamplerState:
    """A project's usage, read from the store before deciding."""

    judged_in_window: Mapping[tuple[str, str], int] = field(default_factory=dict)
    """(dimension, value) → interactions sampled for judging in the current stratum window."""
    judgments_today: int = 0
    """Interactions sampled for judging this UTC day, by any policy."""
    cost_today_usd: float = 0.0
    """Judge spend this UTC day (may include estimates for queued judgments)."""
