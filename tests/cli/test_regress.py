"""`liveeval regress`: exit codes, reports, and storing the run on a real liveeval server.

The app is a module written under tmp_path and named with `--target python:…`; the
infrastructure failures are real (a closed port).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from click.testing import CliRunner, Result

from liveeval.cli.main import cli
from liveeval.model.case import Case, snapshot_hash
from tests.conftest import RunningServer
from tests.gate.test_runner import PROMISE, case_doc

APP = """
def echo(text):
    if text.startswith("crash"):
        raise KeyError("refund_policy")
    return text
"""


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`python:<module>:echo` for an app module on sys.path (the app echoes its input)."""
    name = f"regress_app_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("GITHUB_SHA", raising=False)
    yield f"python:{name}:echo"
    sys.modules.pop(name, None)


def write_cases(path: Path, documents: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in documents))
    return path


def good(k: int, **options: Any) -> dict[str, Any]:
    return case_doc(f"good-{k:02d}", f"Refunds take {PROMISE}. ({k})", **options)


def bad(case_id: str, **options: Any) -> dict[str, Any]:
    return case_doc(case_id, "Refunds take a while.", **options)


def regress(*args: str) -> Result:
    return CliRunner().invoke(cli, ["regress", *args, "-q"], catch_exceptions=False)


def test_a_passing_set_exits_0_with_the_summary(app: str, tmp_path: Path) -> None:
    cases = write_cases(tmp_path / "golden.jsonl", [good(k) for k in range(3)])
    done = regress(str(cases), "--target", app)
    assert done.exit_code == 0, done.output
    assert "3 cases: 3 passed, 0 failed, 0 errors; pass rate 100.0%" in done.stdout
    assert "PASSED: pass rate 100.0% ≥ 90%" in done.stdout


def test_a_failed_regression_case_fails_the_gate_at_95_percent(app: str, tmp_path: Path) -> None:
    documents = [*(good(k) for k in range(19)), bad("promoted-7", tags=("regression",))]
    cases = write_cases(tmp_path / "golden.jsonl", documents)
    done = regress(str(cases), "--target", app)
    assert done.exit_code == 1, done.output
    assert "pass rate 95.0%" in done.stdout
    assert "GATE FAILED: tag regression: pass rate 0.0% < 100% (promoted-7)" in done.stdout
    # failures come first, with the grader's reason and the output
    failed_at = done.stdout.index("FAILED (1)")
    assert failed_at < done.stdout.index("20 cases:")
    assert f"✗ promoted-7 v1 [regression]: missing '{PROMISE}'" in done.stdout
    assert "output: Refunds take a while." in done.stdout

    relaxed = regress(str(cases), "--target", app, "--tag-threshold", "regression=0")
    assert relaxed.exit_code == 0, relaxed.output


def test_a_failed_case_marked_regression_fails_the_gate_without_the_tag(
    app: str, tmp_path: Path
) -> None:
    documents = [*(good(k) for k in range(19)), bad("promoted-8", regression=True)]
    cases = write_cases(tmp_path / "golden.jsonl", documents)
    done = regress(str(cases), "--target", app)
    assert done.exit_code == 1, done.output


def test_the_overall_threshold_fails_the_gate(app: str, tmp_path: Path) -> None:
    cases = write_cases(tmp_path / "golden.jsonl", [good(0), good(1), bad("b1")])
    assert regress(str(cases), "--target", app).exit_code == 1
    assert regress(str(cases), "--target", app, "--min-pass-rate", "0.6").exit_code == 0


def test_tag_filter_runs_only_those_cases(app: str, tmp_path: Path) -> None:
    documents = [good(0, tags=("billing",)), bad("b1", tags=("shipping",))]
    cases = write_cases(tmp_path / "golden.jsonl", documents)
    done = regress(str(cases), "--target", app, "--tag", "billing")
    assert done.exit_code == 0, done.output
    assert "1 cases: 1 passed" in done.stdout


