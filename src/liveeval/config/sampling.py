"""The `[sampling]` section of `liveeval.toml`: what gets judged, and the daily budget.

Each policy has a sub-table named after it (`[sampling.signal]`,
`[sampling.stratified]`, `[sampling.uncertainty]`, `[sampling.uniform]`) and
`policies` lists the ones that run. `[sampling.budget]` caps judgments and
spend per project per UTC day. docs/sampling.md describes every key; the
rules that use them live in `liveeval.sampling`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
    model_validator,
)

from liveeval.model import SignalKind

PolicyName = Literal["signal", "stratified", "uncertainty", "uniform"]
SliceDimension = Literal["model", "prompt_version", "route", "language", "segment"]

POLICY_NAMES: tuple[PolicyName, ...] = ("signal", "stratified", "uncertainty", "uniform")
SLICE_DIMENSIONS: tuple[SliceDimension, ...] = (
    "model",
    "prompt_version",
    "route",
    "language",
    "segment",
)
DEFAULT_TRIGGER_SIGNALS: tuple[SignalKind, ...] = (
    SignalKind.REGENERATED,
    SignalKind.THUMBS_DOWN,
    SignalKind.SCHEMA_INVALID,
    SignalKind.ESCALATED,
    SignalKind.ABANDONED,
)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_WINDOW = re.compile(r"(\d+)([smhd])")


def parse_window(value: Any, maximum: timedelta = timedelta(days=7)) -> timedelta:
    """Read a window like "15m", "1h" or "1d" (also a timedelta or whole seconds)."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str) and (match := _WINDOW.fullmatch(value.strip())):
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
    else:
        raise ValueError(f"window must be a duration like '15m', '1h' or '1d', not {value!r}")
    if seconds < 60 or seconds % 60:
        raise ValueError(f"window must be a whole number of minutes, at least 1m, not {value!r}")
    if seconds > maximum.total_seconds():
        raise ValueError(f"window must be at most {format_window(maximum)}, not {value!r}")
    return timedelta(seconds=seconds)


