"""Cost on the dashboard: small amounts keep their digits, and a cost nobody priced is
shown as unknown, never as $0.00."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from liveeval.config.sampling import SamplingConfig
from liveeval.ingest.scoring import sampler_state
from liveeval.model.score import Score, ScoreKind
from liveeval.store.database import Store
from liveeval.store.interactions import upsert_interactions
from liveeval.store.rollups import refresh_rollups
from liveeval.store.sampling import judge_cost_since
from liveeval.store.scores import interaction_ids_by_span, write_scores
from tests.server.asgi import client
from tests.store.stored import chat_interaction

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # tests.conftest.Clock's


def one(store: Store, project: str, cost_usd: float | None) -> int:
    at = NOW - timedelta(hours=1)
    interaction = chat_interaction(at, project, cost_usd=cost_usd)
    with store.writing() as conn:
        upsert_interactions(conn, [interaction], at)
        refresh_rollups(conn)
        ids = interaction_ids_by_span(conn, project, [interaction.trace_id])
    return ids[(interaction.trace_id, interaction.span_id)]


async def test_a_small_cost_keeps_its_digits(store: Store) -> None:
    iid = one(store, "shop", 0.0007)
    async with client(store) as http:
        overview = await http.get("/ui/overview", params={"project": "shop"})
        detail = await http.get(f"/ui/interactions/{iid}")
    assert '<p class="big">$0.0007</p>' in overview.text
    assert "$0.00<" not in overview.text
    assert "$0.0007" in detail.text


async def test_an_unpriced_cost_is_unknown_not_zero(store: Store) -> None:
    iid = one(store, "shop", None)
    async with client(store) as http:
        overview = await http.get("/ui/overview", params={"project": "shop"})
        detail = await http.get(f"/ui/interactions/{iid}")
    assert "unknown: no interaction had a price" in overview.text
    assert "$0.00" not in overview.text.split("Judge spend")[0]
    assert "cost unknown" in detail.text


def judged(store: Store, iid: int, *costs: float | None) -> None:
    batch = [
        Score(
            project="shop",
            interaction_id=iid,
            name=f"helpful-{n}",
            kind=ScoreKind.JUDGE,
            value=1.0,
            cost_usd=cost,
            created_at=NOW - timedelta(minutes=30),
        )
        for n, cost in enumerate(costs)
    ]
    with store.writing() as conn:
        write_scores(conn, batch, [f"k-{iid}-{n}" for n in range(len(costs))])


def test_judge_cost_is_zero_without_judgments_and_unknown_when_none_was_priced(
    store: Store,
) -> None:
    since = NOW - timedelta(hours=24)
    with store.reading() as conn:
        assert judge_cost_since(conn, "shop", since) == 0.0
    judged(store, one(store, "shop", 0.01), None, None)
    with store.reading() as conn:
        assert judge_cost_since(conn, "shop", since) is None
    judged(store, one(store, "shop", 0.01), 0.002, None)
    with store.reading() as conn:
        assert judge_cost_since(conn, "shop", since) == pytest.approx(0.002)


async def test_an_unpriced_judge_spend_is_unknown_not_zero(store: Store) -> None:
    judged(store, one(store, "shop", 0.01), None)
    async with client(store) as http:
        overview = await http.get("/ui/overview", params={"project": "shop"})
    judge_card = overview.text.split("Judge spend")[1].split("</div>")[0]
    assert "unknown: no judge score had a cost" in judge_card
    assert "$0" not in judge_card.split("a day")[0].split("no daily cap")[0]


def test_the_daily_budget_counts_unpriced_judge_scores_as_nothing_spent(store: Store) -> None:
    judged(store, one(store, "shop", 0.01), None)
    with store.reading() as conn:
        state = sampler_state(conn, SamplingConfig(), "shop", NOW)
    assert state.cost_today_usd == 0.0
