"""`--db` takes a path or a URL everywhere; commands that only read never create a store."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from liveeval.cli.main import cli

READ_COMMANDS = (
    ["interactions", "list"],
    ["interactions", "show", "1"],
    ["interactions", "counts", "--by", "route"],
    ["scores", "list"],
    ["alerts", "list"],
    ["alerts", "show", "1"],
    ["monitor", "slis"],
    ["review", "list"],
    ["review", "show", "1"],
    ["cases", "list"],
    ["cases", "show", "c1"],
    ["cases", "export", "out.jsonl"],
    ["cases", "candidates", "out.jsonl"],
    ["drift", "--no-topics"],
    ["judge", "history"],
    ["keys", "list"],
    ["divergence"],
    ["ab-online", "--a", "v1", "--b", "v2"],
)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder with no liveeval.toml and no LIVEEVAL_ settings."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LIVEEVAL_DB", raising=False)
    monkeypatch.delenv("LIVEEVAL_CONFIG", raising=False)
    return tmp_path


@pytest.mark.parametrize("command", READ_COMMANDS, ids=" ".join)
def test_read_commands_refuse_a_missing_store_and_create_nothing(
    folder: Path, command: list[str]
) -> None:
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 1, result.output
    assert result.output == (
        "Error: no store at liveeval.db (run `liveeval serve` or `liveeval demo` first, "
        "or pass --db)\n"
    )
    assert list(folder.iterdir()) == []


def test_a_missing_store_in_a_missing_folder_creates_no_folder(folder: Path) -> None:
    url = f"sqlite:///{folder / 'nonexistent' / 'dir' / 'x.db'}"
    result = CliRunner().invoke(cli, ["interactions", "list", "--db", url])
    assert result.exit_code == 1
    assert result.output.startswith("Error: no store at ")
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("given", ["app.db", "./app.db", "sqlite:///app.db"])
def test_db_takes_a_path_or_a_url(folder: Path, given: str) -> None:
    created = CliRunner().invoke(
        cli, ["keys", "create", "--project", "p", "--role", "read", "--db", given]
    )
    assert created.exit_code == 0, created.output
    assert (folder / "app.db").is_file()
    listed = CliRunner().invoke(cli, ["interactions", "list", "--db", given])
    assert listed.exit_code == 0, listed.output
    assert "no interactions match" in listed.output


def test_the_config_file_takes_a_path_too(folder: Path) -> None:
    (folder / "liveeval.toml").write_text('db = "data/app.db"\n')
    created = CliRunner().invoke(cli, ["keys", "create", "--project", "p", "--role", "read"])
    assert created.exit_code == 0, created.output
    assert (folder / "data" / "app.db").is_file()


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            "postgresql://u@h:port/db",
            "Error: cannot parse the store URL 'postgresql://u@h:port/db'",
        ),
        ("mysql://u@h/db", "Error: unsupported database 'mysql' in mysql://u@h/db"),
    ],
)
def test_a_bad_url_is_a_one_line_usage_error(folder: Path, given: str, message: str) -> None:
    result = CliRunner().invoke(cli, ["interactions", "list", "--db", given])
    assert result.exit_code == 2
    assert result.output.splitlines()[-1].startswith(message)
    assert "Traceback" not in result.output


def test_an_unreachable_server_is_one_line(folder: Path) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/test"
    result = CliRunner().invoke(
        cli, ["keys", "create", "--project", "p", "--role", "read", "--db", url]
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot reach PostgreSQL at 127.0.0.1:1: ")
    assert len(result.output.splitlines()) == 1
