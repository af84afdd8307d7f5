"""`liveeval demo`: the server on a fresh database, playing weeks of a fictional product."""

from __future__ import annotations

import logging
import signal
import tempfile
import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from liveeval.cli.serve import _exit_quietly, bind, check_exposure
from liveeval.demo.settings import JUDGES, demo_settings, local_judge_missing, pick_judge
from liveeval.demo.story import PROJECT
from liveeval.store.location import parse_store_url, sqlite_path

# The server and the story's player load in demo() once it has said so (seconds).
if TYPE_CHECKING:
    from liveeval.demo.session import DemoSession

log = logging.getLogger(__name__)
PAGES = (
    ("overview", "SLIs, firing alerts, traffic"),
    ("alerts", "the German slice's judge-score drop and regenerations, named by slice"),
    ("quality", "judge scores per prompt version: v2 (day {rollout}) beats v1"),
    ("judge", "served-model changes: northwind-chat-2025-01-15 served for the pinned model"),
    (
        "drift?window_days={drift_days}&baseline_days={drift_day}",
        "the last {drift_days} days against the ones before: Spanish 3% -> 25%, Acme Card topics",
    ),
    ("interactions", "filter language=de, model, prompt version; open one to see why"),
    ("review", "failures the monitor queued; a few already promoted"),
    ("golden", "the frozen regression cases and the regression run"),
    ("experiments?a=v1&b=v2&days={days}", "online A/B of v1 against v2; offline vs online"),
)
SPEEDS = {"fast": 0.0, "slow": 2.0}


@click.command()
@click.option("--port", type=int, default=7318, show_default=True, help="0 picks a free port.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--open", "open_browser", is_flag=True, help="Open the dashboard in a browser.")
@click.option(
    "--db",
    help="SQLite file to write: a path or sqlite:///path.db (default: a fresh one in a temp dir).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="The story's seed.")
@click.option(
    "--speed",
    type=click.Choice(sorted(SPEEDS)),
    default="fast",
    show_default=True,
    help="fast: play at once; slow: pause 2 s per simulated day to watch it happen.",
)
@click.option(
    "--days", type=click.IntRange(4, 60), default=21, show_default=True, help="Days of story."
)
@click.option(
    "--per-day",
    type=click.IntRange(10, 2000),
    default=180,
    show_default=True,
    help="Requests on a weekday.",
)
@click.option(
    "--judge",
    "judge_choice",
    type=click.Choice(JUDGES),
    default="auto",
    show_default=True,
    help="auto: the local model when the local-judge extra is installed, else simulated.",
)
def demo(
    port: int,
    host: str,
    open_browser: bool,
    db: str | None,
    seed: int,
    speed: str,
    days: int,
    per_day: int,
    judge_choice: str,
) -> None:
    """Play a few weeks of a fictional support assistant into a live server, then serve."""
    path = demo_path(db) if db else Path(tempfile.mkdtemp(prefix="liveeval-demo-")) / "demo.db"
    if path.exists():
        raise click.UsageError(f"--db {path} exists: the demo writes a fresh database")
    try:
        real_judge = pick_judge(judge_choice, local_judge_missing())
    except ValueError as exc:
        raise click.UsageError(f"--judge local: {exc}") from None
    settings = demo_settings(f"sqlite:///{path}", host, port, real_judge=real_judge)
    check_exposure(settings)  # the demo has no keys: loopback only
    click.echo(f"liveeval demo: starting, writing {path}")
    import uvicorn

    from liveeval.demo.session import DemoSession, story_ending_now
    from liveeval.server import create_app
    from liveeval.store.database import open_store

    story = story_ending_now(days, per_day, seed)
    sock = bind(host, port)
    url = f"http://{host}:{sock.getsockname()[1]}"
    store = open_store(settings.db)
    session = DemoSession(settings, story, real_judge=real_judge)
    try:
        session.start_judge()
    except ValueError as exc:
        store.close()
        raise click.UsageError(f"--judge local: {exc}") from None
    timeline = story.timeline
    _tour(url, path, timeline.rollout_day, timeline.drift_day, len(story.turns), days, real_judge)

    def done(finished: DemoSession) -> None:
        if finished.error is not None:
            click.echo(f"the demo stopped: {finished.error}", err=True)
            return
        played = finished.played
        assert played is not None
        click.echo(
            f"played {played.interactions} requests, {played.signals} signals in "
            f"{played.seconds:.0f} s. Still serving {tour_link(url, 'overview')} - Ctrl-C to stop."
        )
        if finished.real_judge:
            click.echo(
                f"the local model is still judging {finished.judge_backlog()} sampled answers "
                "in the background (seconds each); the quality and judge pages fill in."
            )
        spent = ", ".join(f"{name} {s:.1f} s" for name, s in played.phase_s.items())
        log.info("demo time by phase: %s", spent)

    session.play_in_thread(url, click.echo, done, SPEEDS[speed])
    if open_browser:
        webbrowser.open(tour_link(url, "overview"))
    app = create_app(settings, store)
    signal.signal(signal.SIGTERM, _exit_quietly)
    # uvicorn re-raises the Ctrl-C it caught once it has shut down; let that one pass
    # quietly instead of as a KeyboardInterrupt inside the closing event loop.
    signal.signal(signal.SIGINT, lambda signum, frame: None)
    options: dict[str, Any] = {
        "log_level": "warning",
        "access_log": False,
        "timeout_graceful_shutdown": 5,
    }
    try:
        uvicorn.Server(uvicorn.Config(app, **options)).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        session.close()
        store.close()
    click.echo("liveeval demo stopped")


def demo_path(db: str) -> Path:
    """The SQLite file of `--db` (a path or a sqlite:/// URL, as every command takes)."""
    try:
        path = sqlite_path(parse_store_url(db))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if path is None:
        raise click.UsageError(
            f"--db {db}: the demo writes a fresh SQLite file; give a path or sqlite:///path.db"
        )
    return path


def tour_link(url: str, page: str) -> str:
    """A dashboard page of the demo's project (`page` may carry its own query)."""
    return f"{url}/ui/{page}{'&' if '?' in page else '?'}project={PROJECT}"


def _tour(
    url: str,
    path: Path,
    rollout: int,
    drift_day: int,
    count: int,
    days: int,
    real_judge: bool,
) -> None:
    judge = (
        "the local model (SmolLM2-135M via llama.cpp; a sample, judged in the background)"
        if real_judge
        else "simulated (simulated-judge-1: no model is called)"
    )
    click.echo(f"liveeval demo: Acme Support, {days} days, {count} requests, project {PROJECT}")
    click.echo(f"  dashboard  {tour_link(url, 'overview')}")
    click.echo(f"  data       {path}")
    click.echo(f"  judge      {judge}")
    click.echo("  what happens: prompt v2 ships; later the provider silently swaps the model")
    click.echo("  and German answers degrade; then the Acme Card launches and Spanish grows.")
    click.echo("  where to look:")
    drift_days = days - drift_day
    fields = {
        "rollout": rollout + 1,
        "drift_days": drift_days,
        "drift_day": drift_day,
        "days": days,
    }
    for page, what in PAGES:
        click.echo(f"    {tour_link(url, page.format(**fields))}  {what.format(**fields)}")
    click.echo("playing:")
