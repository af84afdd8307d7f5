"""What a check says about one interaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's verdict on one interaction.

    `value` is 1.0 or 0.0 for a plain pass or fail, a graded score in [0, 1]
    where the check grades (grounding support), or None where it has no number
    to give (an error, or a language check that could not tell). `label` is a
    short tag ("pass", "fail", "refusal", "de->en", "error"), `explanation` one
    readable sentence, `details` the machine-readable evidence.
    """

    name: str
    passed: bool
    value: float | None
    label: str | None
    explanation: str
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def pass_(
        cls, name: str, explanation: str, details: dict[str, Any] | None = None, label: str = "pass"
    ) -> CheckResult:
        return cls(name, True, 1.0, label, explanation, details or {})

    @classmethod
    def fail(
        cls, name: str, explanation: str, details: dict[str, Any] | None = None, label: str = "fail"
    ) -> CheckResult:
        return cls(name, False, 0.0, label, explanation, details or {})

    @classmethod
    def error(cls, name: str, error: BaseException | str) -> CheckResult:
        """A check that could not run: failed, no value, label "error", the reason in details."""
        reason = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        return cls(
            name, False, None, "error", f"The check did not run: {reason}", {"error": reason}
        )
