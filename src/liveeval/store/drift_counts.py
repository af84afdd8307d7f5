"""A time range's drift features counted by the database: rows per value, never per row.

Reading a million rows into Python costs about a microsecond a value; counting them
where they lie costs one scan. Categorical features and the integer-valued numeric
ones (lengths, tokens) come as {value: rows}, per slice value when asked: on PostgreSQL
in one GROUPING SETS query (one scan), on SQLite in one GROUP BY per feature. A float
feature (latency, cost) has about as many values as rows, so its values are read as they
are, with the ids (to sample topics from), in one narrow query: on PostgreSQL as one
binary array per column that numpy reads in place, on SQLite as the driver's tuples.
Every value and count is exact: the statistics computed from these are those of the rows
(tests/monitor/test_drift_run.py compares the reports on both dialects).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from liveeval.store.drift_features import CATEGORICAL, NUMERIC, feature_column, period_filter
from liveeval.store.schema import interaction_features, interactions

Value = str | None


@dataclass
class FeatureCounts:
    """One period's (or slice's) features: rows, then numeric values and category counts."""

    n: int = 0
    # distinct finite values (sorted, float64) and the rows holding each
    numeric: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    categorical: dict[str, dict[Value, int]] = field(default_factory=dict)  # None: unknown

    def values(self, name: str) -> np.ndarray:
        """The numeric feature's finite values, one per row, sorted."""
        distinct, rows = self.numeric[name]
        return np.repeat(distinct, rows)


@dataclass
class PeriodCounts:
    total: FeatureCounts
    slices: dict[Value, FeatureCounts]  # by the slice's value; empty when not sliced
    ids: np.ndarray  # every interaction id of the period, ascending (to sample from)


def _is_integer(name: str) -> bool:
    return isinstance(feature_column(name).type, sa.Integer)


def read_feature_counts(
    conn: sa.Connection,
    project: str,
    start: datetime,
    end: datetime,
    attributes: Sequence[str] = (),
    by: str | None = None,
) -> PeriodCounts:
    """Counts of every drift feature of [start, end), overall and per value of `by`."""
    counted = count_features(conn, project, start, end, attributes, by)
    floats, ids = read_float_features(conn, project, start, end, by)
    return combine_counts(counted, floats, ids, attributes, by)


def _expression(name: str) -> sa.ColumnElement[Any]:
    if name in (*CATEGORICAL, *NUMERIC):
        return feature_column(name)
    return interactions.c.metadata[name].as_string()


def count_features(
    conn: sa.Connection,
    project: str,
    start: datetime,
    end: datetime,
    attributes: Sequence[str] = (),
    by: str | None = None,
) -> dict[Value, FeatureCounts]:
    """Rows per value of the categorical and integer features, per value of `by` (None
    when not sliced); no float feature (read_float_features reads those)."""
    names = [*CATEGORICAL, *(a for a in attributes if a not in CATEGORICAL)]
    counted = [n for n in NUMERIC if _is_integer(n)]
    expressions = {n: _expression(n) for n in (*names, *counted)}
    key = _expression(by) if by is not None else None
    joined = interactions.outerjoin(interaction_features)
    where = period_filter(project, start, end)
    by_slice: dict[Value, FeatureCounts] = {}
    numbers: dict[tuple[Value, str], tuple[list[float], list[int]]] = {}

    def add(name: str, slice_value: Value, value: Any, rows: int) -> None:
        found = by_slice.setdefault(slice_value, FeatureCounts())
        if name not in counted:
            found.categorical.setdefault(name, {})[value] = rows
        elif value is not None:
            values, counts = numbers.setdefault((slice_value, name), ([], []))
            values.append(float(value))
            counts.append(rows)

    features = [*names, *counted]
    lead = [key.label("slice")] if key is not None else [sa.null().label("slice")]
    if conn.dialect.name == "postgresql":
        if key is not None:
            # an expression of its own, so that GROUPING() tells it from the same feature's
            key = key.op("||")(sa.literal(""))
            lead = [key.label("slice")]
        columns = [expressions[n].label(f"f{k}") for k, n in enumerate(features)]
        sets = [sa.tuple_(*([key] if key is not None else []), expressions[n]) for n in features]
        query = (
            sa.select(
                *lead,
                sa.func.grouping(*[expressions[n] for n in features]).label("g"),
                *columns,
                sa.func.count().label("rows"),
            )
            .select_from(joined)
            .where(*where)
            .group_by(sa.func.grouping_sets(*sets))
        )
        width = len(features)
        for row in conn.execute(query):
            # GROUPING() sets a bit per argument left out of the row's set, the first
            # argument's highest: the one bit left clear is the feature counted
            k = width - (row.g ^ ((1 << width) - 1)).bit_length()
            add(features[k], row.slice, row[2 + k], row.rows)
    else:
        for name in features:
            value = expressions[name]
            group = [key, value] if key is not None else [value]
            query = (
                sa.select(*lead, value.label("value"), sa.func.count().label("rows"))
                .select_from(joined)
                .where(*where)
                .group_by(*group)
            )
            for row in conn.execute(query):
                add(name, row.slice, row.value, row.rows)
    for (slice_value, name), (values, counts) in numbers.items():
        by_slice[slice_value].numeric[name] = _sorted_counts(np.array(values), np.array(counts))
    return by_slice


