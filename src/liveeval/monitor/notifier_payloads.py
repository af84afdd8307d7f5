"""What each notifier sends: our webhook JSON, a Slack message, a PagerDuty event.

Pure functions of an `Alert`. Summaries and slice values come from user data (model
names, routes), so Slack text is escaped the way Slack documents (`&`, `<`, `>`), and
every length limit of the receiving API is respected by cutting, never by failing.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from liveeval.model.alert import Alert, AlertState, Severity

WEBHOOK_PAYLOAD_VERSION = "1"

# PagerDuty Events API v2 limits (developer.pagerduty.com, "Send an Alert Event").
PAGERDUTY_SUMMARY_MAX = 1024
PAGERDUTY_DEDUP_KEY_MAX = 255
PAGERDUTY_SEVERITY = {
    Severity.INFO: "info",
    Severity.WARNING: "warning",
    Severity.CRITICAL: "critical",
}

# Slack Block Kit limits: header text 150, section text 3000, a field 2000, 10 fields,
# a button's text 75 and its url 3000 characters.
SLACK_HEADER_MAX = 150
SLACK_TEXT_MAX = 3000
SLACK_FIELD_MAX = 2000
SLACK_FIELDS_MAX = 10
SLACK_URL_MAX = 3000
SLACK_EMOJI = {
    Severity.INFO: "\N{LARGE BLUE CIRCLE}",
    Severity.WARNING: "\N{LARGE ORANGE CIRCLE}",
    Severity.CRITICAL: "\N{LARGE RED CIRCLE}",
}
SLACK_RESOLVED_EMOJI = "\N{WHITE HEAVY CHECK MARK}"
_SLACK_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def webhook_payload(alert: Alert) -> dict[str, Any]:
    """Our own JSON for generic webhooks; `version` changes only when a field does.

    Non-finite numbers (NaN, ±Inf) are sent as null, so the body is strict JSON.
    """
    return {
        "version": WEBHOOK_PAYLOAD_VERSION,
        "state": alert.state.value,
        "severity": alert.severity.value,
        "project": alert.project,
        "rule": alert.rule,
        "metric": alert.metric,
        "slice": dict(alert.slice),
        "value": _finite(alert.value),
        "baseline": _finite(alert.baseline),
        "threshold": _finite(alert.threshold),
        "summary": alert.summary,
        "started_at": alert.started_at.isoformat(),
        "updated_at": alert.updated_at.isoformat(),
        "resolved_at": _iso(alert.resolved_at),
        "link": alert.link,
        "fingerprint": alert.fingerprint,
        "details": jsonable(alert.details),
    }


def slack_payload(alert: Alert) -> dict[str, Any]:
    """A Slack incoming-webhook message: a `text` fallback (used in notifications) and
    blocks: a header with the state, the summary, the numbers and slice as fields, when
    it started (and ended), and a button to the interactions when there is a link."""
    resolved = alert.state is AlertState.RESOLVED
    emoji = SLACK_RESOLVED_EMOJI if resolved else SLACK_EMOJI[alert.severity]
    state = "Resolved" if resolved else f"Firing ({alert.severity.value})"
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _cut(f"{emoji} {state}: {alert.rule}", SLACK_HEADER_MAX),
                "emoji": True,
            },
        },
        {"type": "section", "text": _mrkdwn_object(alert.summary or alert.rule, SLACK_TEXT_MAX)},
        {"type": "section", "fields": _slack_fields(alert)},
        {"type": "context", "elements": [_mrkdwn_object(_slack_timing(alert), SLACK_TEXT_MAX)]},
    ]
    link = alert.link or ""
    if link.startswith(("https://", "http://")) and len(link) <= SLACK_URL_MAX:
        button = {
            "type": "button",
            "text": {"type": "plain_text", "text": "View alert"},
            "url": link,
        }
        blocks.append({"type": "actions", "elements": [button]})
    prefix = "Resolved:" if resolved else f"[{alert.severity.value.upper()}]"
    text = escape_mrkdwn(_cut(f"{emoji} {prefix} {alert.summary}", SLACK_TEXT_MAX // 5))
    return {"text": text, "blocks": blocks}


def pagerduty_payload(alert: Alert, routing_key: str) -> dict[str, Any]:
    """A PagerDuty Events API v2 event: `trigger` while firing, `resolve` once resolved,
    both with `dedup_key` = the alert's fingerprint so the resolve closes the trigger.

    A resolve carries only routing_key, event_action and dedup_key, as the API documents.
    """
    dedup_key = pagerduty_dedup_key(alert.fingerprint)
    if alert.state is AlertState.RESOLVED:
        return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key}
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {
            "summary": _cut(alert.summary or alert.rule, PAGERDUTY_SUMMARY_MAX),
            "source": f"liveeval/{alert.project}",
            "severity": PAGERDUTY_SEVERITY[alert.severity],
            "timestamp": alert.started_at.isoformat(),
            "component": alert.metric,
            "group": slice_text(alert.slice),
            "class": alert.rule,
            "custom_details": {
                "value": _finite(alert.value),
                "baseline": _finite(alert.baseline),
                "threshold": _finite(alert.threshold),
                "slice": dict(alert.slice),
                "fingerprint": alert.fingerprint,
                "details": jsonable(alert.details),
            },
        },
        "client": "liveeval",
    }
    if alert.link:
        event["links"] = [{"href": alert.link, "text": "Alert in liveeval"}]
    return event


def pagerduty_dedup_key(fingerprint: str) -> str:
    """The fingerprint, or its SHA-256 when longer than PagerDuty's 255 characters."""
    if len(fingerprint) <= PAGERDUTY_DEDUP_KEY_MAX:
        return fingerprint
    return "sha256:" + hashlib.sha256(fingerprint.encode()).hexdigest()


