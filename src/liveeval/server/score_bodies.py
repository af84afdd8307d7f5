"""Scores over REST: what a post carries and what a query returns."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from liveeval.model import Score
from liveeval.server.params import MAX_ID, EventTime
from liveeval.server.signal_bodies import MAX_TEXT, HexTraceId

Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^\S(.*\S)?$")]


class ScoreBody(BaseModel):
    """A score from outside liveeval: a person's grade, or the app's own evaluator."""

    model_config = ConfigDict(extra="forbid")

    interaction_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(
        default=None, description="liveeval's interaction id."
    )
    trace_id: HexTraceId | None = Field(default=None, description="The trace id, 32 hex digits.")
    response_id: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="The provider's response id (gen_ai.response.id)."
    )
    name: Name = Field(description="The evaluator or rubric, e.g. `quality` or `helpfulness`.")
    kind: Literal["human", "external"] = Field(
        default="external", description="`human` for a reviewer's score, else `external`."
    )
    value: float | None = Field(default=None, description="The score, a finite number.")
    label: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    explanation: Annotated[str, Field(max_length=MAX_TEXT)] | None = None
    evaluator_version: Annotated[str, Field(max_length=400)] | None = Field(
        default=None, description="What produced it: a model id, a rubric version, a tool."
    )
    author: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="Who gave it (a reviewer's name or id)."
    )
    idempotency_key: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="A retried post with the same key is stored once."
    )
    at: EventTime | None = Field(default=None, description="When (default: when received).")
    metadata: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _complete(self) -> ScoreBody:
        if self.interaction_id is None and self.trace_id is None and self.response_id is None:
            raise ValueError("name the interaction: interaction_id, trace_id or response_id")
        if self.value is None and self.label is None:
            raise ValueError("a score needs a value, a label or both")
        if self.value is not None and not math.isfinite(self.value):
            raise ValueError(f"value must be a finite number, got {self.value}")
        return self


class ScoreBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scores: list[ScoreBody] = Field(min_length=1, max_length=1000)


class ScoreResult(BaseModel):
    score_id: int
    interaction_id: int
    duplicate: bool = Field(description="True when the idempotency key was seen before.")


class ScoreView(BaseModel):
    score_id: int
    interaction_id: int
    name: str
    kind: str
    value: float | None
    label: str | None
    explanation: str | None
    status: str
    error: str | None
    evaluator_version: str | None
    details: dict[str, Any]
    cost_usd: float | None
    latency_ms: float | None
    author: str | None
    created_at: datetime

    @classmethod
    def of(cls, s: Score) -> ScoreView:
        assert s.created_at is not None
        return cls(
            score_id=s.score_id or 0,
            interaction_id=s.interaction_id,
            name=s.name,
            kind=s.kind.value,
            value=s.value,
            label=s.label,
            explanation=s.explanation,
            status=s.status.value,
            error=s.error,
            evaluator_version=s.evaluator_version,
            details=s.details,
            cost_usd=s.cost_usd,
            latency_ms=s.latency_ms,
            author=s.author,
            created_at=s.created_at,
        )


class ScorePage(BaseModel):
    items: list[ScoreView]
    next_cursor: str | None
