from __future__ import annotations

import dataclasses

import pytest

from liveeval.evaluators import CheckResult


def test_pass_and_fail_carry_a_value_and_a_label() -> None:
    assert CheckResult.pass_("x", "ok.") == CheckResult("x", True, 1.0, "pass", "ok.", {})
    failed = CheckResult.fail("x", "no.", {"why": 1}, label="empty")
    assert (failed.passed, failed.value, failed.label, failed.details) == (
        False,
        0.0,
        "empty",
        {"why": 1},
    )


def test_an_error_has_no_value_and_says_why() -> None:
    error = CheckResult.error("x", KeyError("answer"))
    assert (error.passed, error.value, error.label) == (False, None, "error")
    assert error.details == {"error": "KeyError: 'answer'"}
    assert error.explanation == "The check did not run: KeyError: 'answer'"


def test_results_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        CheckResult.pass_("x", "ok.").passed = False  # type: ignore[misc]
