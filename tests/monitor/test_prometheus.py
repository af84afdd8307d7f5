"""The text exposition renderer, read back by prometheus_client's own parser, and the
label-cardinality cap."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from statistics import fmean
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.parser import text_string_to_metric_families

from liveeval.monitor.prometheus import (
    CONTENT_TYPE,
    Gauge,
    Sample,
    cap_cardinality,
    check_label_name,
    check_metric_name,
    render,
    sanitize_label_name,
    sanitize_metric_name,
)
from tests.conftest import DATASETS

label_values = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
finite_or_not = st.floats(allow_nan=True, allow_infinity=True)


def parse(text: str) -> dict[str, Any]:
    """name → (type, documentation, [(labels, value)]) as prometheus_client reads it."""
    return {
        family.name: (
            family.type,
            family.documentation,
            [(sample.labels, sample.value) for sample in family.samples],
        )
        for family in text_string_to_metric_families(text)
    }


def same_value(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def reference_text(families: Sequence[Gauge]) -> str:
    """The same gauges written by prometheus_client's own exposition code."""

    class Collector:
        def collect(self) -> Iterator[Metric]:
            for family in families:
                names = sorted({name for s in family.samples for name in s.labels})
                metric = GaugeMetricFamily(family.name, family.help, labels=names)
                for sample in family.samples:
                    metric.add_metric([sample.labels[name] for name in names], sample.value)
                yield metric

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Collector())  # type: ignore[arg-type]
    return generate_latest(registry).decode()


def test_content_type_is_the_0_0_4_text_format() -> None:
    assert CONTENT_TYPE == CONTENT_TYPE_PLAIN_0_0_4


def test_render_matches_prometheus_client_for_slice_gauges() -> None:
    families = [
        Gauge(
            "liveeval_sli_judge_mean",
            "Rolling judge mean per slice.\nScale 1\\5.",
            [
                Sample({"route": "/chat", "model_served": "gpt-4o-mini"}, 4.25),
                Sample({"route": '/say "hi"\\now\n', "model_served": "claude"}, 3.5),
                Sample({"route": "/empty", "model_served": "none"}, float("nan")),
            ],
        ),
        Gauge("liveeval_queue_depth", "Jobs waiting.", [Sample({}, 12.0)]),
    ]
    assert render(families) == reference_text(families)


def test_escaped_label_values_and_help_round_trip_through_the_parser() -> None:
    route = 'a\\b "quoted"\nnext line ünïcødé {x="y"}'
    text = render(
        [Gauge("liveeval_rate", 'help "with" \\ and\nnewline', [Sample({"route": route}, 0.5)])]
    )
    assert parse(text) == {
        "liveeval_rate": ("gauge", 'help "with" \\ and\nnewline', [({"route": route}, 0.5)])
    }


def test_nan_and_infinities_are_written_as_the_format_spells_them() -> None:
    samples = [Sample({"s": "nan"}, math.nan), Sample({"s": "up"}, math.inf)]
    samples.append(Sample({"s": "down"}, -math.inf))
    text = render([Gauge("liveeval_x", "x", samples)])

    assert text.splitlines()[2:] == [
        'liveeval_x{s="nan"} NaN',
        'liveeval_x{s="up"} +Inf',
        'liveeval_x{s="down"} -Inf',
    ]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(label_values, finite_or_not), max_size=8, unique_by=lambda p: p[0]))
def test_any_label_value_and_float_reads_back_unchanged(pairs: list[tuple[str, float]]) -> None:
    family = Gauge("liveeval_any", "any", [Sample({"slice": v}, x) for v, x in pairs])
    (samples,) = (entry[2] for entry in parse(render([family])).values())

    assert [labels["slice"] for labels, _ in samples] == [v for v, _ in pairs]
    assert all(same_value(read, x) for (_, read), (_, x) in zip(samples, pairs, strict=True))


def test_real_pii_texts_as_label_values_read_back_unchanged() -> None:
    records = json.loads((DATASETS / "pii" / "synth_dataset_v2.json").read_text())
    values = sorted({span["entity_value"] for r in records for span in r["spans"]})[:400]
    assert any("\n" in v for v in values)  # the data does exercise escaping
    family = Gauge(
        "liveeval_pii", "pii", [Sample({"text": v}, float(i)) for i, v in enumerate(values)]
    )

    (samples,) = (entry[2] for entry in parse(render([family])).values())
    assert samples == [({"text": v}, float(i)) for i, v in enumerate(values)]


def test_counter_family_is_typed_counter() -> None:
    text = render([Gauge("liveeval_signals_total", "Signals.", [Sample({}, 3)], kind="counter")])
    assert "# TYPE liveeval_signals_total counter\n" in text
    assert parse(text)["liveeval_signals"][0] == "counter"


@pytest.mark.parametrize("name", ["", "1abc", "a-b", "a b", "é", "a{b}"])
def test_invalid_metric_names_are_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="metric name"):
        render([Gauge(name, "x", [])])


@pytest.mark.parametrize("name", ["", "1x", "a:b", "a-b", "__name__", "__x"])
def test_invalid_or_reserved_label_names_are_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="label name"):
        render([Gauge("liveeval_x", "x", [Sample({name: "v"}, 1.0)])])


