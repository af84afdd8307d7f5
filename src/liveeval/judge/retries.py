"""When to try a judge request again: Retry-After, else exponential backoff with jitter."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# Status codes worth another try: timeout, conflict, rate limit, and every 5xx.
TRANSIENT_STATUSES = frozenset({408, 409, 429})


def is_transient_status(status: int) -> bool:
    return status in TRANSIENT_STATUSES or status >= 500


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value: delay-seconds or an HTTP date.

    None when absent or unreadable; a date in the past means 0.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 and seconds == seconds else None  # rejects NaN
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def retry_after_from_headers(headers: Mapping[str, str], now: datetime) -> float | None:
    """The server's wait, from `retry-after-ms` (OpenAI's) or `Retry-After`."""
    lowered = {name.lower(): value for name, value in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000
        except ValueError:
            pass
        else:
            if value >= 0:
                return value
    return parse_retry_after(lowered.get("retry-after"), now)


def backoff_delay(attempt: int, base_s: float, max_s: float, rng: random.Random) -> float:
    """Wait before try `attempt + 1`: base·2^(attempt-1), capped, with "equal jitter".

    Half of the delay is fixed and half random, so a crowd of workers spreads out but
    none retries at once.
    """
    delay = min(max_s, base_s * 2 ** (attempt - 1))
    return delay / 2 + rng.uniform(0, delay / 2)
