from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from liveeval.judge.retries import (
    backoff_delay,
    is_transient_status,
    parse_retry_after,
    retry_after_from_headers,
)

NOW = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        (" 1.5 ", 1.5),
        ("0", 0.0),
        ("Sun, 01 Nov 2026 12:00:30 GMT", 30.0),
        ("Sun, 01 Nov 2026 11:00:00 GMT", 0.0),  # in the past: now
        ("-3", None),
        ("nan", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(
    value: str | None, expected: float | None
) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_retry_after_ms_is_preferred_and_header_names_are_case_insensitive() -> None:
    assert retry_after_from_headers({"Retry-After-Ms": "250", "Retry-After": "9"}, NOW) == 0.25
    assert retry_after_from_headers({"RETRY-AFTER": "9"}, NOW) == 9.0
    assert retry_after_from_headers({}, NOW) is None


def test_backoff_doubles_with_jitter_and_stays_under_the_cap() -> None:
    rng = random.Random(1)
    for attempt, full in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 30.0)]:
        for _ in range(50):
            assert full / 2 <= backoff_delay(attempt, 1.0, 30.0, rng) <= full


@pytest.mark.parametrize(
    ("status", "transient"),
    [(400, False), (401, False), (404, False), (408, True), (409, True), (429, True),
     (500, True), (503, True), (529, True)],
)  # fmt: skip
def test_rate_limits_timeouts_and_server_errors_are_transient(status: int, transient: bool) -> None:
    assert is_transient_status(status) is transient
