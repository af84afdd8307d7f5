"""`liveeval routing policy|insights|kill|unkill|replay` on a real store (SQLite and
PostgreSQL) with decisions and outcomes in it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from liveeval.cli.main import cli
from liveeval.model import Signal, SignalKind
from liveeval.store.database import Store
from liveeval.store.routing import Decision, active_kills, record_decisions
from liveeval.store.signals import record_signal

CONFIG = """
[routing.tasks.answer]
default = "cheap"
slices = ["language"]
min_share = 0.05
reward = { kind = "success" }

[[routing.tasks.answer.arms]]
name = "strong"
model = "gpt-4o"

[[routing.tasks.answer.arms]]
name = "cheap"
model = "gpt-4o-mini"
"""


@pytest.fixture
def routed(store: Store, tmp_path: Path) -> tuple[str, str]:
    """A config and a store where `strong` succeeds 9 in 10 times and `cheap` 1 in 10,
    over the last hours, each decision drawn at 0.5."""
    now = datetime.now(UTC)
    config = tmp_path / "liveeval.toml"
    config.write_text(CONFIG)
    with store.writing() as conn:
        for n in range(40):
            arm = ("strong", "cheap")[n % 2]
            at = now - timedelta(minutes=200 - n)
            decision_id = f"{n:032x}"
            record_decisions(
                conn,
                [
                    Decision(
                        decision_id,
                        "default",
                        "answer",
                        arm,
                        0.5,
                        1,
                        "*",
                        at,
                        context={"language": "de"},
                    )
                ],
            )
            success = (n // 2) % 10 != 0 if arm == "strong" else (n // 2) % 10 == 0
            signal = Signal(
                "default",
                SignalKind.OUTCOME,
                at,
                value=float(success),
                details={"decision_id": decision_id},
            )
            record_signal(conn, signal, at)
    return str(config), str(store.engine.url)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["routing", *args])


def test_policy_shows_the_better_arm_winning_each_slice(routed: tuple[str, str]) -> None:
    config, db = routed
    result = run("policy", "--task", "answer", "--config", config, "--db", db, "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["arms"] == ["strong", "cheap"]
    for key in ("*", "language=de"):
        strong, cheap = body["slices"][key]["probabilities"]
        assert strong > 0.9 and cheap >= 0.05
    text = run("policy", "--task", "answer", "--config", config, "--db", db)
    assert text.exit_code == 0 and "language=de" in text.output and "outcomes" in text.output


def test_an_unknown_task_is_a_usage_error(routed: tuple[str, str]) -> None:
    config, db = routed
    result = run("policy", "--task", "nope", "--config", config, "--db", db)
    assert result.exit_code == 2
    assert "no routing task 'nope'; configured: answer" in result.output


def test_kill_and_unkill_switch_an_arm(routed: tuple[str, str], store: Store) -> None:
    config, db = routed
    common = ["--task", "answer", "--config", config, "--db", db]
    killed = run("kill", *common, "--arm", "strong", "--reason", "outage")
    assert (killed.exit_code, killed.output) == (0, "killed strong in * of answer\n")
    policy = json.loads(run("policy", *common, "--json").output)
    assert policy["slices"]["*"]["probabilities"] == [0.0, 1.0]
    with store.reading() as conn:
        assert [(k.arm, k.reason) for k in active_kills(conn, "default", "answer")] == [
            ("strong", "outage")
        ]
    assert run("unkill", *common, "--arm", "strong").exit_code == 0
    again = run("unkill", *common, "--arm", "strong")
    assert again.exit_code == 1 and "'strong' is not killed in slice '*'" in again.output
    bad = run("kill", *common, "--arm", "strong", "--slice", "tier=pro")
    assert bad.exit_code == 2 and "expected 'language' where 'tier' is" in bad.output


def test_insights_name_the_best_arm(routed: tuple[str, str]) -> None:
    config, db = routed
    common = ["--task", "answer", "--config", config, "--db", db]
    result = run("insights", *common, "--lookback", "48h", "--baseline", "168h", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    current = {a["arm"]: a["current_n"] for a in body["arms"] if a["slice_key"] == "*"}
    assert current == {"strong": 20, "cheap": 20}
    assert "best arm now: strong" in body["recommendation"]
    bad = run("insights", *common, "--lookback", "2 days")
    assert bad.exit_code == 2 and "window must be a duration" in bad.output


def test_replay_estimates_a_candidate_from_logged_decisions(
    routed: tuple[str, str], tmp_path: Path
) -> None:
    config, db = routed
    common = ["--task", "answer", "--config", config, "--db", db, "--json"]
    always_strong = tmp_path / "strong.toml"
    always_strong.write_text('[probabilities."*"]\nstrong = 1.0\n')
    result = run("replay", *common, "--policy", str(always_strong))
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    # The log: strong succeeded 18 of 20 at probability 0.5 in 40 decisions.
    assert body["ips"]["value"] == pytest.approx(18 * 2 / 40)
    assert body["snips"]["value"] == pytest.approx(0.9)
    assert body["n"] == 40
    learned = tmp_path / "learned.toml"
    learned.write_text(CONFIG.replace("min_share = 0.05", "min_share = 0.0"))
    assert run("replay", *common, "--policy", str(learned)).exit_code == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not toml [", "--policy"),
        ('[probabilities."*"]\nstrong = 0.5\n', "shares add up to 0.5, not 1"),
        ('[probabilities."*"]\nother = 1.0\n', "must map arms of 'answer' to shares"),
        ("[something]\n", "needs [routing.tasks.answer] or [probabilities] tables"),
    ],
)
def test_a_bad_candidate_file_is_a_usage_error(
    routed: tuple[str, str], tmp_path: Path, text: str, message: str
) -> None:
    config, db = routed
    candidate = tmp_path / "candidate.toml"
    candidate.write_text(text)
    result = run(
        "replay", "--task", "answer", "--config", config, "--db", db, "--policy", str(candidate)
    )
    assert result.exit_code == 2, result.output
    assert message in result.output
