"""`liveeval monitor tick`, then `liveeval alerts list|show` and `liveeval monitor slis`,
over a real store.

A new model arrives in the last half hour and half of its answers are regenerated; the
config sends alerts to the log and to a webhook on a real local receiver, whose first
answer is a 503, so one notification is left pending with its error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from starlette.testclient import TestClient

from liveeval.cli.main import cli
from liveeval.config import load_settings
from liveeval.server import create_app
from liveeval.store.alerts import AlertFilter, active_silences, list_alerts
from liveeval.store.database import open_store
from tests.conftest import Clock
from tests.dashboard.test_alert_pages import fired
from tests.monitor.receiver import Recorded, Reply, run_receiver
from tests.monitor.traffic import Traffic, store_traffic
from tests.server.watched import BROKEN, BUSY, GONE, THIN, rules_toml, store_watched
from tests.server.watched import COST as WATCHED_COST
from tests.server.watched import REGEN as WATCHED_REGEN
from tests.telemetry import T0

NOW = T0  # 2026-11-01 12:00 UTC
OLD_MODEL, NEW_MODEL = "gpt-4o-2024-08-06", "gpt-4o-2024-11-20"
REGEN = "regeneration-rate-rise"


@dataclass
class Ticked:
    db: str
    config: str
    tick: Result
    webhook_requests: list[Recorded]


def write_config(path: Path, hook_url: str) -> str:
    path.write_text(
        'default_project = "shop"\n\n'
        '[[monitor.notifiers]]\nname = "log"\ntype = "log"\n\n'
        f'[[monitor.notifiers]]\nname = "hook"\ntype = "webhook"\nurl = "{hook_url}"\n\n'
        # The default regeneration rule looking back 1 hour: the traffic has 2 hours of
        # history, which the default 7-day window would hold whole, leaving no baseline.
        '[[monitor.rules]]\nname = "regeneration-rate-rise"\nmetric = "regenerated_rate"\n'
        'slice_by = ["all", "model_served", "prompt_version", "route", "language"]\n'
        'window = "1h"\nthreshold = 0.05\n'
    )
    return str(path)


def store_degraded_traffic(url: str, minutes: int = 30) -> None:
    store = open_store(url)
    try:
        old = Traffic(model_served=OLD_MODEL)
        new = Traffic(model_served=NEW_MODEL, regenerated=0.5)
        store_traffic(store, old, NOW - timedelta(hours=2), 40, 5, seed=1)
        store_traffic(store, old, NOW - timedelta(minutes=minutes), minutes, 2, seed=2)
        store_traffic(store, new, NOW - timedelta(minutes=minutes), minutes, 4, seed=3)
    finally:
        store.close()


def not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def ticked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ticked]:
    """The store after one `liveeval monitor tick --at NOW`."""
    folder = tmp_path_factory.mktemp("alerts")
    db = f"sqlite:///{folder / 'liveeval.db'}"
    store_degraded_traffic(db)
    with run_receiver() as receiver:
        receiver.script(Reply(503, "busy"))
        config = write_config(folder / "liveeval.toml", f"{receiver.url}/alerts")
        tick = run("monitor", "tick", "--at", NOW.isoformat(), "--config", config, "--db", db)
        requests = list(receiver.requests)
    yield Ticked(db, config, tick, requests)


def alerts(ticked: Ticked, *args: str) -> Result:
    return run("alerts", *args, "--config", ticked.config, "--db", ticked.db)


def stored_alerts(db: str) -> list[Any]:
    store = open_store(db)
    try:
        with store.reading() as conn:
            return list_alerts(conn, AlertFilter(limit=1000))
    finally:
        store.close()


def test_monitor_tick_reports_rollups_evaluations_and_alert_changes(ticked: Ticked) -> None:
    assert ticked.tick.exit_code == 0, ticked.tick.output
    found = stored_alerts(ticked.db)
    first, *changes = ticked.tick.stdout.splitlines()
    assert first.startswith("rollups: ")
    assert f"; {len(found)} alert changes; " in first
    assert first.endswith(f"notifications sent {2 * len(found) - 1}, retrying 1, dead 0")
    assert sorted(changes) == sorted(f"  trigger: {a.summary}" for a in found)
    assert len(ticked.webhook_requests) == len(found)


def test_alerts_list_shows_the_firing_alert_naming_the_slice(ticked: Ticked) -> None:
    result = alerts(ticked, "list")
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header.split() == [
        "id",
        "state",
        "severity",
        "rule",
        "slice",
        "since",
        "(UTC)",
        "what",
        "moved",
    ]
    new = [row for row in rows if f"model_served={NEW_MODEL}" in row]
    assert len(new) == 1
    cells = new[0].split()
    assert cells[1:4] == ["firing", "warning", REGEN]
    assert cells[5:7] == ["2026-11-01", "12:00"]
    assert not [row for row in rows if f"model_served={OLD_MODEL}" in row]
    assert len(rows) == len(stored_alerts(ticked.db))


def test_alerts_list_json_prints_the_apis_alerts_one_a_line(ticked: Ticked) -> None:
    result = alerts(ticked, "list", "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line, parse_constant=not_json) for line in result.stdout.splitlines()]
    settings = load_settings(ticked.config, overrides={"db": ticked.db})
    store = open_store(ticked.db)
    try:
        app = create_app(settings, store, clock=Clock(NOW))
        with TestClient(app, base_url="http://localhost") as http:
            api = http.get("/api/v1/alerts").json()
    finally:
        store.close()
    assert lines == api
    assert [a["alert_id"] for a in lines] == sorted((a["alert_id"] for a in lines), reverse=True)
    assert {a["state"] for a in lines} == {"firing"}


@pytest.mark.parametrize(
    ("args", "rules"),
    [
        (["--rule", REGEN], {REGEN}),
        (["--state", "firing", "--rule", REGEN], {REGEN}),
        (["--state", "resolved"], set()),
        (["--project", "bank"], set()),
    ],
)
def test_alerts_list_filters_by_state_rule_and_project(
    ticked: Ticked, args: list[str], rules: set[str]
) -> None:
    result = alerts(ticked, "list", "--json", *args)
    assert result.exit_code == 0, result.output
    assert {json.loads(line)["rule"] for line in result.stdout.splitlines()} == rules


def test_alerts_list_says_so_when_there_are_none(ticked: Ticked) -> None:
    result = alerts(ticked, "list", "--state", "resolved")
    assert result.exit_code == 0
    assert result.output == "no alerts\n"


def test_alerts_show_prints_the_alert_with_its_notifications(ticked: Ticked) -> None:
    refused = ticked.webhook_requests[0].json()  # the receiver answered it 503
    [alert] = [
        a
        for a in stored_alerts(ticked.db)
        if (a.project, a.rule, a.slice) == (refused["project"], refused["rule"], refused["slice"])
    ]
    result = alerts(ticked, "show", str(alert.alert_id))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"alert {alert.alert_id}: firing, warning"
    assert lines[1] == alert.summary
    assert f"  slice      {json.dumps(alert.slice)}" in lines
    assert "  notify log (trigger): sent after 1 attempt(s)" in lines
    assert (
        "  notify hook (trigger): pending after 1 attempt(s) — "
        "webhook notifier 'hook': HTTP 503: busy"
    ) in lines


def test_alerts_show_of_another_alert_has_every_notification_sent(ticked: Ticked) -> None:
    refused = ticked.webhook_requests[0].json()
    others = [a for a in stored_alerts(ticked.db) if a.slice != refused["slice"]]
    result = alerts(ticked, "show", str(others[0].alert_id))
    notes = [line for line in result.output.splitlines() if line.startswith("  notify ")]
    assert notes == [
        "  notify log (trigger): sent after 1 attempt(s)",
        "  notify hook (trigger): sent after 1 attempt(s)",
    ]


@pytest.mark.parametrize(
    ("alert_id", "message"),
    [("999", "no alert 999"), ("0", "0 is not in the range"), ("x", "'x' is not a valid integer")],
)
def test_alerts_show_of_an_unknown_id_exits_2(ticked: Ticked, alert_id: str, message: str) -> None:
    result = CliRunner().invoke(cli, ["alerts", "show", alert_id, "--db", ticked.db])
    assert result.exit_code == 2
    assert message in result.output


def test_monitor_tick_with_a_missing_notifier_secret_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "liveeval.toml"
    config.write_text(
        '[[monitor.notifiers]]\nname = "pager"\ntype = "webhook"\n'
        'url_env = "LIVEEVAL_TEST_UNSET_HOOK_URL"\n'
    )
    db = f"sqlite:///{tmp_path / 'liveeval.db'}"
    result = CliRunner().invoke(cli, ["monitor", "tick", "--config", str(config), "--db", db])
    assert result.exit_code == 2
    assert "notifier 'pager': url is not set" in result.output
    assert "LIVEEVAL_TEST_UNSET_HOOK_URL" in result.output


def test_a_second_manual_tick_a_minute_later_runs(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'liveeval.db'}"
    store_degraded_traffic(db, minutes=5)
    first = run("monitor", "tick", "--at", NOW.isoformat(), "--db", db)
    assert first.output.startswith("rollups: ")
    later = (NOW + timedelta(minutes=1)).isoformat()
    second = run("monitor", "tick", "--at", later, "--db", db)
    assert second.output.startswith("rollups: "), second.output


# -- liveeval monitor slis -----------------------------------------------------------------


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(config, db) after `liveeval monitor tick` over tests.server.watched."""
    folder = tmp_path_factory.mktemp("slis")
    db = f"sqlite:///{folder / 'liveeval.db'}"
    config = folder / "liveeval.toml"
    config.write_text('default_project = "shop"\n\n' + rules_toml())
    store = open_store(db)
    try:
        store_watched(store, NOW)
    finally:
        store.close()
    tick = run("monitor", "tick", "--at", NOW.isoformat(), "--config", str(config), "--db", db)
    assert tick.exit_code == 0, tick.output
    return str(config), db


