"""Rollup sums (model/rollup.py): what a bucket counts, how sums combine, the stored form.

Expected values are worked out from the raw rows each test writes, with numpy's
histogram and mean as references, never read back from the implementation.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveeval.model.rollup import (
    BAD_SCORE,
    Aggregate,
    RawInteraction,
    RawScore,
    RawSignal,
    aggregate_bucket,
    model_mismatch,
)
from liveeval.model.slices import DIMENSIONS, SliceValues
from liveeval.monitor.rollup import sum_by
from liveeval.stats.histogram import LATENCY_EDGES_MS, bucket_counts


def slice_of(
    model_served: str = "gpt-4o-2024-08-06",
    language: str | None = "en",
    route: str = "support",
) -> SliceValues:
    values = {
        "model_requested": "gpt-4o",
        "model_served": model_served,
        "prompt_version": "v1",
        "route": route,
        "segment": None,
        "language": language,
    }
    return tuple(values[d] for d in DIMENSIONS)


EN = slice_of(language="en")
DE = slice_of(language="de")


def interaction(
    iid: int,
    where: SliceValues = EN,
    *,
    status: str = "ok",
    latency_ms: float = 100.0,
    cost_usd: float | None = 0.01,
    requested: str | None = "gpt-4o",
    served: str | None = "gpt-4o-2024-08-06",
) -> RawInteraction:
    return RawInteraction(iid, where, status, latency_ms, cost_usd, requested, served)


def judge(iid: int, value: float | None, name: str = "helpfulness", status: str = "ok") -> RawScore:
    return RawScore(iid, name, "judge", status, value, None)


def check(iid: int, passed: bool | None, status: str = "ok", name: str = "schema") -> RawScore:
    return RawScore(iid, name, "check", status, None, passed)


def total(parts: dict[SliceValues, Aggregate]) -> Aggregate:
    out = Aggregate()
    for agg in parts.values():
        out.add(agg)
    return out


def plus(*aggregates: Aggregate) -> Aggregate:
    out = Aggregate()
    for agg in aggregates:
        out.add(agg)
    return out


# --- aggregate_bucket: what one bucket counts -------------------------------------------


def test_aggregate_bucket_counts_interactions_and_errors_per_slice():
    rows = [
        interaction(1, EN),
        interaction(2, EN, status="error"),
        interaction(3, DE, status="error"),
        interaction(4, DE, status="unset"),
        interaction(5, EN),
    ]
    out = aggregate_bucket(rows, [], [])
    assert set(out) == {EN, DE}
    assert (out[EN].interactions, out[EN].errors) == (3, 1)
    assert (out[DE].interactions, out[DE].errors) == (2, 1)


def test_latency_histogram_equals_numpy_bucket_counts_of_the_latencies():
    rng = np.random.default_rng(7)
    latencies = np.concatenate(
        [
            rng.lognormal(6.5, 1.0, 500),
            [0.0, 1.0, 1.259, 1.26, LATENCY_EDGES_MS[-1], LATENCY_EDGES_MS[-1] + 1, 5e6],
        ]
    )
    rows = [interaction(i, latency_ms=float(v)) for i, v in enumerate(latencies)]
    agg = aggregate_bucket(rows, [], [])[EN]
    assert agg.latency_counts() == bucket_counts(latencies, LATENCY_EDGES_MS).tolist()
    assert agg.latency_ms_sum == pytest.approx(float(latencies.sum()))


def test_cost_sums_only_interactions_with_a_known_cost():
    rows = [
        interaction(1, cost_usd=0.25),
        interaction(2, cost_usd=None),
        interaction(3, cost_usd=0.5),
        interaction(4, cost_usd=0.0),
    ]
    agg = aggregate_bucket(rows, [], [])[EN]
    assert (agg.cost_usd_sum, agg.cost_n) == (0.75, 3)


def test_signals_count_interactions_so_two_regenerations_of_one_count_once():
    rows = [interaction(1, EN), interaction(2, EN), interaction(3, DE)]
    signals = [
        RawSignal(1, "regenerated", None),
        RawSignal(1, "regenerated", None),
        RawSignal(2, "regenerated", None),
        RawSignal(1, "thumbs_down", None),
        RawSignal(3, "regenerated", None),
        RawSignal(99, "regenerated", None),  # not in this bucket
    ]
    out = aggregate_bucket(rows, signals, [])
    assert out[EN].signals == Counter({"regenerated": 2, "thumbs_down": 1})
    assert out[DE].signals == Counter({"regenerated": 1})


def test_edit_ratios_sum_the_values_of_edited_signals():
    rows = [interaction(1), interaction(2), interaction(3)]
    signals = [
        RawSignal(1, "edited", 0.25),
        RawSignal(2, "edited", 0.5),
        RawSignal(3, "edited", None),  # no ratio: counted as edited, not in the mean
        RawSignal(3, "outcome", 1.0),  # another kind's value is no edit ratio
    ]
    agg = aggregate_bucket(rows, signals, [])[EN]
    assert (agg.edit_ratio_sum, agg.edit_ratio_n) == (0.75, 2)
    assert agg.signals["edited"] == 3


def test_check_failures_count_interactions_whose_check_passed_false():
    rows = [interaction(i) for i in range(1, 6)]
    scores = [
        check(1, False),
        check(1, False, name="length"),  # a second failed check: still one interaction
        check(2, True),
        check(3, None),  # no verdict
        check(4, False, status="error"),  # the check itself failed to run
        check(5, False),
    ]
    agg = aggregate_bucket(rows, [], scores)[EN]
    assert agg.check_failed == 2


def test_judge_errors_count_interactions_and_stay_out_of_the_score_summary():
    rows = [interaction(1), interaction(2), interaction(3)]
    scores = [
        judge(1, None, status="error"),
        judge(1, None, name="faithfulness", status="error"),
        judge(2, 4.0),
        judge(3, None, status="error"),
    ]
    agg = aggregate_bucket(rows, [], scores)[EN]
    assert agg.judge_errors == 2
    assert agg.scores["helpfulness"].n == 1


def test_judge_score_summaries_are_kept_per_name_and_per_slice():
    rng = np.random.default_rng(3)
    helpful = rng.integers(1, 6, 40).astype(float)
    faithful = rng.integers(1, 6, 40).astype(float) - 0.5
    rows = [interaction(i, EN if i % 2 else DE) for i in range(40)]
    scores = [judge(i, helpful[i]) for i in range(40)]
    scores += [judge(i, faithful[i], name="faithfulness") for i in range(40)]
    scores += [RawScore(i, "helpfulness", "human", "ok", 1.0, None) for i in range(40)]
    out = aggregate_bucket(rows, [], scores)
    for where, parity in ((EN, 1), (DE, 0)):
        for name, values in (("helpfulness", helpful), ("faithfulness", faithful)):
            mine = values[np.arange(40) % 2 == parity]
            summary = out[where].scores[name]
            assert summary.n == mine.size
            assert summary.moments.mean == pytest.approx(float(np.mean(mine)))
            assert summary.moments.std == pytest.approx(float(np.std(mine, ddof=1)))
            assert summary.bad == int(np.sum(mine <= BAD_SCORE))
            assert sum(summary.level_counts.values()) == mine.size


def test_rows_of_other_buckets_are_ignored():
    scores = [judge(7, 5.0), check(7, False), judge(8, None, status="error")]
    out = aggregate_bucket([interaction(1)], [RawSignal(7, "regenerated", None)], scores)
    agg = out[EN]
    assert (agg.interactions, agg.check_failed, agg.judge_errors) == (1, 0, 0)
    assert agg.scores == {} and agg.signals == Counter()


# --- model_mismatch --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "served"),
    [
        ("gpt-4o", "gpt-4o-2024-08-06"),
        ("gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
        ("claude-3-5-sonnet", "claude-3-5-sonnet-20241022"),
        ("gpt-4o-2024-08-06", "gpt-4o-2024-08-06"),
        (None, "gpt-4o-2024-08-06"),
        ("gpt-4o", None),
    ],
)
def test_an_alias_answered_by_its_dated_version_is_not_a_mismatch(requested, served):
    assert model_mismatch(requested, served) is False


@pytest.mark.parametrize(
    ("requested", "served"),
    [
        ("gpt-4o-2024-05-13", "gpt-4o-2024-08-06"),
        ("claude-3-5-sonnet-20240620", "claude-3-5-sonnet-20241022"),
        ("gpt-4o", "gpt-4-turbo-2024-04-09"),
    ],
)
def test_a_pinned_version_answered_by_another_is_a_mismatch(requested, served):
    assert model_mismatch(requested, served) is True


@pytest.mark.parametrize(
    ("requested", "served"),
    [("gpt-4o", "gpt-4o-mini-2024-07-18"), ("gpt-4", "gpt-4-turbo-2024-04-09")],
)
def test_an_alias_answered_by_a_different_model_of_the_same_prefix_is_a_mismatch(requested, served):
    assert model_mismatch(requested, served) is True


def test_model_mismatches_are_counted_per_interaction():
    rows = [
        interaction(1, requested="gpt-4o", served="gpt-4o-2024-08-06"),
        interaction(2, requested="gpt-4o-2024-05-13", served="gpt-4o-2024-08-06"),
        interaction(3, requested="gpt-4o-2024-05-13", served="gpt-4o-2024-05-13"),
        interaction(4, requested="o1-2024-12-17", served="gpt-4o-2024-08-06"),
    ]
    assert aggregate_bucket(rows, [], [])[EN].model_mismatch == 2


# --- random buckets: stored form, sum_by, addition ------------------------------------

MODELS = ("gpt-4o-2024-08-06", "gpt-4o-2024-05-13")
LANGUAGES = ("en", "de", None)
ROUTES = ("support", "sales")
KINDS = ("regenerated", "edited", "thumbs_down", "escalated")


@dataclass(frozen=True)
class Bucket:
    """Raw rows of one bucket. Values are dyadic (k/4, k/64, whole ms), so float sums are
    exact in any order and sums can be compared with ==."""

    interactions: list[RawInteraction]
    signals: list[RawSignal]
    scores: list[RawScore]

    def only(self, ids: set[int]) -> Bucket:
        return Bucket(
            [r for r in self.interactions if r.interaction_id in ids],
            [s for s in self.signals if s.interaction_id in ids],
            [s for s in self.scores if s.interaction_id in ids],
        )

    def aggregate(self) -> dict[SliceValues, Aggregate]:
        return aggregate_bucket(self.interactions, self.signals, self.scores)


@st.composite
def buckets(draw: st.DrawFn, max_interactions: int = 30) -> Bucket:
    """A bucket of up to `max_interactions` interactions with signals and scores, generated
    from a drawn seed (two draws instead of hundreds: fast, and replayable)."""
    n = draw(st.integers(0, max_interactions))
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    rows, signals, scores = [], [], []
    for iid in range(n):
        where = slice_of(rng.choice(MODELS), rng.choice(LANGUAGES), rng.choice(ROUTES))
        rows.append(
            interaction(
                iid,
                where,
                status=rng.choice(("ok", "ok", "error")),
                latency_ms=float(rng.randint(0, 200_000)),
                cost_usd=rng.choice((None, rng.randint(0, 400) / 4)),
                requested=rng.choice(("gpt-4o", "gpt-4o-2024-05-13")),
                served=where[DIMENSIONS.index("model_served")],
            )
        )
        for kind in rng.choices(KINDS, k=rng.randint(0, 3)):
            ratio = rng.randint(0, 64) / 64 if kind == "edited" else None
            signals.append(RawSignal(iid, kind, ratio))
        for name in rng.choices(("helpfulness", "faithfulness"), k=rng.randint(0, 2)):
            if rng.random() < 0.7:
                scores.append(judge(iid, rng.randint(2, 10) / 2, name=name))
            else:
                scores.append(judge(iid, None, name=name, status="error"))
        if rng.random() < 0.5:
            scores.append(check(iid, rng.random() < 0.5))
    return Bucket(rows, signals, scores)


@settings(max_examples=60, deadline=None)
@given(buckets())
def test_stored_columns_read_back_to_the_same_aggregate(bucket):
    for agg in bucket.aggregate().values():
        stored = orjson.loads(orjson.dumps(agg.to_columns()))  # as the rollups table keeps it
        assert Aggregate.from_columns(stored) == agg


@settings(max_examples=60, deadline=None)
@given(buckets(), st.lists(st.sampled_from(DIMENSIONS), max_size=3, unique=True))
def test_sum_by_equals_a_direct_group_by_of_the_raw_rows(bucket, dimensions):
    summed = sum_by(bucket.aggregate().items(), dimensions)
    positions = [DIMENSIONS.index(d) for d in dimensions]
    key_of = {r.interaction_id: tuple(r.slice[p] for p in positions) for r in bucket.interactions}
    count: Counter[tuple[str | None, ...]] = Counter(key_of.values())
    errors = Counter(key_of[r.interaction_id] for r in bucket.interactions if r.status == "error")
    with_signal: dict[tuple[str | None, ...], set[tuple[int, str]]] = defaultdict(set)
    for s in bucket.signals:
        with_signal[key_of[s.interaction_id]].add((s.interaction_id, s.kind))
    judged: dict[tuple[tuple[str | None, ...], str], list[float]] = defaultdict(list)
    for s in bucket.scores:
        if s.kind == "judge" and s.status == "ok" and s.value is not None:
            judged[(key_of[s.interaction_id], s.name)].append(s.value)

    assert set(summed) == set(count)
    for key, agg in summed.items():
        assert agg.interactions == count[key]
        assert agg.errors == errors[key]
        assert agg.signals == Counter(kind for _, kind in with_signal[key])
        names = {name for (k, name) in judged if k == key}
        assert set(agg.scores) == names
        for name in names:
            values = np.array(judged[(key, name)])
            assert agg.scores[name].n == values.size
            assert agg.scores[name].moments.mean == float(np.mean(values))
    if not dimensions and bucket.interactions:
        assert list(summed) == [()]


def _partition(bucket: Bucket, cuts: Sequence[int]) -> list[Bucket]:
    ids = [r.interaction_id for r in bucket.interactions]
    bounds = [0, *sorted(min(c, len(ids)) for c in cuts), len(ids)]
    return [bucket.only(set(ids[a:b])) for a, b in itertools.pairwise(bounds)]


@settings(max_examples=60, deadline=None)
@given(buckets(), st.lists(st.integers(0, 30), min_size=2, max_size=2))
def test_summed_parts_equal_the_aggregate_of_the_concatenated_rows(bucket, cuts):
    a, b, c = (total(part.aggregate()) for part in _partition(bucket, cuts))
    whole = total(bucket.aggregate())
    assert plus(plus(a, b), c) == plus(a, plus(b, c))
    assert plus(plus(a, b), c) == whole
    assert plus(c, a, b) == whole


@settings(max_examples=50, deadline=None)
@given(buckets(), st.lists(st.integers(0, 30), min_size=2, max_size=2))
def test_summed_parts_equal_the_whole_in_every_slice(bucket, cuts):
    parts = [part.aggregate() for part in _partition(bucket, cuts)]
    rows = [(values, agg) for part in parts for values, agg in part.items()]
    assert sum_by(rows, DIMENSIONS) == bucket.aggregate()


def test_adding_leaves_the_added_aggregate_unchanged():
    bucket = Bucket(
        [interaction(1), interaction(2, latency_ms=5000.0)],
        [RawSignal(1, "regenerated", None)],
        [judge(1, 4.0), judge(2, 2.0)],
    )
    source = total(bucket.aggregate())
    before = orjson.dumps(source.to_columns())
    into = Aggregate()
    into.add(source)
    into.add(source)
    assert orjson.dumps(source.to_columns()) == before
    assert into.interactions == 4 and into.scores["helpfulness"].n == 4
