"""`liveeval`: the command group; each family of commands lives in its own module."""

from __future__ import annotations

import logging

import click

import liveeval
from liveeval.cli.alerts import alerts, monitor
from liveeval.cli.drift import drift
from liveeval.cli.interactions import interactions
from liveeval.cli.keys import keys
from liveeval.cli.scores import scores
from liveeval.cli.serve import serve
from liveeval.cli.worker import worker


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(liveeval.__version__, prog_name="liveeval")
@click.option("-v", "--verbose", is_flag=True, help="Log more (INFO).")
def cli(verbose: bool) -> None:
    """liveeval: evaluate an LLM product on its live traffic."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


cli.add_command(serve)
cli.add_command(interactions)
cli.add_command(keys)
cli.add_command(scores)
cli.add_command(worker)
cli.add_command(drift)
cli.add_command(alerts)
cli.add_command(monitor)
