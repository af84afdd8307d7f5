import json
from typing import Any

import pytest

from liveeval.sdk import messages
from liveeval.sdk.messages import dump_json, input_messages, output_messages, system_instructions


def test_a_plain_string_is_one_user_message_of_one_text_part() -> None:
    assert input_messages("hi") == [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]


def test_openai_style_messages_become_parts() -> None:
    converted = input_messages(
        [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "a"}, "b"]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": '{"order": 7}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "shipped"},
        ]
    )
    assert converted == [
        {"role": "system", "parts": [{"type": "text", "content": "be brief"}]},
        {
            "role": "user",
            "parts": [{"type": "text", "content": "a"}, {"type": "text", "content": "b"}],
        },
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "call_1", "name": "lookup", "arguments": {"order": 7}}
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "call_1", "response": "shipped"}],
        },
    ]


def test_anthropic_content_blocks_become_tool_parts() -> None:
    converted = input_messages(
        [
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {"x": 1}}],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}],
            },
        ]
    )
    assert converted[0]["parts"] == [
        {"type": "tool_call", "id": "t1", "name": "f", "arguments": {"x": 1}}
    ]
    assert converted[1]["parts"] == [{"type": "tool_call_response", "id": "t1", "response": "ok"}]


def test_messages_already_in_the_parts_schema_pass_through() -> None:
    message = {"role": "user", "parts": [{"type": "uri", "uri": "https://x/y.png"}]}
    assert input_messages([message]) == [message]


def test_arguments_that_are_not_json_stay_a_string() -> None:
    call = {"id": "c", "function": {"name": "f", "arguments": "{not json"}}
    converted = input_messages([{"role": "assistant", "tool_calls": [call]}])
    assert converted[0]["parts"][0]["arguments"] == "{not json"


def test_objects_with_model_dump_are_read_as_dicts() -> None:
    class ChatCompletionMessage:
        def model_dump(self, *, exclude_none: bool = False) -> dict[str, object]:
            return {"role": "assistant", "content": "hello"}

    assert output_messages(ChatCompletionMessage(), "stop") == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "hello"}],
            "finish_reason": "stop",
        }
    ]


def test_output_messages_carry_a_finish_reason_unless_they_have_their_own() -> None:
    converted = output_messages(
        ["first", {"role": "assistant", "content": "second", "finish_reason": "length"}], "stop"
    )
    assert [m["finish_reason"] for m in converted] == ["stop", "length"]
    assert converted[0]["role"] == "assistant"


def test_system_instructions_are_a_list_of_parts() -> None:
    assert system_instructions("be brief") == [{"type": "text", "content": "be brief"}]
    assert system_instructions(["a", {"type": "text", "text": "b"}]) == [
        {"type": "text", "content": "a"},
        {"type": "text", "content": "b"},
    ]


def test_dump_json_keeps_unicode_and_writes_odd_objects_as_strings() -> None:
    text = dump_json({"content": "héllo", "when": object})
    assert json.loads(text)["content"] == "héllo"
    assert "héllo" in text
    assert json.loads(text)["when"].startswith("<class")


@pytest.mark.parametrize(
    "value",
    [
        'Where is "order" 7?\n\u00e9\u4e2d\U0001f600 \\ \x00',
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi \u00e9"}],
        [{"role": "user", "content": ""}],
        [],
        [{"role": "", "content": "no role"}],
        [{"role": "tool", "content": "4", "tool_call_id": "c1"}],
        [{"role": "user", "content": [{"type": "text", "text": "blocks"}]}],
        [{"role": "user", "content": "a", "name": "ann"}],
        ({"role": "user", "content": "a tuple"},),
    ],
)
def test_the_direct_json_matches_the_converted_messages(value: Any) -> None:
    assert messages.input_json(value) == messages.dump_json(messages.input_messages(value))
    assert messages.output_json(value, "length") == messages.dump_json(
        messages.output_messages(value, "length")
    )
