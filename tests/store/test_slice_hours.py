"""Listing a slice reads only the hours the rollups say hold it (store/slice_hours.py), and
still finds exactly what a plain walk of the newest-first index finds: rows the rollups
have not read yet included, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from liveeval.model import Interaction
from liveeval.store.database import Store
from liveeval.store.features import Features, write_features
from liveeval.store.interactions import (
    InteractionFilter,
    _conditions,
    _newest,
    list_interactions,
    upsert_interactions,
)
from liveeval.store.rollups import refresh_rollups
from liveeval.store.scores import interaction_ids_by_span, write_scores
from liveeval.store.slice_hours import slice_conditions, slice_hours
from tests.store.test_rollups import judge_score
from tests.telemetry import span_id, trace_id

T0 = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
VERSIONS = ("v1", "v2", "rare")


def store_some(
    store: Store, start: datetime, hours: int, per_hour: int, seed: int, *, languages: bool = True
) -> list[int]:
    """Interactions spread over `hours`; "rare" prompt versions in only a few hours."""
    rng = random.Random(seed)
    batch = []
    for n in range(hours * per_hour):
        hour = n // per_hour
        at = start + timedelta(hours=hour, seconds=rng.randrange(3600))
        version = "rare" if hour % 7 == 3 and rng.random() < 0.2 else rng.choice(VERSIONS[:2])
        batch.append(
            Interaction(
                project="shop",
                trace_id=trace_id(),
                span_id=span_id(),
                parent_span_id=None,
                name="chat",
                convention="genai",
                operation="chat",
                start_at=at,
                end_at=at + timedelta(seconds=1),
                latency_ms=1000.0,
                status="ok",
                model_requested="gpt-4o",
                model_served=rng.choice(("gpt-4o-2024-08-06", "gpt-4o-2025-01-01")),
                prompt_version=version,
                route=rng.choice(("support", "sales")),
            )
        )
    with store.writing() as conn:
        upsert_interactions(conn, batch, start)
        by_span = interaction_ids_by_span(conn, "shop", [i.trace_id for i in batch])
        ids = [by_span[(i.trace_id, i.span_id)] for i in batch]
        if languages:
            write_features(
                conn,
                [
                    features(iid, i, rng.choice(("en", "de")))
                    for iid, i in zip(ids, batch, strict=True)
                ],
            )
    return ids


def features(interaction_id: int, interaction: Interaction, language: str) -> Features:
    return Features(interaction_id, "shop", interaction.start_at, 10, 10, language)


def plain_walk(store: Store, f: InteractionFilter, limit: int) -> list[int | None]:
    with store.reading() as conn:
        return [i.interaction_id for i in _newest(conn, _conditions(f), limit)]


def narrowed(store: Store, f: InteractionFilter, limit: int, **kw: object) -> list[int | None]:
    with store.reading() as conn:
        return [i.interaction_id for i in list_interactions(conn, f, limit=limit, **kw)]  # type: ignore[arg-type]


FILTERS = [
    {"prompt_version": "v1"},
    {"prompt_version": "rare"},
    {"prompt_version": "absent"},
    {"model": "gpt-4o-2025-01-01"},
    {"model": "gpt-4o"},
    {"route": "sales", "prompt_version": "rare"},
    {"language": "de"},
    {"language": "fr"},
    {"language": "de", "prompt_version": "rare"},
]


def test_before_any_refresh_the_rollups_cannot_narrow(store: Store) -> None:
    store_some(store, T0, 3, 5, seed=1)
    with store.reading() as conn:
        where = slice_conditions(None, "v1", None, None, None)
        assert slice_hours(conn, "shop", where, None, None, by_language=False) is None
    f = InteractionFilter(project="shop", prompt_version="v1")
    assert narrowed(store, f, 1000) == plain_walk(store, f, 1000)


def test_a_slice_lists_exactly_what_a_plain_walk_lists(store: Store) -> None:
    store_some(store, T0, 30, 12, seed=2)
    unlabelled = store_some(store, T0 + timedelta(hours=1), 1, 4, seed=4, languages=False)
    with store.writing() as conn:
        refresh_rollups(conn)
    # Rows the rollups have not read: new ones, one in an old hour with a version no
    # counted row has, and languages detected after the refresh for rows already counted.
    store_some(store, T0 + timedelta(hours=29), 2, 6, seed=3)
    late = Interaction(
        project="shop",
        trace_id=trace_id(),
        span_id=span_id(),
        parent_span_id=None,
        name="chat",
        convention="genai",
        operation="chat",
        start_at=T0 + timedelta(hours=1, minutes=5),
        end_at=T0 + timedelta(hours=1, minutes=6),
        latency_ms=1.0,
        status="ok",
        prompt_version="late-only",
    )
    with store.writing() as conn:
        upsert_interactions(conn, [late], T0)
        rows = list_interactions(conn, InteractionFilter(project="shop"), limit=100_000)
        by_id = {i.interaction_id: i for i in rows}
        write_features(conn, [features(iid, by_id[iid], "fr") for iid in unlabelled])
    assert set(plain_walk(store, InteractionFilter(project="shop", language="fr"), 100)) == set(
        unlabelled
    )
    windows = [(None, None), (T0 + timedelta(hours=2, minutes=30), T0 + timedelta(hours=20))]
    for where, (since, until), limit in product(
        [*FILTERS, {"prompt_version": "late-only"}], windows, (1, 3, 50, 1000)
    ):
        f = InteractionFilter(project="shop", since=since, until=until, **where)  # type: ignore[arg-type]
        expected = plain_walk(store, f, limit)
        assert narrowed(store, f, limit) == expected, (where, since, limit)


def test_pages_of_a_narrowed_slice_follow_on_without_gaps(store: Store) -> None:
    store_some(store, T0, 24, 10, seed=5)
    with store.writing() as conn:
        refresh_rollups(conn)
    f = InteractionFilter(project="shop", prompt_version="rare")
    everything = plain_walk(store, f, 10_000)
    assert len(everything) >= 6
    pages: list[int | None] = []
    after = None
    while True:
        with store.reading() as conn:
            page = list_interactions(conn, f, limit=2, after=after)
        if not page:
            break
        pages += [i.interaction_id for i in page]
        last = page[-1]
        assert last.interaction_id is not None
        after = (last.start_at, last.interaction_id)
    assert pages == everything


def test_the_hours_read_are_only_those_holding_the_slice(store: Store) -> None:
    store_some(store, T0, 24, 10, seed=6)
    with store.writing() as conn:
        refresh_rollups(conn)
    with store.reading() as conn:
        absent = slice_hours(
            conn,
            "shop",
            slice_conditions(None, "absent", None, None, None),
            None,
            None,
            by_language=False,
        )
        rare = slice_hours(
            conn,
            "shop",
            slice_conditions(None, "rare", None, None, None),
            None,
            None,
            by_language=False,
        )
    assert absent is not None and absent.ranges == []
    assert rare is not None
    hours_with_rare = {
        i.start_at.replace(minute=0, second=0, microsecond=0)
        for i in _all(store)
        if i.prompt_version == "rare"
    }
    assert sorted(low for low, _ in rare.ranges) == sorted(hours_with_rare)
    assert all(high - low == timedelta(hours=1) for low, high in rare.ranges)


def _all(store: Store) -> list[Interaction]:
    with store.reading() as conn:
        return list_interactions(conn, InteractionFilter(project="shop"), limit=100_000)


@pytest.mark.parametrize("hours", [1, 5])
def test_touching_hours_merge_into_one_range(store: Store, hours: int) -> None:
    store_some(store, T0, hours, 4, seed=7)
    with store.writing() as conn:
        refresh_rollups(conn)
        found = slice_hours(
            conn,
            "shop",
            slice_conditions("gpt-4o", None, None, None, None),
            None,
            None,
            by_language=False,
        )
    assert found is not None
    assert found.ranges == [(T0, T0 + timedelta(hours=hours))]


def test_a_score_filter_lists_exactly_what_a_plain_walk_lists(store: Store) -> None:
    """Hours are read only where the rollups counted a judge score that low; a score
    written after the refresh is found through the scores' watermark."""
    ids = store_some(store, T0, 20, 8, seed=8)
    rng = random.Random(8)
    with store.writing() as conn:
        judged = [iid for iid in ids if rng.random() < 0.6]
        write_scores(
            conn,
            [
                judge_score("shop", iid, "quality", float(rng.choice((2, 3, 4, 5))), T0)
                for iid in judged
            ],
            [f"q{iid}" for iid in judged],
        )
        refresh_rollups(conn)
        late = [iid for iid in ids if iid not in judged][:3]
        write_scores(
            conn,
            [judge_score("shop", iid, "correct", 0.0, T0) for iid in late],
            [f"c{iid}" for iid in late],
        )
    assert set(plain_walk(store, InteractionFilter(project="shop", max_score=0.0), 100)) == set(
        late
    )
    for max_score, version, limit in product(
        (0.0, 1.0, 2.0, 2.4, 5.0), (None, "rare"), (1, 5, 1000)
    ):
        f = InteractionFilter(project="shop", max_score=max_score, prompt_version=version)
        assert narrowed(store, f, limit) == plain_walk(store, f, limit), (max_score, version)
    with store.reading() as conn:
        none_that_low = slice_hours(conn, "shop", [], None, None, by_language=False, max_score=1.0)
    assert none_that_low is not None and none_that_low.ranges == []
