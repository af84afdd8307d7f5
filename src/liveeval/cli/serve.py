"""`liveeval serve`: the server (OTLP, REST API) on an embedded or shared store."""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import click

from liveeval.cli.options import settings_from, store_from, store_options
from liveeval.config import Settings

# The server, the judge and the evaluator load in serve() once it has said it is
# starting: importing them takes seconds, and a silent start looks like a hang.
if TYPE_CHECKING:
    import uvicorn

    from liveeval.flywheel.retention import RetentionThread
    from liveeval.judge.worker import BackgroundWorker
    from liveeval.monitor.scheduler import MonitorThread
    from liveeval.store.database import Store

WORKER_APP = "liveeval.server.worker:app_from_environment"
WORKER_HEALTHCHECK_S = 60


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def check_exposure(settings: Settings) -> None:
    """Refuse to serve an open (keyless) API beyond this machine."""
    if not is_loopback(settings.host) and not settings.require_keys:
        raise click.UsageError(
            f"refusing to listen on {settings.host} without API keys: anyone who can reach it "
            "could write and read your data. Set require_keys (--require-keys or "
            "LIVEEVAL_REQUIRE_KEYS=true) and make keys with 'liveeval keys create'."
        )


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@click.command()
@click.option("--host", help="Address to bind (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 7318; 0 picks a free one).")
@click.option("--workers", type=click.IntRange(1, 64), help="Server processes (default 1).")
@click.option("--require-keys/--no-require-keys", default=None, help="Require API keys.")
@click.option(
    "--allowed-host",
    "extra_hosts",
    multiple=True,
    help="Another host name this server answers without keys (repeatable; '*' for any). "
    "Default: localhost, 127.0.0.1, [::1] and --host.",
)
@store_options
def serve(
    host: str | None,
    port: int | None,
    workers: int | None,
    require_keys: bool | None,
    extra_hosts: tuple[str, ...],
    config_file: str | None,
    db: str | None,
) -> None:
    """Run the server: OTLP at /v1/traces, the REST API under /api/v1/, the dashboard at /ui/."""
    settings = settings_from(
        config_file,
        host=host,
        port=port,
        workers=workers,
        require_keys=require_keys,
        allowed_hosts=list(extra_hosts) or None,
        db=db,
    )
    check_exposure(settings)
    click.echo(f"liveeval: starting, opening the store at {shown_store(settings.db)}")
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from liveeval.server import hosts
    from liveeval.server.worker import SETTINGS_VARIABLE, tune_gc

    store = store_from(settings, create=True)
    sock = bind(settings.host, settings.port)
    bound_port = sock.getsockname()[1]
    shown_host = f"[{settings.host}]" if ":" in settings.host else settings.host
    url = f"http://{shown_host}:{bound_port}"
    click.echo(f"liveeval listening on {url}")
    click.echo(f"  OTLP/HTTP   {url}/v1/traces  (set OTEL_EXPORTER_OTLP_ENDPOINT={url})")
    click.echo(f"  dashboard   {url}/ui/")
    click.echo(f"  REST API    {url}/api/v1/  (schema: {url}/openapi.json)")
    click.echo(f"  data        {store.describe()}")
    click.echo(
        f"  keys        {'required' if settings.require_keys else 'not required (loopback)'}"
    )
    answered = hosts.allowed_hosts(settings)
    if answered is not None:
        shown = ", ".join(f"[{name}]" if ":" in name else name for name in answered)
        click.echo(f"  hosts       {shown} (any other Host: 400; see --allowed-host)")
    click.echo(f"  workers     {settings.workers}")
    judge = settings.judge
    if judge.provider == "none":
        click.echo("  judge       none (checks and sampling run; set [judge] to grade)")
    elif settings.worker.in_process:
        click.echo(f"  judge       {judge.provider} {judge.pinned_model}, worker in this process")
    else:
        click.echo(f"  judge       {judge.provider} {judge.pinned_model}, run `liveeval worker`")
    click.echo(f"  evaluation  {EVALUATION_MODES[settings.evaluation]}")
    monitor = settings.monitor
    if monitor.enabled:
        notifiers = ", ".join(n.name for n in monitor.notifiers) or "none"
        click.echo(
            f"  monitor     {len(monitor.active_rules())} rules every {monitor.interval_s:g} s, "
            f"alerts to {notifiers}; Prometheus at {url}/metrics"
        )
    else:
        click.echo("  monitor     off")
    retention = settings.retention
    if retention.enabled:
        click.echo(
            f"  retention   content older than {retention.interactions_days or '-'} days "
            f"(per-project overrides: {len(retention.projects)}), checked every "
            f"{retention.interval_s:g} s"
        )
    ticking = start_monitor(settings)
    purging = start_retention(settings)
    evaluator = start_evaluator(settings, store)
    background = start_judge(settings)
    options: dict[str, Any] = {
        "log_level": "warning",
        "access_log": False,
        "http": "httptools",
        "loop": "auto",
        "timeout_graceful_shutdown": 10,
    }
    if settings.workers == 1:
        # Only here: with N workers this process serves nothing, and the app's modules
        # would cost it 70 MB.
        from liveeval.server import create_app

        app = create_app(settings, store)
        tune_gc()
        # uvicorn re-raises the signal that stopped it once it has shut down; turn
        # SIGTERM into SystemExit so the store still closes (its last checkpoint).
        signal.signal(signal.SIGTERM, _exit_quietly)
        try:
            uvicorn.Server(uvicorn.Config(app, **options)).run(sockets=[sock])
        except KeyboardInterrupt:
            pass
        finally:
            stop_evaluator(evaluator)
            stop_judge(background)
            stop_monitor(ticking)
            stop_retention(purging)
            store.close()
        click.echo("liveeval stopped")
        return
    store.close()
    os.environ[SETTINGS_VARIABLE] = settings.model_dump_json()
    try:
        Multiprocess(worker_config(settings, options), sockets=[sock]).run()
    finally:
        stop_evaluator(evaluator)
        stop_judge(background)
        stop_monitor(ticking)
        stop_retention(purging)


