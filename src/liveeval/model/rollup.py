"""Rollups: the sums kept per time bucket and slice, and how they combine.

A bucket's `Aggregate` is built from its raw interactions, signals and scores
(`aggregate_bucket`), stored as one row per slice, and summed again over any range
of buckets and any slice dimension (`Aggregate.add`, `liveeval.monitor.rollup.sum_by`).
Everything a rule needs, from a rate to a p95 latency or a judge-score interval, is a
function of these sums. The store writes and reads them; the monitor, the gate and the
dashboard read them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from liveeval.model.slices import SliceValues
from liveeval.stats.histogram import LATENCY_EDGES_MS, bucket_index
from liveeval.stats.means import Moments
from liveeval.stats.quality import ScoreSummary

BAD_SCORE = 2.0  # a judge score at or below this counts as bad
# What a provider appends to an alias to name a snapshot: -2024-08-06, -20241022, -0613.
_DATED = re.compile(r"[-@](\d{4}-\d{2}-\d{2}|\d{8}|\d{4})(-v\d+(:\d+)?)?")


@dataclass(slots=True)
class Aggregate:
    """Sums over a set of interactions (a bucket, a window, a slice)."""

    interactions: int = 0
    errors: int = 0
    latency_ms_sum: float = 0.0
    latency_hist: dict[int, int] = field(default_factory=dict)
    cost_usd_sum: float = 0.0
    cost_n: int = 0
    model_mismatch: int = 0
    check_failed: int = 0
    judge_errors: int = 0
    signals: dict[str, int] = field(default_factory=dict)  # interactions with the kind
    edit_ratio_sum: float = 0.0
    edit_ratio_n: int = 0
    scores: dict[str, ScoreSummary] = field(default_factory=dict)

    def add(self, other: Aggregate) -> None:
        """Add `other` into this one (in place: windows sum thousands of rows)."""
        self.interactions += other.interactions
        self.errors += other.errors
        self.latency_ms_sum += other.latency_ms_sum
        hist = self.latency_hist  # plain dict loops: cheaper than Counter.update
        for index, count in other.latency_hist.items():
            hist[index] = hist.get(index, 0) + count
        self.cost_usd_sum += other.cost_usd_sum
        self.cost_n += other.cost_n
        self.model_mismatch += other.model_mismatch
        self.check_failed += other.check_failed
        self.judge_errors += other.judge_errors
        signals = self.signals
        for kind, count in other.signals.items():
            signals[kind] = signals.get(kind, 0) + count
        self.edit_ratio_sum += other.edit_ratio_sum
        self.edit_ratio_n += other.edit_ratio_n
        for name, summary in other.scores.items():
            mine = self.scores.get(name)
            self.scores[name] = summary if mine is None else mine + summary

    def latency_counts(self) -> list[int]:
        counts = [0] * (len(LATENCY_EDGES_MS) + 1)
        for index, count in self.latency_hist.items():
            counts[index] += count
        return counts

    def to_columns(self) -> dict[str, Any]:
        """The stored form (JSON-ready)."""
        return {
            "interactions": self.interactions,
            "errors": self.errors,
            "latency_ms_sum": self.latency_ms_sum,
            "latency_hist": {str(k): v for k, v in sorted(self.latency_hist.items())},
            "cost_usd_sum": self.cost_usd_sum,
            "cost_n": self.cost_n,
            "model_mismatch": self.model_mismatch,
            "check_failed": self.check_failed,
            "judge_errors": self.judge_errors,
            "signals": dict(sorted(self.signals.items())),
            "edit_ratio_sum": self.edit_ratio_sum,
            "edit_ratio_n": self.edit_ratio_n,
            "scores": {name: _score_columns(s) for name, s in sorted(self.scores.items())},
        }

    @classmethod
    def from_columns(cls, row: Mapping[str, Any]) -> Aggregate:
        return cls(
            interactions=row["interactions"],
            errors=row["errors"],
            latency_ms_sum=row["latency_ms_sum"],
            latency_hist={int(k): v for k, v in row["latency_hist"].items()},
            cost_usd_sum=row["cost_usd_sum"],
            cost_n=row["cost_n"],
            model_mismatch=row["model_mismatch"],
            check_failed=row["check_failed"],
            judge_errors=row["judge_errors"],
            signals=row["signals"],
            edit_ratio_sum=row["edit_ratio_sum"],
            edit_ratio_n=row["edit_ratio_n"],
            scores={name: _score_summary(v) for name, v in row["scores"].items()},
        )


def _score_columns(summary: ScoreSummary) -> list[Any]:
    m = summary.moments
    levels = {str(k): v for k, v in sorted(summary.level_counts.items())}
    return [m.n, m.total, m.total_sq, summary.bad, levels]


def _score_summary(value: Sequence[Any]) -> ScoreSummary:
    n, total, total_sq, bad, levels = value
    counts = {_level(k): c for k, c in levels.items()}
    return ScoreSummary(Moments(n, total, total_sq), counts, bad, BAD_SCORE)


def _level(key: str) -> int:
    return int(float(key))


@dataclass(frozen=True, slots=True)
class RawInteraction:
    """The columns of one interaction that rollups read."""

    interaction_id: int
    slice: SliceValues
    status: str
    latency_ms: float
    cost_usd: float | None
    model_requested: str | None
    model_served: str | None


@dataclass(frozen=True, slots=True)
class RawSignal:
    interaction_id: int
    kind: str
    value: float | None


@dataclass(frozen=True, slots=True)
class RawScore:
    interaction_id: int
    name: str
    kind: str  # check | judge | human | external
    status: str
    value: float | None
    passed: bool | None  # checks only
    binary: bool = False  # judge scores of a binary rubric: 0 is bad, 1 is not


def aggregate_bucket(
    interactions: Iterable[RawInteraction],
    signals: Iterable[RawSignal],
    scores: Iterable[RawScore],
) -> dict[SliceValues, Aggregate]:
    """One bucket's sums per slice."""
    slice_of: dict[int, SliceValues] = {}
    out: dict[SliceValues, Aggregate] = defaultdict(Aggregate)
    for row in interactions:
        slice_of[row.interaction_id] = row.slice
        agg = out[row.slice]
        agg.interactions += 1
        agg.errors += row.status == "error"
        agg.latency_ms_sum += row.latency_ms
        index = bucket_index(max(row.latency_ms, 0.0), LATENCY_EDGES_MS)
        agg.latency_hist[index] = agg.latency_hist.get(index, 0) + 1
        if row.cost_usd is not None:
            agg.cost_usd_sum += row.cost_usd
            agg.cost_n += 1
        agg.model_mismatch += model_mismatch(row.model_requested, row.model_served)
    seen: set[tuple[int, str]] = set()
    for signal in signals:
        where = slice_of.get(signal.interaction_id)
        if where is None:
            continue
        agg = out[where]
        if (signal.interaction_id, signal.kind) not in seen:
            seen.add((signal.interaction_id, signal.kind))
            agg.signals[signal.kind] = agg.signals.get(signal.kind, 0) + 1
        if signal.kind == "edited" and signal.value is not None:
            agg.edit_ratio_sum += signal.value
            agg.edit_ratio_n += 1
    _add_scores(out, slice_of, scores)
    return dict(out)


