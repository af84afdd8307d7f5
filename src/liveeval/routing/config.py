"""A routed task's config: `[routing.tasks.<task>]` in `liveeval.toml`.

A task routes requests between arms (a model, a prompt version, parameters) by the
reward their outcomes earn. The sections are read by `from_mapping`, which the config
loader calls with the task's table; every error names the key it is about.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from liveeval.config.settings import ConfigError

Role = Literal["control", "candidate", "canary"]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
Penalty = Annotated[float, Field(ge=0.0)]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^,=*]+$")]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ArmConfig(_Section):
    """One way to serve the task: a model, a prompt version and call parameters."""

    name: Name = Field(description="The arm's name, unique in the task (no ',', '=' or '*').")
    model: str = Field(min_length=1, description="The model the arm calls.")
    prompt_version: str | None = Field(default=None, description="The prompt version it uses.")
    params: dict[str, Any] = Field(
        default_factory=dict, description="Call parameters (temperature, max_tokens, ...)."
    )
    role: Role = Field(
        default="candidate",
        description="control: the reference arm; canary: new, capped until proven not worse "
        "than control; candidate: any other.",
    )


class RewardConfig(_Section):
    """How an outcome becomes a reward in [0, 1].

    kind "success": the reward is the outcome's success (0 or 1), a Bernoulli arm.
    kind "score": a weighted mean of success and the judge's quality (mapped from
    [quality_low, quality_high] to [0, 1]) over the parts an outcome has, minus the
    penalties, clipped to [0, 1].
    """

    kind: Literal["success", "score"] = Field(default="score", description="success or score.")
    success_weight: Penalty = Field(default=1.0, description="Weight of outcome success.")
    quality_weight: Penalty = Field(default=0.0, description="Weight of the judge's quality.")
    score_name: str | None = Field(
        default=None,
        min_length=1,
        description="The judge score (rubric name) whose value is an outcome's quality.",
    )
    quality_low: float = Field(default=0.0, description="Judge score that maps to 0.")
    quality_high: float = Field(default=1.0, description="Judge score that maps to 1.")
    thumbs_down_penalty: Penalty = Field(default=0.0, description="Subtracted on a thumbs-down.")
    regeneration_penalty: Penalty = Field(default=0.0, description="Subtracted on a regeneration.")
    escalation_penalty: Penalty = Field(default=0.0, description="Subtracted on an escalation.")
    cost_penalty_per_usd: Penalty = Field(default=0.0, description="Subtracted per USD spent.")
    latency_penalty_per_s: Penalty = Field(default=0.0, description="Subtracted per second.")

    @model_validator(mode="after")
    def _parts(self) -> RewardConfig:
        if self.kind == "score" and self.success_weight + self.quality_weight == 0:
            raise ValueError("kind 'score' needs success_weight or quality_weight above 0")
        penalties = (
            self.thumbs_down_penalty,
            self.regeneration_penalty,
            self.escalation_penalty,
            self.cost_penalty_per_usd,
            self.latency_penalty_per_s,
        )
        if self.kind == "success" and any(penalties):
            raise ValueError("penalties need kind 'score' (a 'success' reward is 0 or 1)")
        if not self.quality_low < self.quality_high:
            raise ValueError(
                f"quality_low ({self.quality_low}) must be below quality_high ({self.quality_high})"
            )
        return self


class CanaryConfig(_Section):
    """A canary arm gets at most `initial_share` of any slice until the lower `confidence`
    bound of its reward minus control's is above -margin (then it competes like any arm),
    or the upper bound is below -margin (then it gets nothing: it failed)."""

    initial_share: Share = Field(
        default=0.05, description="The canary's share cap in each slice until it is proven."
    )
    margin: Share = Field(default=0.02, description="Non-inferiority margin, in reward units.")
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0, description="Bound's confidence.")
    min_outcomes: Annotated[int, Field(ge=2)] = Field(
        default=30,
        description="Canary outcomes before its cap can lift or it can fail (a failed canary "
        "gets no traffic until a person promotes it again).",
    )
    min_stratum: Annotated[int, Field(ge=2)] = Field(
        default=5, description="Outcomes of each arm a slice needs to enter the comparison."
    )


class TaskConfig(_Section):
    """`[routing.tasks.<task>]`: the arms of one task and how traffic moves between them."""

    task: Name = Field(description="The task's name.")
    arms: tuple[ArmConfig, ...] = Field(min_length=1, description="The arms ([[...arms]]).")
    default: str = Field(
        description="The arm served without a policy (server down, spend cap reached)."
    )
    reward: RewardConfig = Field(default_factory=RewardConfig)
    slices: tuple[Name, ...] = Field(
        default=(),
        description='Context keys whose values pool evidence, widest first: ["language", '
        '"segment"] learns per language and per language+segment.',
    )
    min_share: Share | dict[str, Share] = Field(
        default=0.01,
        description="Exploration floor of each live arm (or per arm name: {name = share}).",
    )
    canary: CanaryConfig = Field(default_factory=CanaryConfig)
    conservative: bool = Field(
        default=False,
        description="Keep the expected reward (posterior means) at least control's minus "
        "conservative_tolerance in every slice.",
    )
    conservative_tolerance: Share = Field(default=0.0, description="See conservative.")
    spend_cap_usd: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="Per UTC day; past it, all traffic goes to the default arm."
    )
    discount: Annotated[float, Field(gt=0.0, le=1.0)] | None = Field(
        default=None,
        description="Evidence an arm keeps per outcome of its own in a slice (1: never "
        "forget). Give this or half_life_outcomes, not both.",
    )
    half_life_outcomes: Annotated[float, Field(gt=0.0)] | None = Field(
        default=None,
        description="Outcomes of an arm in a slice after which its old evidence weighs half.",
    )
    change_detection: bool = Field(
        default=True,
        description="Watch each arm's rewards per slice with Page-Hinkley; on a change, "
        "restart its evidence from its recent outcomes.",
    )
    change_delta: Annotated[float, Field(gt=0.0)] = Field(
        default=0.15, description="Page-Hinkley's tolerated drift, in reward standard deviations."
    )
    change_threshold: Annotated[float, Field(gt=0.0)] = Field(
        default=50.0, description="Page-Hinkley's alarm threshold, in reward standard deviations."
    )
    recent_half_life_outcomes: Annotated[float, Field(gt=0.0)] = Field(
        default=20.0, description="Half-life of the recent evidence a change restarts from."
    )
    prior_strength: Annotated[float, Field(gt=0.0)] = Field(
        default=4.0,
        description="Pseudo-outcomes of the wider slice's mean that a slice starts from.",
    )
    sticky: bool = Field(default=True, description="A session keeps its arm while it can.")
    draws: Annotated[int, Field(ge=100, le=1_000_000)] = Field(
        default=4000, description="Monte Carlo draws per slice for Thompson probabilities."
    )

    @model_validator(mode="after")
    def _consistent(self) -> TaskConfig:
        names = [arm.name for arm in self.arms]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"arm names must be unique, repeated: {', '.join(repeated)}")
        if self.default not in names:
            raise ValueError(f"default {self.default!r} is not an arm ({', '.join(names)})")
        controls = [arm.name for arm in self.arms if arm.role == "control"]
        if len(controls) > 1:
            raise ValueError(f"at most one arm has role 'control', got {', '.join(controls)}")
        canaries = [arm.name for arm in self.arms if arm.role == "canary"]
        if (canaries or self.conservative) and not controls:
            needs = "a canary arm" if canaries else "conservative mode"
            raise ValueError(f"{needs} needs an arm with role 'control'")
        if isinstance(self.min_share, dict):
            unknown = sorted(set(self.min_share) - set(names))
            if unknown:
                raise ValueError(f"min_share names unknown arms: {', '.join(unknown)}")
        floors = [self.floor_of(name) for name in names]
        if sum(floors) > 1.0:
            raise ValueError(f"min_share adds up to {sum(floors):g} over the arms, above 1")
        for name in canaries:
            if self.floor_of(name) > self.canary.initial_share:
                raise ValueError(
                    f"min_share of canary {name!r} ({self.floor_of(name):g}) is above "
                    f"canary.initial_share ({self.canary.initial_share:g})"
                )
        if self.discount is not None and self.half_life_outcomes is not None:
            raise ValueError("give discount or half_life_outcomes, not both")
        if len(set(self.slices)) != len(self.slices):
            raise ValueError(f"slices must not repeat, got {list(self.slices)}")
        return self

    @property
    def arm_names(self) -> tuple[str, ...]:
        return tuple(arm.name for arm in self.arms)

    @property
    def control(self) -> str | None:
        """The control arm's name, if the task has one."""
        return next((arm.name for arm in self.arms if arm.role == "control"), None)

    @property
    def canaries(self) -> tuple[str, ...]:
        return tuple(arm.name for arm in self.arms if arm.role == "canary")

    @property
    def decay(self) -> float:
        """The weight an arm's old evidence in a slice keeps per new outcome of it there (1.0:
        no forgetting)."""
        if self.discount is not None:
            return self.discount
        if self.half_life_outcomes is not None:
            return math.pow(0.5, 1.0 / self.half_life_outcomes)
        return 1.0

    def floor_of(self, arm: str) -> float:
        """The arm's exploration floor."""
        if isinstance(self.min_share, dict):
            return self.min_share.get(arm, 0.0)
        return self.min_share


def from_mapping(task: str, mapping: Mapping[str, Any]) -> TaskConfig:
    """Read `[routing.tasks.<task>]` (a parsed TOML table); ConfigError names the bad key."""
    values = {"task": task, **mapping}
    try:
        return TaskConfig.model_validate(_listed(values))
    except ValidationError as exc:
        raise ConfigError(describe_errors(f"routing.tasks.{task}", exc)) from None


def describe_errors(prefix: str, exc: ValidationError) -> str:
    """One line per error: `prefix.key.path: message (got value)`."""
    lines = []
    for error in exc.errors():
        location = ".".join([prefix, *(str(part) for part in error["loc"])])
        lines.append(f"{location}: {error['msg']} (got {error.get('input')!r})")
    return "invalid routing config: " + "; ".join(lines)


def _listed(values: dict[str, Any]) -> dict[str, Any]:
    """TOML arrays arrive as lists; the strict model wants tuples."""
    out = dict(values)
    for key in ("arms", "slices"):
        if isinstance(out.get(key), list):
            out[key] = tuple(out[key])
    return out
