from __future__ import annotations

import math
from typing import Any

import pytest

from liveeval.sampling import confidence_from_metadata, lowered_by_checks


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"liveeval.confidence": 0.8}, 0.8),
        ({"liveeval.confidence": "0.25"}, 0.25),
        ({"liveeval.confidence": 1}, 1.0),
        ({"liveeval.mean_logprob": -0.5}, math.exp(-0.5)),
        ({"gen_ai.response.mean_logprob": "-1.25"}, math.exp(-1.25)),
        ({"liveeval.mean_logprob": 0.0}, 1.0),
        ({"liveeval.mean_logprob": 1e-9}, 1.0),
        ({}, None),
        ({"other": 0.5}, None),
    ],
)
def test_confidence_is_read_from_span_attributes(
    metadata: dict[str, Any], expected: float | None
) -> None:
    assert confidence_from_metadata(metadata) == expected


def test_an_explicit_confidence_wins_over_a_logprob() -> None:
    metadata = {"liveeval.confidence": 0.9, "liveeval.mean_logprob": -3.0}
    assert confidence_from_metadata(metadata) == 0.9


def test_the_liveeval_logprob_wins_over_the_gen_ai_one() -> None:
    metadata = {"gen_ai.response.mean_logprob": -3.0, "liveeval.mean_logprob": -0.1}
    assert confidence_from_metadata(metadata) == math.exp(-0.1)


@pytest.mark.parametrize(
    "bad",
    [1.5, -0.1, "high", True, None, float("nan"), float("inf"), [0.5], {"v": 0.5}],
)
def test_an_unusable_confidence_falls_through_to_the_next_attribute(bad: object) -> None:
    assert confidence_from_metadata({"liveeval.confidence": bad}) is None
    fallback = {"liveeval.confidence": bad, "liveeval.mean_logprob": -0.2}
    assert confidence_from_metadata(fallback) == math.exp(-0.2)


@pytest.mark.parametrize("bad", [0.5, "x", float("-inf"), False])
def test_an_impossible_logprob_is_skipped(bad: object) -> None:
    assert confidence_from_metadata({"liveeval.mean_logprob": bad}) is None


def test_each_failed_check_multiplies_the_confidence_by_the_factor() -> None:
    assert lowered_by_checks(0.8, 0, 0.5) == 0.8
    assert lowered_by_checks(0.8, 1, 0.5) == 0.4
    assert lowered_by_checks(0.8, 2, 0.5) == 0.2


def test_an_unknown_confidence_counts_as_certain_only_once_a_check_failed() -> None:
    assert lowered_by_checks(None, 0, 0.5) is None
    assert lowered_by_checks(None, 1, 0.5) == 0.5
