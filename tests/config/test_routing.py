"""config/routing.py: `[routing]` in liveeval.toml, read through load_settings, with errors
that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from liveeval.config import load_settings
from liveeval.config.routing import UnknownTask
from liveeval.config.settings import ConfigError
from liveeval.routing.config import TaskConfig

TASK = """
[routing]
refresh_s = 5

[routing.tasks.support_answer]
default = "mini"
slices = ["language"]

[[routing.tasks.support_answer.arms]]
name = "mini"
model = "gpt-4o-mini"

[[routing.tasks.support_answer.arms]]
name = "large"
model = "gpt-4o"
params = { temperature = 0.2 }
"""


def test_tasks_are_read_into_task_configs(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, TASK), environ={})
    task = settings.routing.task("support_answer")
    assert isinstance(task, TaskConfig)
    assert task.arm_names == ("mini", "large") and task.slices == ("language",)
    assert task.arms[1].params == {"temperature": 0.2}
    assert settings.routing.refresh_s == 5


def test_no_routing_table_means_no_tasks_and_a_30_second_refresh(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, ""), environ={})
    assert (settings.routing.tasks, settings.routing.refresh_s) == ({}, 30.0)
    with pytest.raises(UnknownTask, match="no routing task 'x'; configured: none"):
        settings.routing.task("x")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('default = "mini"', 'default = "huge"'),
            "invalid settings: invalid routing config: routing.tasks.support_answer: Value "
            "error, default 'huge' is not an arm (mini, large)",
        ),
        (
            ('model = "gpt-4o"', "model = 4"),
            "routing.tasks.support_answer.arms.1.model: Input should be a valid string (got 4)",
        ),
        (
            ('slices = ["language"]', 'slicez = ["language"]'),
            "routing.tasks.support_answer.slicez: Extra inputs are not permitted",
        ),
        (("refresh_s = 5", "refresh_s = 0"), "routing.refresh_s: Input should be greater than 0"),
        (("refresh_s = 5", "refresh = 5"), "routing.refresh: Extra inputs are not permitted"),
    ],
)
def test_a_bad_routing_table_names_its_key(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(_write(tmp_path, TASK.replace(*change)), environ={})
    assert message in str(raised.value)


def test_a_task_that_is_not_a_table_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[routing.tasks.x\] must be a table, got 3"):
        load_settings(_write(tmp_path, "[routing.tasks]\nx = 3\n"), environ={})


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "liveeval.toml"
    path.write_text(text)
    return path
