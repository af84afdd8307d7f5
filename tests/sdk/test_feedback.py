import math
from collections.abc import Callable
from typing import Any

import pytest

from liveeval.sdk import SignalClient, feedback, signal
from tests.sdk.conftest import BOUND, SignalServer

TRACE = "0af7651916cd43dd8448eb211c80319c"
MakeClient = Callable[..., SignalClient]


def sent(server: SignalServer, client: SignalClient) -> list[dict[str, Any]]:
    assert client.flush(BOUND)
    return [
        {k: v for k, v in s.items() if k not in ("idempotency_key", "at")} for s in server.accepted
    ]


def test_each_feedback_kind_sends_its_own_fields(
    server: SignalServer, make_client: MakeClient
) -> None:
    client = make_client(server.url)
    feedback("thumbs_up", trace_id=TRACE, client=client)
    feedback("thumbs_down", response_id="chatcmpl-1", comment="wrong", client=client)
    feedback("rating", interaction_id=3, value=4, user_id="u-1", client=client)
    feedback("comment", trace_id=TRACE, comment="said via comment=", client=client)
    feedback("comment", trace_id=TRACE, text="said via text=", client=client)
    feedback("report", trace_id=TRACE, reason="rude", category="safety", client=client)
    assert sent(server, client) == [
        {"kind": "thumbs_up", "trace_id": TRACE},
        {"kind": "thumbs_down", "response_id": "chatcmpl-1", "comment": "wrong"},
        {"kind": "rating", "interaction_id": 3, "value": 4, "user_id": "u-1"},
        {"kind": "comment", "trace_id": TRACE, "text": "said via comment="},
        {"kind": "comment", "trace_id": TRACE, "text": "said via text="},
        {"kind": "report", "trace_id": TRACE, "reason": "rude", "category": "safety"},
    ]


def test_each_signal_kind_sends_its_own_fields(
    server: SignalServer, make_client: MakeClient
) -> None:
    client = make_client(server.url)
    signal("regenerated", trace_id=TRACE, client=client)
    signal("abandoned", trace_id=TRACE, reason="closed tab", client=client)
    signal("escalated", trace_id=TRACE, client=client)
    signal("rephrased", trace_id=TRACE, new_input="where's my parcel", client=client)
    signal("edited", trace_id=TRACE, draft="Hi", final="Hello", client=client)
    signal("schema_invalid", trace_id=TRACE, error="missing field", client=client)
    signal("outcome", trace_id=TRACE, success=True, metadata={"order": 7}, client=client)
    assert sent(server, client) == [
        {"kind": "regenerated", "trace_id": TRACE},
        {"kind": "abandoned", "trace_id": TRACE, "reason": "closed tab"},
        {"kind": "escalated", "trace_id": TRACE},
        {"kind": "rephrased", "trace_id": TRACE, "new_input": "where's my parcel"},
        {"kind": "edited", "trace_id": TRACE, "draft": "Hi", "final": "Hello"},
        {"kind": "schema_invalid", "trace_id": TRACE, "error": "missing field"},
        {"kind": "outcome", "trace_id": TRACE, "success": True, "metadata": {"order": 7}},
    ]


def test_an_opentelemetry_int_trace_id_is_sent_as_hex(
    server: SignalServer, make_client: MakeClient
) -> None:
    client = make_client(server.url)
    feedback("thumbs_up", trace_id=int(TRACE, 16), client=client)
    assert sent(server, client)[0]["trace_id"] == TRACE


def test_feedback_returns_the_idempotency_key_it_sent(
    server: SignalServer, make_client: MakeClient
) -> None:
    client = make_client(server.url)
    key = feedback("thumbs_up", trace_id=TRACE, client=client)
    assert client.flush(BOUND)
    assert server.received_keys() == [key]


class _Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


GARBAGE: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = [
    (feedback, ("thumbs_sideways",), {"trace_id": TRACE}),
    (feedback, (None,), {"trace_id": TRACE}),
    (feedback, (["thumbs_up"],), {"trace_id": TRACE}),
    (feedback, ("thumbs_up",), {}),
    (feedback, ("thumbs_up",), {"trace_id": "not-a-trace"}),
    (feedback, ("thumbs_up",), {"trace_id": object()}),
    (feedback, ("thumbs_up",), {"trace_id": _Unprintable()}),
    (feedback, ("rating",), {"trace_id": TRACE, "value": "5"}),
    (feedback, ("rating",), {"trace_id": TRACE, "value": math.nan}),
    (feedback, ("thumbs_up",), {"trace_id": TRACE, "commment": "typo"}),
    (feedback, ("thumbs_up",), {"trace_id": TRACE, "metadata": {"x": object()}}),
    (feedback, ("thumbs_up",), {"trace_id": TRACE, "metadata": {"x": math.inf}}),
    (feedback, ("thumbs_up",), {"trace_id": TRACE, "at": "not a time"}),
    (signal, ("thumbs_up",), {"trace_id": TRACE}),
    (signal, ("outcome",), {"trace_id": TRACE, "success": "yes"}),
    (signal, ("edited",), {"trace_id": TRACE, "draft": b"bytes", "final": "x"}),
    (signal, ("abandoned",), {"interaction_id": True}),
]


@pytest.mark.parametrize(("send", "args", "kwargs"), GARBAGE)
def test_bad_arguments_are_logged_and_dropped_never_raised(
    send: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client("http://127.0.0.1:9")
    assert send(*args, client=client, **kwargs) is None
    assert "liveeval: dropped a" in caplog.text
    assert client.stats().queued == 0


def test_a_client_that_breaks_does_not_break_the_app(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(SignalClient):
        def enqueue(self, body: Any) -> str | None:
            raise RuntimeError("bug in the client")

    assert feedback("thumbs_up", trace_id=TRACE, client=Broken("http://127.0.0.1:9")) is None
    assert "bug in the client" in caplog.text
