"""figures.py: money and plain numbers as people read them."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liveeval.figures import money_text, number_text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "–"),
        (math.nan, "–"),
        (0.0, "$0"),
        (0.0007, "$0.0007"),
        (1.5149999999999999e-05, "$0.000015"),
        (0.00123, "$0.0012"),
        (0.015, "$0.015"),
        (0.153, "$0.15"),
        (1.5199, "$1.52"),
        (12.5, "$12.50"),
        (1234.4, "$1,234"),
        (-2.5, "-$2.50"),
    ],
)
def test_money_shows_small_amounts_with_significant_digits(value: float | None, text: str) -> None:
    assert money_text(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "–"),
        (math.nan, "–"),
        (math.inf, "∞"),
        (0.0, "0"),
        (0.5333333333333333, "0.533"),
        (1.5e-05, "0.000015"),
        (0.05, "0.05"),
        (0.1 + 0.2, "0.3"),
        (4.56789, "4.57"),
        (12.345, "12.3"),
        (123.45, "123"),
        (1234.5, "1,234"),
        (3.0, "3"),
        (-0.25, "-0.25"),
    ],
)
def test_numbers_have_three_significant_digits_and_no_exponent(
    value: float | None, text: str
) -> None:
    assert number_text(value) == text


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
def test_no_number_is_written_in_e_notation_or_as_a_long_float(value: float) -> None:
    for text in (number_text(value), money_text(value)):
        assert "e" not in text.lower()
        assert len(text) <= 20
    if abs(value) >= 1e-12:
        assert money_text(value) not in ("$0", "-$0")
        assert number_text(value) not in ("0", "-0")
