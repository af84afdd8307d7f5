"""Traffic without content: the notice the overview shows and the one-time log warning."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from liveeval.ingest.assemble import AssemblyRules, assemble
from liveeval.ingest.capture import CaptureWatch, capture_notice
from liveeval.model import Interaction
from tests.telemetry import T0, chat_attributes, genai_attributes, model_span, trace_id

OPENAI_V2_HINT = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true"


def calls(*attributes: dict[str, Any], status: str = "unset") -> list[Interaction]:
    spans = [model_span(a, trace=trace_id(), status=status) for a in attributes]
    return assemble(spans, [], AssemblyRules())


def bare(count: int = 1) -> list[Interaction]:
    """What opentelemetry-instrumentation-openai-v2 sends by default: no message."""
    return calls(*[genai_attributes()] * count)


def openinference_hidden() -> list[Interaction]:
    hidden = {
        "openinference.span.kind": "LLM",
        "llm.model_name": "gpt-4o-mini",
        "input.value": "__REDACTED__",
        "output.value": "__REDACTED__",
    }
    return calls(hidden)


def test_the_notice_counts_answered_calls_without_content_and_says_how_to_capture() -> None:
    recent = bare(3) + calls(chat_attributes("Hi?", "Hello.")) + calls(genai_attributes())
    failed = calls(genai_attributes(**{"error.type": "Timeout"}))
    notice = capture_notice(recent + failed)
    assert notice is not None
    assert (notice.missing, notice.answered, notice.convention) == (4, 5, "genai")
    assert notice.text.startswith("4 of the last 5 interactions arrived without their message")
    assert OPENAI_V2_HINT in notice.text
    hidden = capture_notice(openinference_hidden())
    assert hidden is not None and "OPENINFERENCE_HIDE_OUTPUTS" in hidden.advice


def test_no_notice_when_every_answered_call_carried_its_content() -> None:
    failed = calls(genai_attributes(), status="error")  # a provider error has no answer
    assert capture_notice(calls(chat_attributes("Hi?", "")) + failed) is None
    assert capture_notice([]) is None


def test_the_warning_is_logged_once_after_a_minute_without_content(
    caplog: pytest.LogCaptureFixture,
) -> None:
    watch = CaptureWatch()
    with caplog.at_level(logging.WARNING, logger="liveeval.ingest.capture"):
        assert not watch.observe("shop", bare(), T0)
        assert not watch.observe("shop", bare(), T0 + timedelta(seconds=59))
        assert watch.observe("shop", bare(), T0 + timedelta(seconds=60))
        assert not watch.observe("shop", bare(), T0 + timedelta(hours=1))  # once
    [record] = caplog.records
    assert "project 'shop': genai spans have arrived without message content" in record.message
    assert OPENAI_V2_HINT in record.message


def test_content_arriving_later_clears_the_streak_and_errors_do_not_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Content may follow its span in a GenAI log event: the re-assembled call clears it."""
    watch = CaptureWatch()
    with caplog.at_level(logging.WARNING, logger="liveeval.ingest.capture"):
        watch.observe("bank", bare(), T0)
        watch.observe("bank", calls(chat_attributes("Hi?", "Hello.")), T0 + timedelta(seconds=30))
        assert not watch.observe("bank", bare(), T0 + timedelta(seconds=61))
        failed = calls(genai_attributes(), status="error")
        assert not watch.observe("bank", failed, T0 + timedelta(seconds=90))
        assert watch.observe("bank", bare(), T0 + timedelta(seconds=121))
    assert len(caplog.records) == 1