def test_repeated_family_or_label_set_is_rejected() -> None:
    with pytest.raises(ValueError, match="twice"):
        render([Gauge("liveeval_x", "x", []), Gauge("liveeval_x", "y", [])])
    twice = [Sample({"a": "1", "b": "2"}, 1.0), Sample({"b": "2", "a": "1"}, 2.0)]
    with pytest.raises(ValueError, match="two samples"):
        render([Gauge("liveeval_x", "x", twice)])


@settings(deadline=None)
@given(st.text(max_size=30))
def test_sanitized_names_are_always_valid(text: str) -> None:
    check_metric_name(sanitize_metric_name(text))
    check_label_name(sanitize_label_name(text))


def test_sanitize_keeps_valid_names_and_fixes_common_ones() -> None:
    assert sanitize_metric_name("liveeval_sli:p95") == "liveeval_sli:p95"
    assert sanitize_metric_name("p95 latency (ms)") == "p95_latency__ms_"
    assert sanitize_metric_name("95th") == "_95th"
    assert sanitize_label_name("model.version") == "model_version"
    assert sanitize_label_name("__reserved") == "x__reserved"


# --- cardinality cap -------------------------------------------------------------


def route_samples(traffic: dict[str, float]) -> list[Sample]:
    return [Sample({"route": route, "kind": "queue"}, n) for route, n in traffic.items()]


def test_cap_keeps_the_heaviest_values_and_sums_the_rest_into_other() -> None:
    traffic = {f"/r{i}": float(n) for i, n in enumerate([5, 90, 3, 40, 70, 1, 8, 60])}
    capped = cap_cardinality(route_samples(traffic), "route", 3)

    expected_kept = [route for route, _ in Counter(traffic).most_common(3)]
    rest = [n for route, n in traffic.items() if route not in expected_kept]
    assert {s.labels["route"] for s in capped[:-1]} == set(expected_kept)
    assert capped[-1] == Sample({"route": "__other__", "kind": "queue"}, math.fsum(rest))
    assert [s.labels["route"] for s in capped[:-1]] == [r for r in traffic if r in expected_kept]


def test_cap_ranks_by_the_given_weight_not_the_values() -> None:
    rates = {"/a": 0.9, "/b": 0.1, "/c": 0.5, "/d": 0.2}
    traffic = {"/a": 10.0, "/b": 5000.0, "/c": 300.0, "/d": 4000.0}
    capped = cap_cardinality(route_samples(rates), "route", 2, weight=traffic, combine=fmean)

    assert [s.labels["route"] for s in capped] == ["/b", "/d", "__other__"]
    assert capped[-1].value == pytest.approx(fmean([0.9, 0.5]))


def test_cap_folds_per_combination_of_the_other_labels() -> None:
    samples = [
        Sample({"route": route, "model": model}, float(n))
        for n, (route, model) in enumerate(
            [("/a", "m1"), ("/a", "m2"), ("/b", "m1"), ("/c", "m1"), ("/c", "m2"), ("/d", "m2")]
        )
    ]
    capped = cap_cardinality(samples, "route", 1, weight={"/a": 9, "/b": 1, "/c": 2, "/d": 3})

    others = {s.labels["model"]: s.value for s in capped if s.labels["route"] == "__other__"}
    assert others == {"m1": 2.0 + 3.0, "m2": 4.0 + 5.0}
    assert [s.labels["route"] for s in capped[:2]] == ["/a", "/a"]


def test_cap_leaves_few_values_and_unlabelled_samples_alone() -> None:
    samples = [*route_samples({"/a": 1.0, "/b": 2.0}), Sample({"kind": "total"}, 3.0)]
    assert cap_cardinality(samples, "route", 2) == samples
    assert cap_cardinality(samples, "route", 0) == [
        samples[2],
        Sample({"route": "__other__", "kind": "queue"}, 3.0),
    ]
    with pytest.raises(ValueError):
        cap_cardinality(samples, "route", -1)


def test_cap_on_real_entity_types_keeps_the_most_frequent() -> None:
    records = json.loads((DATASETS / "pii" / "synth_dataset_v2.json").read_text())
    counts = Counter(span["entity_type"] for r in records for span in r["spans"])
    samples = [Sample({"entity_type": kind}, float(n)) for kind, n in counts.items()]

    capped = cap_cardinality(samples, "entity_type", 5)
    kept = {s.labels["entity_type"]: s.value for s in capped[:-1]}
    folded = [n for kind, n in counts.items() if kind not in kept]
    assert len(counts) > 5 and len(kept) == 5
    assert min(kept.values()) >= max(folded)
    assert capped[-1].value == sum(folded)
    assert sum(s.value for s in capped) == counts.total()


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(st.text(max_size=5), st.integers(0, 1000), max_size=30),
    st.integers(0, 10),
)
def test_cap_bounds_the_values_and_keeps_the_total(traffic: dict[str, int], n: int) -> None:
    samples = [Sample({"route": r}, float(x)) for r, x in traffic.items() if r != "__other__"]
    capped = cap_cardinality(samples, "route", n)

    assert len({s.labels["route"] for s in capped}) <= n + 1
    assert sum(s.value for s in capped) == sum(s.value for s in samples)
    assert render([Gauge("liveeval_capped", "capped", capped)])  # still one series per label set
