from __future__ import annotations

from liveeval.evaluators.empty import NotEmptyParams, not_empty
from liveeval.model import Message, ToolCall
from tests.evaluators.interactions import interaction


def test_text_passes() -> None:
    result = not_empty(interaction("q", "Hello."), NotEmptyParams())
    assert (result.passed, result.value, result.label) == (True, 1.0, "pass")


def test_empty_and_whitespace_fail() -> None:
    for answer, words in ((None, "empty"), ("", "empty"), (" \n\t", "only whitespace")):
        result = not_empty(interaction("q", answer), NotEmptyParams())
        assert (result.passed, result.value, result.label) == (False, 0.0, "empty")
        assert result.explanation == f"The output is {words}."


def test_output_messages_count_when_output_text_is_missing() -> None:
    item = interaction("q", None, output_messages=(Message("assistant", "From messages."),))
    assert not_empty(item, NotEmptyParams()).passed


def test_tool_calls_are_an_answer_unless_told_otherwise() -> None:
    call = Message("assistant", None, tool_calls=(ToolCall("lookup_order", '{"id": 7}'),))
    item = interaction("q", None, output_messages=(call,))
    result = not_empty(item, NotEmptyParams())
    assert (result.passed, result.label) == (True, "tool_calls")
    assert not not_empty(item, NotEmptyParams(allow_tool_calls=False)).passed


def test_a_failed_call_says_so() -> None:
    item = interaction("q", None, status="error", error="upstream timeout")
    result = not_empty(item, NotEmptyParams())
    assert not result.passed
    assert result.details["error"] == "upstream timeout"
    assert result.explanation == "The call failed and returned no output."
