from __future__ import annotations

import pytest

from liveeval.evaluators.length import LengthParams, length
from liveeval.model import TokenUsage
from tests.evaluators.interactions import interaction


def test_within_bounds_passes_and_reports_sizes() -> None:
    item = interaction("How do I reset my password?", "Click 'Forgot password'.")
    result = length(item, LengthParams(max_output_chars=100, max_input_chars=100))
    assert (result.passed, result.value) == (True, 1.0)
    assert result.details["input_chars"] == 27
    assert result.details["output_chars"] == 24
    assert result.details["output_tokens"] == 6
    assert result.details["output_tokens_source"] == "estimate"


@pytest.mark.parametrize(
    ("params", "violation"),
    [
        ({"max_output_chars": 10}, "output chars 24 > max 10"),
        ({"min_output_chars": 50}, "output chars 24 < min 50"),
        ({"max_input_chars": 5}, "input chars 27 > max 5"),
        ({"min_input_chars": 30}, "input chars 27 < min 30"),
        ({"max_output_tokens": 3}, "output tokens 6 > max 3"),
        ({"min_output_tokens": 10}, "output tokens 6 < min 10"),
    ],
)
def test_each_bound_fails_with_its_reason(params: dict[str, int], violation: str) -> None:
    item = interaction("How do I reset my password?", "Click 'Forgot password'.")
    result = length(item, LengthParams.model_validate(params))
    assert (result.passed, result.label) == (False, "fail")
    assert result.details["violations"] == [violation]
    assert violation in result.explanation


def test_tokens_come_from_usage_when_reported() -> None:
    item = interaction("Hi there", "Hello!", usage=TokenUsage(input=1200, output=900))
    result = length(item, LengthParams(max_input_tokens=1000, max_output_tokens=1000))
    assert result.details["output_tokens"] == 900
    assert result.details["output_tokens_source"] == "usage"
    assert result.details["input_tokens_source"] == "usage"
    assert result.details["violations"] == ["input tokens 1200 > max 1000"]


def test_input_tokens_are_estimated_over_the_whole_prompt() -> None:
    item = interaction("x" * 400, "ok")
    result = length(item, LengthParams(max_input_tokens=50))
    assert result.details["input_tokens_source"] == "estimate"
    assert result.details["input_tokens"] == 108  # 28 system chars + newline + 400, / 4
    assert not result.passed


def test_output_cut_at_the_token_limit_fails() -> None:
    for reason in ("length", "max_tokens", "MAX_TOKENS"):
        item = interaction("Write an essay", "The history of", finish_reasons=(reason,))
        result = length(item, LengthParams())
        assert (result.passed, result.label) == (False, "truncated")
        assert result.details["truncated"] is True
    item = interaction("Write an essay", "The history of", finish_reasons=("length",))
    assert length(item, LengthParams(fail_on_truncation=False)).passed


def test_min_above_max_is_a_config_error() -> None:
    with pytest.raises(ValueError, match=r"min_output_chars \(10\) exceeds max_output_chars \(5\)"):
        LengthParams(min_output_chars=10, max_output_chars=5)
