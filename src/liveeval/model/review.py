"""The review queue: interactions that failed in production, waiting for a person.

An item holds a scrubbed copy of the request and the answer (PII replaced by typed
placeholders), every reason it entered the queue, and what reviewers did with it.
Items with the same failure and a near-identical input share a *group*: the queue
shows each failure pattern once, with its count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class ReasonKind(StrEnum):
    THUMBS_DOWN = "thumbs_down"
    SIGNAL = "signal"  # a sample triggered by an implicit signal (regeneration, escalation, …)
    LOW_SCORE = "low_score"  # a judge score at or below the configured maximum
    CHECK_FAILED = "check_failed"
    JUDGE_ERROR = "judge_error"
    DISAGREEMENT = "disagreement"  # the judge and a human differ by at least the threshold
    MANUAL = "manual"  # added by a person through the API or CLI


class ReviewState(StrEnum):
    OPEN = "open"
    REAL_FAILURE = "real_failure"
    NOT_FAILURE = "not_failure"  # e.g. a rude-but-correct answer
    DUPLICATE = "duplicate"
    NEEDS_INFO = "needs_info"
    PROMOTED = "promoted"  # a golden-set case was made from it


TRIAGE_STATES = (
    ReviewState.REAL_FAILURE,
    ReviewState.NOT_FAILURE,
    ReviewState.DUPLICATE,
    ReviewState.NEEDS_INFO,
)


@dataclass(frozen=True, slots=True)
class Reason:
    kind: ReasonKind
    detail: str  # "thumbs_down", "helpfulness=1", "check:json_valid", …
    priority: int
    at: datetime

    @property
    def failure(self) -> str:
        """What a group is keyed on: the kind, and for scores and checks which one."""
        if self.kind in (ReasonKind.LOW_SCORE, ReasonKind.CHECK_FAILED, ReasonKind.SIGNAL):
            return f"{self.kind}:{self.detail.split('=')[0]}"
        return str(self.kind)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "detail": self.detail,
            "priority": self.priority,
            "at": self.at.isoformat(),
        }


@dataclass(slots=True)
class ReviewItem:
    project: str
    interaction_id: int
    state: ReviewState
    priority: int
    failure: str
    reasons: list[Reason]
    input: dict[str, Any]  # {"text" | "messages", "context"}, scrubbed
    output_text: str | None  # scrubbed
    pii: dict[str, int]
    created_at: datetime
    updated_at: datetime
    group_id: int | None = None
    judge_score: float | None = None
    rubric: str | None = None
    human_score: float | None = None
    expected: dict[str, Any] | None = None
    grader: dict[str, Any] | None = None
    tags: list[str] = field(default_factory=list)
    duplicate_of: int | None = None
    note: str | None = None
    case_id: str | None = None
    updated_by: str | None = None
    item_id: int | None = None


@dataclass(frozen=True, slots=True)
class ReviewEvent:
    item_id: int
    action: str  # enqueued, reason_added, triaged, scored, expected, promoted, reopened
    actor: str
    at: datetime
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReviewGroup:
    group_id: int
    project: str
    failure: str
    label: str
    items: int
    open_items: int
    first_at: datetime
    last_at: datetime
    top_priority: int