def format_window(window: timedelta) -> str:
    """The shortest label for a window: 900 s → "15m", 86400 s → "1d"."""
    seconds = int(window.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def _no_limit(value: Any) -> Any:
    """TOML has no null: the word "none" switches a default limit off."""
    if isinstance(value, str) and value.strip().lower() == "none":
        return None
    return value


# Written back as "1d", not ISO 8601, so a dumped config reads again (serve --workers
# hands its settings to each process as JSON).
Window = Annotated[
    timedelta,
    BeforeValidator(lambda value: parse_window(value)),
    PlainSerializer(format_window, return_type=str, when_used="json"),
]
Rate = Annotated[float, Field(ge=0.0, le=1.0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SignalPolicyConfig(_Section):
    """Always judge an interaction that drew one of these signals or failed a check."""

    kinds: tuple[SignalKind, ...] = Field(
        default=DEFAULT_TRIGGER_SIGNALS,
        description="Signal kinds that force judging, also when they arrive late.",
    )
    on_failed_checks: bool = Field(
        default=True, description="A failed cheap check also forces judging."
    )


class StratifiedPolicyConfig(_Section):
    """A floor of judged interactions per slice value per window."""

    dimensions: tuple[SliceDimension, ...] = Field(
        default=SLICE_DIMENSIONS, description="Slice dimensions that form strata."
    )
    floor: int = Field(
        default=5, ge=0, description="Judged interactions wanted per stratum per window."
    )
    floors: dict[str, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict,
        description='Overrides of `floor`: key "dimension" or "dimension=value", '
        'e.g. "route=billing" = 20.',
    )
    window: Window = Field(
        default=timedelta(days=1),
        description='Length of a stratum window, "15m" to "7d", aligned to UTC.',
    )

    @field_validator("dimensions")
    @classmethod
    def _unique_dimensions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError(f"dimensions must not repeat, got {list(value)}")
        return value

    @field_validator("floors")
    @classmethod
    def _floors_name_dimensions(cls, value: dict[str, int], info: ValidationInfo) -> dict[str, int]:
        dimensions = info.data.get("dimensions", SLICE_DIMENSIONS)
        for key in value:
            dimension, _, slice_value = key.partition("=")
            if dimension not in dimensions:
                raise ValueError(
                    f"key {key!r} names no dimension of dimensions ({', '.join(dimensions)})"
                )
            if "=" in key and not slice_value:
                raise ValueError(f"key {key!r} has an empty value after '='")
        return value

    def floor_for(self, dimension: str, value: str) -> int:
        """The floor of stratum dimension=value: its own override, its dimension's, or `floor`."""
        return self.floors.get(f"{dimension}={value}", self.floors.get(dimension, self.floor))


class UncertaintyPolicyConfig(_Section):
    """Oversample interactions the model was unsure about."""

    threshold: Rate = Field(default=0.6, description="Confidence below this counts as low (0..1).")
    rate: Rate = Field(default=0.5, description="Share of low-confidence interactions judged.")
    failed_check_factor: Rate = Field(
        default=0.5,
        description="Each failed check multiplies the confidence by this "
        "(an unknown confidence counts as 1 once a check failed).",
    )


class UniformPolicyConfig(_Section):
    """A random baseline: the unbiased sample for quality estimates."""

    rate: Rate = Field(default=0.02, description="Share of all interactions judged.")


class BudgetShares(_Section):
    """How much of each daily limit a policy may fill; lower priorities stop first."""

    signal: Rate = 1.0
    stratified: Rate = 0.9
    uncertainty: Rate = 0.8
    uniform: Rate = 0.7

    @model_validator(mode="after")
    def _shares_fall_with_priority(self) -> BudgetShares:
        shares = [(name, getattr(self, name)) for name in POLICY_NAMES]
        for (higher, high), (lower, low) in pairwise(shares):
            if low > high:
                raise ValueError(
                    f"{lower} ({low:g}) must not exceed {higher} ({high:g}): "
                    "a lower-priority policy may not use more of the budget"
                )
        return self

    def of(self, policy: str) -> float:
        """The share of `policy`; a policy without one of its own gets uniform's, the least."""
        share: float = getattr(self, policy) if policy in POLICY_NAMES else self.uniform
        return share


class BudgetConfig(_Section):
    """Daily limits per project; None means no limit."""

    max_judgments_per_day: Annotated[int | None, BeforeValidator(_no_limit)] = Field(
        default=1000, ge=0, description='Judgments per project per UTC day ("none": no limit).'
    )
    max_cost_usd_per_day: Annotated[float | None, BeforeValidator(_no_limit)] = Field(
        default=None, ge=0, description='Judge spend per project per UTC day in USD ("none").'
    )
    estimated_cost_per_judgment_usd: float = Field(
        default=0.0,
        ge=0,
        description="Expected cost of one judgment, so the last one does not overshoot.",
    )
    triggers_exempt: bool = Field(
        default=False,
        description="Signal-triggered judgments ignore the limits (they still count).",
    )
    shares: BudgetShares = Field(default_factory=BudgetShares)


class SamplingConfig(_Section):
    """`[sampling]`: which policies run, each policy's settings, and the budget."""

    policies: tuple[PolicyName, ...] = Field(
        default=POLICY_NAMES, description="Policies that may select an interaction."
    )
    signal: SignalPolicyConfig = Field(default_factory=SignalPolicyConfig)
    stratified: StratifiedPolicyConfig = Field(default_factory=StratifiedPolicyConfig)
    uncertainty: UncertaintyPolicyConfig = Field(default_factory=UncertaintyPolicyConfig)
    uniform: UniformPolicyConfig = Field(default_factory=UniformPolicyConfig)
    budget: BudgetConfig = Field(default_factory=BudgetConfig)

    @field_validator("policies")
    @classmethod
    def _unique_policies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError(f"policies must not repeat, got {list(value)}")
        return value
