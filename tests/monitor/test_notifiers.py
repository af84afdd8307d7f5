"""Notifiers against a real HTTP receiver on loopback: what goes over the wire, and how
failures are classified so the outbox retries what can succeed and drops nothing."""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from liveeval.model.alert import Alert, AlertState, Severity
from liveeval.monitor.notifiers import (
    LogNotifier,
    Notifier,
    NotifyError,
    PagerDutyNotifier,
    SlackNotifier,
    WebhookNotifier,
    is_retryable,
    pagerduty_payload,
    retry_after_s,
    slack_payload,
    webhook_payload,
)
from tests.monitor.receiver import Receiver, Reply, run_receiver

STARTED = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
RESOLVED = STARTED + timedelta(minutes=45)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "notifiers.md"
ROUTING_KEY = "R0123456789abcdef0123456789abcdef"


def make_alert(**changes: Any) -> Alert:
    alert = Alert(
        project="shop-assistant",
        rule="judge_mean_drop",
        fingerprint="judge_mean_drop|model_served=gpt-4o-mini,route=/chat",
        state=AlertState.FIRING,
        severity=Severity.CRITICAL,
        metric="judge_mean:helpfulness",
        slice={"model_served": "gpt-4o-mini", "route": "/chat"},
        value=3.12,
        baseline=4.31,
        threshold=0.5,
        summary="judge mean (helpfulness) fell from 4.31 to 3.12 for model_served=gpt-4o-mini",
        started_at=STARTED,
        updated_at=STARTED + timedelta(minutes=5),
        link="https://liveeval.example.com/interactions?route=%2Fchat",
        details={"window": "1h", "n": 412},
    )
    return replace(alert, **changes)


def resolved(alert: Alert) -> Alert:
    return replace(alert, state=AlertState.RESOLVED, resolved_at=RESOLVED, updated_at=RESOLVED)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with run_receiver() as running:
        yield running


def mrkdwn_texts(message: dict[str, Any]) -> list[str]:
    """Every mrkdwn string of a Slack message, where Slack parses & < >."""
    texts = [message["text"]]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                texts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message["blocks"])
    return texts


# --- generic webhook ---------------------------------------------------------------


def test_webhook_posts_the_documented_json(receiver: Receiver) -> None:
    notifier = WebhookNotifier("ops", receiver.url + "/hook", headers={"X-Token": "s3cret"})
    notifier.send(make_alert())

    (request,) = receiver.requests
    assert (request.method, request.path) == ("POST", "/hook")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-token"] == "s3cret"
    assert request.json() == {
        "version": "1",
        "state": "firing",
        "severity": "critical",
        "project": "shop-assistant",
        "rule": "judge_mean_drop",
        "metric": "judge_mean:helpfulness",
        "slice": {"model_served": "gpt-4o-mini", "route": "/chat"},
        "value": 3.12,
        "baseline": 4.31,
        "threshold": 0.5,
        "summary": "judge mean (helpfulness) fell from 4.31 to 3.12 for model_served=gpt-4o-mini",
        "started_at": "2026-11-02T09:30:00+00:00",
        "updated_at": "2026-11-02T09:35:00+00:00",
        "resolved_at": None,
        "link": "https://liveeval.example.com/interactions?route=%2Fchat",
        "fingerprint": "judge_mean_drop|model_served=gpt-4o-mini,route=/chat",
        "details": {"window": "1h", "n": 412},
    }


def test_webhook_resolved_alert_carries_state_and_resolved_at(receiver: Receiver) -> None:
    WebhookNotifier("ops", receiver.url).send(resolved(make_alert()))

    body = receiver.requests[0].json()
    assert body["state"] == "resolved"
    assert body["resolved_at"] == "2026-11-02T10:15:00+00:00"


def test_webhook_body_is_strict_json_with_non_finite_numbers_as_null(receiver: Receiver) -> None:
    alert = make_alert(
        value=float("nan"),
        baseline=float("inf"),
        details={"seen_at": STARTED, "scores": (1.5, float("-inf")), "tags": {"a"}},
    )
    WebhookNotifier("ops", receiver.url).send(alert)

    def reject(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant}")

    body = json.loads(receiver.requests[0].body, parse_constant=reject)
    assert (body["value"], body["baseline"]) == (None, None)
    assert body["details"] == {
        "seen_at": "2026-11-02T09:30:00+00:00",
        "scores": [1.5, None],
        "tags": ["a"],
    }


