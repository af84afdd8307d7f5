"""Notifiers: deliver an alert to a generic webhook, Slack, PagerDuty or the log.

`send` makes one attempt. A failure raises `NotifyError`, which says whether another
try could succeed (`retryable`) and how long the receiver asked us to wait; retrying
later without losing the alert is the durable outbox's job, not the notifier's.
"""

from __future__ import annotations

import json
import logging
import math
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any, Protocol

import httpx

from liveeval.model.alert import Alert, AlertState
from liveeval.monitor.notifier_payloads import (
    pagerduty_payload,
    slack_payload,
    slice_text,
    webhook_payload,
)

__all__ = [
    "LogNotifier",
    "Notifier",
    "NotifyError",
    "PagerDutyNotifier",
    "SlackNotifier",
    "WebhookNotifier",
    "is_retryable",
    "pagerduty_payload",
    "retry_after_s",
    "slack_payload",
    "webhook_payload",
]

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
USER_AGENT = "liveeval-notifier"
# Request timeout, too early, rate limited: worth another try, like every 5xx.
RETRYABLE_STATUSES = frozenset({408, 425, 429})
_BODY_EXCERPT = 200


class NotifyError(Exception):
    """A notification that was not delivered. The message says what happened; it never
    holds the URL or key, which are secrets for Slack and PagerDuty."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.retry_after_s = retry_after_s


class Notifier(Protocol):
    """Where alerts go. `send` raises NotifyError; a firing alert is a trigger and a
    resolved one a resolve."""

    name: str  # the configured name, e.g. "oncall"
    kind: str  # "webhook" | "slack" | "pagerduty" | "log"

    def send(self, alert: Alert) -> None: ...


def is_retryable(status: int) -> bool:
    """408, 425, 429 and every 5xx may succeed later; other 4xx (and 3xx) will not."""
    return status in RETRYABLE_STATUSES or 500 <= status <= 599


def retry_after_s(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delay-seconds or an HTTP date
    (measured from `now`, default the current time). None when absent or unreadable;
    a date in the past means 0."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


@dataclass
class WebhookNotifier:
    """POSTs `webhook_payload(alert)` as JSON to `url`, with any extra `headers`."""

    name: str
    url: str = field(repr=False)
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    timeout_s: float = 10.0
    client: httpx.Client | None = field(default=None, repr=False)
    kind: str = field(default="webhook", init=False)

    def send(self, alert: Alert) -> None:
        _post_json(self, self.url, webhook_payload(alert), self.headers)


@dataclass
class SlackNotifier:
    """POSTs `slack_payload(alert)` to a Slack incoming-webhook URL."""

    name: str
    webhook_url: str = field(repr=False)
    timeout_s: float = 10.0
    client: httpx.Client | None = field(default=None, repr=False)
    kind: str = field(default="slack", init=False)

    def send(self, alert: Alert) -> None:
        _post_json(self, self.webhook_url, slack_payload(alert), {})


@dataclass
class PagerDutyNotifier:
    """Sends PagerDuty Events API v2 trigger and resolve events for `routing_key`."""

    name: str
    routing_key: str = field(repr=False)
    url: str = PAGERDUTY_EVENTS_URL
    timeout_s: float = 10.0
    client: httpx.Client | None = field(default=None, repr=False)
    kind: str = field(default="pagerduty", init=False)

    def send(self, alert: Alert) -> None:
        _post_json(self, self.url, pagerduty_payload(alert, self.routing_key), {})


@dataclass
class LogNotifier:
    """Logs one logfmt line per alert: WARNING while firing, INFO once resolved. The
    webhook payload rides along as `record.alert` for structured log handlers."""

    name: str = "log"
    logger_name: str = "liveeval.alerts"
    kind: str = field(default="log", init=False)

    def send(self, alert: Alert) -> None:
        firing = alert.state is AlertState.FIRING
        logging.getLogger(self.logger_name).log(
            logging.WARNING if firing else logging.INFO,
            "%s",
            alert_log_line(alert),
            extra={"alert": webhook_payload(alert)},
        )


class _HttpNotifier(Protocol):
    name: str
    kind: str
    timeout_s: float
    client: httpx.Client | None


def _post_json(
    notifier: _HttpNotifier, url: str, body: dict[str, Any], headers: Mapping[str, str]
) -> httpx.Response:
    """One POST of `body` as strict JSON; a non-2xx answer or a transport failure
    becomes a NotifyError classified by `is_retryable`."""
    content = json.dumps(body, ensure_ascii=False, allow_nan=False).encode()
    request_headers = {"content-type": "application/json", "user-agent": USER_AGENT, **headers}
    where = f"{notifier.kind} notifier {notifier.name!r}"
    try:
        if notifier.client is not None:
            response = notifier.client.post(
                url, content=content, headers=request_headers, timeout=notifier.timeout_s
            )
        else:
            with httpx.Client(verify=_ssl_context()) as client:
                response = client.post(
                    url, content=content, headers=request_headers, timeout=notifier.timeout_s
                )
    except httpx.TimeoutException as exc:
        raise NotifyError(f"{where}: timed out ({type(exc).__name__})", retryable=True) from exc
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise NotifyError(f"{where}: bad URL: {exc}", retryable=False) from exc
    except httpx.TransportError as exc:
        message = f"{where}: {type(exc).__name__}: {exc}"
        raise NotifyError(message, retryable=True) from exc
    if not response.is_success:
        excerpt = response.text[:_BODY_EXCERPT].strip()
        raise NotifyError(
            f"{where}: HTTP {response.status_code}" + (f": {excerpt}" if excerpt else ""),
            retryable=is_retryable(response.status_code),
            status=response.status_code,
            retry_after_s=retry_after_s(response.headers),
        )
    return response


@cache
def _ssl_context() -> ssl.SSLContext:
    """httpx's default context, built once: loading the CA bundle costs ~0.1 s a client."""
    return httpx.create_ssl_context()


def alert_log_line(alert: Alert) -> str:
    """`alert state=firing severity=… rule=… …` with user text quoted, so a newline or
    quote in a summary cannot forge another log line."""
    pairs = [
        ("state", alert.state.value),
        ("severity", alert.severity.value),
        ("project", alert.project),
        ("rule", alert.rule),
        ("metric", alert.metric),
        ("slice", slice_text(alert.slice)),
        ("value", "n/a" if alert.value is None else f"{alert.value:.6g}"),
        ("baseline", "n/a" if alert.baseline is None else f"{alert.baseline:.6g}"),
        ("threshold", f"{alert.threshold:.6g}"),
        ("fingerprint", alert.fingerprint),
        ("summary", alert.summary),
    ]
    if alert.link:
        pairs.append(("link", alert.link))
    return "alert " + " ".join(f"{key}={_logfmt_value(value)}" for key, value in pairs)


def _logfmt_value(value: str) -> str:
    plain = value and all(c.isprintable() and c not in ' "=\\' for c in value)
    return value if plain else json.dumps(value, ensure_ascii=False)
