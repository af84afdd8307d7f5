"""`feedback()` and `signal()`: queue what a user did about an answer; never block, never raise.

Both name the interaction by `trace_id` (32 hex digits, or OpenTelemetry's int), the
provider's `response_id`, or liveeval's `interaction_id`, and return the signal's
idempotency key, or None when the arguments were wrong (logged, then dropped).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from liveeval.sdk.bodies import FEEDBACK_KINDS, SIGNAL_KINDS, KindFields, build_signal
from liveeval.sdk.client import SignalClient, default_client

log = logging.getLogger(__name__)


def feedback(
    kind: str,
    *,
    trace_id: str | int | None = None,
    response_id: str | None = None,
    interaction_id: int | None = None,
    value: int | None = None,
    comment: str | None = None,
    text: str | None = None,
    reason: str | None = None,
    category: str | None = None,
    user_id: str | None = None,
    metadata: Mapping[str, object] | None = None,
    at: datetime | str | None = None,
    client: SignalClient | None = None,
    **unknown: object,
) -> str | None:
    """Queue explicit feedback: ``thumbs_up`` / ``thumbs_down`` (`comment`), ``rating``
    (`value` 1..5, `comment`), ``comment`` (`text`, or `comment`), ``report`` (`reason`,
    `category`). `at` defaults to now."""
    if kind == "comment" and text is None:
        text, comment = comment, None
    fields = {
        "value": value,
        "comment": comment,
        "text": text,
        "reason": reason,
        "category": category,
    }
    target = (trace_id, response_id, interaction_id)
    return _queue(kind, FEEDBACK_KINDS, fields, unknown, client, target, user_id, metadata, at)


def signal(
    kind: str,
    *,
    trace_id: str | int | None = None,
    response_id: str | None = None,
    interaction_id: int | None = None,
    reason: str | None = None,
    new_input: str | None = None,
    draft: str | None = None,
    final: str | None = None,
    error: str | None = None,
    success: bool | None = None,
    user_id: str | None = None,
    metadata: Mapping[str, object] | None = None,
    at: datetime | str | None = None,
    client: SignalClient | None = None,
    **unknown: object,
) -> str | None:
    """Queue an implicit signal: ``regenerated`` / ``abandoned`` / ``escalated``
    (`reason`), ``rephrased`` (`new_input`), ``edited`` (`draft`, `final`),
    ``schema_invalid`` (`error`), ``outcome`` (`success`, `error`). `at` defaults to now."""
    fields = {
        "reason": reason,
        "new_input": new_input,
        "draft": draft,
        "final": final,
        "error": error,
        "success": success,
    }
    target = (trace_id, response_id, interaction_id)
    return _queue(kind, SIGNAL_KINDS, fields, unknown, client, target, user_id, metadata, at)


def _queue(
    kind: object,
    kinds: Mapping[str, KindFields],
    fields: Mapping[str, object],
    unknown: Mapping[str, object],
    client: SignalClient | None,
    target: tuple[object, object, object],
    user_id: object,
    metadata: object,
    at: object,
) -> str | None:
    try:
        if unknown:
            log.warning(
                "liveeval: dropped a %r signal: unknown argument(s) %s",
                kind,
                ", ".join(sorted(unknown)),
            )
            return None
        trace_id, response_id, interaction_id = target
        body = build_signal(
            kind,
            kinds,
            fields,
            trace_id=trace_id,
            response_id=response_id,
            interaction_id=interaction_id,
            user_id=user_id,
            metadata=metadata,
            at=at,
            now=datetime.now(UTC),
        )
        return (client or default_client()).enqueue(body)
    except ValueError as exc:  # SignalError: the arguments, said precisely
        log.warning("liveeval: dropped a %r signal: %s", kind, exc)
    except Exception:  # never into the app
        log.exception("liveeval: dropped a %r signal", kind)
    return None
