"""The JSON bodies of the routing API (docs/routing.md): choose, outcomes and kill switches."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from liveeval.routing.slices import TASK
from liveeval.server.params import EventTime
from liveeval.server.signal_bodies import MAX_TEXT, HexTraceId

HexDecisionId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
Key = Annotated[str, Field(min_length=1, max_length=200)]
Value = Annotated[str, Field(max_length=1000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class ChooseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    context: dict[Key, Value] = Field(
        default_factory=dict, max_length=100, description="What the request is: slice keys."
    )
    session_id: Name | None = Field(default=None, description="Keeps a session on its arm.")
    goal_id: Name | None = Field(default=None, description="A multi-step goal's id.")
    trace_id: HexTraceId | None = Field(
        default=None, description="The trace the LLM call is made in, 32 hex digits."
    )


class ArmConfigBody(BaseModel):
    model: str
    prompt_version: str | None
    params: dict[str, Any]


class ChoiceBody(BaseModel):
    task: str
    arm: str
    probability: float
    slice: str
    policy_version: int
    decision_id: str
    arm_config: ArmConfigBody


class OutcomeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision_id: HexDecisionId | None = Field(default=None, description="The decision's id.")
    trace_id: HexTraceId | None = Field(default=None, description="The decision's trace.")
    goal_id: Name | None = Field(
        default=None, description="A goal: the outcome of every decision with this goal id."
    )
    success: StrictBool | None = None
    quality_score: float | None = Field(default=None, allow_inf_nan=False)
    error: Annotated[str, Field(max_length=MAX_TEXT)] | None = None
    occurred_at: EventTime | None = Field(default=None, description="Default: when received.")
    idempotency_key: Name | None = Field(
        default=None, description="A retried post with the same key is stored once."
    )

    @model_validator(mode="after")
    def _complete(self) -> OutcomeBody:
        named = [
            name
            for name in ("decision_id", "trace_id", "goal_id")
            if getattr(self, name) is not None
        ]
        if len(named) != 1:
            got = ", ".join(named) or "none"
            raise ValueError(f"name exactly one of decision_id, trace_id, goal_id (got {got})")
        if self.success is None and self.quality_score is None:
            raise ValueError("an outcome needs success or quality_score")
        return self


class OutcomeBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcomes: list[OutcomeBody] = Field(min_length=1, max_length=1000)


class Accepted(BaseModel):
    accepted: int


class KillBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    arm: Name
    slice: Annotated[str, Field(min_length=1, max_length=1000)] = Field(
        default=TASK, description='A slice key ("language=de"); "*" is the whole task.'
    )
    reason: Annotated[str, Field(max_length=MAX_TEXT)] | None = None


class KillView(BaseModel):
    kill_id: int
    task: str
    arm: str
    slice: str
    reason: str | None
    killed_at: str
    lifted_at: str | None
