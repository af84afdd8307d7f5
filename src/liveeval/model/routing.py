"""Routing records shared by the store and the routing core: what a decision earned."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

# The slice of all a task's traffic: the widest slice key, and the one contexts no
# narrower slice matches fall in.
TASK = "*"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one routed decision earned."""

    decision_id: str
    arm: str
    at: datetime
    context: Mapping[str, str] = field(default_factory=dict)
    success: bool | None = None
    quality: float | None = None
    thumbs_down: bool = False
    regenerated: bool = False
    escalated: bool = False
    cost_usd: float = 0.0
    latency_s: float = 0.0