def shown_store(url: str) -> str:
    """The store's URL for people: a SQLite file's path, else the URL without password."""
    from liveeval.store.location import parse_store_url, shown, sqlite_path

    try:
        parsed = parse_store_url(url)
    except ValueError:
        return url  # store_from says what is wrong with it
    path = sqlite_path(parsed)
    return str(path) if path is not None else shown(parsed)


def worker_config(settings: Settings, options: dict[str, Any]) -> uvicorn.Config:
    """uvicorn's configuration for `--workers N`: each worker builds the app from
    WORKER_APP, a module that imports the server but not the CLI, and has
    WORKER_HEALTHCHECK_S to answer the supervisor's pings. uvicorn's 5 s default was
    too short on a busy machine: a worker still starting was replaced, over and over."""
    import uvicorn

    return uvicorn.Config(
        WORKER_APP,
        factory=True,
        workers=settings.workers,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        **options,
    )


def start_retention(settings: Settings) -> tuple[RetentionThread, Store] | None:
    """The retention job ([retention]) in a thread, on its own connection."""
    if not settings.retention.enabled:
        return None
    from liveeval.flywheel.retention import Retention, RetentionThread

    store = store_from(settings)
    thread = RetentionThread(Retention(store, settings))
    thread.start()
    return thread, store


def stop_retention(running: tuple[RetentionThread, Store] | None) -> None:
    if running is not None:
        thread, store = running
        thread.stop()
        store.close()


def start_monitor(settings: Settings) -> tuple[MonitorThread, Store] | None:
    """The monitor's scheduler (rollups, rules, alerts) in a thread, on its own connection."""
    if not settings.monitor.enabled:
        return None
    from liveeval.monitor.delivery import NotifierConfigError
    from liveeval.monitor.scheduler import Monitor, MonitorThread

    store = store_from(settings)
    try:
        ticking = MonitorThread(Monitor(store, settings))
    except NotifierConfigError as exc:
        store.close()
        raise click.UsageError(f"monitor: {exc}") from None
    ticking.start()
    return ticking, store


def stop_monitor(ticking: tuple[MonitorThread, Store] | None) -> None:
    if ticking is not None:
        thread, store = ticking
        thread.stop()
        store.close()


def start_judge(settings: Settings) -> tuple[BackgroundWorker, Store] | None:
    """The in-process judge worker, on a store connection of its own."""
    if settings.judge.provider == "none" or not settings.worker.in_process:
        return None
    from liveeval.judge.worker import BackgroundWorker, build_worker

    store = store_from(settings)
    try:
        return BackgroundWorker(build_worker(settings, store)).start(), store
    except ValueError as exc:
        store.close()
        raise click.UsageError(f"judge: {exc}") from None


def stop_judge(background: tuple[BackgroundWorker, Store] | None) -> None:
    if background is not None:
        worker, store = background
        worker.stop()
        store.close()


EVALUATION_MODES = {
    "background": "checks and sampling right after ingest, in a low-priority process",
    "inline": "checks and sampling in each ingest transaction",
    "off": "off (ingest only)",
}


def start_evaluator(settings: Settings, store: Store) -> subprocess.Popen[str] | None:
    """The background evaluator (ingest/evaluator.py), a process of its own."""
    if settings.evaluation != "background":
        return None
    from liveeval.ingest.evaluator import READY as EVALUATOR_READY
    from liveeval.ingest.evaluator import SETTINGS_VARIABLE as EVALUATOR_SETTINGS

    environment = {**os.environ, EVALUATOR_SETTINGS: settings.model_dump_json()}
    process = subprocess.Popen(
        [sys.executable, "-m", "liveeval.ingest.evaluator"],
        env=environment,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    ready = process.stdout.readline().strip() == EVALUATOR_READY  # after it checked [checks]
    process.stdout.close()
    if not ready:
        process.wait()
        store.close()
        raise click.UsageError("the background evaluator did not start (its error is above)")
    return process


def stop_evaluator(process: subprocess.Popen[str] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
