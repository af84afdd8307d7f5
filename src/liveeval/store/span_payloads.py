"""Span payloads as stored: OTLP protobuf, deflated with a preset dictionary.

A payload is read only to re-assemble a trace or show a span, and most of its bytes are
the prompt and the completion, which the interaction keeps too: it is stored compressed.
The preset dictionary holds the attribute names and message JSON every GenAI span
repeats, so that even a short span compresses. A stored payload that starts with a 0
byte is compressed (its second byte names the dictionary); any other is the protobuf as
it was stored before (a protobuf message never starts with a 0 byte: field 0 does not
exist), so stores written before keep being read as they are.
"""

from __future__ import annotations

import zlib

COMPRESSED = 0
# Never change a dictionary once payloads were written with it: add one with a new number.
DICTIONARY_1 = 1

# Deflate finds the end of a dictionary cheapest: the commonest strings come last.
_DICTIONARIES = {
    DICTIONARY_1: (
        b"application/json text/plain openinference.span.kind LLM CHAIN RETRIEVER TOOL AGENT "
        b"EMBEDDING llm.model_name llm.provider llm.system llm.invocation_parameters "
        b"llm.input_messages.0.message.role llm.input_messages.0.message.content "
        b"llm.output_messages.0.message.role llm.output_messages.0.message.content "
        b"llm.token_count.prompt llm.token_count.completion llm.token_count.total "
        b"input.value input.mime_type output.value output.mime_type retrieval.documents "
        b"document.content document.id document.score tool.name tool.parameters "
        b"session.id user.id metadata tag.tags http.status_code error.type exception.message "
        b"exception.type exception.stacktrace gen_ai.system_instructions gen_ai.system "
        b"gen_ai.tool.name gen_ai.tool.call.id gen_ai.tool.call.arguments gen_ai.tool.type "
        b"gen_ai.prompt gen_ai.completion gen_ai.request.max_tokens gen_ai.request.top_p "
        b"gen_ai.request.seed gen_ai.output.type gen_ai.agent.name gen_ai.data_source.id "
        b"gen_ai.usage.cache_read.input_tokens gen_ai.usage.cache_creation.input_tokens "
        b"gen_ai.usage.reasoning.output_tokens liveeval.segment liveeval.tags "
        b"server.port server.address api.openai.com api.anthropic.com "
        b'{"type": "tool_call", "id": "call_", "name": "arguments": {"type": "tool_call_response", '
        b'"result": "response": "tool_calls": "function": "tool_call_id": "system", "tool", '
        b"gpt-4o-mini gpt-4o gpt-4.1 claude-sonnet-4 claude-3-5-sonnet gemini "
        b"liveeval.route liveeval.prompt.version gen_ai.conversation.id gen_ai.response.id resp-"
        b"gen_ai.request.temperature gen_ai.request.model gen_ai.response.model "
        b"gen_ai.provider.name openai anthropic gen_ai.operation.name chat "
        b"gen_ai.usage.input_tokens gen_ai.usage.output_tokens gen_ai.response.finish_reasons "
        b' the of and to in is that for it with as on was be by this are from or "}]}]'
        b'gen_ai.input.messages [{"role": "user", "parts": [{"type": "text", "content": "'
        b'gen_ai.output.messages [{"role": "assistant", "parts": [{"type": "text", "content": "'
        b'"}], "finish_reason": "stop"}]'
    ),
}


def compress_payload(protobuf: bytes) -> bytes:
    """The payload to store for a span's protobuf bytes."""
    deflate = zlib.compressobj(
        6, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY, _DICTIONARIES[DICTIONARY_1]
    )
    return bytes((COMPRESSED, DICTIONARY_1)) + deflate.compress(protobuf) + deflate.flush()


def expand_payload(stored: bytes) -> bytes:
    """The span's protobuf bytes, from a payload stored compressed or (before) as is."""
    if not stored or stored[0] != COMPRESSED:
        return stored
    inflate = zlib.decompressobj(-15, _DICTIONARIES[stored[1]])
    return inflate.decompress(stored[2:]) + inflate.flush()
