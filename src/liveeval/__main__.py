"""`python -m liveeval` is the `liveeval` command."""

from liveeval.cli.main import cli

cli()
