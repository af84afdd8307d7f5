"""The store of bench/alerts.py: synthetic traffic, written as raw rows in bulk.

One project, about 30 slices (model requested/served, prompt version, route, segment,
language) drawn once from weighted choices, plus one slice where the provider served
another model than the one asked for. Each interaction gets a features row (its
language); about 3% get a signal (regenerated, thumbs_down, schema_invalid, edited with
an edit ratio), 2% a judge score ("helpfulness", 1..5, 3% of them errors) and 10% a check
score ("json_schema", failed for 5%). From `INCIDENT_AT` on, gpt-4o-mini answers worse
(more regenerations, lower scores, slower) and Japanese traffic triples, so some rules
fire. Rows go to the driver through `liveeval.store.dialect.bulk_insert`, already in
its types (timestamps as text), without the store's per-row code, in chunks of 50,000.
A SQLite store is kept with a marker file beside it and reused while the sizes match;
PostgreSQL is built in a schema of its own, dropped at the end.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from liveeval.store.database import Store, open_store
from liveeval.store.dialect import bulk_insert
from liveeval.store.schema import KEYED, interaction_features, interactions, scores, signals

PROJECT = "bench"
END = datetime(2026, 6, 1, tzinfo=UTC)  # the stored history ends here; ticks go on from it
INCIDENT_AT = END - timedelta(hours=6)
PG_SCHEMA = "liveeval_bench_alerts"
CHUNK = 50_000
PER_MINUTE = 500  # new interactions before each tick
LATE_SCORES = 20  # judge scores a tick for interactions of the last ~20 minutes

MODELS = (
    ("gpt-4o", "gpt-4o-2024-08-06", "openai", 0.50, 900.0, (2.5, 10.0)),
    ("gpt-4o-mini", "gpt-4o-mini-2024-07-18", "openai", 0.35, 500.0, (0.15, 0.6)),
    ("claude-sonnet-4", "claude-sonnet-4-20250514", "anthropic", 0.15, 1100.0, (3.0, 15.0)),
)
PROMPTS = {"v7": 0.6, "v8": 0.4}
ROUTES = {"support": 0.45, "search": 0.25, "summarize": 0.2, "billing": 0.1}
SEGMENTS = {"free": 0.7, "pro": 0.3}
LANGUAGES = {"en": 0.55, "de": 0.15, "fr": 0.12, "es": 0.12, "ja": 0.06}
# Judge score levels 1..5 by served model; the incident's mini is worse.
LEVELS = {
    "gpt-4o-2024-08-06": (0.03, 0.05, 0.15, 0.37, 0.40),
    "gpt-4o-mini-2024-07-18": (0.05, 0.08, 0.20, 0.37, 0.30),
    "claude-sonnet-4-20250514": (0.03, 0.04, 0.13, 0.38, 0.42),
}
INCIDENT_LEVELS = (0.15, 0.15, 0.25, 0.25, 0.20)
SIGNAL_KINDS = {"regenerated": 0.40, "thumbs_down": 0.25, "schema_invalid": 0.15, "edited": 0.20}
SIGNAL_SHARE, JUDGE_SHARE, CHECK_SHARE = 0.03, 0.02, 0.10
JUDGE_ERROR_SHARE, CHECK_FAIL_SHARE, ERROR_SHARE = 0.03, 0.05, 0.01

# The columns written, in the order of the row tuples.
# fmt: off
INTERACTION_COLUMNS = (
    "interaction_id", "project", "trace_id", "span_id", "name", "convention", "operation",
    "start_at", "end_at", "latency_ms", "status", "error", "provider", "model_requested",
    "model_served", "prompt_version", "route", "segment", "input_tokens", "output_tokens",
    "total_tokens", "cost_usd", "received_at",
)
FEATURE_COLUMNS = (
    "interaction_id", "project", "start_at", "input_chars", "output_chars", "language",
)
SIGNAL_COLUMNS = (
    "project", "interaction_id", "kind", "value", "details", "occurred_at", "received_at",
)
SCORE_COLUMNS = (
    "project", "interaction_id", "name", "kind", "value", "status", "error", "details",
    "created_at",
)
# fmt: on


@dataclass(frozen=True, slots=True)
class Slice:
    model_requested: str
    model_served: str
    provider: str
    prompt_version: str
    route: str
    segment: str
    language: str
    weight: float
    latency_median_ms: float
    price_per_mtok: tuple[float, float]  # input, output


@dataclass(frozen=True, slots=True)
class Written:
    interactions: int
    signals: int
    scores: int


def _pick(rng: np.random.Generator, shares: dict[str, float]) -> tuple[str, float]:
    names = list(shares)
    k = int(rng.choice(len(names), p=np.array(list(shares.values())) / sum(shares.values())))
    return names[k], shares[names[k]]


def make_slices(count: int = 30, seed: int = 11) -> list[Slice]:
    """`count - 1` distinct weighted slices, and one where gpt-4o was served by mini."""
    rng = np.random.default_rng(seed)
    out: dict[tuple[str, ...], Slice] = {}
    models = {m[1]: m[3] for m in MODELS}
    by_served = {m[1]: m for m in MODELS}
    while len(out) < count - 1:
        served, w_model = _pick(rng, models)
        prompt, w_prompt = _pick(rng, PROMPTS)
        route, w_route = _pick(rng, ROUTES)
        segment, w_segment = _pick(rng, SEGMENTS)
        language, w_language = _pick(rng, LANGUAGES)
        requested, _, provider, _, latency, price = by_served[served]
        key = (served, prompt, route, segment, language)
        weight = w_model * w_prompt * w_route * w_segment * w_language
        out[key] = Slice(
            requested, served, provider, prompt, route, segment, language, weight, latency, price
        )
    mini = by_served["gpt-4o-mini-2024-07-18"]
    swapped = Slice(
        "gpt-4o", mini[1], "openai", "v8", "support", "free", "en", 0.004, 500.0, mini[5]
    )
    return [*out.values(), swapped]


def time_texts(at_us: np.ndarray, dialect: str) -> list[str]:
    """Microsecond epochs as the driver takes them: SQLAlchemy's naive UTC text on SQLite,
    ISO text with an offset on PostgreSQL (cast to timestamptz by the server)."""
    texts = np.datetime_as_string(at_us.astype("datetime64[us]"), unit="us").tolist()
    if dialect == "sqlite":
        return [t.replace("T", " ") for t in texts]
    return [t + "+00:00" for t in texts]


def epoch_us(at: datetime) -> int:
    return int(at.timestamp()) * 1_000_000 + at.microsecond


def write_traffic(
    conn: sa.Connection,
    slices: Sequence[Slice],
    first_id: int,
    start_us: np.ndarray,
    rng: np.random.Generator,
) -> Written:
    """Interactions with ids from `first_id`, starting at `start_us` (sorted microsecond
    epochs), with their features, signals and scores."""
    n = len(start_us)
    dialect = conn.dialect.name
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    incident_start = start_us >= epoch_us(INCIDENT_AT)
    weights = np.array([s.weight for s in slices])
    drifted = weights * np.array([3.0 if s.language == "ja" else 1.0 for s in slices])
    which = np.where(
        incident_start,
        rng.choice(len(slices), n, p=drifted / drifted.sum()),
        rng.choice(len(slices), n, p=weights / weights.sum()),
    )
    served = np.array([s.model_served for s in slices], dtype=object)[which]
    incident = incident_start & (served == "gpt-4o-mini-2024-07-18")
    median = np.array([s.latency_median_ms for s in slices])[which]
    latency = np.round(rng.lognormal(np.log(median), 0.45) * np.where(incident, 1.6, 1.0), 1)
    end_us = start_us + (latency * 1000).astype(np.int64)
    input_tokens = rng.integers(40, 2400, n)
    output_tokens = rng.integers(20, 900, n)
    prices = np.array([s.price_per_mtok for s in slices])[which]
    cost = (input_tokens * prices[:, 0] + output_tokens * prices[:, 1]) / 1e6
    failed = rng.random(n) < ERROR_SHARE
    starts, ends = time_texts(start_us, dialect), time_texts(end_us, dialect)
    id_list = ids.tolist()

    def column(attribute: str) -> list[Any]:
        return np.array([getattr(s, attribute) for s in slices], dtype=object)[which].tolist()

    costs: list[float | None] = cost.tolist()
    for k in np.flatnonzero(rng.random(n) < 0.03).tolist():
        costs[k] = None  # no price known
    statuses = np.where(failed, "error", "ok").tolist()
    errors = [("upstream timeout" if f else None) for f in failed.tolist()]
    rows = list(
        zip(
            id_list,
            itertools.repeat(PROJECT),
            [f"{i:032x}" for i in id_list],
            [f"{i:016x}" for i in id_list],
            itertools.repeat("chat"),
            itertools.repeat("genai"),
            itertools.repeat("chat"),
            starts,
            ends,
            latency.tolist(),
            statuses,
            errors,
            column("provider"),
            column("model_requested"),
            served.tolist(),
            column("prompt_version"),
            column("route"),
            column("segment"),
            input_tokens.tolist(),
            output_tokens.tolist(),
            (input_tokens + output_tokens).tolist(),
            costs,
            ends,
        )
    )
    bulk_insert(conn, interactions, INTERACTION_COLUMNS, rows, ("project", "trace_id", "span_id"))
    features = list(
        zip(
            id_list,
            itertools.repeat(PROJECT),
            starts,
            (input_tokens * 4).tolist(),
            (output_tokens * 4).tolist(),
            column("language"),
        )
    )
    bulk_insert(conn, interaction_features, FEATURE_COLUMNS, features, ("interaction_id",))
    signal_rows = sorted(_signals(rng, id_list, ends, incident), key=lambda row: row[1])
    bulk_insert(conn, signals, SIGNAL_COLUMNS, signal_rows, ("project", "idempotency_key"))
    score_rows = sorted(_scores(rng, id_list, ends, served, incident), key=lambda row: row[1])
    bulk_insert(conn, scores, SCORE_COLUMNS, score_rows, ("project", "dedup_key"), where=KEYED)
    return Written(n, len(signal_rows), len(score_rows))


def _signals(
    rng: np.random.Generator, ids: list[int], ends: list[str], incident: np.ndarray
) -> list[tuple[Any, ...]]:
    n = len(ids)
    kinds = list(SIGNAL_KINDS)
    shares = np.array(list(SIGNAL_KINDS.values()))
    drawn = rng.choice(len(kinds), n, p=shares / shares.sum())
    ratios = rng.uniform(0.05, 0.6, n)
    rows = []
    for k in np.flatnonzero(rng.random(n) < SIGNAL_SHARE).tolist():
        kind = kinds[drawn[k]]
        value = round(float(ratios[k]), 3) if kind == "edited" else None
        rows.append((PROJECT, ids[k], kind, value, "{}", ends[k], ends[k]))
    for k in np.flatnonzero(incident & (rng.random(n) < 0.06)).tolist():
        rows.append((PROJECT, ids[k], "regenerated", None, "{}", ends[k], ends[k]))
    return rows


def _scores(
    rng: np.random.Generator,
    ids: list[int],
    ends: list[str],
    served: np.ndarray,
    incident: np.ndarray,
) -> list[tuple[Any, ...]]:
    n = len(ids)
    rows: list[tuple[Any, ...]] = []
    for k in np.flatnonzero(rng.random(n) < JUDGE_SHARE).tolist():
        if rng.random() < JUDGE_ERROR_SHARE:
            rows.append(
                (PROJECT, ids[k], "helpfulness", "judge", None, "error", "judge timed out", "{}",
                 ends[k])
            )  # fmt: skip
            continue
        levels = INCIDENT_LEVELS if incident[k] else LEVELS[served[k]]
        value = float(rng.choice(5, p=levels) + 1)
        rows.append((PROJECT, ids[k], "helpfulness", "judge", value, "ok", None, "{}", ends[k]))
    passed = rng.random(n) >= CHECK_FAIL_SHARE
    for k in np.flatnonzero(rng.random(n) < CHECK_SHARE).tolist():
        ok = bool(passed[k])
        details = '{"passed": true}' if ok else '{"passed": false}'
        rows.append(
            (PROJECT, ids[k], "json_schema", "check", float(ok), "ok", None, details, ends[k])
        )
    return rows


def late_judge_scores(
    conn: sa.Connection, rng: np.random.Generator, candidates: Sequence[int], count: int, at: str
) -> int:
    """Judge scores arriving now for earlier interactions (`at`: the time as driver text)."""
    chosen = rng.choice(len(candidates), min(count, len(candidates)), replace=False)
    rows = [
        (PROJECT, candidates[k], "helpfulness", "judge", float(rng.integers(1, 6)), "ok", None,
         "{}", at)
        for k in chosen.tolist()
    ]  # fmt: skip
    bulk_insert(conn, scores, SCORE_COLUMNS, rows, ("project", "dedup_key"), where=KEYED)
    return len(rows)


def add_minute(
    store: Store, slices: list[Slice], minute: datetime, first_id: int, rng: np.random.Generator
) -> int:
    """One minute of traffic from `minute`, plus late judge scores; the interactions added."""
    start = epoch_us(minute)
    at = np.sort(start + rng.integers(0, 60_000_000, PER_MINUTE))
    with store.writing() as conn:
        write_traffic(conn, slices, first_id, at, rng)
        earlier = list(range(max(first_id - 20 * PER_MINUTE, 1), first_id))
        now_text = time_texts(np.array([start + 59_000_000]), conn.dialect.name)[0]
        late_judge_scores(conn, rng, earlier, LATE_SCORES, now_text)
    return PER_MINUTE


def sqlite_path(url: str) -> Path | None:
    parsed = sa.make_url(url)
    return Path(parsed.database or "") if parsed.get_backend_name() == "sqlite" else None


def marker_of(path: Path) -> Path:
    return path.with_name(path.name + ".bench.json")


def open_bench_store(url: str, interactions_n: int, days: int, rebuild: bool) -> tuple[Store, bool]:
    """The store and whether it must be built (SQLite: reused when its marker matches)."""
    path = sqlite_path(url)
    if path is None:
        admin = sa.create_engine(url)
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
            conn.execute(sa.text(f'CREATE SCHEMA "{PG_SCHEMA}"'))
        admin.dispose()
        scoped = sa.make_url(url).update_query_dict({"options": f"-csearch_path={PG_SCHEMA}"})
        return open_store(scoped.render_as_string(hide_password=False)), True
    wanted = {"interactions": interactions_n, "days": days}
    marker = marker_of(path)
    if not rebuild and marker.exists() and json.loads(marker.read_text()) == wanted:
        return open_store(url), False
    for stale in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", ".writer-lock"))):
        stale.unlink(missing_ok=True)
    marker.unlink(missing_ok=True)
    return open_store(url), True


def drop_pg_schema(url: str) -> None:
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
    admin.dispose()


def analyze(store: Store, *tables: sa.Table) -> None:
    """PostgreSQL: fresh planner statistics after a bulk load, as autovacuum would gather
    (the local test server runs with autovacuum off; unanalyzed, a tick's refresh takes
    seconds instead of a fraction of one)."""
    if not store.is_sqlite:
        with store.writing() as conn:
            conn.exec_driver_sql(f"ANALYZE {', '.join(table.name for table in tables)}")


def build(store: Store, slices: list[Slice], total: int, days: int) -> None:
    rng = np.random.default_rng(2026)
    start_us = epoch_us(END - timedelta(days=days))
    step_us = days * 86_400_000_000 / total
    began = time.perf_counter()
    signals_n = scores_n = 0
    for first in range(0, total, CHUNK):
        slots = np.arange(first, min(first + CHUNK, total))
        at = start_us + ((slots + rng.random(len(slots))) * step_us).astype(np.int64)
        with store.writing() as conn:
            written = write_traffic(conn, slices, first + 1, at, rng)
        signals_n += written.signals
        scores_n += written.scores
    analyze(store, interactions, interaction_features, signals, scores)
    elapsed = time.perf_counter() - began
    print(
        f"build     {total:,} interactions over {days} days in {len(slices)} slices, "
        f"{signals_n:,} signals, {scores_n:,} scores: {elapsed:,.1f} s "
        f"({total / elapsed:,.0f} interactions/s)",
        flush=True,
    )
