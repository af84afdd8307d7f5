from __future__ import annotations

import os

import sqlalchemy as sa

from liveeval.store.database import Store
from liveeval.store.schema import spans
from liveeval.store.span_payloads import compress_payload, expand_payload
from liveeval.store.telemetry import insert_spans, load_stored_spans
from tests.telemetry import T0, chat_attributes, model_span, trace_id


def test_a_compressed_payload_expands_to_the_same_bytes() -> None:
    for protobuf in (b"", b"\n\x10" + os.urandom(16), os.urandom(5000), b"x" * 100_000):
        assert expand_payload(compress_payload(protobuf)) == protobuf


def test_a_payload_stored_before_compression_reads_as_it_was() -> None:
    span = model_span(chat_attributes("Where is my parcel?", "On its way."), trace=trace_id())
    assert span.protobuf[0] != 0  # a protobuf message never starts with field 0
    assert expand_payload(span.protobuf) == span.protobuf
    assert expand_payload(b"") == b""


def test_a_chat_span_is_stored_in_much_fewer_bytes_than_its_protobuf() -> None:
    question = "Could you tell me where my parcel is? I ordered it on Monday, with express."
    answer = "It left the depot this morning and should reach you by Thursday."
    span = model_span(chat_attributes(question, answer), trace=trace_id())
    assert len(compress_payload(span.protobuf)) < len(span.protobuf) * 0.75


def test_stored_spans_read_back_their_exact_protobuf_old_rows_too(store: Store) -> None:
    trace = trace_id()
    new, old = (
        model_span(chat_attributes(f"Question {n}? " * 20, "Answer."), trace=trace, project="shop")
        for n in (1, 2)
    )
    with store.writing() as conn:
        insert_spans(conn, [new, old], ["llm", "llm"], T0)
        # a row written before payloads were compressed: the protobuf as it came
        conn.execute(
            spans.update().where(spans.c.span_id == old.span_id).values(payload=old.protobuf)
        )
    with store.reading() as conn:
        stored = conn.execute(
            sa.select(spans.c.span_id, spans.c.payload).where(spans.c.trace_id == trace)
        ).all()
        loaded = load_stored_spans(conn, "shop", [trace])
    assert dict(stored)[new.span_id] != new.protobuf  # compressed on disk
    assert sorted(s.payload for s in loaded) == sorted([new.protobuf, old.protobuf])
