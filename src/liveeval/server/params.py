"""Types for the values requests carry that the store holds in fixed ranges: 64-bit ids
and UTC times. A value outside them is a 422 naming the range, never an overflow."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime

MAX_ID = 2**63 - 1  # ids are 64-bit integers in the store

ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]

# From OTLP's epoch to a year short of Python's last: code that steps windows of up to a
# year around a time stays inside the calendar.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def _in_utc(value: datetime) -> datetime | None:
    """`value` in UTC, or None where UTC would leave the calendar."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return None


def _bound_filter(value: datetime) -> datetime:
    """A `since`/`until` bound: one beyond the calendar's edge means "from the start" or
    "to the end", so it is held at the edge."""
    utc = _in_utc(value)
    if utc is None:
        return EARLIEST if value.year == 1 else LATEST
    return min(max(utc, EARLIEST), LATEST)


def _event_time(value: datetime) -> datetime:
    utc = _in_utc(value)
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise ValueError(f"a time must lie between {EARLIEST.date()} and {LATEST.date()} in UTC")
    return utc


TimeBound = Annotated[AwareDatetime, AfterValidator(_bound_filter)]
"""A `since` or `until` filter with its offset, in UTC, held inside the calendar."""

EventTime = Annotated[AwareDatetime, AfterValidator(_event_time)]
"""When something happened, with its offset; converted to UTC."""
