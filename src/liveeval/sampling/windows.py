"""Windows aligned to the Unix epoch in UTC, so every replica agrees where one starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def window_start(at: datetime, window: timedelta) -> datetime:
    """Start of the window holding `at`: 1h windows start on the hour, 1d at UTC midnight."""
    if at.tzinfo is None:
        raise ValueError("window_start needs a timezone-aware datetime")
    return EPOCH + ((at - EPOCH) // window) * window


def day_start(at: datetime) -> datetime:
    """UTC midnight before `at`: the start of the budget's day."""
    return window_start(at, DAY)
