"""`record_outcome()`: how a routed request ended, sent in the background like feedback.

An outcome names exactly one of a routing decision (`decision_id`, from the `Choice`),
a trace (`trace_id`) or a goal (`goal_id`, shared by the decisions of a multi-step
task), and says how it went: `success` and/or a `quality_score`, and an `error` if any.
Outcomes go to ``POST /api/v1/routing/outcomes`` from a queue of their own, with the
signal client's batching and retries; the server stores them as ``outcome`` signals.
Arguments the server would refuse raise `OutcomeError` at the call, where the bug is.
"""

from __future__ import annotations

import math
import re
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from liveeval.sdk.bodies import SignalError, _timestamp, format_trace_id
from liveeval.sdk.client import Paths, SignalClient, default_client

OUTCOMES = Paths(batch="/api/v1/routing/outcomes", field="outcomes", single=None, kind="outcome")
_DECISION_ID = re.compile(r"[0-9a-f]{32}")
_MAX_ID = 200
_MAX_ERROR = 100_000


class OutcomeError(ValueError):
    """Arguments that do not make a valid outcome."""


def build_outcome(
    *,
    decision_id: object = None,
    trace_id: object = None,
    goal_id: object = None,
    success: object = None,
    quality_score: object = None,
    error: object = None,
    at: object = None,
    idempotency_key: object = None,
    now: datetime,
) -> dict[str, Any]:
    """One outcome body of ``POST /api/v1/routing/outcomes``; `at` defaults to `now`."""
    ids = {"decision_id": decision_id, "trace_id": trace_id, "goal_id": goal_id}
    given = [name for name, value in ids.items() if value is not None]
    if len(given) != 1:
        named = f" (got {', '.join(given)})" if given else ""
        raise OutcomeError(f"name exactly one of decision_id, trace_id or goal_id{named}")
    body: dict[str, Any] = {}
    if decision_id is not None:
        if not (isinstance(decision_id, str) and _DECISION_ID.fullmatch(decision_id)):
            raise OutcomeError(f"decision_id must be 32 lowercase hex digits, not {decision_id!r}")
        body["decision_id"] = decision_id
    if trace_id is not None:
        try:
            body["trace_id"] = format_trace_id(trace_id)
        except SignalError as exc:
            raise OutcomeError(str(exc)) from None
    if goal_id is not None:
        body["goal_id"] = _name("goal_id", goal_id)
    if success is None and quality_score is None:
        raise OutcomeError("say how it went: success or quality_score (error only adds why)")
    if success is not None:
        if not isinstance(success, bool):
            raise OutcomeError(f"success must be True or False, not {success!r}")
        body["success"] = success
    if quality_score is not None:
        if isinstance(quality_score, bool) or not isinstance(quality_score, int | float):
            raise OutcomeError(f"quality_score must be a number, not {quality_score!r}")
        if not math.isfinite(quality_score):
            raise OutcomeError(f"quality_score must be finite, not {quality_score!r}")
        body["quality_score"] = float(quality_score)
    if error is not None:
        if not isinstance(error, str):
            raise OutcomeError(f"error must be a str, not {type(error).__name__}")
        if len(error) > _MAX_ERROR:
            raise OutcomeError(f"error is {len(error)} characters long, at most {_MAX_ERROR}")
        body["error"] = error
    try:
        body["occurred_at"] = _timestamp(now if at is None else at)
    except SignalError as exc:
        raise OutcomeError(str(exc)) from None
    key = uuid.uuid4().hex if idempotency_key is None else idempotency_key
    body["idempotency_key"] = _name("idempotency_key", key)
    return body


def _name(what: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise OutcomeError(f"{what} must be a non-empty str, not {value!r}")
    if len(value) > _MAX_ID:
        raise OutcomeError(f"{what} is {len(value)} characters long, at most {_MAX_ID}")
    return value


def record_outcome(
    *,
    decision_id: str | None = None,
    trace_id: str | int | None = None,
    goal_id: str | None = None,
    success: bool | None = None,
    quality_score: float | None = None,
    error: str | None = None,
    at: datetime | str | None = None,
    idempotency_key: str | None = None,
    client: SignalClient | None = None,
) -> str | None:
    """Queue an outcome (see the module's doc); returns its idempotency key, or None when
    the client is shut down (logged). Raises `OutcomeError` for arguments the server
    would refuse; never blocks on the network."""
    body = build_outcome(
        decision_id=decision_id,
        trace_id=trace_id,
        goal_id=goal_id,
        success=success,
        quality_score=quality_score,
        error=error,
        at=at,
        idempotency_key=idempotency_key,
        now=datetime.now(UTC),
    )
    return (client or outcome_client()).enqueue(body)


_default: SignalClient | None = None
_default_lock = threading.Lock()


def outcome_client() -> SignalClient:
    """The client `record_outcome()` uses: it sends where `default_client()` (which
    `setup()` configures) sends signals."""
    global _default
    with _default_lock:
        if _default is None:
            _default = SignalClient(paths=OUTCOMES)
        _default.configure(default_client().config)
        return _default


def flush_outcomes(timeout: float) -> bool:
    """Send the queued outcomes, if `record_outcome()` has queued any."""
    return True if _default is None else _default.flush(timeout)


def shutdown_outcomes() -> None:
    if _default is not None:
        _default.shutdown(0)
