"""The gate's decision and its reports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from liveeval.gate import reports
from liveeval.gate.results import CaseResult, Policy, Run, decide

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SNAPSHOT = "sha256:" + "ab" * 32


def result(case_id: str, status: str, *tags: str, output: str = "ok") -> CaseResult:
    return CaseResult(
        case_id,
        1,
        tags,
        status,
        f"{status} because",
        score=1.0 if status == "passed" else 0.0,  # type: ignore[arg-type]
        output=output,
        latency_ms=12.0,
        error_kind="timeout" if status == "error" else None,
    )


def run_of(*results: CaseResult) -> Run:
    return Run("openai:http://app/v1", SNAPSHOT, results, T0, T0 + timedelta(seconds=3), "c0ffee")


def test_errors_count_neither_way_and_too_many_fail_the_run() -> None:
    run = run_of(
        *(result(f"c{k}", "passed") for k in range(18)), result("x", "failed"), result("e", "error")
    )
    assert run.pass_rate == pytest.approx(18 / 19)
    assert decide(run, Policy(max_error_rate=0.05)).exit_code == 0
    assert decide(run, Policy(max_error_rate=0.01)).exit_code == 2
    assert "1 of 20 cases could not be run" in decide(run, Policy(max_error_rate=0.01)).reasons[0]


def test_pass_rate_and_tag_thresholds() -> None:
    run = run_of(
        *(result(f"c{k}", "passed") for k in range(9)),
        result("r1", "failed", "regression"),
        result("r2", "passed", "regression"),
    )
    verdict = decide(run, Policy())
    assert verdict.exit_code == 1
    assert verdict.reasons == ("tag regression: pass rate 50.0% < 100% (r1)",)
    relaxed = decide(run, Policy(tag_min_pass_rates={}))
    assert relaxed.exit_code == 0  # 10/11 = 90.9% >= 90%
    strict = decide(run, Policy(min_pass_rate=0.95, tag_min_pass_rates={}))
    assert strict.reasons == ("pass rate 90.9% < 95%",)
    assert decide(run_of(), Policy()).exit_code == 2


def test_junit_is_valid_xml_with_failures_errors_and_escaped_output() -> None:
    run = run_of(
        result("good", "passed"),
        result("bad", "failed", "regression", output="<script>alert(1)</script> & ]]>"),
        result("down", "error"),
    )
    root = ET.fromstring(reports.junit(run, decide(run, Policy())))
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "1")
    cases = {c.get("name"): c for c in root.iter("testcase")}
    failure = cases["bad v1"].find("failure")
    assert failure is not None and failure.text == "output: <script>alert(1)</script> & ]]>"
    assert cases["down v1"].find("error") is not None
    assert cases["good v1"].find("failure") is None


def test_markdown_escapes_the_apps_output_and_lists_failures_first() -> None:
    run = run_of(result("ok", "passed"), result("bad", "failed", output="a | <b>bold</b>\nnext"))
    text = reports.markdown(run, decide(run, Policy()))
    assert "| bad v1 | failed |" in text
    assert "a \\| &lt;b&gt;bold&lt;/b&gt; next" in text
    assert "<b>" not in text and "ok v1" not in text
    console = reports.console(run, decide(run, Policy()))
    assert console.index("FAILED") < console.index("GATE FAILED")
    document = json.loads(reports.as_json(run, decide(run, Policy())))
    assert (
        document["exit_code"] == 1 and document["failed"] == 1 and document["snapshot"] == SNAPSHOT
    )
