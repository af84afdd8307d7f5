"""`liveeval demo --db` takes a path or a sqlite:/// URL, like every other command."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from liveeval.cli.demo import demo_path
from liveeval.cli.main import cli


def test_demo_db_takes_a_path_or_a_sqlite_url(tmp_path: Path) -> None:
    assert demo_path(str(tmp_path / "x.db")) == tmp_path / "x.db"
    assert demo_path(f"sqlite:///{tmp_path / 'x.db'}") == tmp_path / "x.db"
    assert demo_path("sqlite:///x.db") == Path("x.db")


def test_demo_db_refuses_another_database() -> None:
    with pytest.raises(click.UsageError, match="the demo writes a fresh SQLite file"):
        demo_path("postgresql+psycopg://postgres@127.0.0.1/test")


def test_demo_refuses_an_existing_file_named_by_url(tmp_path: Path) -> None:
    (tmp_path / "x.db").write_bytes(b"")
    result = CliRunner().invoke(cli, ["demo", "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 2
    assert f"--db {tmp_path / 'x.db'} exists" in result.output
    assert list(tmp_path.iterdir()) == [tmp_path / "x.db"]
