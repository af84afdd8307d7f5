import math

import pytest

from liveeval.ingest.content import (
    build_usage,
    coerce_cost,
    coerce_count,
    coerce_float,
    coerce_id,
    coerce_str,
    coerce_strs,
    collect_finish_reasons,
    collect_tool_calls,
    decode_chat_message,
    decode_choices,
    decode_json,
    decode_metadata,
    decode_tool_calls,
    dump_arguments,
    extract_text,
    first_count,
    first_text,
    group_indexed,
    joined_text,
    last_user_text,
)
from liveeval.model import Message, TokenUsage, ToolCall


def test_decode_json_parses_strings_and_bytes_and_passes_structures_through() -> None:
    assert decode_json('{"a": [1, 2]}') == {"a": [1, 2]}
    assert decode_json(b'["x"]') == ["x"]
    assert decode_json([{"a": 1}]) == [{"a": 1}]


def test_decode_json_returns_none_for_malformed_text() -> None:
    assert decode_json('[{"role": "user", "parts": [') is None
    assert decode_json(b"\xff\xfe") is None
    assert decode_json("[" * 100_000) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("abc", "abc"), ("", None), (42, None), (True, None), (["a"], None), (None, None)],
)
def test_coerce_str_accepts_only_non_empty_strings(value: object, expected: str | None) -> None:
    assert coerce_str(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc", "abc"),
        ("", None),
        (42, "42"),
        (1.5, "1.5"),
        (True, None),
        (math.nan, None),
        (["a"], None),
        ({"a": 1}, None),
        (None, None),
    ],
)
def test_coerce_id_accepts_strings_and_numbers(value: object, expected: str | None) -> None:
    assert coerce_id(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, 12),
        (0, 0),
        (12.0, 12),
        ("12", 12),
        (" 7 ", 7),
        ("7.0", 7),
        (12.5, None),
        (-3, None),
        ("many", None),
        (True, None),
        (math.inf, None),
        ([12], None),
        (None, None),
    ],
)
def test_coerce_count(value: object, expected: int | None) -> None:
    assert coerce_count(value) == expected


def test_coerce_float_reads_numbers_and_numeric_strings_with_their_sign() -> None:
    assert coerce_float(0.25) == 0.25
    assert coerce_float(3) == 3.0
    assert coerce_float("-0.5") == -0.5
    assert coerce_float("nan") is None
    assert coerce_float(False) is None
    assert coerce_float("cheap") is None


def test_coerce_cost_rejects_negative_costs() -> None:
    assert coerce_cost("0.0012") == 0.0012
    assert coerce_cost(-1.0) is None
    assert coerce_cost(None) is None


def test_coerce_strs_reads_lists_single_strings_and_json_lists() -> None:
    assert coerce_strs(["stop", 3, "", "length"]) == ("stop", "length")
    assert coerce_strs(("a",)) == ("a",)
    assert coerce_strs("stop") == ("stop",)
    assert coerce_strs('["a", "b"]') == ("a", "b")
    assert coerce_strs("[not json") == ("[not json",)
    assert coerce_strs("") == ()
    assert coerce_strs(7) == ()


def test_decode_metadata_keeps_objects_and_wraps_anything_else() -> None:
    assert decode_metadata('{"tenant": "acme", "n": 2}') == {"tenant": "acme", "n": 2}
    assert decode_metadata({"a": 1}) == {"a": 1}
    assert decode_metadata("[1, 2]") == {"value": "[1, 2]"}
    assert decode_metadata("{broken") == {"value": "{broken"}
    assert decode_metadata(5) == {"value": 5}
    assert decode_metadata(None) is None
    assert decode_metadata("") is None


def test_dump_arguments_keeps_strings_and_serialises_structures() -> None:
    assert dump_arguments('{"city": "Paris"}') == '{"city": "Paris"}'
    assert dump_arguments({"city": "Zürich"}) == '{"city": "Zürich"}'
    assert dump_arguments(None) is None


