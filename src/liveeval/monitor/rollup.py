"""Rollup rows summed into the slices a rule or a page asks for."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from liveeval.model.rollup import Aggregate
from liveeval.model.slices import DIMENSIONS, SliceValues


def sum_by(
    rows: Iterable[tuple[SliceValues, Aggregate]], dimensions: Sequence[str]
) -> dict[tuple[str | None, ...], Aggregate]:
    """Sum rows into the slices of `dimensions` (empty: one total under the key ())."""
    positions = [DIMENSIONS.index(d) for d in dimensions]
    out: dict[tuple[str | None, ...], Aggregate] = defaultdict(Aggregate)
    for values, agg in rows:
        out[tuple(values[p] for p in positions)].add(agg)
    return dict(out)
