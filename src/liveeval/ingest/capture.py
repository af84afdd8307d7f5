"""Traffic whose spans carry no message content: saying so, once, and how to turn it on.

The OpenTelemetry GenAI instrumentations record no prompt or completion unless told to
(their default), and OpenInference's hide settings drop them. Such an interaction is not
evaluated (`Interaction.content_captured`): no check runs on it, the judge sampler and
the review queue pass it by. `CaptureWatch` logs one warning per project when its
traffic keeps arriving without content; `capture_notice` says the same on the overview.
A failed call (a provider error) has no answer by nature and counts neither way.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from liveeval.model import Interaction

logger = logging.getLogger(__name__)

ADVICE = {
    "genai": (
        "OpenTelemetry GenAI instrumentations record no content by default: for "
        "opentelemetry-instrumentation-openai-v2 set "
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true (with "
        "OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental: span_only or "
        "span_and_event, or event_only when the app exports its logs to /v1/logs too)"
    ),
    "openinference": (
        "OpenInference records content unless told not to: unset OPENINFERENCE_HIDE_INPUTS "
        "and OPENINFERENCE_HIDE_OUTPUTS (and the _MESSAGES and _TEXT variants)"
    ),
}
_OTHER = "record the prompt and the answer on the span (docs/tracing.md)"
# GenAI log events may bring a span's content a little after the span itself.
PATIENCE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class CaptureNotice:
    missing: int  # answered calls without content
    answered: int  # calls that did not fail
    convention: str  # the convention most of the missing ones came in
    advice: str

    @property
    def text(self) -> str:
        return (
            f"{self.missing} of the last {self.answered} interactions arrived without their "
            "message content: they are not checked, judged or reviewed. "
            f"{self.advice}."
        )


def advice(convention: str) -> str:
    """How to make the instrumentation of `convention` record content."""
    return ADVICE.get(convention, _OTHER)


def capture_notice(interactions: Sequence[Interaction]) -> CaptureNotice | None:
    """What `interactions` (recent ones) say about content capture; None when all of the
    calls that did not fail carried their content."""
    answered = [i for i in interactions if i.status != "error"]
    missing = [i for i in answered if not i.content_captured]
    if not missing:
        return None
    [(convention, _)] = Counter(i.convention for i in missing).most_common(1)
    return CaptureNotice(len(missing), len(answered), convention, advice(convention))


class CaptureWatch:
    """Per process: one warning per project whose traffic has carried no content for
    `patience` (content that comes later, in GenAI log events, clears it)."""

    def __init__(self, patience: timedelta = PATIENCE) -> None:
        self.patience = patience
        self._since: dict[str, datetime] = {}
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def observe(self, project: str, batch: Sequence[Interaction], now: datetime) -> bool:
        """Note a batch of stored interactions; True when this call logged the warning."""
        answered = [i for i in batch if i.status != "error"]
        if not answered:
            return False
        with self._lock:
            if any(i.content_captured for i in answered):
                self._since.pop(project, None)
                return False
            since = self._since.setdefault(project, now)
            if project in self._warned or now - since < self.patience:
                return False
            self._warned.add(project)
        notice = capture_notice(answered)
        assert notice is not None
        logger.warning(
            "project %r: %s spans have arrived without message content for %s, so liveeval "
            "does not evaluate them (no checks, no judge, no review). %s.",
            project,
            notice.convention,
            now - since,
            notice.advice,
        )
        return True