def _add_scores(
    out: dict[SliceValues, Aggregate],
    slice_of: Mapping[int, SliceValues],
    scores: Iterable[RawScore],
) -> None:
    failed: set[int] = set()
    judge_failed: set[int] = set()
    values: dict[tuple[SliceValues, str], list[float]] = defaultdict(list)
    bad: dict[tuple[SliceValues, str], int] = defaultdict(int)
    for score in scores:
        where = slice_of.get(score.interaction_id)
        if where is None:
            continue
        if score.kind == "check":
            if score.status == "ok" and score.passed is False:
                failed.add(score.interaction_id)
        elif score.kind == "judge":
            if score.status == "error":
                judge_failed.add(score.interaction_id)
            elif score.value is not None:
                values[(where, score.name)].append(score.value)
                low = score.value <= 0.0 if score.binary else score.value <= BAD_SCORE
                bad[(where, score.name)] += low
    for iid in failed:
        out[slice_of[iid]].check_failed += 1
    for iid in judge_failed:
        out[slice_of[iid]].judge_errors += 1
    for (where, name), scored in values.items():
        summary = ScoreSummary.of_values(scored, bad_at=BAD_SCORE)
        out[where].scores[name] = replace(summary, bad=bad[(where, name)])


def model_mismatch(requested: str | None, served: str | None) -> bool:
    """The provider served another model than the one asked for.

    An alias resolving to a dated version ("gpt-4o" → "gpt-4o-2024-08-06") is not a
    mismatch; a pinned version answered by another version is.
    """
    if not requested or not served or served == requested:
        return False
    suffix = served[len(requested) :] if served.startswith(requested) else None
    return suffix is None or _DATED.fullmatch(suffix) is None


def collapse(rows: Iterable[tuple[SliceValues, Aggregate]]) -> list[tuple[SliceValues, Aggregate]]:
    """One row per slice: a range's minute and hour rows summed once, so the many
    `sum_by` calls of a tick add tens of rows, not thousands."""
    out: dict[SliceValues, Aggregate] = {}
    for values, agg in rows:
        mine = out.get(values)
        if mine is None:
            out[values] = mine = Aggregate()
        mine.add(agg)
    return list(out.items())
