from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from liveeval.sampling import day_start, window_start

AT = datetime(2026, 11, 1, 12, 34, 56, tzinfo=UTC)


def test_windows_start_on_the_utc_clock() -> None:
    assert window_start(AT, timedelta(hours=1)) == datetime(2026, 11, 1, 12, tzinfo=UTC)
    assert window_start(AT, timedelta(minutes=15)) == datetime(2026, 11, 1, 12, 30, tzinfo=UTC)
    assert day_start(AT) == datetime(2026, 11, 1, tzinfo=UTC)


def test_a_window_start_is_the_same_in_any_timezone() -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    assert window_start(AT.astimezone(india), timedelta(days=1)) == day_start(AT)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        window_start(datetime(2026, 11, 1), timedelta(hours=1))
