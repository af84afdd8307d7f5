"""The dashboard's series read from rollups: the last day cut out of a week's read is what
reading the last day gives."""

from __future__ import annotations

from datetime import timedelta

from liveeval.dashboard import series
from liveeval.store.database import Store
from liveeval.store.rollups import refresh_rollups
from tests.store.test_rollups import START, store_mixed


def test_the_hours_since_an_instant_match_reading_from_it(store: Store) -> None:
    store_mixed(store, START, 100, 3)
    with store.writing() as conn:
        refresh_rollups(conn)
    end = START + timedelta(minutes=100)
    with store.reading() as conn:
        _, week = series.hourly(conn, "shop", end - timedelta(days=7), end, "prompt_version")
        for hours in (1, 2):
            at = end - timedelta(hours=hours, minutes=20)
            _, direct = series.hourly(conn, "shop", at, end, "prompt_version")
            assert series.since(week, at).keys() == direct.keys()
            for name, by_hour in direct.items():
                cut = series.since(week, at)[name]
                assert cut.keys() == by_hour.keys()
                assert series.totals({name: cut}) == series.totals({name: by_hour})
