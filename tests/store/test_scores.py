from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from liveeval.model import Score, ScoreKind, ScoreStatus
from liveeval.store.database import Store
from liveeval.store.schema import scores
from liveeval.store.scores import (
    ScoreFilter,
    check_key,
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


def event(interaction_id: int, value: float) -> Score:
    return Score(
        project="shop",
        interaction_id=interaction_id,
        name="relevance",
        kind=ScoreKind.EXTERNAL,
        value=value,
        evaluator_version="otel:gen_ai.evaluation.result",
        created_at=T0,
    )


def stored_keys(store: Store) -> list[str | None]:
    with store.reading() as conn:
        return list(
            conn.execute(sa.select(scores.c.dedup_key).order_by(scores.c.score_id)).scalars()
        )


def test_a_check_is_stored_without_its_key_and_read_back_with_it(store: Store) -> None:
    [iid] = stored_interactions(store, 1)
    with store.writing() as conn:
        write_scores(conn, [check(iid, "refusal", True)], [check_key(iid, "refusal")])
    with store.reading() as conn:
        [found] = scores_of(conn, [iid])
    assert found.idempotency_key == f"check:{iid}:refusal"
    assert stored_keys(store) == [None]


def test_a_check_replaces_the_one_of_its_interaction_and_name_whatever_its_key(
    store: Store,
) -> None:
    [iid] = stored_interactions(store, 1)
    with store.writing() as conn:
        write_scores(conn, [check(iid, "regex", False)], ["my-key"])
    with store.writing() as conn:
        write_scores(conn, [check(iid, "regex", True)], [check_key(iid, "regex")])
    with store.reading() as conn:
        [found] = scores_of(conn, [iid])
    assert (found.label, found.idempotency_key) == ("pass", f"check:{iid}:regex")
    with store.writing() as conn:
        write_scores(conn, [check(iid, "regex", False)], ["my-key"])
    with store.reading() as conn:
        [found] = scores_of(conn, [iid])
    assert (found.label, found.idempotency_key) == ("fail", "my-key")


def test_a_key_given_twice_in_one_batch_keeps_the_last_score(store: Store) -> None:
    a, b = stored_interactions(store, 2)
    with store.writing() as conn:
        write_scores(
            conn,
            [check(a, "regex", False), event(b, 0.2), check(a, "regex", True), event(b, 0.9)],
            [check_key(a, "regex"), "otel:1", check_key(a, "regex"), "otel:1"],
        )
    with store.reading() as conn:
        found = scores_of(conn, [a, b])
    assert [(s.interaction_id, s.name, s.value) for s in found] == [
        (a, "regex", 1.0),
        (b, "relevance", 0.9),
    ]


def test_a_score_written_again_under_its_key_replaces_the_stored_one(store: Store) -> None:
    a, b = stored_interactions(store, 2)
    with store.writing() as conn:
        write_scores(conn, [event(a, 0.2), event(b, 0.5)], ["otel:1", "otel:2"])
    with store.writing() as conn:
        write_scores(conn, [event(a, 0.7)], ["otel:1"])
    with store.reading() as conn:
        found = scores_of(conn, [a, b])
    assert [(s.interaction_id, s.value, s.idempotency_key) for s in found] == [
        (a, 0.7, "otel:1"),
        (b, 0.5, "otel:2"),
    ]


def test_whole_numbers_nul_and_unicode_are_written_as_given(store: Store) -> None:
    [iid] = stored_interactions(store, 1)
    score = check(iid, "language", True)
    score.value = 1  # type: ignore[assignment]  # an int where a float is declared
    score.explanation = "Réponse en français\x00 ✓"
    score.details = {"passed": True, "confidence": 0.5, "nested": {"languages": ["fr"]}}
    with store.writing() as conn:
        write_scores(conn, [score], [check_key(iid, "language")])
    with store.reading() as conn:
        [found] = scores_of(conn, [iid])
    nul = "\x00" if store.engine.dialect.name == "sqlite" else "\ufffd"
    assert (found.value, found.explanation) == (1.0, f"Réponse en français{nul} ✓")
    assert found.details == {"passed": True, "confidence": 0.5, "nested": {"languages": ["fr"]}}
    assert found.created_at == T0
