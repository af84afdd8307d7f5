"""The JSON body of one signal, checked against what the server accepts for its kind.

`build_signal` is pure: it raises `SignalError` with a precise message for arguments
the server would refuse, so the client can log and drop them at the call site instead of
losing a whole batch to a 422 later.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class SignalError(ValueError):
    """Arguments that do not make a valid signal."""


@dataclass(frozen=True, slots=True)
class KindFields:
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()


# Explicit feedback, sent with `feedback()`.
FEEDBACK_KINDS: Mapping[str, KindFields] = {
    "thumbs_up": KindFields(optional=("comment",)),
    "thumbs_down": KindFields(optional=("comment",)),
    "rating": KindFields(required=("value",), optional=("comment",)),
    "comment": KindFields(required=("text",)),
    "report": KindFields(required=("reason",), optional=("category",)),
}
# Implicit signals of the user's behaviour or the app's outcome, sent with `signal()`.
SIGNAL_KINDS: Mapping[str, KindFields] = {
    "regenerated": KindFields(optional=("reason",)),
    "abandoned": KindFields(optional=("reason",)),
    "escalated": KindFields(optional=("reason",)),
    "rephrased": KindFields(optional=("new_input",)),
    "edited": KindFields(required=("draft", "final")),
    "schema_invalid": KindFields(optional=("error",)),
    "outcome": KindFields(required=("success",), optional=("error",)),
}

_HEX_TRACE_ID = re.compile(r"[0-9a-f]{32}")
_INVALID_TRACE_ID = "0" * 32


def build_signal(
    kind: object,
    kinds: Mapping[str, KindFields],
    fields: Mapping[str, object],
    *,
    trace_id: object = None,
    response_id: object = None,
    interaction_id: object = None,
    user_id: object = None,
    metadata: object = None,
    at: object = None,
    now: datetime,
) -> dict[str, Any]:
    """One signal body with a fresh ``idempotency_key``; `fields` holds the kind's own
    fields, None meaning not given. `at` defaults to `now` (when the app saw it)."""
    if not isinstance(kind, str) or kind not in kinds:
        raise SignalError(f"kind {kind!r} is not one of {', '.join(kinds)}")
    spec = kinds[kind]
    body: dict[str, Any] = {"kind": kind}
    if interaction_id is not None:
        if not isinstance(interaction_id, int) or isinstance(interaction_id, bool):
            raise SignalError(f"interaction_id must be an int, not {interaction_id!r}")
        body["interaction_id"] = interaction_id
    if trace_id is not None:
        body["trace_id"] = format_trace_id(trace_id)
    if response_id is not None:
        body["response_id"] = _text("response_id", response_id, non_empty=True)
    if len(body) == 1:
        raise SignalError("name the interaction: trace_id, response_id or interaction_id")
    given = {name: value for name, value in fields.items() if value is not None}
    for name in spec.required:
        if name not in given:
            raise SignalError(f"{kind} needs {name}")
    for name, value in given.items():
        if name not in spec.required and name not in spec.optional:
            allowed = ", ".join(spec.required + spec.optional) or "no fields of its own"
            raise SignalError(f"{kind} takes {allowed}, not {name}")
        body[name] = _field(name, value, required=name in spec.required)
    body["idempotency_key"] = uuid.uuid4().hex
    body["at"] = _timestamp(now if at is None else at)
    if user_id is not None:
        body["user_id"] = _text("user_id", user_id)
    if metadata is not None:
        if not isinstance(metadata, Mapping) or not all(isinstance(k, str) for k in metadata):
            raise SignalError(f"metadata must be a dict with str keys, not {metadata!r}")
        body["metadata"] = dict(metadata)
    return body


def format_trace_id(trace_id: object) -> str:
    """A trace id as 32 lowercase hex digits; OpenTelemetry's int form is accepted."""
    if isinstance(trace_id, int) and not isinstance(trace_id, bool):
        if not 0 < trace_id < 2**128:
            raise SignalError(f"trace_id {trace_id} is not a valid 128-bit trace id")
        return f"{trace_id:032x}"
    if isinstance(trace_id, str):
        text = trace_id.strip().lower()
        if _HEX_TRACE_ID.fullmatch(text) and text != _INVALID_TRACE_ID:
            return text
    raise SignalError(
        f"trace_id must be 32 hex digits (not all zero) or an int, not {trace_id!r}"
        + (" (is tracing set up?)" if trace_id == _INVALID_TRACE_ID else "")
    )


def _field(name: str, value: object, *, required: bool) -> object:
    if name == "value":
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            raise SignalError(f"rating value must be an int from 1 to 5, not {value!r}")
        return value
    if name == "success":
        if not isinstance(value, bool):
            raise SignalError(f"success must be True or False, not {value!r}")
        return value
    # A comment's text and a report's reason are the signal itself; a draft may be empty.
    return _text(name, value, non_empty=required and name in ("text", "reason"))


def _text(name: str, value: object, *, non_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise SignalError(f"{name} must be a str, not {type(value).__name__}")
    if non_empty and not value:
        raise SignalError(f"{name} must not be empty")
    return value


def _timestamp(at: object) -> str:
    if isinstance(at, str):
        try:
            parsed = datetime.fromisoformat(at)
        except ValueError:
            raise SignalError(f"at {at!r} is not an ISO 8601 timestamp") from None
        at = parsed
    if not isinstance(at, datetime):
        raise SignalError(f"at must be a datetime, not {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise SignalError(f"at {at.isoformat()} has no timezone; use datetime.now(UTC)")
    return at.isoformat()
