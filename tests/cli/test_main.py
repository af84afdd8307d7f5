"""The `liveeval` group: commands load when they run, so --version and --help start at once."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from liveeval.cli.main import COMMANDS, LazyGroup, cli, summary

HEAVY = ("numpy", "scipy", "tokenizers", "sqlalchemy", "fastapi", "uvicorn", "openai")


@pytest.mark.parametrize("argument", ["--version", "--help"])
def test_version_and_help_import_no_heavy_module(argument: str) -> None:
    code = (
        "import sys; from click.testing import CliRunner; from liveeval.cli.main import cli; "
        f"result = CliRunner().invoke(cli, [{argument!r}]); assert result.exit_code == 0; "
        f"print(sorted(set({HEAVY!r}) & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_table_gives_each_command_its_own_help(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None and command.name == name
    for limit in (45, 80, 300):
        assert summary(name, limit) == command.get_short_help_str(limit)


def test_a_command_added_the_usual_way_is_listed_and_runs() -> None:
    group = LazyGroup("liveeval")
    group.add_command(click.Command("hello", help="Say hello.", callback=lambda: click.echo("hi")))
    listed = CliRunner().invoke(group, ["--help"])
    assert "hello         Say hello." in listed.output and "interactions" in listed.output
    assert CliRunner().invoke(group, ["hello"]).output == "hi\n"


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["nope"])
    assert result.exit_code == 2
    assert "No such command 'nope'" in result.output
