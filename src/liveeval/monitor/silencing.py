"""Silencing a rule for a while: until when, checked against the configured rules.

A silenced rule still evaluates and its alerts are stored and shown; the scheduler only
sends no notification for them until the silence ends (store/alerts.py keeps them).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from liveeval.config.monitor import MonitorConfig
from liveeval.config.sampling import parse_window

MAX_SILENCE = timedelta(days=30)
SILENCE_CHOICES = ("1h", "2h", "8h", "1d", "7d")  # the dashboard's choices


class SilenceError(ValueError):
    """An unknown rule or a duration out of range, said so a person can fix it."""


def silence_end(config: MonitorConfig, rule: str, duration: str, now: datetime) -> datetime:
    """When a silence of `rule` for `duration` ("2h", "1d", at most 30d) begun `now` ends."""
    known = [r.name for r in config.active_rules()]
    if rule not in known:
        raise SilenceError(f"no rule {rule!r}; known: {', '.join(known)}")
    try:
        length = parse_window(duration, maximum=MAX_SILENCE)
    except ValueError as exc:
        raise SilenceError(f"silence duration: {exc}") from None
    return now + length
