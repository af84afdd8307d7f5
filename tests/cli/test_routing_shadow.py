"""`liveeval routing shadow|promote` on a real store (SQLite and PostgreSQL).

The live inputs are real: FairEval's questions with two answers each and the answer
people preferred (tests/data/datasets/pairwise, see SOURCES.md). Production answered
with `output_2`; the candidate is a real OpenAI-compatible server on a loopback port,
written here, that answers with `output_1` (or with the preferred answer). The judge we
cannot reach in tests (a paid model) is replaced at its HTTP boundary by a deterministic
one on another loopback port: it prefers the answer people preferred, except on every
fifth question, where it always says "A" (a position-biased judge, so flips are seen).
"""

from __future__ import annotations

import json
import re
import threading
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner, Result
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from scipy import stats

from liveeval.cli.main import cli
from liveeval.model import Interaction
from liveeval.routing.config import from_mapping
from liveeval.store.database import Store
from liveeval.store.interactions import upsert_interactions
from liveeval.store.routing import Decision, record_decisions
from liveeval.store.schema import ab_runs
from tests.cli.test_regress import closed_port

DATA = Path(__file__).parents[1] / "data" / "datasets" / "pairwise" / "Processed_FairEval.json"
ITEMS: list[dict[str, Any]] = json.loads(DATA.read_text(encoding="utf-8"))[:24]
BIASED = {k for k in range(len(ITEMS)) if k % 5 == 0}
RESPONSE = re.compile(r'<response label="([AB])">\n(.*?)\n</response>', re.S)

CONFIG = """
[judge]
provider = "openai"
model = "judge-1"
base_url = "{judge}/v1"
api_key_env = "JUDGE_KEY"
max_attempts = 1

[judge.price]
input_per_mtok = 1.0
output_per_mtok = 2.0

[routing.tasks.answer]
default = "mini"
reward = {{ kind = "success" }}

[[routing.tasks.answer.arms]]
name = "mini"
model = "gpt-4o-mini"
role = "control"

[[routing.tasks.answer.arms]]
name = "large"
model = "gpt-4o"
"""


def preferred(k: int) -> str:
    return str(ITEMS[k]["output_1" if ITEMS[k]["label"] == 1 else "output_2"])


def completion(content: str, model: str) -> JSONResponse:
    return JSONResponse(
        {
            "id": "c",
            "object": "chat.completion",
            "created": 1,
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 50, "total_tokens": 1050},
        }
    )


@dataclass
class Candidate:
    """The candidate app: answers each question with output_1, or the preferred answer."""

    mode: str = "first"
    failing: set[int] = field(default_factory=set)  # questions it answers with HTTP 500
    asked: list[str] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> JSONResponse:
            body = json.loads(await request.body())
            question = body["messages"][-1]["content"]
            self.asked.append(question)
            k = next(i for i, item in enumerate(ITEMS) if item["input"] == question)
            if k in self.failing:
                return JSONResponse({"error": {"message": "overloaded"}}, status_code=500)
            answer = ITEMS[k]["output_1"] if self.mode == "first" else preferred(k)
            return completion(answer, body["model"])

        return app


def judge_app() -> FastAPI:
    """Prefers the answer people preferred; on BIASED questions says "A" whatever it sees."""
    app = FastAPI()
    liked = {" ".join(preferred(k).split()): k for k in range(len(ITEMS))}
    either = {
        " ".join(str(ITEMS[k][side]).split()): k
        for k in range(len(ITEMS))
        for side in ("output_1", "output_2")
    }

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        shown = dict(RESPONSE.findall(body["messages"][-1]["content"]))
        a, b = (" ".join(shown[label].split()) for label in ("A", "B"))
        winner = "A" if a in liked else "B" if b in liked else "tie"
        if either.get(a) in BIASED:
            winner = "A"
        return completion(json.dumps({"explanation": "compared", "winner": winner}), "judge-1")

    return app


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Setup:
    config: str
    db: str
    candidate: Candidate
    url: str

    def run(self, *args: str) -> Result:
        common = ["--task", "answer", "--config", self.config, "--db", self.db]
        return CliRunner().invoke(cli, ["routing", *args, *common])

    def shadow(self, *args: str) -> Result:
        target = ("--candidate", f"openai:{self.url}/v1", "--candidate-model", "cand-2")
        return self.run("shadow", *target, "--concurrency", "4", *args)


