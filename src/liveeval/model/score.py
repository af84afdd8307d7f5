"""Scores: every quality result, from a check, a judge, a human or an outside evaluator."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class ScoreKind(StrEnum):
    CHECK = "check"  # a cheap programmatic check, run at ingest
    JUDGE = "judge"  # an LLM-as-judge grading
    HUMAN = "human"  # a reviewer's score
    EXTERNAL = "external"  # sent by the app: REST or a gen_ai.evaluation.result span event


class ScoreStatus(StrEnum):
    OK = "ok"
    ERROR = "error"  # the evaluator could not produce a result; `error` says why


@dataclass(slots=True)
class Score:
    """One evaluator's result on one interaction.

    `evaluator_version` identifies exactly what produced the score: for a judge,
    provider, the model id the provider reported, rubric name and version and a hash
    of the rubric text. A score with status `error` has no value: never a silent 0.
    """

    project: str
    interaction_id: int
    name: str
    kind: ScoreKind
    value: float | None = None
    label: str | None = None
    explanation: str | None = None
    status: ScoreStatus = ScoreStatus.OK
    error: str | None = None
    evaluator_version: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    cost_usd: float | None = None
    latency_ms: float | None = None
    created_at: datetime | None = None
    author: str | None = None  # who gave a human or external score
    idempotency_key: str | None = None
    score_id: int | None = None
