"""The regression runner against real targets: an app module on sys.path, and the scripted
OpenAI-compatible API on a loopback socket for the infrastructure errors.

Retries here wait their real (short) backoff: `run_cases` has no sleep to inject.
"""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from liveeval.features.hashing_embedding import HashingEncoder
from liveeval.gate.graders import GradingContext
from liveeval.gate.results import CaseResult
from liveeval.gate.runner import run_cases
from liveeval.gate.targets import parse_target
from liveeval.model.case import Case, snapshot_hash
from tests.judge.api import ScriptedAPI, chat_reply, error_reply

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PROMISE = "5 business days"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def case_doc(
    case_id: str,
    text: str,
    *,
    must_contain: str = PROMISE,
    tags: tuple[str, ...] = (),
    regression: bool = False,
    retired: bool = False,
    grader: dict[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A golden-set line: the app (an echo, below) answers `text`, graded by `must_contain`."""
    document: dict[str, Any] = {
        "id": case_id,
        "input": {"text": text},
        "grader": grader or {"type": "contains", "values": [must_contain]},
        "tags": list(tags),
        "author": "alice",
        "created_at": T0.isoformat(),
        **fields,
    }
    if regression:
        document.update(regression=True, frozen=True)
    if retired:
        document["retired"] = {"at": T0.isoformat(), "by": "bob", "reason": "policy changed"}
    return document


def make_case(case_id: str, text: str, **options: Any) -> Case:
    return Case.model_validate(case_doc(case_id, text, **options))


APP = """
import asyncio

calls = []
active = 0
peak = 0

def echo(text):
    calls.append(text)
    if text.startswith("crash"):
        raise KeyError("refund_policy")
    return text

async def slow_echo(text):
    global active, peak
    calls.append(text)
    active += 1
    peak = max(peak, active)
    await asyncio.sleep(0.002 * int(text.split()[-1]))
    active -= 1
    return text
"""


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An app module on sys.path; its unique name."""
    name = f"runner_app_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def statuses(results: tuple[CaseResult, ...]) -> list[tuple[str, str]]:
    return [(r.case_id, r.status) for r in results]


async def test_each_case_ends_passed_failed_or_error_with_the_reason(app: str) -> None:
    cases = [
        make_case("refund", f"Refunds take {PROMISE}."),
        make_case("vague", "Refunds take a while."),
        make_case("crash", "crash please"),
        make_case(
            "judged",
            "anything",
            grader={"type": "judge", "rubric": "helpfulness", "threshold": 3},
            expected={"behaviour": "states the refund time"},
        ),
    ]
    target = parse_target(f"python:{app}:echo")
    run = await run_cases(cases, target, GradingContext(), git_commit="c0ffee", prompt_version="v7")
    assert statuses(run.results) == [
        ("refund", "passed"),
        ("vague", "failed"),
        ("crash", "error"),
        ("judged", "error"),
    ]
    passed, failed, crashed, judged = run.results
    assert (passed.score, passed.output, passed.error_kind) == (
        1.0,
        f"Refunds take {PROMISE}.",
        None,
    )
    assert (failed.score, failed.detail) == (0.0, f"missing '{PROMISE}'")
    assert failed.output == "Refunds take a while."
    assert crashed.error_kind == "crash"
    assert crashed.detail == "crash: KeyError: 'refund_policy'"
    assert crashed.output is None and crashed.score is None
    assert judged.error_kind == "grader"  # no judge configured: infrastructure, not a failure
    assert sys.modules[app].calls.count("crash please") == 1  # a crash is not retried
    assert (run.count("passed"), run.count("failed"), run.count("error")) == (1, 1, 2)
    assert run.pass_rate == 0.5  # errors count neither way
    assert (run.target, run.git_commit, run.prompt_version) == (
        f"python:{app}:echo",
        "c0ffee",
        "v7",
    )
    assert run.started_at <= run.finished_at


class FussyEncoder(HashingEncoder):
    """The hashing encoder, except that it raises on a text with a control character."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if any("\x00" in text for text in texts):
            raise ValueError("cannot encode NUL")
        return super().encode(texts)


async def test_a_grader_that_raises_on_one_case_costs_that_case_not_the_run(
    app: str, caplog: pytest.LogCaptureFixture
) -> None:
    grader = {"type": "semantic", "threshold": 0.5}
    cases = [
        make_case("same", PROMISE, grader=grader, expected={"output": PROMISE}),
        make_case("nul", f"{PROMISE}\x00", grader=grader, expected={"output": PROMISE}),
        make_case("other", "no idea", grader=grader, expected={"output": PROMISE}),
    ]
    context = GradingContext(encoder=FussyEncoder())
    run = await run_cases(cases, parse_target(f"python:{app}:echo"), context)
    assert statuses(run.results) == [("same", "passed"), ("nul", "error"), ("other", "failed")]
    broken = run.results[1]
    assert broken.error_kind == "grader"
    assert broken.detail == "grader: the semantic grader raised ValueError: cannot encode NUL"
    assert "case nul: the semantic grader raised" in caplog.text  # with its traceback


async def test_503_three_times_is_a_server_error_and_400_is_not_retried(api: ScriptedAPI) -> None:
    cases = [
        make_case("ok", "q1"),
        make_case("down", "q2"),
        make_case("bad-request", "q3"),
    ]
    api.script(
        chat_reply(f"About {PROMISE}."),
        error_reply(503),
        error_reply(503),
        error_reply(503),
        error_reply(400),
    )
    target = parse_target(f"openai:{api.url}/v1", model="support-bot", timeout_s=5)
    try:  # one at a time, so the scripted replies meet the cases in order
        run = await run_cases(cases, target, GradingContext(), concurrency=1, attempts=3)
    finally:
        await target.aclose()
    assert statuses(run.results) == [("ok", "passed"), ("down", "error"), ("bad-request", "error")]
    _, down, bad = run.results
    assert down.error_kind == "server_error"
    assert down.detail.startswith("server_error: ") and "gave up after 3 tries" in down.detail
    assert bad.error_kind == "client_error"
    assert len(api.requests) == 5  # 1 + 3 tries + 1: the 400 was asked once
    assert [r.body["messages"][0]["content"] for r in api.requests] == [
        "q1",
        "q2",
        "q2",
        "q2",
        "q3",
    ]


async def test_concurrency_is_bounded_and_results_keep_the_case_order(app: str) -> None:
    count = 12
    # later cases answer sooner, so they finish first
    cases = [make_case(f"c{k:02d}", f"{PROMISE} {count - k}") for k in range(count)]
    finished: list[str] = []

    def progress(result: CaseResult, done: int, total: int) -> None:
        finished.append(result.case_id)
        assert (done, total) == (len(finished), count)

    target = parse_target(f"python:{app}:slow_echo")
    run = await run_cases(cases, target, GradingContext(), concurrency=3, progress=progress)
    module = sys.modules[app]
    assert module.peak == 3  # bounded, and the bound was used
    assert [r.case_id for r in run.results] == [c.id for c in cases]
    assert sorted(finished) == [c.id for c in cases] and finished != [c.id for c in cases]
    assert all(r.status == "passed" for r in run.results)


async def test_unbounded_concurrency_would_show_in_the_peak(app: str) -> None:
    """The peak measure can fail: with room for all, all run at once."""
    cases = [make_case(f"c{k}", f"{PROMISE} 5") for k in range(6)]
    await run_cases(
        cases, parse_target(f"python:{app}:slow_echo"), GradingContext(), concurrency=50
    )
    assert sys.modules[app].peak == 6


async def test_retired_cases_are_not_run_and_the_snapshot_is_of_the_active_ones(app: str) -> None:
    active = [make_case("a", f"{PROMISE} a"), make_case("b", f"{PROMISE} b", tags=("billing",))]
    retired = make_case("old", f"{PROMISE} old", retired=True)
    cases = [active[0], retired, active[1]]
    run = await run_cases(cases, parse_target(f"python:{app}:echo"), GradingContext())
    assert [r.case_id for r in run.results] == ["a", "b"]
    assert sys.modules[app].calls.count(f"{PROMISE} old") == 0
    assert run.snapshot == snapshot_hash(active)
    assert run.snapshot == snapshot_hash(reversed(active))
    assert run.snapshot != snapshot_hash([*active, make_case("old", f"{PROMISE} old")])
    assert run.results[1].tags == ("billing",)


async def test_a_run_of_only_retired_cases_is_empty(app: str) -> None:
    run = await run_cases(
        [make_case("old", "x", retired=True)], parse_target(f"python:{app}:echo"), GradingContext()
    )
    assert run.results == () and run.pass_rate is None
    assert run.snapshot == snapshot_hash([])
