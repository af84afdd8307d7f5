"""The alert lifecycle: trigger once, update while it lasts, resolve, stay quiet in the cooldown."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from liveeval.config.monitor import RuleConfig
from liveeval.model.alert import AlertState
from liveeval.monitor.alerting import reconcile
from liveeval.monitor.metrics import Measurement
from liveeval.monitor.rules import Evaluation
from tests.telemetry import T0

RULE = RuleConfig(name="regen", metric="regenerated_rate", threshold=0.05, cooldown="30m")


def evaluation(breached: bool, sufficient: bool = True, value: float = 0.2) -> Evaluation:
    m = Measurement(value, 0.02, 400, 4000, breached, sufficient, f"rate is {value:.0%}")
    return Evaluation(RULE, {"model_served": "m2"}, m)


def test_a_breach_triggers_one_alert_naming_the_slice_and_the_numbers() -> None:
    (change,) = reconcile("shop", [evaluation(True)], {}, {}, T0, link=lambda e: "http://x")
    assert change.action == "trigger" and change.notifies
    alert = change.alert
    assert alert.state is AlertState.FIRING and alert.slice == {"model_served": "m2"}
    assert alert.summary == "regen: rate is 20% for model_served=m2"
    assert (alert.value, alert.baseline, alert.threshold) == (0.2, 0.02, 0.05)
    assert alert.link == "http://x" and alert.details["n"] == 400


def test_a_lasting_breach_updates_and_a_clear_evaluation_resolves() -> None:
    (opened,) = reconcile("shop", [evaluation(True)], {}, {}, T0)
    firing = {opened.alert.fingerprint: replace(opened.alert, alert_id=7)}
    later = T0 + timedelta(minutes=1)
    (update,) = reconcile("shop", [evaluation(True, value=0.3)], firing, {}, later)
    assert update.action == "update" and not update.notifies
    assert update.alert.value == 0.3 and update.alert.started_at == T0
    (resolve,) = reconcile("shop", [evaluation(False)], firing, {}, later)
    assert resolve.action == "resolve" and resolve.alert.resolved_at == later
    assert resolve.alert.alert_id == 7 and resolve.alert.state is AlertState.RESOLVED


def test_missing_data_neither_fires_nor_resolves() -> None:
    (opened,) = reconcile("shop", [evaluation(True)], {}, {}, T0)
    firing = {opened.alert.fingerprint: opened.alert}
    assert reconcile("shop", [evaluation(False, sufficient=False)], firing, {}, T0) == []
    assert reconcile("shop", [evaluation(False, sufficient=False)], {}, {}, T0) == []


def test_the_cooldown_holds_back_a_new_trigger_then_lets_it_through() -> None:
    key = evaluation(True).fingerprint("shop")
    resolved = {key: T0}
    assert reconcile("shop", [evaluation(True)], {}, resolved, T0 + timedelta(minutes=29)) == []
    (change,) = reconcile("shop", [evaluation(True)], {}, resolved, T0 + timedelta(minutes=31))
    assert change.action == "trigger"


def test_an_alert_of_a_removed_rule_is_resolved() -> None:
    (opened,) = reconcile("shop", [evaluation(True)], {}, {}, T0)
    firing = {opened.alert.fingerprint: opened.alert}
    (change,) = reconcile("shop", [], firing, {}, T0, active_rules=frozenset({"other"}))
    assert change.action == "resolve"
    assert change.alert.details["resolved_because"] == "the rule was removed"


def test_fingerprints_differ_by_project_rule_and_slice() -> None:
    one = evaluation(True)
    other_slice = Evaluation(RULE, {"model_served": "m1"}, one.measurement)
    assert len({one.fingerprint("a"), one.fingerprint("b"), other_slice.fingerprint("a")}) == 3


def sequential(evidence: float, since_minutes_ago: float | None, at: timedelta) -> Evaluation:
    now = T0 + at
    since = None if since_minutes_ago is None else now - timedelta(minutes=since_minutes_ago)
    m = Measurement(0.1, 0.05, 400, 4000, evidence > 1, True, f"evidence {evidence:.0%}",
                    evidence=evidence, since=since)  # fmt: skip
    return Evaluation(RULE, {"language": "es"}, m)


def test_a_scripted_incident_is_pending_then_fires_once_updates_and_resolves_with_hysteresis(
) -> None:  # fmt: skip
    """One incident, one alert: evidence per tick over a scripted stream."""
    script = [  # minutes after T0, evidence, minutes since the statistic crossed
        (0, 0.4, None),
        (1, 1.2, 0),  # crossed: pending
        (5, 1.4, 4),  # still pending (10 min)
        (11, 1.5, 10),  # fires
        (20, 0.8, None),  # fading below the threshold, above half of it: the same incident
        (30, 1.1, 0),  # back above: still the same alert, no new trigger
        (40, 0.45, None),  # below half: resolves
    ]
    firing: dict[str, object] = {}
    actions = []
    for minute, evidence, since in script:
        e = sequential(evidence, since, timedelta(minutes=minute))
        now = T0 + timedelta(minutes=minute)
        for change in reconcile("shop", [e], firing, {}, now):  # type: ignore[arg-type]
            actions.append((minute, change.action))
            if change.action == "resolve":
                firing.pop(change.alert.fingerprint)
            else:
                firing[change.alert.fingerprint] = change.alert
    assert actions == [(11, "trigger"), (20, "update"), (30, "update"), (40, "resolve")]


def test_overwhelming_evidence_fires_without_waiting_for_the_pending_period() -> None:
    (change,) = reconcile("shop", [sequential(2.5, 0, timedelta())], {}, {}, T0)
    assert change.action == "trigger"
    assert reconcile("shop", [sequential(1.9, 0, timedelta())], {}, {}, T0) == []


def test_an_alert_stays_open_until_its_evidence_has_been_low_for_keep_firing_for() -> None:
    (opened,) = reconcile("shop", [sequential(2.5, 0, timedelta())], {}, {}, T0)
    firing = {opened.alert.fingerprint: opened.alert}
    low = sequential(0.3, None, timedelta(hours=3))
    recent = replace(low, measurement=replace(low.measurement, high_until=T0 + timedelta(
        hours=2, minutes=30)))  # fmt: skip
    (kept,) = reconcile("shop", [recent], firing, {}, T0 + timedelta(hours=3))
    assert kept.action == "update"  # high 30 minutes ago: keep firing (1 h)
    assert kept.alert.summary == opened.alert.summary  # still says what moved
    assert kept.alert.details["latest"] == "evidence 30%"
    old = replace(low, measurement=replace(low.measurement, high_until=T0 + timedelta(hours=1)))
    (gone,) = reconcile("shop", [old], firing, {}, T0 + timedelta(hours=3))
    assert gone.action == "resolve"