def read_float_features(
    conn: sa.Connection, project: str, start: datetime, end: datetime, by: str | None = None
) -> tuple[dict[Value, FeatureCounts], np.ndarray]:
    """The float features' values per value of `by` (None when not sliced), and every
    interaction id of [start, end), ascending."""
    by_slice: dict[Value, FeatureCounts] = {}
    key = _expression(by) if by is not None else None
    names = [n for n in NUMERIC if not _is_integer(n)]
    joined = interactions.outerjoin(interaction_features)
    where = period_filter(project, start, end)
    ids = _read_floats(conn, names, key, joined, where, by_slice)
    return by_slice, ids


def combine_counts(
    counted: dict[Value, FeatureCounts],
    floats: dict[Value, FeatureCounts],
    ids: np.ndarray,
    attributes: Sequence[str] = (),
    by: str | None = None,
) -> PeriodCounts:
    """One period from count_features and read_float_features, overall and per slice."""
    names = [*CATEGORICAL, *(a for a in attributes if a not in CATEGORICAL)]
    by_slice = {key: FeatureCounts(0, dict(found.numeric), dict(found.categorical))
                for key, found in counted.items()}  # fmt: skip
    for key, found in floats.items():
        by_slice.setdefault(key, FeatureCounts()).numeric.update(found.numeric)
    nothing = (np.zeros(0), np.zeros(0, np.int64))  # a feature never known in a slice
    for found in by_slice.values():
        found.numeric = {name: found.numeric.get(name, nothing) for name in NUMERIC}
        found.categorical = {name: found.categorical.get(name, {}) for name in names}
        found.n = sum(found.categorical[names[0]].values())
    total = merge_counts(list(by_slice.values()))
    total.numeric = {name: total.numeric.get(name, nothing) for name in NUMERIC}
    total.categorical = {name: total.categorical.get(name, {}) for name in names}
    return PeriodCounts(total, by_slice if by is not None else {}, ids)


