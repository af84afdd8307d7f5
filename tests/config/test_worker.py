from __future__ import annotations

from pathlib import Path

import pytest

from liveeval.config import load_settings
from liveeval.config.settings import ConfigError
from liveeval.config.worker import WorkerConfig

DOCS = Path(__file__).resolve().parents[2] / "docs" / "evaluation.md"


def test_every_worker_setting_is_documented() -> None:
    rows = [line for line in DOCS.read_text().splitlines() if line.startswith("| `")]
    documented = {row.split("`")[1] for row in rows}
    missing = set(WorkerConfig.model_fields) - documented
    assert not missing, f"{missing} missing from the [worker] table of docs/evaluation.md"


def test_worker_settings_come_from_their_toml_table(tmp_path: Path) -> None:
    config = tmp_path / "liveeval.toml"
    config.write_text("[worker]\nin_process = false\nmax_job_attempts = 2\n")
    settings = load_settings(config, environ={})
    assert (settings.worker.in_process, settings.worker.max_job_attempts) == (False, 2)


def test_a_bad_worker_setting_names_its_key(tmp_path: Path) -> None:
    config = tmp_path / "liveeval.toml"
    config.write_text("[worker]\nmax_job_attempts = 0\nlease = 5\n")
    with pytest.raises(ConfigError) as error:
        load_settings(config, environ={})
    assert "worker.max_job_attempts" in str(error.value)
    assert "worker.lease" in str(error.value)