def store_routed(store: Store, now: datetime) -> None:
    """One decision per question (arm mini), each with the interaction it served."""
    batch, decisions = [], []
    for k, item in enumerate(ITEMS):
        at = now - timedelta(hours=2, minutes=-k)
        trace = f"{k + 1:032x}"
        decisions.append(
            Decision(
                f"{k + 100:032x}", "default", "answer", "mini", 0.5, 1, "*", at, trace_id=trace
            )
        )
        batch.append(
            Interaction(
                project="default",
                trace_id=trace,
                span_id=f"{k + 1:016x}",
                parent_span_id=None,
                name="chat gpt-4o-mini",
                convention="genai",
                operation="chat",
                start_at=at + timedelta(milliseconds=5),
                end_at=at + timedelta(seconds=2),
                latency_ms=1995.0,
                status="ok",
                model_requested="gpt-4o-mini",
                input_text=item["input"],
                output_text=item["output_2"],
                cost_usd=0.001,
            )
        )
    # a decision whose trace never arrived: counted, not silently dropped
    decisions.append(
        Decision("f" * 32, "default", "answer", "mini", 0.5, 1, "*", now, trace_id="e" * 32)
    )
    with store.writing() as conn:
        record_decisions(conn, decisions)
        upsert_interactions(conn, batch, now)


