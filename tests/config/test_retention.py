"""The [retention] section: limits per project, "none" for keep forever, bad values refused
with their key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from liveeval.config import load_settings
from liveeval.config.retention import RetentionConfig
from liveeval.config.settings import ConfigError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "retention.md"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "liveeval.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_retention_setting_is_documented() -> None:
    rows = [line for line in DOCS.read_text().splitlines() if line.startswith("| `")]
    documented = {row.split("`")[1] for row in rows}
    assert documented >= set(RetentionConfig.model_fields)


def test_retention_settings_come_from_their_toml_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[retention]
interactions_days = 30
interval_s = 600
batch_size = 200

[retention.projects]
shop = 7
audit = "none"
""",
    )
    config = load_settings(path, environ={}).retention
    assert (config.interactions_days, config.interval_s, config.batch_size) == (30, 600.0, 200)
    assert config.projects == {"shop": 7, "audit": None}


def test_retention_is_off_by_default() -> None:
    config = RetentionConfig()
    assert not config.enabled
    assert config.cutoff_for("shop", NOW) is None
    assert config.shortest_days() is None
    assert (config.interval_s, config.batch_size) == (3600.0, 1000)


def test_a_project_limit_wins_over_the_default_and_none_keeps_that_project_forever() -> None:
    config = RetentionConfig(interactions_days=30, projects={"shop": 7, "audit": "forever"})
    assert config.cutoff_for("shop", NOW) == NOW - timedelta(days=7)
    assert config.cutoff_for("anyone", NOW) == NOW - timedelta(days=30)
    assert config.cutoff_for("audit", NOW) is None
    assert config.shortest_days() == 7


def test_one_project_limit_alone_switches_retention_on() -> None:
    config = RetentionConfig(projects={"shop": 90, "audit": None})
    assert config.enabled
    assert config.cutoff_for("other", NOW) is None
    assert config.shortest_days() == 90


def test_bad_retention_values_name_their_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[retention]
interactions_days = 0
batch_size = 0
keep = 3

[retention.projects]
shop = -1
""",
    )
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    message = str(error.value)
    for key in (
        "retention.interactions_days",
        "retention.batch_size",
        "retention.keep",
        "retention.projects.shop",
    ):
        assert key in message