def test_docs_webhook_example_shows_every_payload_field() -> None:
    section = DOCS.read_text().split("## Webhook", 1)[1]
    example = json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))  # type: ignore[union-attr]
    assert example.keys() == webhook_payload(make_alert()).keys()


# --- Slack -------------------------------------------------------------------------


def test_slack_message_has_fallback_text_header_summary_fields_and_link_button(
    receiver: Receiver,
) -> None:
    SlackNotifier("team", receiver.url + "/services/T0/B0/XYZ").send(make_alert())

    (request,) = receiver.requests
    assert request.path == "/services/T0/B0/XYZ"
    message = request.json()
    assert message["text"] == (
        "\N{LARGE RED CIRCLE} [CRITICAL] judge mean (helpfulness) fell from 4.31 to 3.12 "
        "for model_served=gpt-4o-mini"
    )
    header, summary, fields, context, actions = message["blocks"]
    assert header == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": "\N{LARGE RED CIRCLE} Firing (critical): judge_mean_drop",
            "emoji": True,
        },
    }
    assert summary["text"] == {"type": "mrkdwn", "text": make_alert().summary}
    assert [field["text"] for field in fields["fields"]] == [
        "*Metric*\njudge_mean:helpfulness",
        "*Value*\n3.12",
        "*Baseline*\n4.31",
        "*Threshold*\n0.5",
        "*model_served*\ngpt-4o-mini",
        "*route*\n/chat",
    ]
    assert context["type"] == "context"
    assert "2026-11-02T09:30:00+00:00" in context["elements"][0]["text"]
    assert actions == {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "View alert"},
                "url": "https://liveeval.example.com/interactions?route=%2Fchat",
            }
        ],
    }


def test_slack_resolved_alert_says_resolved() -> None:
    message = slack_payload(resolved(make_alert()))

    assert message["text"].startswith("\N{WHITE HEAVY CHECK MARK} Resolved: judge mean")
    assert message["blocks"][0]["text"]["text"].startswith("\N{WHITE HEAVY CHECK MARK} Resolved")
    assert "Resolved at 2026-11-02T10:15:00+00:00" in message["blocks"][3]["elements"][0]["text"]


def test_slack_escapes_control_characters_in_user_text() -> None:
    alert = make_alert(
        summary="bad share rose for <!channel> & <https://evil.example|click me>",
        slice={"model_served": "<@U123> & co", "route": "/a>b"},
    )
    message = slack_payload(alert)

    texts = mrkdwn_texts(message)
    assert not any(re.search(r"[<>]|&(?!amp;|lt;|gt;)", text) for text in texts)
    assert "for &lt;!channel&gt; &amp; &lt;https://evil.example|click me&gt;" in texts[1]
    assert "*model_served*\n&lt;@U123&gt; &amp; co" in texts
    assert "*route*\n/a&gt;b" in texts


def test_slack_cuts_long_text_without_splitting_an_entity() -> None:
    message = slack_payload(make_alert(summary="&" * 5000))

    section = message["blocks"][1]["text"]["text"]
    assert len(section) <= 3000
    assert re.fullmatch(r"(&amp;)+…", section)
    assert len(message["text"]) <= 3000


def test_slack_puts_many_slice_keys_in_at_most_ten_fields() -> None:
    slice_ = {f"key{i}": f"value{i}" for i in range(14)}
    fields = slack_payload(make_alert(slice=slice_))["blocks"][2]["fields"]

    assert len(fields) == 10
    assert fields[-1]["text"].startswith("*Slice (more)*\nkey5=value5, key6=value6")
    assert fields[-1]["text"].endswith("key13=value13")


def test_slack_leaves_out_the_button_without_an_http_link() -> None:
    for link in (None, "javascript:alert(1)"):
        blocks = slack_payload(make_alert(link=link))["blocks"]
        assert [block["type"] for block in blocks] == ["header", "section", "section", "context"]


# --- PagerDuty ---------------------------------------------------------------------