@pytest.fixture
def setup(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    monkeypatch.setenv("JUDGE_KEY", "sk-test")
    store_routed(store, datetime.now(UTC))
    candidate = Candidate()
    with serving(judge_app()) as judge, serving(candidate.app()) as url:
        config = tmp_path / "liveeval.toml"
        config.write_text(CONFIG.format(judge=judge), encoding="utf-8")
        yield Setup(str(config), str(store.engine.url), candidate, url)


def expected_outcomes(mode: str) -> list[str]:
    """What the judge above makes of each question's pair: the candidate's win, tie, loss."""
    out = []
    for k, item in enumerate(ITEMS):
        if k in BIASED:
            out.append("tie")  # "A" in both orders: a flip, which counts as a tie
        elif mode == "preferred" or item["label"] == 1:
            out.append("win" if item["output_1"] != item["output_2"] else "tie")
        else:
            out.append("loss")
    return out


def test_a_shadow_run_reports_the_win_rate_of_the_candidate_against_production(
    setup: Setup, store: Store
) -> None:
    done = setup.shadow("--json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    outcomes = expected_outcomes("first")
    s = report["statistics"]
    assert (report["pool"], report["sampled"], report["without_content"]) == (24, 24, 1)
    assert (s["wins"], s["ties"], s["losses"]) == tuple(
        outcomes.count(kind) for kind in ("win", "tie", "loss")
    )
    candidate = [{"win": 1.0, "tie": 0.5, "loss": 0.0}[o] for o in outcomes]
    assert s["win_rate"] == pytest.approx(sum(candidate) / len(candidate))
    production = [1.0 - c for c in candidate]
    assert s["comparison"]["t_p_value"] == pytest.approx(
        stats.ttest_rel(candidate, production).pvalue
    )
    low, high = s["interval"]
    assert low < s["win_rate"] < high
    assert (s["flips"]["flips"], s["flips"]["n"], s["flips"]["first_position"]) == (5, 24, 5)
    # the candidate was sent each question once, without production's answer
    assert sorted(setup.candidate.asked) == sorted(item["input"] for item in ITEMS)
    cost = report["cost"]
    assert (cost["judge_calls"], cost["judge_input_tokens"]) == (48, 48_000)
    assert cost["judge_usd"] == pytest.approx((48_000 * 1.0 + 48 * 50 * 2.0) / 1e6)
    assert cost["production_usd"] == pytest.approx(0.024)
    with store.reading() as conn:
        row = conn.execute(ab_runs.select()).mappings().one()
    assert (row["run_id"], row["compared"], row["pairwise_flips"]) == (report["run_id"], 24, 5)
    assert row["target_a"] == "production (answer)"
    assert row["target_b"] == f"openai:{setup.url}/v1 (model cand-2)"
    assert row["report"]["kind"] == "shadow"


def test_the_text_report_says_counts_interval_bias_cost_and_verdict(setup: Setup) -> None:
    done = setup.shadow()
    assert done.exit_code == 0, done.output
    text = done.output
    assert "sample: 24 of 24 live inputs of the last 24h (1 decision without captured" in text
    assert "win / tie / loss: " in text and "a tie or a flip" in text
    assert "position bias: the verdict flipped in 5 of 24 pairs" in text
    assert "cost: judge $0.0528 (48 calls)" in text
    assert "verdict: " in text


def test_a_winning_shadow_is_promoted_to_a_canary_arm(setup: Setup) -> None:
    setup.candidate.mode = "preferred"
    done = setup.shadow("--json", "--sample", "20")
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert report["sampled"] == 20
    assert report["statistics"]["verdict"] == "candidate_wins"
    # where people preferred production's answer the candidate gave that same answer: a
    # tie the judge is not asked about
    same = [i for i in report["items"] if i["identical"]]
    assert len(same) == report["identical"] > 0
    assert all(i["outcome"] == "tie" and i["orders"] is None for i in same)
    judged = report["sampled"] - report["identical"]
    assert report["cost"]["judge_calls"] == 2 * judged
    assert report["statistics"]["flips"]["n"] == judged
    text = setup.shadow("--sample", "20").output
    assert f"{judged} pairs, and {report['identical']} answers identical to production's" in text
    promoted = setup.run("promote", "--arm", "cand", "--from-shadow", str(report["run_id"]))
    assert promoted.exit_code == 0, promoted.output
    snippet = promoted.stdout
    table = tomllib.loads(snippet)
    [arm] = table["routing"]["tasks"]["answer"]["arms"]
    assert arm == {"name": "cand", "model": "cand-2", "role": "canary"}
    assert f"# From shadow run {report['run_id']}: win rate" in snippet
    base = tomllib.loads(Path(setup.config).read_text())["routing"]["tasks"]["answer"]
    merged = from_mapping("answer", {**base, "arms": [*base["arms"], arm]})
    assert merged.arm_names == ("mini", "large", "cand")
    again = setup.run("promote", "--arm", "large", "--from-shadow", str(report["run_id"]))
    assert again.exit_code == 2 and "'answer' has that arm already" in again.output
    bad = setup.run("promote", "--arm", "a=b", "--from-shadow", str(report["run_id"]))
    assert bad.exit_code == 2 and "routing.tasks.answer.arms.2.name" in bad.output


def test_a_shadow_that_did_not_win_is_not_promoted_without_force(setup: Setup) -> None:
    report = json.loads(setup.shadow("--json").output)
    assert report["statistics"]["verdict"] != "candidate_wins"
    refused = setup.run("promote", "--arm", "cand", "--from-shadow", str(report["run_id"]))
    assert refused.exit_code == 2
    assert f"shadow run {report['run_id']} did not show the candidate better" in refused.output
    forced = setup.run(
        "promote", "--arm", "cand", "--from-shadow", str(report["run_id"]), "--force"
    )
    assert forced.exit_code == 0 and 'role = "canary"' in forced.stdout
    missing = setup.run("promote", "--arm", "cand", "--from-shadow", "999")
    assert missing.exit_code == 2 and "no shadow run 999 in project 'default'" in missing.output


def test_candidate_errors_are_counted_and_the_other_pairs_judged(setup: Setup) -> None:
    setup.candidate.failing = {1, 2, 3}
    done = setup.shadow("--json", "--attempts", "1")
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert (report["answered"], report["candidate_errors"]) == (21, {"server_error": 3})
    assert report["statistics"]["n"] == 21
    failed = [i for i in report["items"] if i["candidate_error"]]
    assert all("HTTP 500" in i["candidate_error"] and i["outcome"] is None for i in failed)


def test_bad_target_unknown_task_and_empty_sample_are_precise_errors(
    setup: Setup, tmp_path: Path
) -> None:
    bad = setup.run("shadow", "--candidate", "ftp://x")
    assert bad.exit_code == 2 and "--candidate: target 'ftp://x': start it with one of" in (
        bad.output
    )
    no_model = setup.run("shadow", "--candidate", f"openai:{setup.url}/v1")
    assert no_model.exit_code == 2 and "an openai target needs a model" in no_model.output
    unknown = CliRunner().invoke(
        cli,
        [
            "routing",
            "shadow",
            "--task",
            "nope",
            "--candidate",
            "cmd:cat",
            "--config",
            setup.config,
            "--db",
            setup.db,
        ],
    )
    assert unknown.exit_code == 2 and "no routing task 'nope'; configured: answer" in (
        unknown.output
    )
    other_arm = setup.shadow("--arm", "large")
    assert other_arm.exit_code == 2
    assert "no decision of 'answer' that served 'large' in the last 24h; for a task" in (
        other_arm.output
    )
    old = setup.shadow("--since", "1h")
    assert old.exit_code == 2 and "1 decision of 'answer' in the last 1h, none with" in (old.output)
    no_match = setup.shadow("--model", "gpt-5")
    assert no_match.exit_code == 2
    assert "no interaction with model 'gpt-5' and captured content in the last 24h" in (
        no_match.output
    )
    down = setup.run(
        "shadow", "--candidate", f"openai:http://127.0.0.1:{closed_port()}/v1",
        "--candidate-model", "m", "--attempts", "1", "--json",
    )  # fmt: skip
    assert down.exit_code == 0, down.output
    assert json.loads(down.output)["candidate_errors"] == {"connection": 24}


def test_a_task_without_decisions_is_sampled_by_an_interaction_filter(setup: Setup) -> None:
    done = setup.shadow("--model", "gpt-4o-mini", "--sample", "5", "--json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert (report["pool"], report["sampled"], report["without_content"]) == (24, 5, 0)
    assert all(item["decision_id"] is None for item in report["items"])