def _read_floats(
    conn: sa.Connection,
    names: list[str],
    key: sa.ColumnElement[Any] | None,
    joined: sa.FromClause,
    where: list[sa.ColumnElement[bool]],
    by_slice: dict[Value, FeatureCounts],
) -> np.ndarray:
    """Float features as values, and the ids, in one narrow query whose rows (the driver's
    tuples, not Rows) go to numpy at once. The ids, ascending."""
    lead = [key] if key is not None else []
    columns = [interactions.c.interaction_id, *(feature_column(n) for n in names)]
    width = len(columns)
    fetched: Sequence[Any] = []
    if key is None and conn.dialect.name == "postgresql":
        table = _floats_at_once(conn, sa.select(*columns).select_from(joined).where(*where))
        groups: dict[Value, np.ndarray] = {None: table} if len(table) else {}
    elif key is None:
        rows = conn.execute(sa.select(*columns).select_from(joined).where(*where)).cursor
        fetched = rows.fetchall() if rows is not None else []
        table = np.array(fetched, dtype=np.float64).reshape(len(fetched), width)
        groups = {None: table} if len(fetched) else {}
    else:
        rows = conn.execute(sa.select(*lead, *columns).select_from(joined).where(*where)).cursor
        fetched = rows.fetchall() if rows is not None else []
        table = np.array([row[1:] for row in fetched], dtype=np.float64).reshape(-1, width)
        positions: dict[Value, list[int]] = {}
        for k, row in enumerate(fetched):
            positions.setdefault(row[0], []).append(k)
        groups = {value: table[np.array(at)] for value, at in positions.items()}
    for slice_value, part in groups.items():
        found = by_slice.setdefault(slice_value, FeatureCounts())
        for k, name in enumerate(names, start=1):
            column = part[:, k]
            distinct, counts = np.unique(column[np.isfinite(column)], return_counts=True)
            found.numeric[name] = (distinct, counts)
    return np.sort(table[:, 0].astype(np.int64))  # ids under 2**53 are exact as float64


def _floats_at_once(conn: sa.Connection, query: sa.Select[Any]) -> np.ndarray:
    """PostgreSQL: the query's columns as float64 (NULL as NaN), (rows, columns). Each column
    comes as one value, its array in PostgreSQL's binary form (array_send), which numpy reads
    in place: no Python object per row, where even a binary COPY hands over one per row."""
    rows = query.subquery()
    as_arrays = sa.select(
        *(
            sa.func.array_send(
                sa.func.array_agg(
                    sa.func.coalesce(
                        sa.cast(column, sa.Float(53)), sa.literal("NaN").cast(sa.Float(53))
                    )
                )
            )
            for column in rows.c
        )
    )
    columns = [_float_array(value) for value in conn.execute(as_arrays).one()]
    return np.stack(columns, axis=1) if columns else np.zeros((0, 0))


def _float_array(sent: bytes | None) -> np.ndarray:
    """A float8[] of array_send: dimensions, a NULL flag and the element type (int32 each),
    then per dimension its length and lower bound, then per element its length and value."""
    if sent is None:  # array_agg of no rows
        return np.zeros(0)
    element = np.dtype([("length", ">i4"), ("value", ">f8")])
    dimensions = int.from_bytes(sent[:4], "big")
    values = np.frombuffer(sent, dtype=element, offset=12 + 8 * dimensions)["value"]
    return values.astype(np.float64)


def _sorted_counts(values: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values = values.astype(np.float64)
    order = np.argsort(values, kind="stable")
    return values[order], counts[order].astype(np.int64)


def merge_counts(parts: Sequence[FeatureCounts]) -> FeatureCounts:
    """The counts of several slices together."""
    total = FeatureCounts(n=sum(p.n for p in parts))
    for part in parts:
        for name, found in part.categorical.items():
            into = total.categorical.setdefault(name, {})
            for value, rows in found.items():
                into[value] = into.get(value, 0) + rows
    for name in dict.fromkeys(n for p in parts for n in p.numeric):  # in the parts' order
        values = np.concatenate([p.numeric[name][0] for p in parts if name in p.numeric])
        counts = np.concatenate([p.numeric[name][1] for p in parts if name in p.numeric])
        distinct, inverse = np.unique(values, return_inverse=True)
        total.numeric[name] = (distinct, np.bincount(inverse, weights=counts).astype(np.int64))
    return total


def read_values_of(conn: sa.Connection, ids: Sequence[int], name: str) -> dict[int, Value]:
    """One feature's value (a slice dimension's) for each of `ids`."""
    out: dict[int, Value] = {}
    column = feature_column(name)
    for start in range(0, len(ids), 500):
        chunk = [int(i) for i in ids[start : start + 500]]
        query = (
            sa.select(interactions.c.interaction_id, column)
            .select_from(interactions.outerjoin(interaction_features))
            .where(interactions.c.interaction_id.in_(chunk))
        )
        out.update({iid: value for iid, value in conn.execute(query)})
    return out
