from __future__ import annotations

from liveeval.evaluators.empty import NotEmptyParams, not_empty
from liveeval.model import Message, ToolCall
from tests.evaluators.interactions import interaction


def test_text_passes() -> None:
    result = not_empty(interaction("q", "Hello."), NotEmptyParams())
    assert (result.passed, result.value, result.label) == (True, 1.0, "pass")


def test_empty_and_whitespace_fail() -> None:
    for answer, words in (("", "empty"), (" \n\t", "only whitespace")):
        result = not_empty(interaction("q", answer), NotEmptyParams())
        assert result is not None
        assert (result.passed, result.value, result.label) == (False, 0.0, "empty")
        assert result.explanation == f"The output is {words}."


def test_a_message_without_text_is_an_empty_answer() -> None:
    """What openai-v2 records when the model answered null: a message with no parts."""
    item = interaction("q", None, output_messages=(Message("assistant", None),))
    result = not_empty(item, NotEmptyParams())
    assert result is not None and (result.passed, result.label) == (False, "empty")


def test_output_messages_count_when_output_text_is_missing() -> None:
    item = interaction("q", None, output_messages=(Message("assistant", "From messages."),))
    assert not_empty(item, NotEmptyParams()).passed


def test_tool_calls_are_an_answer_unless_told_otherwise() -> None:
    call = Message("assistant", None, tool_calls=(ToolCall("lookup_order", '{"id": 7}'),))
    item = interaction("q", None, output_messages=(call,))
    result = not_empty(item, NotEmptyParams())
    assert (result.passed, result.label) == (True, "tool_calls")
    assert not not_empty(item, NotEmptyParams(allow_tool_calls=False)).passed


def test_a_failed_call_is_an_error_not_an_empty_answer() -> None:
    item = interaction("q", "", status="error", error="upstream timeout")
    assert not_empty(item, NotEmptyParams()) is None
