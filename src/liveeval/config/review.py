"""The `[review]` section of `liveeval.toml`: what enters the review queue, and how
items are grouped into failure patterns. docs/review.md describes every key."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from liveeval.model.signal import SignalKind

# Default priorities (higher is reviewed first); a low judge score adds up to 10 more
# the lower it is.
PRIORITIES = {
    "report": 90,
    "thumbs_down": 80,
    "disagreement": 70,
    "low_score": 60,
    "signal": 50,
    "check_failed": 40,
    "judge_error": 30,
    "manual": 50,
}


class ReviewConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(
        default=True, description="Collect failures into the review queue on each monitor tick."
    )
    low_score_max: float = Field(
        default=2.0, description="A judge score at or below this enters the queue."
    )
    disagreement_min: float = Field(
        default=2.0,
        gt=0,
        description="A human and the judge scoring the same rubric this far apart enters "
        "the queue (and counts against the judge's calibration).",
    )
    signals: tuple[SignalKind, ...] = Field(
        default=(
            SignalKind.THUMBS_DOWN,
            SignalKind.REPORT,
            SignalKind.ESCALATED,
            SignalKind.SCHEMA_INVALID,
        ),
        description="Signals that put their interaction in the queue (a rating of 1 or 2 "
        "counts as a thumbs-down).",
    )
    sampled_signals: bool = Field(
        default=True,
        description="Interactions the sampler chose because of a signal (regeneration, "
        "rephrase, …) enter the queue too.",
    )
    failed_checks: bool = Field(
        default=True, description="Interactions whose cheap checks failed enter the queue."
    )
    judge_errors: bool = Field(
        default=True, description="Interactions the judge could not grade enter the queue."
    )
    group_similarity: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="Items with the same failure whose inputs' embeddings have at least "
        "this cosine similarity share a group.",
    )
    group_window_days: int = Field(
        default=30, ge=1, description="A group takes new items while it saw one this recently."
    )
    max_new_items_per_tick: int = Field(
        default=1000,
        ge=1,
        description="Rows read per source per tick; the rest wait for the next tick.",
    )
    agreement_floor: float = Field(
        default=0.6,
        ge=-1,
        le=1,
        description="Judge calibration: quadratic weighted kappa between the judge and human "
        "review scores below this raises the judge-calibration alert.",
    )
    agreement_min_items: int = Field(
        default=20, ge=2, description="Human-scored items a judge version needs before it is rated."
    )
    agreement_window_days: int = Field(
        default=30, ge=1, description="Human and judge scores compared over this many days."
    )
    encoder: Literal["static", "minilm", "hashing"] = Field(
        default="static", description="Text encoder for grouping (see docs/features.md)."
    )
