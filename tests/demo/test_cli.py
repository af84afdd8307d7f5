"""`liveeval demo`, the README's first command, run as a user runs it: a process that prints
the tour and the URL, serves the dashboard while it plays, and stops on Ctrl-C."""

from __future__ import annotations

import os
import queue
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from liveeval.demo.settings import local_judge_missing, pick_judge
from liveeval.judge.providers.local import INSTALL_HINT

LOCAL_MISSING = local_judge_missing()


class Demo:
    """A `liveeval demo` process and the lines it printed so far."""

    def __init__(self, *args: str) -> None:
        # the console script pip installed, as the README runs it
        command = [str(Path(sys.executable).parent / "liveeval"), "demo", "--port", "0", *args]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout_s: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.lines.append(line)
            found = re.search(pattern, line)
            if found:
                return found
        raise AssertionError(f"no line matched {pattern!r}; printed:\n" + "\n".join(self.lines))

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=30)
        time.sleep(0.2)  # the reader thread takes the last lines
        while not self._queue.empty():
            self.lines.append(self._queue.get())
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def demo_args(tmp_path: Path) -> SimpleNamespace:
    return SimpleNamespace(db=tmp_path / "demo.db")


def _started(*args: str) -> Iterator[Demo]:
    demo = Demo(*args)
    try:
        yield demo
    finally:
        demo.close()


def test_auto_picks_the_local_judge_only_when_it_is_installed() -> None:
    assert pick_judge("auto", None) is True
    assert pick_judge("auto", "llama_cpp missing") is False
    assert pick_judge("simulated", None) is False
    assert pick_judge("local", None) is True
    with pytest.raises(ValueError, match="llama_cpp missing"):
        pick_judge("local", "llama_cpp missing")


def test_a_missing_extra_is_named_with_how_to_install_it() -> None:
    missing = local_judge_missing(lambda name: None)
    assert missing is not None
    assert "llama_cpp" in missing and INSTALL_HINT in missing


def test_the_demo_prints_the_tour_serves_while_playing_and_stops_on_ctrl_c(
    demo_args: SimpleNamespace,
) -> None:
    args = ("--db", str(demo_args.db), "--days", "5", "--per-day", "20", "--judge", "simulated")
    for demo in _started(*args):
        url = demo.wait_for(r"dashboard\s+(http://\S+)/ui/", 60).group(1)
        demo.wait_for(r"judge\s+simulated \(simulated-judge-1", 10)
        demo.wait_for(r"^  loading the language and topic models", 10)
        assert demo.lines[-2].strip() == "playing:"  # said at once, before the slow first day
        # served as soon as it starts: the dashboard answers while the story plays
        overview = httpx.get(f"{url}/ui/overview", timeout=30)
        assert overview.status_code == 200
        demo.wait_for(r"day\s+5/5", 120)
        demo.wait_for(r"played \d+ requests", 60)
        alerts = httpx.get(f"{url}/ui/alerts", timeout=30)
        assert alerts.status_code == 200 and "simulated" in alerts.text
        # every printed link opens the demo's project, and so does the bare address
        links = [line for line in demo.lines if "/ui/" in line]
        assert len(links) >= 10
        assert all("project=acme-support" in line for line in links), links
        # the drift link names its periods in days, and the page shows the same days
        [drift] = [
            re.search(r"(http://\S+/ui/drift\?\S+)", line) for line in links if "/drift?" in line
        ]
        assert drift is not None and "window_days=" in drift.group(1), links
        days = re.search(r"window_days=([0-9.]+)", drift.group(1))
        page = httpx.get(drift.group(1), timeout=30)
        assert days is not None and page.status_code == 200
        assert (
            f'name="window_days" type="number" min="0" max="30" step="any" value="{days.group(1)}"'
            in page.text
        )
        home = httpx.get(f"{url}/", timeout=30, follow_redirects=True)
        assert "<small>acme-support</small>" in home.text
        assert demo.stop() == 0
        assert demo.lines[-1] == "liveeval demo stopped"
    with sqlite3.connect(demo_args.db) as db:
        (versions,) = db.execute(
            "select group_concat(distinct evaluator_version) from scores where kind = 'judge'"
        ).fetchone()
    assert versions.startswith("simulated/simulated-judge-1/")


@pytest.mark.skipif(LOCAL_MISSING is not None, reason=f"local judge not installed: {LOCAL_MISSING}")
def test_with_the_local_judge_installed_the_demo_grades_with_the_real_model(
    demo_args: SimpleNamespace,
) -> None:
    """The default (`--judge auto`) picks the local model when it is installed; the play
    does not wait for it, and its scores arrive in the background."""
    # ~200 requests: the uniform 5% sample (seeded ids, so always the same) is a dozen
    for demo in _started("--db", str(demo_args.db), "--days", "4", "--per-day", "60"):
        demo.wait_for(r"judge\s+the local model", 60)
        demo.wait_for(r"played \d+ requests", 120)
        demo.wait_for(r"still judging \d+ sampled answers", 10)
        deadline = time.monotonic() + 180
        found: list[tuple[str, float]] = []
        while not found and time.monotonic() < deadline:
            with sqlite3.connect(demo_args.db) as db:
                found = db.execute(
                    "select evaluator_version, value from scores "
                    "where kind = 'judge' and status = 'ok' limit 1"
                ).fetchall()
            time.sleep(2)
        assert demo.stop() == 0
    assert found, "the local model judged nothing in 3 minutes"
    [(version, value)] = found
    assert version.startswith("local/SmolLM2-135M-Instruct/quality@")
    assert value in {1.0, 2.0, 3.0, 4.0, 5.0}
