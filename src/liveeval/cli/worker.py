"""`liveeval worker`: grade queued interactions with the configured judge."""

from __future__ import annotations

import asyncio
import signal

import click

from liveeval.cli.options import opened_store, settings_from, store_options
from liveeval.judge.worker import JudgeWorker, WorkerStats, build_worker
from liveeval.store import jobs


@click.command()
@click.option(
    "--drain", is_flag=True, help="Grade every job that is due, then exit (for cron and CI)."
)
@click.option("--concurrency", type=click.IntRange(1, 1024), help="Judge requests in flight.")
@store_options
def worker(drain: bool, concurrency: int | None, config_file: str | None, db: str | None) -> None:
    """Take judge jobs from the store's queue until stopped (Ctrl-C or SIGTERM).

    Any number of workers may share a PostgreSQL store; each job is done once.
    """
    settings = settings_from(config_file, db=db)
    judge = settings.judge
    if judge.provider == "none":
        raise click.UsageError(
            "no judge configured: set [judge] provider (and model) in liveeval.toml; "
            "see docs/judge.md"
        )
    with opened_store(settings) as store:
        judge_worker = build_worker(settings, store)
        if concurrency is not None:
            judge_worker.concurrency = concurrency
        rubrics = ", ".join(judge_worker.rubrics)
        click.echo(f"liveeval judge worker {judge_worker.name}")
        click.echo(f"  judge       {judge.provider} {judge.pinned_model}")
        click.echo(f"  rubrics     {rubrics}")
        click.echo(f"  data        {store.describe()}")
        with store.reading() as conn:
            click.echo(f"  queue       {_counts(jobs.counts(conn))}")
        stats = asyncio.run(_work(judge_worker, drain))
        with store.reading() as conn:
            left = jobs.counts(conn)
    click.echo(
        f"graded {stats.scored} ({stats.errors} errors, {stats.cached} from cache), "
        f"{stats.retried} to retry, {stats.dead} dead-lettered, "
        f"{stats.model_mismatches} with a model other than the pinned one"
    )
    click.echo(f"queue now   {_counts(left)}")


async def _work(judge_worker: JudgeWorker, drain: bool) -> WorkerStats:
    try:
        if drain:
            return await judge_worker.run_until_idle()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await judge_worker.run(stop)
        return judge_worker.stats
    finally:
        await judge_worker.grader.aclose()


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {state}" for state, n in counts.items())