def test_pagerduty_trigger_follows_events_api_v2(receiver: Receiver) -> None:
    receiver.script(Reply(202, {"status": "success", "message": "Event processed"}))
    PagerDutyNotifier("pager", ROUTING_KEY, url=receiver.url + "/v2/enqueue").send(make_alert())

    (request,) = receiver.requests
    assert request.path == "/v2/enqueue"
    assert request.json() == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": "judge_mean_drop|model_served=gpt-4o-mini,route=/chat",
        "payload": {
            "summary": make_alert().summary,
            "source": "liveeval/shop-assistant",
            "severity": "critical",
            "timestamp": "2026-11-02T09:30:00+00:00",
            "component": "judge_mean:helpfulness",
            "group": "model_served=gpt-4o-mini, route=/chat",
            "class": "judge_mean_drop",
            "custom_details": {
                "value": 3.12,
                "baseline": 4.31,
                "threshold": 0.5,
                "slice": {"model_served": "gpt-4o-mini", "route": "/chat"},
                "fingerprint": "judge_mean_drop|model_served=gpt-4o-mini,route=/chat",
                "details": {"window": "1h", "n": 412},
            },
        },
        "client": "liveeval",
        "links": [
            {
                "href": "https://liveeval.example.com/interactions?route=%2Fchat",
                "text": "Alert in liveeval",
            }
        ],
    }


def test_pagerduty_resolve_uses_the_trigger_dedup_key(receiver: Receiver) -> None:
    notifier = PagerDutyNotifier("pager", ROUTING_KEY, url=receiver.url)
    notifier.send(make_alert())
    notifier.send(resolved(make_alert()))

    trigger, resolve = (request.json() for request in receiver.requests)
    assert resolve == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": trigger["dedup_key"],
    }


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [(Severity.INFO, "info"), (Severity.WARNING, "warning"), (Severity.CRITICAL, "critical")],
)
def test_pagerduty_severity_is_one_the_api_accepts(ours: Severity, theirs: str) -> None:
    event = pagerduty_payload(make_alert(severity=ours), ROUTING_KEY)
    assert event["payload"]["severity"] == theirs
    assert theirs in {"critical", "error", "warning", "info"}


def test_pagerduty_summary_is_cut_to_1024_characters() -> None:
    event = pagerduty_payload(make_alert(summary="x" * 5000), ROUTING_KEY)
    assert len(event["payload"]["summary"]) == 1024


def test_pagerduty_long_fingerprint_becomes_a_stable_dedup_key_of_at_most_255() -> None:
    alert = make_alert(fingerprint="rule|" + "route=/a," * 100)
    trigger = pagerduty_payload(alert, ROUTING_KEY)["dedup_key"]
    resolve = pagerduty_payload(resolved(alert), ROUTING_KEY)["dedup_key"]
    other = pagerduty_payload(replace(alert, fingerprint=alert.fingerprint + "x"), ROUTING_KEY)

    assert len(trigger) <= 255
    assert trigger == resolve
    assert other["dedup_key"] != trigger


def test_pagerduty_invalid_event_is_not_retried(receiver: Receiver) -> None:
    receiver.script(Reply(400, {"status": "invalid event", "errors": ["'payload' is invalid"]}))
    with pytest.raises(NotifyError) as caught:
        PagerDutyNotifier("pager", ROUTING_KEY, url=receiver.url).send(make_alert())

    assert (caught.value.retryable, caught.value.status) == (False, 400)
    assert "invalid event" in str(caught.value)
    assert ROUTING_KEY not in str(caught.value)


# --- failures and retries ----------------------------------------------------------


def test_rate_limit_is_retryable_and_carries_retry_after(receiver: Receiver) -> None:
    receiver.script(Reply(429, "rate_limited", headers={"Retry-After": "30"}))
    with pytest.raises(NotifyError) as caught:
        SlackNotifier("team", receiver.url).send(make_alert())

    error = caught.value
    assert (error.retryable, error.status, error.retry_after_s) == (True, 429, 30.0)


def test_failed_send_retried_later_delivers_the_same_alert(receiver: Receiver) -> None:
    receiver.script(Reply(503, "upstream down"), Reply(502, ""), Reply(202, {"status": "success"}))
    notifier = PagerDutyNotifier("pager", ROUTING_KEY, url=receiver.url)
    for _ in range(2):
        with pytest.raises(NotifyError) as caught:
            notifier.send(make_alert())
        assert caught.value.retryable
    notifier.send(make_alert())

    bodies = [request.body for request in receiver.requests]
    assert len(bodies) == 3
    assert bodies[0] == bodies[1] == bodies[2]


