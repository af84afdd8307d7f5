"""A short demo, played end to end into a real server on a temporary SQLite database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from liveeval.demo.player import Played
from liveeval.demo.session import DemoSession, story_ending_now
from liveeval.demo.settings import demo_settings
from liveeval.demo.story import PINNED_MODEL, PROJECT, UPDATED_MODEL, Story
from liveeval.monitor.drift_run import run_drift
from liveeval.store.calibration import runs as calibration_runs
from liveeval.store.database import Store, open_store
from liveeval.store.schema import alerts, cases, interactions, regression_runs, review_items, scores
from tests.conftest import run_server


@pytest.fixture(scope="module")
def story() -> Story:
    return story_ending_now(days=8, per_day=100, seed=1)


@pytest.fixture(scope="module")
def played(
    tmp_path_factory: pytest.TempPathFactory, story: Story
) -> Iterator[tuple[Played, Store]]:
    path: Path = tmp_path_factory.mktemp("demo") / "demo.db"
    settings = demo_settings(f"sqlite:///{path}", "127.0.0.1", 0)
    store = open_store(settings.db)
    session = DemoSession(settings, story)
    session.start_judge()
    lines: list[str] = []
    try:
        with run_server(store, settings) as server:
            result = session.play(server.url, lines.append)
        assert any("day  8/8" in line for line in lines), lines
        yield result, store
    finally:
        session.close()
        store.close()


def _rows(store: Store, query: sa.Select[Any]) -> list[Any]:
    with store.reading() as conn:
        return list(conn.execute(query))


def test_every_request_is_stored_with_both_prompt_versions(played: tuple[Played, Store]) -> None:
    result, store = played
    rows = _rows(
        store,
        sa.select(interactions.c.prompt_version, sa.func.count())
        .where(interactions.c.project == PROJECT)
        .group_by(interactions.c.prompt_version),
    )
    counts = {row[0]: row[1] for row in rows}
    assert set(counts) == {"v1", "v2"}
    assert sum(counts.values()) == result.interactions


def test_the_served_model_differs_from_the_pinned_one_after_the_update(
    played: tuple[Played, Store],
) -> None:
    _, store = played
    pairs = _rows(
        store,
        sa.select(interactions.c.model_requested, interactions.c.model_served).distinct(),
    )
    assert set(pairs) == {(PINNED_MODEL, PINNED_MODEL), (PINNED_MODEL, UPDATED_MODEL)}


def test_the_simulated_judge_graded_and_says_so(played: tuple[Played, Store]) -> None:
    _, store = played
    versions = _rows(
        store, sa.select(scores.c.evaluator_version).where(scores.c.kind == "judge").distinct()
    )
    assert versions
    assert all(str(v).startswith("simulated/simulated-judge-1/") for (v,) in versions)


def test_an_alert_names_the_served_model_or_the_language(played: tuple[Played, Store]) -> None:
    _, store = played
    slices = [json.dumps(s) for (s,) in _rows(store, sa.select(alerts.c.slice))]
    assert any("model_served" in s or "language" in s for s in slices), slices


def test_no_alert_fires_before_the_first_incident_and_the_incident_fires_after(
    played: tuple[Played, Store], story: Story
) -> None:
    """The v2 rollout is an improvement; the silent model update is the first incident."""
    _, store = played
    update = story.start + timedelta(days=story.timeline.update_day)
    fired = _rows(store, sa.select(alerts.c.rule, alerts.c.slice, alerts.c.started_at))
    early = [(rule, s) for rule, s, at in fired if _aware(at) < update]
    assert early == [], [(r, s, a, update) for r, s, a in fired if _aware(a) < update]
    late = [(rule, s) for rule, s, at in fired if _aware(at) >= update]
    assert any(
        s.get("model_served") == UPDATED_MODEL or s.get("language") == "de" for _, s in late
    ), late


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def test_failures_reach_review_and_some_become_frozen_regression_cases(
    played: tuple[Played, Store],
) -> None:
    result, store = played
    assert _rows(store, sa.select(sa.func.count()).select_from(review_items))[0][0] > 0
    frozen = _rows(store, sa.select(cases.c.case_id).where(cases.c.frozen.is_(True)))
    assert frozen and len(result.promoted) == len({c for (c,) in frozen})


def test_a_regression_run_is_stored(played: tuple[Played, Store]) -> None:
    result, store = played
    runs = _rows(store, sa.select(regression_runs.c.run_id, regression_runs.c.cases))
    assert [row[0] for row in runs] == [result.run_id]
    assert runs[0][1] == len(result.promoted)


def test_the_reviewer_scores_judged_items_and_the_judge_agreement_is_recorded(
    played: tuple[Played, Store],
) -> None:
    """A week's review gives human scores; the monitor's calibration watch compares them
    with the simulated judge (which moves one verdict in five by a point)."""
    result, store = played
    humans = _rows(
        store,
        sa.select(sa.func.count()).select_from(scores).where(scores.c.kind == "human"),
    )[0][0]
    assert humans == result.human_scores >= 20
    with store.reading() as conn:
        runs = calibration_runs(conn, PROJECT, None, 10)
    assert runs, "no calibration run recorded"
    latest = runs[0]
    assert latest.judge_version.startswith("simulated/simulated-judge-1/quality@")
    assert latest.n >= 20 and latest.passed
    exact = latest.metrics["exact_agreement"]["value"]
    assert 0.6 <= exact < 1.0  # the judge's noise: most verdicts agree, not all


def test_the_drift_report_shows_the_card_as_an_intent_the_team_never_labelled(
    played: tuple[Played, Store],
) -> None:
    """The demo labels intents with example questions written before the Acme Card: from
    the drift day on, Card questions match none of them and 'other' rises."""
    _, store = played
    story = story_ending_now(days=8, per_day=100, seed=1)
    drift_at = story.start + timedelta(days=story.timeline.drift_day)
    settings = demo_settings("sqlite://", "127.0.0.1", 0)
    found = run_drift(
        store,
        PROJECT,
        window=(drift_at, story.end),
        baseline=(story.start, drift_at),
        config=settings.monitor.drift,
    )
    intent = found.overall.feature("intent")
    assert intent.status == "drift", intent
    assert any("other" in line for line in intent.moved), intent.moved
    assert intent.categorical is not None
