"""Regression runs as the offline side of the offline-vs-online divergence series."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class OfflinePoint:
    """One regression run of the golden set against a release."""

    prompt_version: str
    at: datetime
    pass_rate: float
    mean_score: float | None  # graders' scores, 0..1
    snapshot: str  # the golden set's snapshot hash
