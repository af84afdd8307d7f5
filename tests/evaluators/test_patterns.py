from __future__ import annotations

import pytest

from liveeval.evaluators.patterns import (
    ContainsParams,
    RegexParams,
    ValuesParams,
    contains,
    not_contains,
    regex,
)
from tests.evaluators.interactions import interaction

ITEM = interaction("Where is order ORD-1234?", "Your order ORD-1234 ships Monday. Thanks!")


def test_regex_searches_the_output_by_default() -> None:
    result = regex(ITEM, RegexParams(pattern=r"ORD-\d{4}"))
    assert (result.passed, result.details["match"]) == (True, "ORD-1234")
    assert not regex(ITEM, RegexParams(pattern=r"ord-\d{4}")).passed
    assert regex(ITEM, RegexParams(pattern=r"ord-\d{4}", ignore_case=True)).passed


def test_regex_on_the_input_and_expecting_no_match() -> None:
    assert regex(ITEM, RegexParams(pattern=r"^Where", target="input")).passed
    assert not regex(ITEM, RegexParams(pattern=r"^Where", target="output")).passed
    no_ssn = RegexParams(pattern=r"\b\d{3}-\d{2}-\d{4}\b", expect="no_match")
    assert regex(ITEM, no_ssn).passed
    leaked = interaction("q", "Your SSN is 123-45-6789.")
    assert not regex(leaked, no_ssn).passed


def test_contains_all_or_any_ignoring_case_by_default() -> None:
    assert contains(ITEM, ContainsParams(values=("thanks", "order"))).passed
    missing = contains(ITEM, ContainsParams(values=("thanks", "refund")))
    assert (missing.passed, missing.details["missing"]) == (False, ["refund"])
    assert contains(ITEM, ContainsParams(values=("thanks", "refund"), require="any")).passed
    assert not contains(ITEM, ContainsParams(values=("thanks",), ignore_case=False)).passed


def test_a_single_value_may_be_a_string() -> None:
    assert ContainsParams.model_validate({"values": "Monday"}).values == ("Monday",)


def test_not_contains_fails_on_any_value() -> None:
    result = not_contains(ITEM, ValuesParams(values=("competitor", "monday")))
    assert (result.passed, result.details["present"]) == (False, ["monday"])
    assert not_contains(ITEM, ValuesParams(values=("competitor",))).passed


@pytest.mark.parametrize(
    ("model", "values", "message"),
    [
        (RegexParams, {"pattern": "(unclosed"}, "not a regular expression"),
        (RegexParams, {"pattern": "x", "target": "context"}, "Input should be 'output' or 'input'"),
        (ContainsParams, {"values": []}, "at least one non-empty string"),
        (ValuesParams, {"values": ["a"], "require": "any"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_params_are_rejected(model: type, values: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        model.model_validate(values)
