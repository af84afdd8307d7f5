from __future__ import annotations

from liveeval.evaluators import estimate_tokens, full_input, model_output, user_input
from liveeval.model import Message
from tests.evaluators.interactions import interaction


def test_user_input_is_the_last_user_message() -> None:
    item = interaction(
        None,
        None,
        input_text="SYSTEM: be nice\nUSER: first",
        input_messages=(
            Message("system", "be nice"),
            Message("user", "first"),
            Message("assistant", "answer"),
            Message("user", "second"),
            Message("tool", "result"),
        ),
    )
    assert user_input(item) == "second"
    assert full_input(item) == "be nice\nfirst\nanswer\nsecond\nresult"


def test_user_input_falls_back_to_input_text() -> None:
    assert user_input(interaction(None, None, input_messages=(), input_text="plain")) == "plain"
    assert user_input(interaction(None, None, input_messages=())) == ""


def test_model_output_prefers_output_text_then_assistant_messages() -> None:
    assert model_output(interaction("q", "text")) == "text"
    messages = (Message("assistant", "one"), Message("tool", "x"), Message("model", "two"))
    assert model_output(interaction("q", None, output_messages=messages)) == "one\ntwo"
    assert model_output(interaction("q", None)) == ""


def test_token_estimate_is_utf8_bytes_over_four() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd") == 1
    assert estimate_tokens("abcde") == 2
    assert estimate_tokens("退货政策") == 3  # 12 bytes
