"""Stored traffic for monitor tests: interactions with features, signals and judge scores,
written through the store's own functions (as ingest and the evaluator write them)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from liveeval.model import Interaction, Score, ScoreKind, ScoreStatus, Signal, SignalKind
from liveeval.store.database import Store
from liveeval.store.features import Features, write_features
from liveeval.store.interactions import upsert_interactions
from liveeval.store.scores import interaction_ids_by_span, write_scores
from liveeval.store.signals import record_signal
from tests.telemetry import span_id, trace_id


@dataclass(frozen=True)
class Traffic:
    """One kind of request: its slice, and how often it draws each outcome."""

    model_served: str = "gpt-4o-2024-08-06"
    model_requested: str = "gpt-4o"
    prompt_version: str = "v1"
    route: str = "support"
    language: str = "en"
    regenerated: float = 0.02  # share of interactions regenerated
    judged: float = 0.5  # share judged
    score: Callable[[random.Random], float] = lambda rng: rng.choice((4, 5, 5, 4, 3))
    latency_ms: Callable[[random.Random], float] = lambda rng: rng.lognormvariate(6.5, 0.3)


def store_traffic(
    store: Store,
    traffic: Traffic,
    start: datetime,
    minutes: int,
    per_minute: int,
    *,
    project: str = "shop",
    seed: int = 0,
    every: int = 1,
) -> list[int]:
    """`per_minute` interactions in each of `minutes` minutes from `start`, one minute in
    `every` (a long baseline in few buckets keeps tests quick); their ids."""
    rng = random.Random(seed)
    batch = []
    for minute in range(0, minutes, every):
        for k in range(per_minute):
            at = start + timedelta(minutes=minute, seconds=60 * k / per_minute)
            latency = traffic.latency_ms(rng)
            batch.append(
                Interaction(
                    project=project,
                    trace_id=trace_id(),
                    span_id=span_id(),
                    parent_span_id=None,
                    name="chat",
                    convention="genai",
                    operation="chat",
                    start_at=at,
                    end_at=at + timedelta(milliseconds=latency),
                    latency_ms=latency,
                    status="ok",
                    model_requested=traffic.model_requested,
                    model_served=traffic.model_served,
                    prompt_version=traffic.prompt_version,
                    route=traffic.route,
                    input_text="question",
                    output_text="answer",
                    cost_usd=0.001,
                )
            )
    with store.writing() as conn:
        upsert_interactions(conn, batch, start)
        ids = interaction_ids_by_span(conn, project, sorted({i.trace_id for i in batch}))
        iids = [ids[(i.trace_id, i.span_id)] for i in batch]
        write_features(
            conn,
            [
                Features(iid, project, i.start_at, 8, 6, traffic.language)
                for iid, i in zip(iids, batch, strict=True)
            ],
        )
        scores, keys = [], []
        for iid, interaction in zip(iids, batch, strict=True):
            if rng.random() < traffic.regenerated:
                record_signal(
                    conn,
                    Signal(
                        project,
                        SignalKind.REGENERATED,
                        interaction.end_at,
                        interaction_id=iid,
                    ),
                    interaction.end_at,
                )
            if rng.random() < traffic.judged:
                scores.append(
                    Score(
                        project,
                        iid,
                        "helpfulness",
                        ScoreKind.JUDGE,
                        value=float(traffic.score(rng)),
                        status=ScoreStatus.OK,
                        created_at=interaction.end_at,
                    )
                )
                keys.append(f"judge:{iid}")
        write_scores(conn, scores, keys)
    return iids