def escape_mrkdwn(text: str) -> str:
    """Escape Slack's control characters `&`, `<`, `>` as HTML entities (and only those),
    so user text cannot form links or mentions such as `<!channel>`."""
    return "".join(_SLACK_ESCAPES.get(char, char) for char in text)


def slice_text(slice_: Mapping[str, str]) -> str:
    """`key=value` pairs joined by commas, or "all traffic" for the unsliced total."""
    return ", ".join(f"{key}={value}" for key, value in slice_.items()) or "all traffic"


def jsonable(value: Any) -> Any:
    """`value` as plain JSON data: datetimes to ISO text, non-finite floats to None,
    tuples and sets to lists, anything else unknown to its str()."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return _finite(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(item) for item in value]
    return str(value)


def _slack_fields(alert: Alert) -> list[dict[str, str]]:
    numbers = [
        ("Metric", alert.metric),
        ("Value", _number(alert.value)),
        ("Baseline", _number(alert.baseline)),
        ("Threshold", _number(alert.threshold)),
    ]
    pairs = list(alert.slice.items()) or [("Slice", "all traffic")]
    room = SLACK_FIELDS_MAX - len(numbers)
    if len(pairs) > room:
        rest = dict(pairs[room - 1 :])
        pairs = [*pairs[: room - 1], ("Slice (more)", slice_text(rest))]
    return [
        _mrkdwn_object(text, SLACK_FIELD_MAX, markup=f"*{escape_mrkdwn(title)}*\n")
        for title, text in [*numbers, *pairs]
    ]


def _slack_timing(alert: Alert) -> str:
    if alert.state is AlertState.RESOLVED and alert.resolved_at is not None:
        return f"Resolved at {_iso(alert.resolved_at)}, firing since {_iso(alert.started_at)}"
    return f"Firing since {_iso(alert.started_at)} · project {alert.project}"


def _mrkdwn_object(text: str, limit: int, markup: str = "") -> dict[str, str]:
    """A mrkdwn text object: our `markup`, then the user's `text` escaped, within `limit`
    characters. The text is cut before escaping, so no entity is split."""
    room = limit - len(markup)
    escaped = escape_mrkdwn(text)
    if len(escaped) > room:
        kept: list[str] = []
        used = 1  # the ellipsis
        for char in text:
            piece = _SLACK_ESCAPES.get(char, char)
            if used + len(piece) > room:
                break
            kept.append(piece)
            used += len(piece)
        escaped = "".join(kept) + "…"
    return {"type": "mrkdwn", "text": markup + escaped}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.4g}"


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
