"""Fill a store with N interactions over 8 days for the drift benchmark (bench/drift.py --store).

The last day is the window, the 7 days before it the baseline. The window has drifted:
German up about 12 points, a new intent at 3%, longer inputs, slower answers. Filled
with the driver directly: executemany on SQLite, COPY on PostgreSQL (a private schema).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import sqlalchemy as sa

from liveeval.store.database import open_store

END = datetime(2026, 11, 1, tzinfo=UTC)  # the window ends here
DAYS = 8
PROJECT = "bench"
# fmt: off
LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "ru", "tr", "ar", "zh", "ja", "ko",
             "hi", "sv")
# fmt: on
MODELS = ("gpt-4o", "gpt-4o-mini", "claude-sonnet")
INTERACTION_COLUMNS = (
    "interaction_id", "project", "trace_id", "span_id", "name", "convention", "operation",
    "start_at", "end_at", "latency_ms", "status", "model_requested", "model_served",
    "prompt_version", "route", "segment", "input_text", "input_tokens", "output_tokens",
    "cost_usd", "received_at",
)  # fmt: skip
FEATURE_COLUMNS = (
    "feature_id", "interaction_id", "project", "start_at", "input_chars", "output_chars",
    "language", "intent",
)  # fmt: skip


def _zipf(size: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, size + 1) ** exponent
    return weights / weights.sum()


def _rows(n: int, seed: int) -> Iterator[tuple[tuple[object, ...], tuple[object, ...]]]:
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.uniform(0, DAYS * 86_400, n))
    drifted = seconds >= (DAYS - 1) * 86_400
    language_p = _zipf(len(LANGUAGES), 0.8)
    drifted_language_p = language_p.copy()
    drifted_language_p[1] += 0.15
    drifted_language_p /= drifted_language_p.sum()
    language = np.where(
        drifted,
        rng.choice(len(LANGUAGES), n, p=drifted_language_p),
        rng.choice(len(LANGUAGES), n, p=language_p),
    )
    intent = rng.choice(150, n, p=_zipf(150, 0.9))
    intent[drifted & (rng.random(n) < 0.03)] = 150  # new in the window
    input_chars = np.round(rng.lognormal(np.log(np.where(drifted, 300, 260)), 0.9))
    output_chars = np.round(rng.lognormal(np.log(700), 0.7, n))
    input_tokens = np.maximum(np.round(input_chars / 4 + rng.normal(0, 3, n)), 1)
    output_tokens = np.maximum(np.round(output_chars / 4 + rng.normal(0, 5, n)), 1)
    latency = np.round(rng.gamma(4.0, np.where(drifted, 230.0, 200.0)), 3)
    cost = np.round((input_tokens * 2.5 + output_tokens * 10) / 1e6, 8)
    cost_known = rng.random(n) > 0.05
    model = rng.choice(3, n, p=[0.5, 0.4, 0.1])
    route = rng.choice(5, n, p=_zipf(5, 1.0))
    segment = rng.choice(4, n)
    prompt = rng.choice(3, n, p=[0.7, 0.2, 0.1])
    topic_words = np.array([f"topic{i} question" for i in range(40)])
    topic = rng.choice(40, n, p=_zipf(40, 0.7))
    for i in range(n):
        start = END - timedelta(days=DAYS) + timedelta(seconds=float(seconds[i]))
        end = start + timedelta(milliseconds=float(latency[i]))
        iid = i + 1
        yield (
            (
                iid, PROJECT, f"{iid:032x}", f"{iid:016x}", "chat", "genai", "chat",
                start, end, float(latency[i]), "ok", MODELS[model[i]], MODELS[model[i]],
                f"p{prompt[i]}", f"/v1/route{route[i]}", f"seg{segment[i]}",
                f"{topic_words[topic[i]]} {intent[i]} in {LANGUAGES[language[i]]}",
                int(input_tokens[i]), int(output_tokens[i]),
                float(cost[i]) if cost_known[i] else None, end,
            ),
            (
                iid, iid, PROJECT, start, int(input_chars[i]), int(output_chars[i]),
                LANGUAGES[language[i]], f"intent_{intent[i]}",
            ),
        )  # fmt: skip


def fill(url: str, n: int, seed: int = 7) -> None:
    """Create the store at `url` (migrated) and fill it with `n` interactions."""
    store = open_store(url)
    try:
        with store.writing() as conn:
            conn.execute(sa.text("DELETE FROM interaction_features"))
            conn.execute(sa.text("DELETE FROM interactions"))
        rows = list(_rows(n, seed))
        with store.writing() as conn:
            if store.is_sqlite:
                _sqlite_insert(conn, rows)
            else:
                _postgres_copy(conn, rows)
    finally:
        store.close()


def _sqlite_insert(conn: sa.Connection, rows: list[tuple[tuple[object, ...], ...]]) -> None:
    def text(value: object) -> object:
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value

    for table, columns, index in (
        ("interactions", INTERACTION_COLUMNS, 0),
        ("interaction_features", FEATURE_COLUMNS, 1),
    ):
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        conn.exec_driver_sql(sql, [tuple(text(v) for v in row[index]) for row in rows])


def _postgres_copy(conn: sa.Connection, rows: list[tuple[tuple[object, ...], ...]]) -> None:
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    for table, columns, index in (
        ("interactions", INTERACTION_COLUMNS, 0),
        ("interaction_features", FEATURE_COLUMNS, 1),
    ):
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row[index])
        key = columns[0]
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{key}'), {len(rows)})")
    cursor.execute("ANALYZE interactions")
    cursor.execute("ANALYZE interaction_features")