def test_extract_text_reads_strings_part_lists_and_nested_dicts() -> None:
    assert extract_text("hi") == "hi"
    parts = [
        {"type": "text", "text": "Look at"},
        {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
        {"type": "input_text", "text": "this"},
    ]
    assert extract_text(parts) == "Look at\nthis"
    assert extract_text({"text": {"value": "azure agents"}}) == "azure agents"
    assert extract_text([{"type": "text", "content": "semconv part"}]) == "semconv part"
    assert extract_text([{"type": "reasoning", "content": "hidden"}]) is None
    assert extract_text(42) is None


def test_extract_text_stops_at_deep_nesting() -> None:
    nested: object = "deep"
    for _ in range(50):
        nested = {"text": nested}
    assert extract_text(nested) is None


def test_group_indexed_orders_indexes_numerically() -> None:
    attributes = {
        "m.10.role": "ten",
        "m.9.role": "nine",
        "m.0.role": "zero",
        "m.0.content": "hello",
        "m.x.role": "not an index",
        "mm.1.role": "other prefix",
        "m.2": "no key after the index",
    }
    assert group_indexed(attributes, "m") == [
        {"role": "zero", "content": "hello"},
        {"role": "nine"},
        {"role": "ten"},
    ]


def test_decode_tool_calls_reads_openai_shapes_and_skips_nameless_calls() -> None:
    value = [
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}},
        {"id": "call_2", "function": {"name": "g", "arguments": {"b": 2}}},
        {"id": "call_3", "function": {}},
        "junk",
    ]
    assert decode_tool_calls(value) == (
        ToolCall(name="f", arguments='{"a":1}', id="call_1"),
        ToolCall(name="g", arguments='{"b": 2}', id="call_2"),
    )
    assert decode_tool_calls('[{"function": {"name": "h"}}]') == (ToolCall(name="h"),)
    assert decode_tool_calls("not json") == ()


def test_decode_chat_message_reads_an_openai_message() -> None:
    assert decode_chat_message({"role": "tool", "content": "18C", "id": "call_1"}, "user") == (
        Message(role="tool", content="18C", tool_call_id="call_1")
    )
    assert decode_chat_message({"content": "hi", "name": "ann"}, "user") == Message(
        role="user", content="hi", name="ann"
    )
    assert decode_chat_message("hi", "user") is None


def test_decode_choices_reads_chat_and_completion_choices() -> None:
    choices = [
        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "A"}},
        {"index": 1, "finish_reason": "length", "text": "B"},
        {"finish_reason": "stop", "content": "C"},
        "junk",
    ]
    assert decode_choices(choices) == (
        Message(role="assistant", content="A", finish_reason="stop"),
        Message(role="assistant", content="B", finish_reason="length"),
        Message(role="assistant", content="C", finish_reason="stop"),
    )
    assert decode_choices({"not": "a list"}) == ()


def test_message_summaries() -> None:
    call = ToolCall(name="f", id="1")
    messages = (
        Message(role="system", content="Be brief."),
        Message(role="user", content="first"),
        Message(role="assistant", content=None, tool_calls=(call,), finish_reason="tool_calls"),
        Message(role="user", content="second"),
    )
    assert last_user_text(messages) == "second"
    assert last_user_text(messages[:1]) is None
    assert joined_text(messages) == "Be brief.\nfirst\nsecond"
    assert first_text(messages) == "Be brief."
    assert first_text(()) is None
    assert collect_tool_calls(messages) == (call,)
    assert collect_finish_reasons(messages) == ("tool_calls",)


def test_build_usage_sums_the_total_only_when_missing() -> None:
    assert build_usage(input=10, output=5) == TokenUsage(input=10, output=5, total=15)
    assert build_usage(input=10, output=5, total=20).total == 20
    assert build_usage(input=10, output=None).total is None


def test_first_count_takes_the_first_readable_key() -> None:
    attributes = {"a": "n/a", "b": 7, "c": 9}
    assert first_count(attributes, ("missing", "a", "b", "c")) == 7
    assert first_count(attributes, ("missing",)) is None
