"""`liveeval`: the command group; each family of commands lives in its own module.

The group imports a command's module only when that command runs: `liveeval --version`
and `liveeval --help` would otherwise load numpy, scipy, tokenizers, SQLAlchemy and the
server for every command (about 3 s of CPU). `COMMANDS` names each command's module and
its one-line help; a test checks that help against the command's own.
"""

from __future__ import annotations

import os

# The drift statistics multiply small matrices (a 2,000 x 256 sample); a BLAS thread per
# core costs more than it gains there (bench/drift.py: 3.8 s with threads, 1.4 s
# without, on 2 cores). Set before numpy loads; an explicit setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import importlib
import logging
from typing import NamedTuple

import click

import liveeval


class Entry(NamedTuple):
    module: str
    attribute: str
    summary: str


COMMANDS = {
    "serve": Entry(
        "liveeval.cli.serve",
        "serve",
        "Run the server: OTLP at /v1/traces, the REST API under /api/v1/, the dashboard at /ui/.",
    ),
    "interactions": Entry(
        "liveeval.cli.interactions",
        "interactions",
        "Look at the interactions liveeval has recorded.",
    ),
    "keys": Entry("liveeval.cli.keys", "keys", "Make, list and revoke API keys."),
    "scores": Entry("liveeval.cli.scores", "scores", "Look at scores."),
    "worker": Entry(
        "liveeval.cli.worker",
        "worker",
        "Take judge jobs from the store's queue until stopped (Ctrl-C or SIGTERM).",
    ),
    "drift": Entry(
        "liveeval.cli.drift",
        "drift",
        "Input drift: lengths, language, topics, intents, models, routes, window vs baseline.",
    ),
    "alerts": Entry("liveeval.cli.alerts", "alerts", "Look at alerts."),
    "monitor": Entry("liveeval.cli.alerts", "monitor", "Run the monitor by hand."),
    "review": Entry(
        "liveeval.cli.review",
        "review",
        "The review queue: production failures waiting for a person.",
    ),
    "cases": Entry(
        "liveeval.cli.cases",
        "cases",
        "The golden set: versioned cases, frozen regression cases, JSONL in and out.",
    ),
    "judge": Entry("liveeval.cli.judge", "judge", "Check the LLM judge."),
    "retention": Entry(
        "liveeval.cli.retention",
        "retention",
        "Delete raw interaction content past its age limit ([retention] in the config).",
    ),
    "regress": Entry(
        "liveeval.cli.regress",
        "regress",
        "Run every golden-set case against the app and gate on the pass rate.",
    ),
    "ab-online": Entry(
        "liveeval.cli.experiments",
        "ab_online",
        "Compare variant B with A on live traffic: judged scores, signal rates, latency, cost; "
        "warns first when their input mix differs (a confounded comparison).",
    ),
    "divergence": Entry(
        "liveeval.cli.experiments",
        "divergence",
        "Offline vs online per release: the golden set's pass rate in stored regression runs "
        "(`regress --server … --prompt-version V`) next to the live judged mean of V.",
    ),
    "ab": Entry(
        "liveeval.cli.ab",
        "ab",
        "Run variants A and B on the same cases and compare them as paired samples.",
    ),
    "routing": Entry(
        "liveeval.cli.routing",
        "routing",
        "Routed tasks: policies, insights, kill switches and replays.",
    ),
    "demo": Entry(
        "liveeval.cli.demo",
        "demo",
        "Play a few weeks of a fictional support assistant into a live server, then serve.",
    ),
}


class LazyGroup(click.Group):
    """A group whose commands are imported from `COMMANDS` when they are run."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:  # one added with cli.add_command, loaded already
            return super().get_command(ctx, cmd_name)
        command = getattr(importlib.import_module(entry.module), entry.attribute)
        assert isinstance(command, click.Command), entry
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click's, from the table: one line each, cut to the width as click cuts it."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [
            (
                name,
                summary(name, limit)
                if name in COMMANDS
                else self.commands[name].get_short_help_str(limit),
            )
            for name in names
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def summary(name: str, limit: int) -> str:
    """The one-line help of command `name` in `limit` characters, as click would cut it."""
    return click.Command(name, help=COMMANDS[name].summary).get_short_help_str(limit)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(liveeval.__version__, prog_name="liveeval")
@click.option("-v", "--verbose", is_flag=True, help="Log more (INFO).")
def cli(verbose: bool) -> None:
    """liveeval: evaluate an LLM product on its live traffic."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