def test_a_target_that_is_down_exits_2_with_the_reason(tmp_path: Path) -> None:
    cases = write_cases(tmp_path / "golden.jsonl", [good(k) for k in range(3)])
    target = f"openai:http://127.0.0.1:{closed_port()}/v1"
    done = regress(str(cases), "--target", target, "--model", "m", "--attempts", "2")
    assert done.exit_code == 2, done.output
    assert "3 cases: 0 passed, 0 failed, 3 errors; pass rate n/a" in done.stdout
    assert "ERROR: 3 of 3 cases could not be run or graded (100% > 5% allowed)" in done.stdout
    assert "ERRORS (3) — infrastructure, counted apart" in done.stdout
    assert "! good-00 v1: connection:" in done.stdout


def test_a_crash_within_the_error_limit_counts_apart(app: str, tmp_path: Path) -> None:
    documents = [*(good(k) for k in range(9)), case_doc("boom", "crash now")]
    cases = write_cases(tmp_path / "golden.jsonl", documents)
    assert regress(str(cases), "--target", app).exit_code == 2  # 10% errors > 5%
    done = regress(str(cases), "--target", app, "--max-error-rate", "0.1")
    assert done.exit_code == 0, done.output
    assert "10 cases: 9 passed, 0 failed, 1 errors; pass rate 100.0%" in done.stdout


def test_a_malformed_case_file_exits_2_naming_file_and_line(app: str, tmp_path: Path) -> None:
    path = write_cases(tmp_path / "golden.jsonl", [good(0)])
    path.write_bytes(path.read_bytes() + b'{"id": "x", "author": "a"}\n')
    done = regress(str(path), "--target", app)
    assert done.exit_code == 2
    assert f"Error: {path}:2: input: Field required" in done.stderr

    missing = regress(str(tmp_path / "nope.jsonl"), "--target", app)
    assert missing.exit_code == 2 and "nope.jsonl" in missing.stderr


def test_a_bad_target_spec_is_a_usage_error(tmp_path: Path) -> None:
    cases = write_cases(tmp_path / "golden.jsonl", [good(0)])
    done = regress(str(cases), "--target", "http://localhost:8000/v1")
    assert done.exit_code == 2
    assert "--target" in done.stderr and "openai:" in done.stderr


def test_junit_xml_has_the_counts_and_the_failures(app: str, tmp_path: Path) -> None:
    documents = [good(0), good(1), bad("promoted-7", tags=("regression",)), case_doc("x", "crash")]
    cases = write_cases(tmp_path / "golden.jsonl", documents)
    junit = tmp_path / "out" / "junit.xml"
    junit.parent.mkdir()
    done = regress(str(cases), "--target", app, "--junit", str(junit), "--max-error-rate", "0.5")
    assert done.exit_code == 1, done.output
    suite = ET.parse(junit).getroot()
    assert suite.tag == "testsuite"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "1")
    assert len(suite.findall("testcase")) == 4
    [failure] = suite.findall("testcase/failure")
    assert failure.get("message") == f"missing '{PROMISE}'"
    [error] = suite.findall("testcase/error")
    assert error.get("type") == "crash"
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["target"] == app
    assert properties["snapshot"] == snapshot_hash(Case.model_validate(d) for d in documents)


def test_markdown_report_is_written(app: str, tmp_path: Path) -> None:
    piped = case_doc("b1", "Refunds | <b>later</b>")
    cases = write_cases(tmp_path / "golden.jsonl", [good(0), piped])
    markdown = tmp_path / "comment.md"
    done = regress(str(cases), "--target", app, "--markdown", str(markdown), "--commit", "abc123")
    assert done.exit_code == 1
    text = markdown.read_text(encoding="utf-8")
    assert text.startswith("### ❌ liveeval regress — pass rate 50.0% &lt; 90%")  # GitHub shows <
    assert "commit `abc123`" in text
    row = f"| b1 v1 | failed | missing '{PROMISE}' | Refunds \\| &lt;b&gt;later&lt;/b&gt; |"
    assert row in text


