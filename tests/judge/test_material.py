from __future__ import annotations

import pytest

from liveeval.judge.material import (
    context_documents,
    conversation,
    looks_like_refusal,
    response_text,
)
from liveeval.model import Message, ToolCall
from tests.judge.api import interaction


def test_messages_win_over_plain_text_and_tool_calls_are_shown() -> None:
    item = interaction(
        input_text="ignored",
        input_messages=(
            Message("system", "Be brief."),
            Message("user", "Weather in Oslo?"),
            Message("assistant", None, tool_calls=(ToolCall("weather", '{"city":"Oslo"}'),)),
            Message("tool", ""),
        ),
    )
    assert [(t.role, t.text) for t in conversation(item)] == [
        ("system", "Be brief."),
        ("user", "Weather in Oslo?"),
        ("assistant", '[tool call] weather({"city":"Oslo"})'),
    ]


def test_plain_text_is_one_user_turn_and_the_output_text_is_the_response() -> None:
    item = interaction("Hi?", "Hello.", context=("doc a", "", "doc b"))
    assert [(t.role, t.text) for t in conversation(item)] == [("user", "Hi?")]
    assert response_text(item) == "Hello."
    assert context_documents(item) == ["doc a", "doc b"]


@pytest.mark.parametrize(
    ("output", "refusal"),
    [
        ("I can't help with that request.", True),
        ("I’m sorry, but I cannot share that.", True),
        ("I cannot provide instructions for that.", True),
        ("As an AI, I do not have opinions.", True),
        ("I won't do that.", True),
        ("The capital of France is Paris.", False),
        ("Cannot is a word; the answer is 4.", False),
    ],
)
def test_refusals_are_guessed_from_their_usual_phrases(output: str, refusal: bool) -> None:
    assert looks_like_refusal(interaction(output_text=output)) is refusal
