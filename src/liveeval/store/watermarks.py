"""How far a periodic job has read a growing table: the highest id seen, and the ids
below it not visible yet (on PostgreSQL a transaction that took an id earlier may
commit later). One row per (job, table) in `rollup_watermarks`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from liveeval.store.schema import rollup_watermarks

GAP_TTL_S = 600.0  # an id still invisible after this long was rolled back, not in flight
MAX_GAPS = 10_000


@dataclass(frozen=True)
class Mark:
    """How far a source table was read: its highest id seen, and the ids below it that
    were not visible yet (with when they were first missed)."""

    last_id: int
    gaps: dict[int, float]

    def advanced(self, seen: set[int], track_gaps: bool, now: float) -> Mark:
        highest = max(seen, default=self.last_id)
        highest = max(highest, self.last_id)
        if not track_gaps:
            return Mark(highest, {})
        gaps = {i: at for i, at in self.gaps.items() if i not in seen and now - at < GAP_TTL_S}
        for missing in set(range(self.last_id + 1, highest)) - seen:
            gaps[missing] = now
        if len(gaps) > MAX_GAPS:
            gaps = dict(sorted(gaps.items())[-MAX_GAPS:])
        return Mark(highest, gaps)


def read_marks(conn: sa.Connection, sources: Iterable[str]) -> dict[str, Mark]:
    query = sa.select(
        rollup_watermarks.c.source, rollup_watermarks.c.last_id, rollup_watermarks.c.gaps
    ).where(rollup_watermarks.c.source.in_(list(sources)))
    return {
        source: Mark(last, {int(i): at for i, at in json.loads(gaps)})
        for source, last, gaps in conn.execute(query)
    }


def save_marks(conn: sa.Connection, old: dict[str, Mark], new: dict[str, Mark]) -> None:
    for source, mark in new.items():
        values = {"last_id": mark.last_id, "gaps": json.dumps(sorted(mark.gaps.items()))}
        if source not in old:
            conn.execute(rollup_watermarks.insert().values(source=source, **values))
        elif mark != old[source]:
            conn.execute(
                rollup_watermarks.update()
                .where(rollup_watermarks.c.source == source)
                .values(**values)
            )
