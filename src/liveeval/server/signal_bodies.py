"""The JSON bodies of signals and feedback, one model per kind, unknown fields refused."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from liveeval.ingest.edits import edit_ratio
from liveeval.model import SignalKind
from liveeval.server.params import MAX_ID, EventTime

MAX_TEXT = 100_000
Text = Annotated[str, Field(max_length=MAX_TEXT)]
HexTraceId = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{32}$")]


class SignalBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interaction_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(
        default=None, description="liveeval's interaction id."
    )
    trace_id: HexTraceId | None = Field(default=None, description="The trace id, 32 hex digits.")
    response_id: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="The provider's response id (gen_ai.response.id)."
    )
    idempotency_key: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="A retried post with the same key is stored once."
    )
    at: EventTime | None = Field(
        default=None, description="When it happened (default: when received)."
    )
    user_id: Annotated[str, Field(max_length=200)] | None = None
    metadata: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _names_an_interaction(self) -> SignalBase:
        if self.interaction_id is None and self.trace_id is None and self.response_id is None:
            raise ValueError("name the interaction: interaction_id, trace_id or response_id")
        return self

    def value_text_details(self) -> tuple[float | None, str | None, dict[str, Any]]:
        """The stored form: a number, a text, and the rest."""
        details = {"metadata": self.metadata} if self.metadata else {}
        return None, None, details


class _WithComment(SignalBase):
    comment: Text | None = None

    def value_text_details(self) -> tuple[float | None, str | None, dict[str, Any]]:
        _, _, details = super().value_text_details()
        return None, self.comment, details


class ThumbsUp(_WithComment):
    kind: Literal[SignalKind.THUMBS_UP]


class ThumbsDown(_WithComment):
    kind: Literal[SignalKind.THUMBS_DOWN]


class Rating(_WithComment):
    kind: Literal[SignalKind.RATING]
    value: StrictInt = Field(ge=1, le=5, description="1 (worst) to 5 (best).")

    def value_text_details(self) -> tuple[float | None, str | None, dict[str, Any]]:
        _, text, details = super().value_text_details()
        return float(self.value), text, details


class Comment(SignalBase):
    kind: Literal[SignalKind.COMMENT]
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]

    def value_text_details(self) -> tuple[float | None, str | None, dict[str, Any]]:
        _, _, details = super().value_text_details()
        return None, self.text, details


class Report(SignalBase):
    kind: Literal[SignalKind.REPORT]
    reason: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
    category: Annotated[str, Field(max_length=100)] | None = None

    def value_text_details(self) -> tuple[float | None, str | None, dict[str, Any]]:
        _, _, details = super().value_text_details()
        if self.category:
            details["category"] = self.category
        return None, self.reason, details


class _WithReason(SignalBase):
    reason: Text | None = None

    def value_text_details(self) -> tuple[float | None, str | None, dict[str, Any]]:
        _, _, details = super().value_text_details()
        return None, self.reason, details


class Regenerated(_WithReason):
    kind: Literal[SignalKind.REGENERATED]


class Abandoned(_WithReason):
    kind: Literal[SignalKind.ABANDONED]


class Escalated(_WithReason):
    kind: Literal[SignalKind.ESCALATED]


class Rephrased(SignalBase):
    kind: Literal[SignalKind.REPHRASED]
    new_input: Text | None = None

    def value_text_details(self) -> tuple[float | None, str | None, dict[str, Any]]:
        _, _, details = super().value_text_details()
        return None, self.new_input, details


class Edited(SignalBase):
    kind: Literal[SignalKind.EDITED]
    draft: Text = Field(description="The text liveeval's app generated.")
    final: Text = Field(description="The text the user kept.")

    def value_text_details(self) -> tuple[float | None, str | None, dict[str, Any]]:
        _, _, details = super().value_text_details()
        details.update(draft=self.draft, final=self.final)
        return edit_ratio(self.draft, self.final), None, details


class SchemaInvalid(SignalBase):
    kind: Literal[SignalKind.SCHEMA_INVALID]
    error: Text | None = None

    def value_text_details(self) -> tuple[float | None, str | None, dict[str, Any]]:
        _, _, details = super().value_text_details()
        return None, self.error, details


class Outcome(SignalBase):
    kind: Literal[SignalKind.OUTCOME]
    success: bool
    error: Text | None = None

    def value_text_details(self) -> tuple[float | None, str | None, dict[str, Any]]:
        _, _, details = super().value_text_details()
        return (1.0 if self.success else 0.0), self.error, details


SignalBody = Annotated[
    ThumbsUp
    | ThumbsDown
    | Rating
    | Comment
    | Report
    | Regenerated
    | Abandoned
    | Escalated
    | Rephrased
    | Edited
    | SchemaInvalid
    | Outcome,
    Field(discriminator="kind"),
]


class SignalBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    signals: list[SignalBody] = Field(min_length=1, max_length=1000)


class SignalResult(BaseModel):
    signal_id: int
    interaction_id: int | None = Field(description="None while the interaction is not stored yet.")
    attached: bool
    duplicate: bool = Field(description="True when the idempotency key was seen before.")
