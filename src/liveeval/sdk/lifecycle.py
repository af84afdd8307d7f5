"""`flush()` and `shutdown()`: send what the SDK holds, spans first, then signals.

Spans go first so that signals about them find their interaction on arrival (201)
rather than waiting to be attached (202). Call `flush()` at the end of a short-lived
process or a serverless invocation; a normal exit flushes by itself.
"""

from __future__ import annotations

import time

from liveeval.sdk.client import default_client
from liveeval.sdk.outcomes import flush_outcomes, shutdown_outcomes
from liveeval.sdk.tracing import flush_tracing, get_logger_provider, get_tracer_provider


def flush(timeout: float = 5.0) -> bool:
    """Export the spans and log records of `setup()`'s providers, then send every queued
    signal and outcome; True when all went out within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    traced = flush_tracing(timeout)
    sent = default_client().flush(max(0.0, deadline - time.monotonic()))
    outcomes = flush_outcomes(max(0.0, deadline - time.monotonic()))
    return traced and sent and outcomes


def shutdown(timeout: float = 5.0) -> None:
    """Flush, then stop the signal thread and `setup()`'s providers. Later spans and
    signals are dropped."""
    flush(timeout)
    default_client().shutdown(0)
    shutdown_outcomes()
    tracer_provider, logger_provider = get_tracer_provider(), get_logger_provider()
    if tracer_provider is not None:
        tracer_provider.shutdown()
    if logger_provider is not None:
        logger_provider.shutdown()
