"""Alerts: an alert rule that fired for one slice, from firing until resolved."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class AlertState(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"  # pages someone


@dataclass(slots=True)
class Alert:
    """One rule breached on one slice. `fingerprint` (rule + slice) deduplicates it.

    `summary` is the one line a person reads in Slack or a page, naming what moved
    and where ("judge mean (helpfulness) fell from 4.31 to 3.12 for model_served=x").
    `link` leads to the interactions behind it, when the server's URL is known.
    """

    project: str
    rule: str
    fingerprint: str
    state: AlertState
    severity: Severity
    metric: str
    slice: dict[str, str]
    value: float | None
    baseline: float | None
    threshold: float
    summary: str
    started_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    link: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    alert_id: int | None = None
    acknowledged_by: str | None = None  # someone is on it (set by a person, not the monitor)
    acknowledged_at: datetime | None = None
