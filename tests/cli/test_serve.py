from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

import click
import httpx
import orjson
import pytest
from click.testing import CliRunner

from liveeval.cli.main import cli
from liveeval.cli.serve import WORKER_APP, check_exposure, is_loopback, worker_config
from liveeval.config import Settings
from liveeval.store.database import open_store
from liveeval.store.interactions import InteractionFilter, list_interactions
from tests.conftest import wait_for
from tests.telemetry import chat_attributes, json_span, json_traces, span_id, trace_id


def follow(
    process: subprocess.Popen[str], printed: list[str]
) -> tuple[Callable[[], None], threading.Thread]:
    """Read `process`'s output in a thread; the function returned with that thread appends
    to `printed` what has come."""
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout],  # type: ignore[union-attr]
        daemon=True,
    )
    reader.start()

    def collect() -> None:
        while not lines.empty():
            printed.append(lines.get())

    return collect, reader


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_addresses_are_recognised(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com", ""])
def test_other_addresses_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.5", "::"])
def test_an_open_server_beyond_loopback_is_refused(host: str) -> None:
    with pytest.raises(click.UsageError, match=f"refusing to listen on {re.escape(host)} without"):
        check_exposure(Settings(host=host))


@pytest.mark.parametrize(
    "settings",
    [Settings(host="0.0.0.0", require_keys=True), Settings(host="127.0.0.1"), Settings()],
)
def test_keys_or_loopback_make_serving_acceptable(settings: Settings) -> None:
    check_exposure(settings)


def test_serve_on_a_public_address_without_keys_exits_2_before_serving(tmp_path: Path) -> None:
    db = tmp_path / "never.db"
    result = CliRunner().invoke(
        cli, ["serve", "--host", "0.0.0.0", "--port", "0", "--db", f"sqlite:///{db}"]
    )
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0 without API keys" in result.output
    assert "--require-keys" in result.output
    assert not db.exists()  # refused before the store was even opened


def test_serve_refuses_a_public_address_when_the_environment_turns_keys_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIVEEVAL_HOST", "0.0.0.0")
    result = CliRunner().invoke(cli, ["serve", "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0" in result.output


def test_serve_runs_as_a_process_that_prints_its_url_and_data_and_ingests(tmp_path: Path) -> None:
    db = tmp_path / "served.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEEVAL_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "liveeval", "serve", "--port", "0", "--db", f"sqlite:///{db}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    printed: list[str] = []
    collect, reader = follow(process, printed)

    def banner_done() -> bool:
        collect()
        return (
            any(line.strip().startswith("data") for line in printed) or process.poll() is not None
        )

    try:
        wait_for(banner_done, timeout=30)
        assert process.poll() is None, "".join(printed)
        assert printed[0] == f"liveeval: starting, opening the store at {db}\n"
        [url] = re.findall(r"liveeval listening on (http://127\.0\.0\.1:\d+)", "".join(printed))
        [data] = [line.split("data", 1)[1].strip() for line in printed if "data" in line]
        assert data == f"SQLite file {db.resolve()}"

        trace = trace_id()
        answered = chat_attributes("Hi?", "Hello.")  # content to check: not_empty runs
        document = json_traces(json_span(answered, trace=trace, span=span_id()))
        with httpx.Client(base_url=url, timeout=10) as http:
            sent = http.post(
                "/v1/traces",
                content=orjson.dumps(document),
                headers={"content-type": "application/json"},
            )
            assert sent.status_code == 200
            listed = http.get("/api/v1/interactions").json()
            assert [item["trace_id"] for item in listed["items"]] == [trace]

            def checked() -> list[dict]:
                found = http.get("/api/v1/scores", params={"kind": "check"}).json()
                return found["items"]

            # The background evaluator process serve started scores it shortly after.
            scores = wait_for(checked, timeout=30)
        assert {s["name"] for s in scores} >= {"not_empty", "length"}
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            reader.join(timeout=5)
            process.stdout.close()  # type: ignore[union-attr]
    # Ctrl-C stops it cleanly: exit status 0, the store closed (its write-ahead log
    # checkpointed into the file and emptied), and what was acknowledged is in the file.
    assert process.returncode == 0
    banner_done()  # collect what it printed while stopping
    assert "liveeval stopped" in "".join(printed)
    wal = db.with_name(db.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    store = open_store(f"sqlite:///{db}")
    try:
        with store.reading() as conn:
            stored = list_interactions(conn, InteractionFilter(project="default"), limit=10)
    finally:
        store.close()
    assert [i.trace_id for i in stored] == [trace]


def test_serve_refuses_a_broken_checks_config_before_serving(tmp_path: Path) -> None:
    config = tmp_path / "liveeval.toml"
    config.write_text('[checks]\ndefault = ["not_empty", "no_such_check"]\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEEVAL_")}
    result = subprocess.run(
        [sys.executable, "-m", "liveeval", "serve", "--port", "0", "--config", str(config),
         "--db", f"sqlite:///{tmp_path / 'x.db'}"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "no_such_check" in result.stderr
    assert "the background evaluator did not start" in result.stderr


def test_serve_says_it_is_starting_before_it_loads_the_server() -> None:
    """The server's imports take seconds: the first line comes before them."""
    code = """if True:
        import sys
        import click
        from click.testing import CliRunner
        from liveeval.cli.main import cli
        said = []
        echo = click.echo
        def noting(message=None, *args, **kwargs):
            said.append((str(message), "uvicorn" in sys.modules))
            echo(message, *args, **kwargs)
        click.echo = noting
        url = "postgresql+psycopg://postgres@127.0.0.1:1/test"
        result = CliRunner().invoke(cli, ["serve", "--port", "0", "--db", url])
        print(said[0], result.exit_code, result.output.splitlines()[-1])
    """
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout == (
        "('liveeval: starting, opening the store at "
        "postgresql+psycopg://postgres@127.0.0.1:1/test', False) 1 "
        "Error: cannot reach PostgreSQL at 127.0.0.1:1: Connection refused\n"
    )


def imports_after(code: str) -> set[str]:
    """The liveeval modules and click, as loaded in a fresh interpreter after `code`."""
    report = "import json, sys; print(json.dumps(list(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\n{report}"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return {m for m in json.loads(done.stdout) if m.startswith(("liveeval", "click"))}


def test_the_liveeval_command_loads_no_cli_before_it_runs() -> None:
    """`serve --workers N` spawns its workers, and spawn re-imports the parent's main
    module, the `liveeval` script, in each: that import must not load every command
    (12.7 s at load 20, past uvicorn's health check)."""
    [command] = entry_points(group="console_scripts", name="liveeval")
    loaded = imports_after(f"import {command.module}")
    assert not {m for m in loaded if m.startswith("liveeval.cli")}, sorted(loaded)
    assert "click" not in loaded


def test_the_worker_app_loads_the_server_but_not_the_cli(tmp_path: Path) -> None:
    """The worker module itself is light (serve reads its names too); its factory builds
    the app."""
    module, factory = WORKER_APP.split(":")
    settings = Settings(db=f"sqlite:///{tmp_path / 'workers.db'}").model_dump_json()
    loaded = imports_after(
        f"import os\nfrom liveeval.store.database import open_store\n"
        f"open_store({str(Settings.model_validate_json(settings).db)!r}).close()\n"
        f"import {module}\nos.environ[{module}.SETTINGS_VARIABLE] = {settings!r}\n"
        f"{module}.{factory}()"
    )
    assert "liveeval.server.app" in loaded
    assert not {m for m in loaded if m.startswith("liveeval.cli")} and "click" not in loaded


def test_workers_have_a_minute_to_answer_the_supervisors_health_check() -> None:
    config = worker_config(Settings(workers=2), {})
    assert (config.app, config.factory, config.workers) == (WORKER_APP, True, 2)
    assert config.timeout_worker_healthcheck >= 60  # uvicorn's default is 5 s


# Loaded by every Python that serve starts; in the workers spawned by `--workers`
# (multiprocessing gives them --multiprocessing-fork) the first liveeval import waits
# 15 s, as a worker's start took 12.7 s on a machine at load 20: far past uvicorn's 5 s
# health check, which replaced such workers forever.
SLOW_WORKER_START = """
import sys, time
if "--multiprocessing-fork" in sys.argv:
    class SlowStart:
        waited = False
        def find_spec(self, name, path=None, target=None):
            if name.startswith("liveeval") and not SlowStart.waited:
                SlowStart.waited = True
                time.sleep(15)
            return None
    sys.meta_path.insert(0, SlowStart())
"""


def test_serve_with_two_workers_starts_when_its_workers_are_slow_to_start(
    tmp_path: Path,
) -> None:
    """The `liveeval` command itself, as installed, with --workers 2 on a busy machine."""
    command = Path(sys.executable).with_name("liveeval")
    (tmp_path / "slow").mkdir()
    (tmp_path / "slow" / "sitecustomize.py").write_text(SLOW_WORKER_START)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEEVAL_")}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "slow"), env.get("PYTHONPATH", "")])
    args = ["serve", "--port", "0", "--workers", "2", "--db", f"sqlite:///{tmp_path / 'w.db'}"]
    process = subprocess.Popen(
        [str(command), *args, "--allowed-host", "evals.lan"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    printed: list[str] = []
    collect, reader = follow(process, printed)

    def answered() -> bool:
        collect()
        urls = re.findall(r"liveeval listening on (http://\S+)", "".join(printed))
        if not urls or process.poll() is not None:
            return process.poll() is not None
        try:
            return httpx.get(f"{urls[0]}/api/v1/health", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(answered, timeout=90)
        assert process.poll() is None, "".join(printed)
        [url] = re.findall(r"liveeval listening on (http://\S+)", "".join(printed))
        assert "evals.lan" in "".join(printed)  # the hosts it answers, named at start
        with httpx.Client(base_url=url, timeout=10) as http:
            assert all(http.get("/api/v1/health").status_code == 200 for _ in range(10))
            named = http.get("/api/v1/health", headers={"host": "evals.lan:7318"})
            assert named.status_code == 200
            assert http.get("/api/v1/health", headers={"host": "x.example"}).status_code == 400
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            reader.join(timeout=5)
            process.stdout.close()  # type: ignore[union-attr]
    assert process.returncode == 0, "".join(printed)
