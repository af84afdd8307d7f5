from __future__ import annotations

from datetime import timedelta

from liveeval.model import Score, ScoreKind, ScoreStatus
from liveeval.store.database import Store
from liveeval.store.scores import (
    ScoreFilter,
    insert_score,
    list_scores,
    scores_of,
    write_scores,
)
from tests.store.stored import stored_interactions
from tests.telemetry import T0


def check(interaction_id: int, name: str, passed: bool) -> Score:
    return Score(
        project="shop",
        interaction_id=interaction_id,
        name=name,
        kind=ScoreKind.CHECK,
        value=1.0 if passed else 0.0,
        label="pass" if passed else "fail",
        explanation=f"{name} {'passed' if passed else 'failed'}",
        details={"detail": [1, 2]},
        created_at=T0,
    )


def test_scores_round_trip_with_every_field(store: Store) -> None:
    [iid] = stored_interactions(store, 1)
    score = Score(
        project="shop",
        interaction_id=iid,
        name="quality",
        kind=ScoreKind.JUDGE,
        value=4.0,
        label=None,
        explanation="Direct and accurate.",
        evaluator_version="openai/gpt-4o-mini-2024-07-18/quality@1#abc",
        details={"model_mismatch": False},
        cost_usd=0.00012,
        latency_ms=812.5,
        created_at=T0,
    )
    with store.writing() as conn:
        score_id, created = insert_score(conn, score, "judge:1")
    assert created
    with store.reading() as conn:
        [found] = scores_of(conn, [iid])
    assert found.score_id == score_id
    assert (found.value, found.kind, found.status) == (4.0, ScoreKind.JUDGE, ScoreStatus.OK)
    assert found.details == {"model_mismatch": False}
    assert found.cost_usd == 0.00012 and found.latency_ms == 812.5
    assert found.created_at == T0


def test_rewriting_a_check_replaces_it_instead_of_adding_one(store: Store) -> None:
    [iid] = stored_interactions(store, 1)
    with store.writing() as conn:
        write_scores(conn, [check(iid, "not_empty", False)], [f"check:{iid}:not_empty"])
    with store.writing() as conn:
        write_scores(conn, [check(iid, "not_empty", True)], [f"check:{iid}:not_empty"])
    with store.reading() as conn:
        found = scores_of(conn, [iid])
    assert [(s.name, s.value, s.label) for s in found] == [("not_empty", 1.0, "pass")]


def test_a_taken_dedup_key_returns_the_first_score(store: Store) -> None:
    [iid] = stored_interactions(store, 1)
    with store.writing() as conn:
        first, created = insert_score(conn, check(iid, "x", True), "api:retry-1")
        again, created_again = insert_score(conn, check(iid, "x", False), "api:retry-1")
    assert created and not created_again and first == again
    with store.reading() as conn:
        assert [s.value for s in scores_of(conn, [iid])] == [1.0]


def test_list_filters_by_kind_name_status_and_time(store: Store) -> None:
    a, b = stored_interactions(store, 2)
    error = Score(
        project="shop",
        interaction_id=b,
        name="quality",
        kind=ScoreKind.JUDGE,
        status=ScoreStatus.ERROR,
        error="timeout",
        created_at=T0 + timedelta(hours=1),
    )
    with store.writing() as conn:
        write_scores(conn, [check(a, "refusal", True), check(b, "refusal", False)], ["k1", "k2"])
        insert_score(conn, error, None)
    with store.reading() as conn:
        judged = list_scores(conn, ScoreFilter(project="shop", kind=ScoreKind.JUDGE), limit=10)
        errors = list_scores(conn, ScoreFilter(project="shop", status=ScoreStatus.ERROR), limit=10)
        late = list_scores(
            conn, ScoreFilter(project="shop", since=T0 + timedelta(minutes=1)), limit=10
        )
        refusals = list_scores(conn, ScoreFilter(project="shop", name="refusal"), limit=10)
        other = list_scores(conn, ScoreFilter(project="other"), limit=10)
    assert [s.error for s in judged] == ["timeout"] and judged[0].value is None
    assert [s.interaction_id for s in errors] == [b]
    assert [s.name for s in late] == ["quality"]
    assert sorted(s.interaction_id for s in refusals) == [a, b]
    assert other == []


def test_list_pages_newest_first(store: Store) -> None:
    [iid] = stored_interactions(store, 1)
    with store.writing() as conn:
        batch = [check(iid, f"c{n}", True) for n in range(5)]
        write_scores(conn, batch, [f"k{n}" for n in range(5)])
    with store.reading() as conn:
        first = list_scores(conn, ScoreFilter(project="shop"), limit=3)
        rest = list_scores(conn, ScoreFilter(project="shop"), limit=3, after=first[-1].score_id)
    assert [s.name for s in first + rest] == ["c4", "c3", "c2", "c1", "c0"]


def test_long_labels_are_clipped_not_refused(store: Store) -> None:
    [iid] = stored_interactions(store, 1)
    score = check(iid, "regex", False)
    score.label = "x" * 1000
    with store.writing() as conn:
        write_scores(conn, [score], ["k"])
    with store.reading() as conn:
        [found] = scores_of(conn, [iid])
    assert found.label == "x" * 200
