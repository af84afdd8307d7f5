"""`liveeval`: the command group; each family of commands lives in its own module."""

from __future__ import annotations

import os

# The drift statistics multiply small matrices (a 2,000 x 256 sample); a BLAS thread per
# core costs more than it gains there (bench/drift.py: 3.8 s with threads, 1.4 s
# without, on 2 cores). Set before numpy loads; an explicit setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import logging

import click

import liveeval
from liveeval.cli.ab import ab
from liveeval.cli.alerts import alerts, monitor
from liveeval.cli.cases import cases
from liveeval.cli.demo import demo
from liveeval.cli.drift import drift
from liveeval.cli.experiments import ab_online, divergence
from liveeval.cli.interactions import interactions
from liveeval.cli.judge import judge
from liveeval.cli.keys import keys
from liveeval.cli.regress import regress
from liveeval.cli.retention import retention
from liveeval.cli.review import review
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
cli.add_command(review)
cli.add_command(cases)
cli.add_command(judge)
cli.add_command(retention)
cli.add_command(regress)
cli.add_command(ab_online)
cli.add_command(divergence)
cli.add_command(ab)
cli.add_command(demo)
