"""The [monitor] section: rules, drift thresholds and notifiers, refused precisely when wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from liveeval.config import load_settings
from liveeval.config.monitor import DEFAULT_RULES, MonitorConfig, RuleConfig
from liveeval.config.settings import ConfigError
from liveeval.monitor.delivery import NotifierConfigError, build_notifier


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "liveeval.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_rules_and_notifiers_are_read_from_toml(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[monitor]
interval_s = 30

[[monitor.rules]]
name = "regen"
metric = "regenerated_rate"
slice_by = ["all", "model_served+language"]
window = "15m"
baseline_start = 2026-11-02T00:00:00Z
baseline_end = 2026-11-09T00:00:00Z
threshold = 0.5
relative = true
severity = "critical"

[[monitor.notifiers]]
name = "team"
type = "slack"
url = "https://hooks.slack.example/T/B/X"
""",
    )
    monitor = load_settings(path, environ={}).monitor
    (rule,) = monitor.rules
    assert rule.window == timedelta(minutes=15) and rule.slice_by == (
        "all",
        "model_served+language",
    )
    assert rule.baseline_range(datetime(2026, 11, 20, tzinfo=UTC)) == (
        datetime(2026, 11, 2, tzinfo=UTC),
        datetime(2026, 11, 9, tzinfo=UTC),
    )
    assert [n.name for n in monitor.notifiers] == ["team"]
    assert monitor.interval_s == 30


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ('metric = "happiness"\nthreshold = 1', "unknown metric 'happiness'"),
        ('metric = "regenerated_rate"', "needs a threshold"),
        ('metric = "error_rate"\nthreshold = 0.1\nslice_by = ["colour"]', "unknown dimension"),
        ('metric = "error_rate"\nthreshold = 0.1\nwindow = "5 minutes"', "duration like"),
        ('metric = "error_rate"\nthreshold = 0.1\nscore = "x"', "judge_* metrics only"),
        ('metric = "error_rate"\nthreshold = -1', "greater than or equal to 0"),
        ('metric = "error_rate"\nthreshold = 0.1\nseverity = "page"', "severity"),
        (
            'metric = "error_rate"\nthreshold = 0.1\nbaseline_start = 2026-11-02T00:00:00Z',
            "both baseline_start and baseline_end",
        ),
    ],
)
def test_a_broken_rule_is_refused_with_the_key_and_the_problem(
    tmp_path: Path, rule: str, message: str
) -> None:
    path = write(tmp_path, f'[[monitor.rules]]\nname = "r"\n{rule}\n')
    with pytest.raises(ConfigError, match=r"monitor\.rules") as raised:
        load_settings(path, environ={})
    assert message in str(raised.value)


def test_rule_and_notifier_names_must_be_unique() -> None:
    rule = {"name": "r", "metric": "error_rate", "threshold": 0.1}
    with pytest.raises(ValueError, match="repeated: r"):
        MonitorConfig.model_validate({"rules": [rule, rule]})


def test_a_configured_rule_replaces_the_default_of_its_name() -> None:
    mine = RuleConfig(name="judge-mean-drop", metric="judge_mean", threshold=1.0)
    active = MonitorConfig(rules=(mine,)).active_rules()
    assert [r for r in active if r.name == "judge-mean-drop"] == [mine]
    assert len(active) == len(DEFAULT_RULES)
    assert MonitorConfig(default_rules=False, rules=(mine,)).active_rules() == (mine,)


def test_metrics_know_which_way_is_bad() -> None:
    assert RuleConfig(name="a", metric="judge_mean", threshold=1).bad_direction == "drop"
    assert RuleConfig(name="b", metric="thumbs_up_rate", threshold=1).bad_direction == "drop"
    assert RuleConfig(name="c", metric="latency_p95", threshold=1).bad_direction == "rise"


def test_notifier_secrets_come_from_the_environment_or_a_clear_error() -> None:
    config = MonitorConfig.model_validate(
        {"notifiers": [{"name": "pd", "type": "pagerduty", "routing_key_env": "PD_KEY"}]}
    ).notifiers[0]
    assert build_notifier(config, {"PD_KEY": "abc"}).kind == "pagerduty"
    with pytest.raises(NotifierConfigError, match="PD_KEY"):
        build_notifier(config, {})
    with pytest.raises(ValueError, match="needs url or url_env"):
        MonitorConfig.model_validate({"notifiers": [{"name": "w", "type": "webhook"}]})


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ('notify = ["oncal"]', "rule 'regen': notify names no notifier called 'oncal'"),
        ('window = "5m"', "rule 'regen': window 5m is outside 15m … 90d"),
        ('window = "91d"', "rule 'regen': window 91d is outside 15m … 90d"),
    ],
)
def test_a_rule_naming_a_missing_notifier_or_a_window_out_of_range_stops_the_load(
    tmp_path: Path, rule: str, message: str
) -> None:
    path = write(
        tmp_path,
        '[[monitor.rules]]\nname = "regen"\nmetric = "regenerated_rate"\nthreshold = 0.05\n'
        f'{rule}\n\n[[monitor.notifiers]]\nname = "oncall"\ntype = "log"\n',
    )
    with pytest.raises(ConfigError) as raised:
        load_settings(path, environ={})
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)  # one line, as `serve` prints it


def test_a_rule_may_name_the_notifiers_it_goes_to_and_the_edges_of_the_window_range() -> None:
    config = MonitorConfig.model_validate(
        {
            "rules": [
                {"name": "a", "metric": "error_rate", "threshold": 0.1, "window": "15m"},
                {"name": "b", "metric": "error_rate", "threshold": 0.1, "window": "90d"},
                {"name": "c", "metric": "error_rate", "threshold": 0.1, "notify": ["pd"]},
            ],
            "notifiers": [{"name": "pd", "type": "log"}],
        }
    )
    assert [r.window for r in config.rules[:2]] == [timedelta(minutes=15), timedelta(days=90)]


@pytest.mark.parametrize(
    "given",
    [
        "https://liveeval.example",
        "https://liveeval.example/",
        "https://liveeval.example/ui",
        "https://liveeval.example/ui/",
    ],
)
def test_public_url_is_the_site_root_whether_or_not_it_ends_in_a_slash_or_ui(given: str) -> None:
    assert MonitorConfig(public_url=given).public_url == "https://liveeval.example"
