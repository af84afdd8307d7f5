"""User-defined text checks: regex, contains, not_contains, on the output or the input."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, PrivateAttr, field_validator

from liveeval.evaluators.registry import CheckParams, register_check
from liveeval.evaluators.result import CheckResult
from liveeval.evaluators.texts import model_output, user_input
from liveeval.model import Interaction

Target = Literal["output", "input"]


def _text(interaction: Interaction, target: Target) -> str:
    return model_output(interaction) if target == "output" else user_input(interaction)


class RegexParams(CheckParams):
    pattern: str = Field(description="A Python regular expression, searched anywhere.")
    target: Target = "output"
    ignore_case: bool = False
    expect: Literal["match", "no_match"] = Field(
        default="match", description='"no_match": pass only when the pattern does not occur.'
    )
    _compiled: re.Pattern[str] = PrivateAttr()

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return pattern

    def model_post_init(self, context: Any, /) -> None:
        self._compiled = re.compile(self.pattern, re.IGNORECASE if self.ignore_case else 0)

    @property
    def compiled(self) -> re.Pattern[str]:
        return self._compiled


@register_check("regex", params=RegexParams)
def regex(interaction: Interaction, params: RegexParams) -> CheckResult:
    """The pattern occurs in the text (or, with expect = "no_match", does not)."""
    match = params.compiled.search(_text(interaction, params.target))
    details: dict[str, Any] = {"target": params.target, "pattern": params.pattern}
    if match is not None:
        details["match"] = match.group(0)[:200]
        details["offset"] = match.start()
    found = f"found {match.group(0)[:80]!r}" if match else "not found"
    explanation = f"The {params.target} pattern {params.pattern!r}: {found}."
    if (match is not None) == (params.expect == "match"):
        return CheckResult.pass_("regex", explanation, details)
    return CheckResult.fail("regex", explanation, details)


class ValuesParams(CheckParams):
    values: tuple[str, ...] = Field(description="Strings to look for (a single string is fine).")
    target: Target = "output"
    ignore_case: bool = True

    @field_validator("values", mode="before")
    @classmethod
    def _one_or_many(cls, values: Any) -> Any:
        return (values,) if isinstance(values, str) else values

    @field_validator("values")
    @classmethod
    def _not_empty(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if not values or not all(values):
            raise ValueError("give at least one non-empty string")
        return values


class ContainsParams(ValuesParams):
    require: Literal["all", "any"] = Field(
        default="all", description="Every value must occur, or at least one."
    )


def _occurring(interaction: Interaction, params: ValuesParams) -> tuple[list[str], list[str]]:
    text = _text(interaction, params.target)
    if params.ignore_case:
        text = text.casefold()
        present = [v for v in params.values if v.casefold() in text]
    else:
        present = [v for v in params.values if v in text]
    return present, [v for v in params.values if v not in present]


@register_check("contains", params=ContainsParams)
def contains(interaction: Interaction, params: ContainsParams) -> CheckResult:
    """The text contains all (or any) of the values."""
    present, missing = _occurring(interaction, params)
    details = {"target": params.target, "present": present, "missing": missing}
    ok = not missing if params.require == "all" else bool(present)
    if ok:
        return CheckResult.pass_(
            "contains", f"The {params.target} contains {', '.join(map(repr, present))}.", details
        )
    return CheckResult.fail(
        "contains", f"The {params.target} lacks {', '.join(map(repr, missing))}.", details
    )


@register_check("not_contains", params=ValuesParams)
def not_contains(interaction: Interaction, params: ValuesParams) -> CheckResult:
    """The text contains none of the values."""
    present, _ = _occurring(interaction, params)
    details = {"target": params.target, "present": present}
    if present:
        return CheckResult.fail(
            "not_contains",
            f"The {params.target} contains {', '.join(map(repr, present))}.",
            details,
        )
    return CheckResult.pass_(
        "not_contains",
        f"The {params.target} contains none of the {len(params.values)} values.",
        details,
    )