def test_slow_receiver_times_out_as_a_retryable_error(receiver: Receiver) -> None:
    receiver.script(Reply(200, "ok", delay_s=5.0))
    with pytest.raises(NotifyError) as caught:
        WebhookNotifier("ops", receiver.url, timeout_s=0.2).send(make_alert())

    assert (caught.value.retryable, caught.value.status) == (True, None)
    assert "timed out" in str(caught.value)


def test_refused_connection_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(NotifyError) as caught:
        WebhookNotifier("ops", f"http://127.0.0.1:{port}/hook", timeout_s=2).send(make_alert())

    assert caught.value.retryable
    assert caught.value.status is None


def test_unsupported_url_scheme_is_not_retryable() -> None:
    with pytest.raises(NotifyError) as caught:
        WebhookNotifier("ops", "ftp://example.com/hook").send(make_alert())
    assert not caught.value.retryable


def test_slack_error_does_not_reveal_the_webhook_url(receiver: Receiver) -> None:
    receiver.script(Reply(404, "no_service"))
    secret_url = receiver.url + "/services/T0/B0/TOPSECRET"
    notifier = SlackNotifier("team", secret_url)
    with pytest.raises(NotifyError) as caught:
        notifier.send(make_alert())

    assert not caught.value.retryable
    assert "no_service" in str(caught.value)
    assert "TOPSECRET" not in str(caught.value)
    assert "TOPSECRET" not in repr(notifier)
    assert ROUTING_KEY not in repr(PagerDutyNotifier("pager", ROUTING_KEY))


def test_a_given_client_is_used_for_the_request(receiver: Receiver) -> None:
    seen: list[httpx.Request] = []
    with httpx.Client(event_hooks={"request": [seen.append]}) as client:
        WebhookNotifier("ops", receiver.url, client=client).send(make_alert())

    assert len(seen) == 1
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504, 599])
def test_timeouts_rate_limits_and_server_errors_are_retryable(status: int) -> None:
    assert is_retryable(status)


@pytest.mark.parametrize("status", [301, 400, 401, 403, 404, 410, 413, 422])
def test_other_client_errors_are_not_retryable(status: int) -> None:
    assert not is_retryable(status)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    in_90s = format_datetime(now + timedelta(seconds=90), usegmt=True)
    an_hour_ago = format_datetime(now - timedelta(hours=1), usegmt=True)

    assert retry_after_s({"Retry-After": "120"}, now) == 120.0
    assert retry_after_s(httpx.Headers({"retry-after": in_90s}), now) == 90.0
    assert retry_after_s({"retry-after": an_hour_ago}, now) == 0.0
    for unreadable in ("soon", "-5", "nan", ""):
        assert retry_after_s({"Retry-After": unreadable}, now) is None
    assert retry_after_s({}, now) is None


# --- log ---------------------------------------------------------------------------


def test_log_notifier_warns_while_firing_and_informs_once_resolved(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="liveeval.alerts")
    notifier = LogNotifier()
    notifier.send(make_alert())
    notifier.send(resolved(make_alert()))

    firing, done = caplog.records
    assert (firing.levelno, done.levelno) == (logging.WARNING, logging.INFO)
    assert firing.getMessage().startswith("alert state=firing severity=critical ")
    assert done.getMessage().startswith("alert state=resolved ")
    assert firing.alert == webhook_payload(make_alert())  # type: ignore[attr-defined]


def test_log_line_quotes_user_text_so_it_stays_one_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="liveeval.alerts")
    summary = 'rate rose\nalert state=resolved rule="fake"'
    LogNotifier().send(make_alert(summary=summary))

    line = caplog.records[0].getMessage()
    assert "\n" not in line
    assert f"summary={json.dumps(summary)}" in line
    assert "rule=judge_mean_drop " in line


def test_every_notifier_names_its_kind() -> None:
    notifiers: list[Notifier] = [
        WebhookNotifier("a", "http://127.0.0.1/"),
        SlackNotifier("b", "http://127.0.0.1/"),
        PagerDutyNotifier("c", ROUTING_KEY),
        LogNotifier(),
    ]
    assert [(n.name, n.kind) for n in notifiers] == [
        ("a", "webhook"),
        ("b", "slack"),
        ("c", "pagerduty"),
        ("log", "log"),
    ]
