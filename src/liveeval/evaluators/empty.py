"""not_empty: the model answered something (text, or a tool call).

A call that failed (a provider error) is an error, not an empty answer: the check does
not apply. Nor does it run where the span carried no content (see `run_check`).
"""

from __future__ import annotations

from liveeval.evaluators.registry import CheckParams, register_check
from liveeval.evaluators.result import CheckResult
from liveeval.evaluators.texts import model_output
from liveeval.model import Interaction

NAME = "not_empty"


class NotEmptyParams(CheckParams):
    allow_tool_calls: bool = True  # an output that is only tool calls is not empty


@register_check(NAME, params=NotEmptyParams)
def not_empty(interaction: Interaction, params: NotEmptyParams) -> CheckResult | None:
    """The output has visible text, or (by default) the model called a tool."""
    text = model_output(interaction)
    if text and not text.isspace():
        return CheckResult.pass_(NAME, "The output has text.", {"output_chars": len(text)})
    calls = len(interaction.tool_calls) or sum(
        len(m.tool_calls) for m in interaction.output_messages
    )
    if calls and params.allow_tool_calls:
        return CheckResult.pass_(
            NAME, f"The output is {calls} tool call(s).", {"tool_calls": calls}, label="tool_calls"
        )
    if interaction.status == "error":
        return None  # the error rate counts it; the model did not answer with nothing
    what = "only whitespace" if text else "empty"
    details = {"output_chars": len(text)}
    return CheckResult.fail(NAME, f"The output is {what}.", details, label="empty")
