"""liveeval's SDK for apps: one call to set up tracing, and feedback that never blocks.

    import liveeval.sdk as le

    le.setup("http://127.0.0.1:7318", project="support-bot")
    with le.llm_call("gpt-4o-mini", provider="openai", input_messages=question) as call:
        answer = ask_model(question)
        call.set_output(answer, input_tokens=12, output_tokens=40)
    le.feedback("thumbs_down", trace_id=call.trace_id, comment="wrong order number")

    router = le.Router("support_answer", default="small")   # see docs/routing.md
    with router.route({"language": "de"}) as choice:
        ...                                                  # call choice.arm's model
    le.record_outcome(decision_id=choice.decision_id, success=True)

Importing it loads OpenTelemetry and httpx only, none of the server's dependencies.
"""

from liveeval.sdk.bodies import FEEDBACK_KINDS, SIGNAL_KINDS
from liveeval.sdk.client import ClientConfig, SignalClient, SignalStats, default_client
from liveeval.sdk.feedback import feedback, signal
from liveeval.sdk.lifecycle import flush, shutdown
from liveeval.sdk.outcomes import OutcomeError, record_outcome
from liveeval.sdk.router import ArmSpec, Choice, Router
from liveeval.sdk.span_queue import SpanQueue, SpanQueueStats
from liveeval.sdk.spans import LLMSpan, RecordedSpan, RetrieverSpan, llm_call, retrieval
from liveeval.sdk.tracing import get_logger_provider, get_tracer_provider, setup, span_stats

__all__ = [
    "FEEDBACK_KINDS",
    "SIGNAL_KINDS",
    "ArmSpec",
    "Choice",
    "ClientConfig",
    "LLMSpan",
    "OutcomeError",
    "RecordedSpan",
    "RetrieverSpan",
    "Router",
    "SignalClient",
    "SignalStats",
    "SpanQueue",
    "SpanQueueStats",
    "default_client",
    "feedback",
    "flush",
    "get_logger_provider",
    "get_tracer_provider",
    "llm_call",
    "record_outcome",
    "retrieval",
    "setup",
    "shutdown",
    "signal",
    "span_stats",
]