def slis(watched: tuple[str, str], *args: str) -> Result:
    config, db = watched
    return run("monitor", "slis", "--at", NOW.isoformat(), "--config", config, "--db", db, *args)


def test_monitor_slis_prints_each_slices_status_and_what_it_detects(
    watched: tuple[str, str],
) -> None:
    result = slis(watched)
    assert result.exit_code == 0, result.output
    header, *lines = result.output.splitlines()
    assert re.split(r"\s{2,}", header) == [
        "rule", "slice", "status", "now", "baseline", "n", "detects", "expected delay"
    ]  # fmt: skip
    rows = [re.split(r"\s{2,}", line) for line in lines]
    assert [row[:3] for row in rows] == [
        [WATCHED_REGEN, "all traffic", "breached"],  # a rule with a breach first
        [WATCHED_REGEN, f"route={BROKEN}", "breached"],
        [WATCHED_REGEN, f"route={BUSY}", "watching"],
        [WATCHED_REGEN, f"route={THIN}", "too thin"],
        [WATCHED_REGEN, f"route={GONE}", "no data"],
        [WATCHED_COST, "all traffic", "watching"],
    ]
    busy, thin, cost = rows[2], rows[3], rows[5]
    assert busy[5] == str(6 * 60 // 5 * 10)  # 10 requests every 5 minutes for 6 hours
    assert re.fullmatch(r"\+0\.05 in ~[\d.]+ (min|h)", busy[6]), busy
    assert busy[7] == busy[6].split(" in ")[1]
    assert thin[6] == "too thin"
    assert re.fullmatch(r"~[\d,]+ d|never", thin[7]), thin
    assert cost[6:] == ["-", "-"]  # a threshold rule has no detector


def test_monitor_slis_json_prints_the_apis_slis_one_a_line(watched: tuple[str, str]) -> None:
    result = slis(watched, "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line, parse_constant=not_json) for line in result.stdout.splitlines()]
    config, db = watched
    settings = load_settings(config, overrides={"db": db})
    store = open_store(db)
    try:
        app = create_app(settings, store, clock=Clock(NOW))
        with TestClient(app, base_url="http://localhost") as http:
            api = http.get("/api/v1/slis").json()
    finally:
        store.close()
    assert lines == api
    assert {s["watching"] for s in lines} == {"breached", "watching", "too thin", "no data"}


def test_monitor_slis_of_a_project_without_traffic_says_so(watched: tuple[str, str]) -> None:
    result = slis(watched, "--project", "bank")
    assert result.exit_code == 0, result.output
    assert result.output == "no data yet for this project's rules\n"


def test_alerts_test_sends_through_each_notifier_and_says_which_failed_and_why(
    tmp_path: Path,
) -> None:
    with run_receiver() as receiver:
        receiver.script(Reply(200), Reply(400, "malformed event"))
        config = tmp_path / "liveeval.toml"
        config.write_text(
            'default_project = "shop"\n\n[monitor]\npublic_url = "https://liveeval.example/ui"\n\n'
            '[[monitor.notifiers]]\nname = "log"\ntype = "log"\n\n'
            f'[[monitor.notifiers]]\nname = "hook"\ntype = "webhook"\nurl = "{receiver.url}/ok"\n\n'
            f'[[monitor.notifiers]]\nname = "bad"\ntype = "webhook"\nurl = "{receiver.url}/no"\n\n'
            '[[monitor.notifiers]]\nname = "unset"\ntype = "slack"\n'
            'url_env = "LIVEEVAL_TEST_UNSET_SLACK_URL"\n'
        )
        result = run("alerts", "test", "--config", str(config))
        sent = list(receiver.requests)
    assert result.exit_code == 1, result.output  # one or more failed
    lines = result.output.splitlines()
    assert lines[:2] == ["log (log): sent", "hook (webhook): sent"]
    assert lines[2].startswith("bad (webhook): failed — ") and "400" in lines[2]
    assert lines[3].startswith("unset (slack): failed — ")
    assert "LIVEEVAL_TEST_UNSET_SLACK_URL" in lines[3]
    assert [r.path for r in sent] == ["/ok", "/no"]
    body = sent[0].json()
    assert body["rule"] == "liveeval-test" and body["project"] == "shop"
    assert "test notification" in body["summary"]
    assert body["link"] == "https://liveeval.example/ui/alerts?project=shop"


def test_alerts_test_exits_0_when_every_notifier_took_it(tmp_path: Path) -> None:
    with run_receiver() as receiver:
        config = tmp_path / "liveeval.toml"
        config.write_text(
            f'[[monitor.notifiers]]\nname = "hook"\ntype = "webhook"\nurl = "{receiver.url}/h"\n'
        )
        result = run("alerts", "test", "--config", str(config), "--json")
        sent = len(receiver.requests)
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.output.splitlines()] == [
        {"notifier": "hook", "kind": "webhook", "error": None, "sent": True}
    ]
    assert sent == 1
    unknown = run("alerts", "test", "--config", str(config), "--notifier", "nope")
    assert unknown.exit_code == 2 and "no notifier 'nope'" in unknown.output


def test_alerts_ack_and_silence_record_who_and_until_when(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'liveeval.db'}"
    store_degraded_traffic(db, minutes=5)
    store = open_store(db)
    try:
        alert_id = fired(store)
    finally:
        store.close()
    acked = run("alerts", "ack", str(alert_id), "--by", "al", "--db", db)
    assert acked.exit_code == 0 and acked.output == f"alert {alert_id} acknowledged by al\n"
    shown = run("alerts", "show", str(alert_id), "--db", db)
    assert "  acknowledged by al at " in shown.output
    args = ["regeneration-rate-rise", "--for", "2h", "--project", "shop", "--by", "bo"]
    silenced = run("alerts", "silence", *args, "--db", db)
    assert silenced.exit_code == 0, silenced.output
    assert silenced.output.startswith("rule regeneration-rate-rise silenced in shop until ")
    store = open_store(db)
    try:
        with store.reading() as conn:
            now = datetime.now(UTC)
            (silence,) = active_silences(conn, "shop", now).values()
    finally:
        store.close()
    assert silence.silenced_by == "bo"
    assert timedelta(minutes=119) < silence.until - now <= timedelta(hours=2)
    unknown = run("alerts", "silence", "nope", "--for", "2h", "--db", db)
    too_long = run("alerts", "silence", "regeneration-rate-rise", "--for", "31d", "--db", db)
    missing = run("alerts", "ack", "999", "--db", db)
    assert unknown.exit_code == 2 and "no rule 'nope'" in unknown.output
    assert too_long.exit_code == 2 and "at most 30d" in too_long.output
    assert missing.exit_code == 2 and "no alert 999" in missing.output