def test_json_report_to_a_file(app: str, tmp_path: Path) -> None:
    cases = write_cases(tmp_path / "golden.jsonl", [good(0), bad("b1")])
    path = tmp_path / "run.json"
    args = ["--json", str(path), "--commit", "abc", "--prompt-version", "v7"]
    done = regress(str(cases), "--target", app, *args)
    assert done.exit_code == 1
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["exit_code"] == 1
    assert (document["passed"], document["failed"], document["errors"]) == (1, 1, 0)
    assert (document["git_commit"], document["prompt_version"]) == ("abc", "v7")
    assert [r["id"] for r in document["results"]] == ["good-00", "b1"]  # file order


def test_json_to_stdout_is_machine_readable(app: str, tmp_path: Path) -> None:
    cases = write_cases(tmp_path / "golden.jsonl", [good(0)])
    done = regress(str(cases), "--target", app, "--json", "-")
    assert done.exit_code == 0
    assert "PASSED" in done.stderr  # the summary moves to stderr: stdout is the document
    assert json.loads(done.stdout)["passed"] == 1


def test_json_to_stdout_holds_the_document(app: str, tmp_path: Path) -> None:
    cases = write_cases(tmp_path / "golden.jsonl", [good(0)])
    done = regress(str(cases), "--target", app, "--json", "-")
    assert done.exit_code == 0
    assert done.stdout.startswith("{\n")
    assert json.loads(done.stdout)["passed"] == 1


def test_server_stores_the_run_with_snapshot_commit_and_release(
    app: str, tmp_path: Path, live_server: RunningServer
) -> None:
    documents = [good(0), good(1), bad("b1"), case_doc("old", "x", retired=True)]
    cases = write_cases(tmp_path / "golden.jsonl", documents)
    args = ["--server", live_server.url, "--commit", "abc", "--prompt-version", "v7"]
    done = regress(str(cases), "--target", app, *args)
    assert done.exit_code == 1, done.output
    assert f"stored as run 1 on {live_server.url}" in done.stderr

    response = httpx.get(f"{live_server.url}/api/v1/runs", params={"results": "true"})
    assert response.status_code == 200, response.text
    [run] = response.json()
    active = [Case.model_validate(d) for d in documents[:3]]
    assert run["snapshot"] == snapshot_hash(active)
    assert (run["git_commit"], run["prompt_version"], run["target"]) == ("abc", "v7", app)
    assert (run["cases"], run["passed"], run["failed"], run["errors"]) == (3, 2, 1, 0)
    assert run["pass_rate"] == pytest.approx(2 / 3)
    assert run["gate_passed"] is False
    assert run["project"] == "default"
    assert {(r["id"], r["status"]) for r in run["results"]} == {
        ("good-00", "passed"),
        ("good-01", "passed"),
        ("b1", "failed"),
    }


def test_server_on_a_closed_port_exits_2(app: str, tmp_path: Path) -> None:
    cases = write_cases(tmp_path / "golden.jsonl", [good(0)])
    server = f"http://127.0.0.1:{closed_port()}"
    done = regress(str(cases), "--target", app, "--server", server)
    assert done.exit_code == 2
    assert f"could not store the run at {server}" in done.stderr
    assert "PASSED" in done.stdout  # the gate's own result is still shown


REPORTS = ("--junit", "junit.xml", "--commit", "abc")


def test_the_installed_command_end_to_end(tmp_path: Path) -> None:
    """The `liveeval` executable, the app found in the working directory, JUnit out."""
    (tmp_path / "e2e_app.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    cases = write_cases(tmp_path / "golden.jsonl", [good(0), good(1)])
    executable = Path(sys.executable).with_name("liveeval")
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_SHA", "LIVEEVAL_CONFIG")}
    done = subprocess.run(
        [str(executable), "regress", cases.name, "--target", "python:e2e_app:echo", *REPORTS],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "PASSED" in done.stdout
    assert done.stderr.strip().startswith("..")  # progress, one mark a case
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "0", "0")
