from datetime import UTC, datetime, timedelta, timezone

import pytest

from liveeval.sdk.bodies import (
    FEEDBACK_KINDS,
    SIGNAL_KINDS,
    SignalError,
    build_signal,
    format_trace_id,
)

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
TRACE = "0af7651916cd43dd8448eb211c80319c"


def test_a_thumbs_down_names_its_trace_and_gets_a_key_and_a_time() -> None:
    body = build_signal(
        "thumbs_down", FEEDBACK_KINDS, {"comment": "wrong"}, trace_id=TRACE, now=NOW
    )
    key = body.pop("idempotency_key")
    assert len(key) == 32 and int(key, 16) >= 0
    assert body == {
        "kind": "thumbs_down",
        "trace_id": TRACE,
        "comment": "wrong",
        "at": "2026-01-31T12:00:00+00:00",
    }


def test_every_signal_gets_its_own_idempotency_key() -> None:
    keys = {
        build_signal("thumbs_up", FEEDBACK_KINDS, {}, trace_id=TRACE, now=NOW)["idempotency_key"]
        for _ in range(100)
    }
    assert len(keys) == 100


def test_fields_that_are_none_are_left_out() -> None:
    body = build_signal(
        "regenerated", SIGNAL_KINDS, {"reason": None}, response_id="chatcmpl-1", now=NOW
    )
    assert "reason" not in body
    assert body["response_id"] == "chatcmpl-1"


def test_user_metadata_and_an_explicit_time_are_carried() -> None:
    at = datetime(2026, 1, 30, 9, 0, tzinfo=timezone(timedelta(hours=2)))
    body = build_signal(
        "outcome",
        SIGNAL_KINDS,
        {"success": False, "error": "refund failed"},
        interaction_id=42,
        user_id="u-1",
        metadata={"ticket": 7},
        at=at,
        now=NOW,
    )
    assert body["interaction_id"] == 42
    assert body["success"] is False
    assert body["error"] == "refund failed"
    assert body["user_id"] == "u-1"
    assert body["metadata"] == {"ticket": 7}
    assert body["at"] == "2026-01-30T09:00:00+02:00"


def test_an_opentelemetry_int_trace_id_is_written_as_32_hex_digits() -> None:
    assert format_trace_id(int(TRACE, 16)) == TRACE
    assert format_trace_id(1) == "0" * 31 + "1"
    assert format_trace_id(TRACE.upper()) == TRACE


@pytest.mark.parametrize("bad", ["abc", "0" * 32, 0, -1, 2**128, True, 1.5, None, "g" * 32])
def test_a_trace_id_that_is_not_one_is_refused(bad: object) -> None:
    with pytest.raises(SignalError, match="trace_id"):
        format_trace_id(bad)


@pytest.mark.parametrize(
    ("kind", "kinds", "fields", "target", "message"),
    [
        ("thumbs_sideways", FEEDBACK_KINDS, {}, {"trace_id": TRACE}, "is not one of"),
        ("regenerated", FEEDBACK_KINDS, {}, {"trace_id": TRACE}, "is not one of"),
        ("thumbs_up", FEEDBACK_KINDS, {}, {}, "name the interaction"),
        ("rating", FEEDBACK_KINDS, {}, {"trace_id": TRACE}, "rating needs value"),
        ("rating", FEEDBACK_KINDS, {"value": 6}, {"trace_id": TRACE}, "1 to 5"),
        ("rating", FEEDBACK_KINDS, {"value": True}, {"trace_id": TRACE}, "1 to 5"),
        ("rating", FEEDBACK_KINDS, {"value": 4.5}, {"trace_id": TRACE}, "1 to 5"),
        ("thumbs_up", FEEDBACK_KINDS, {"value": 3}, {"trace_id": TRACE}, "takes comment"),
        ("comment", FEEDBACK_KINDS, {"text": ""}, {"trace_id": TRACE}, "must not be empty"),
        ("report", FEEDBACK_KINDS, {}, {"trace_id": TRACE}, "report needs reason"),
        ("edited", SIGNAL_KINDS, {"draft": "a"}, {"trace_id": TRACE}, "edited needs final"),
        ("outcome", SIGNAL_KINDS, {"success": 1}, {"trace_id": TRACE}, "True or False"),
        ("abandoned", SIGNAL_KINDS, {"reason": 7}, {"trace_id": TRACE}, "reason must be a str"),
        ("abandoned", SIGNAL_KINDS, {}, {"interaction_id": "7"}, "interaction_id must be"),
        ("abandoned", SIGNAL_KINDS, {}, {"response_id": ""}, "must not be empty"),
        ("abandoned", SIGNAL_KINDS, {}, {"trace_id": TRACE, "metadata": [1]}, "metadata"),
        ("abandoned", SIGNAL_KINDS, {}, {"trace_id": TRACE, "at": "yesterday"}, "ISO 8601"),
        (
            "abandoned",
            SIGNAL_KINDS,
            {},
            {"trace_id": TRACE, "at": datetime(2026, 1, 1)},
            "no timezone",
        ),
    ],
)
def test_arguments_the_server_would_refuse_are_refused_precisely(
    kind: str,
    kinds: dict[str, object],
    fields: dict[str, object],
    target: dict[str, object],
    message: str,
) -> None:
    with pytest.raises(SignalError, match=message):
        build_signal(kind, kinds, fields, now=NOW, **target)  # type: ignore[arg-type]


def test_an_edit_may_start_from_an_empty_draft() -> None:
    body = build_signal(
        "edited", SIGNAL_KINDS, {"draft": "", "final": "Hello"}, trace_id=TRACE, now=NOW
    )
    assert (body["draft"], body["final"]) == ("", "Hello")


def test_the_kinds_match_the_servers_signal_kinds() -> None:
    from liveeval.model import EXPLICIT_KINDS, SignalKind

    assert set(FEEDBACK_KINDS) == {kind.value for kind in EXPLICIT_KINDS}
    assert set(FEEDBACK_KINDS) | set(SIGNAL_KINDS) == {kind.value for kind in SignalKind}
