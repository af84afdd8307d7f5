"""length: input and output size within bounds (chars and tokens), and no truncated output."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from liveeval.evaluators.registry import CheckParams, register_check
from liveeval.evaluators.result import CheckResult
from liveeval.evaluators.texts import estimate_tokens, full_input, model_output, user_input
from liveeval.model import Interaction

NAME = "length"
TRUNCATION_REASONS = frozenset({"length", "max_tokens", "max_output_tokens"})

Bound = int | None


class LengthParams(CheckParams):
    min_input_chars: Bound = Field(default=None, ge=0)
    max_input_chars: Bound = Field(default=None, ge=0)
    max_input_tokens: Bound = Field(default=None, ge=0)
    min_output_chars: Bound = Field(default=None, ge=0)
    max_output_chars: Bound = Field(default=None, ge=0)
    min_output_tokens: Bound = Field(default=None, ge=0)
    max_output_tokens: Bound = Field(default=None, ge=0)
    fail_on_truncation: bool = Field(
        default=True, description="Fail when the model stopped at its token limit."
    )

    @model_validator(mode="after")
    def _ordered(self) -> LengthParams:
        for side, unit in (("input", "chars"), ("output", "chars"), ("output", "tokens")):
            low = getattr(self, f"min_{side}_{unit}")
            high = getattr(self, f"max_{side}_{unit}")
            if low is not None and high is not None and low > high:
                raise ValueError(f"min_{side}_{unit} ({low}) exceeds max_{side}_{unit} ({high})")
        return self


def _tokens(reported: int | None, text: str) -> tuple[int, str]:
    return (reported, "usage") if reported is not None else (estimate_tokens(text), "estimate")


def _out_of_bounds(what: str, size: int, low: Bound, high: Bound) -> str | None:
    if low is not None and size < low:
        return f"{what} {size} < min {low}"
    if high is not None and size > high:
        return f"{what} {size} > max {high}"
    return None


@register_check(NAME, params=LengthParams)
def length(interaction: Interaction, params: LengthParams) -> CheckResult:
    """Input and output sizes within the configured bounds; output not cut off.

    Chars are the user's message and the model's answer. Tokens are the whole
    prompt and completion as `usage` reports them, else an estimate (UTF-8 bytes
    / 4); `details` says which.
    """
    output = model_output(interaction)
    input_chars = len(user_input(interaction))
    output_tokens, output_source = _tokens(interaction.usage.output, output)
    details: dict[str, Any] = {
        "input_chars": input_chars,
        "output_chars": len(output),
        "output_tokens": output_tokens,
        "output_tokens_source": output_source,
    }
    violations = [
        _out_of_bounds("input chars", input_chars, params.min_input_chars, params.max_input_chars),
        _out_of_bounds(
            "output chars", len(output), params.min_output_chars, params.max_output_chars
        ),
        _out_of_bounds(
            "output tokens", output_tokens, params.min_output_tokens, params.max_output_tokens
        ),
    ]
    if params.max_input_tokens is not None or interaction.usage.input is not None:
        input_tokens, input_source = _tokens(interaction.usage.input, full_input(interaction))
        details["input_tokens"] = input_tokens
        details["input_tokens_source"] = input_source
        violations.append(
            _out_of_bounds("input tokens", input_tokens, None, params.max_input_tokens)
        )
    truncated = any(reason.lower() in TRUNCATION_REASONS for reason in interaction.finish_reasons)
    details["truncated"] = truncated
    problems = [v for v in violations if v is not None]
    if truncated and params.fail_on_truncation:
        problems.append("output cut off at the token limit")
    if problems:
        details["violations"] = problems
        label = "truncated" if problems == ["output cut off at the token limit"] else "fail"
        return CheckResult.fail(NAME, "Out of bounds: " + "; ".join(problems) + ".", details, label)
    return CheckResult.pass_(
        NAME,
        f"Input {input_chars} chars, output {len(output)} chars and {output_tokens} tokens "
        f"({output_source}): within bounds.",
        details,
    )
