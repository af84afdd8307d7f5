"""`liveeval ab`: two variants on the same cases, compared as paired samples, and the
pairwise judge asked in both orders (the scripted local API of tests/judge/api.py stands
in for a paid judge)."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.stats import binomtest

from liveeval.cli.main import cli
from tests.judge.api import ScriptedAPI, chat_reply, run_api

REFERENCE = (
    "Refunds reach your card within 5 business days. If it takes longer, contact your bank "
    "with the refund reference from your email, and we will chase it for you."
)
APP = f"""
REFERENCE = {REFERENCE!r}

def good(text):
    return "Refunds reach your card within 5 business days."

def bad(text):
    return "I am not sure, please ask again later."

def crashy(text):
    if text.endswith(" 1"):
        raise KeyError("refund_policy")
    return good(text)

def mixed(text):
    return good(text) if int(text.split()[-1]) % 4 else bad(text)

def _cut(text, words):
    kept = REFERENCE.split()
    return " ".join(kept[: len(kept) - int(text.split()[-1]) % 6 - words])

def shorter(text):
    return _cut(text, 2)

def longer(text):
    return _cut(text, 1)

calls = []

def counted(text):
    calls.append(text)
    return good(text)
"""


@pytest.fixture
def app_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "ab_app.py").write_text(APP, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "ab_app"


GOOD = "Refunds reach your card within 5 business days."


def cases_file(path: Path, count: int, grader: dict | None = None, expected: str = GOOD) -> str:
    lines = [
        {
            "id": f"refund-{k}",
            "input": {"text": f"How long do refunds take? case {k}"},
            "expected": {"output": expected},
            "grader": grader or {"type": "contains", "values": ["5 business days"]},
            "author": "alice",
            "created_at": "2026-11-30T09:00:00Z",
        }
        for k in range(count)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return str(path)


def run_ab(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["ab", *args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_better_variant_wins_with_mcnemar(tmp_path: Path, app_module: str) -> None:
    path = cases_file(tmp_path / "cases.jsonl", 40)
    found = run_ab(path, "--a", f"python:{app_module}:mixed", "--b", f"python:{app_module}:good")
    comparison = found["comparison"]
    assert found["pairs"] == 40 and found["excluded"] == []
    mcnemar = comparison["mcnemar"]
    assert (mcnemar["b01"], mcnemar["b10"]) == (10, 0)  # A failed every 4th case; B none
    assert mcnemar["p_value"] == pytest.approx(binomtest(0, 10, 0.5).pvalue)
    assert comparison["verdict"] == "b_wins"
    assert comparison["mean_a"] == pytest.approx(0.75) and comparison["mean_b"] == 1.0

    same = run_ab(path, "--a", f"python:{app_module}:good", "--b", f"python:{app_module}:good")
    assert same["comparison"]["verdict"] == "no_difference"


def test_a_semantic_ab_where_an_answer_equals_its_reference_compares_every_case(
    tmp_path: Path, app_module: str
) -> None:
    """B answers the reference word for word, A something unrelated. Under the hashing
    encoder (the fallback without the MiniLM package) their cosines are 1.0000000000000002
    and -0.05: the run used to end in exit 2 with no results."""
    path = cases_file(tmp_path / "cases.jsonl", 6, {"type": "semantic", "threshold": 0.8})
    found = run_ab(path, "--a", f"python:{app_module}:bad", "--b", f"python:{app_module}:good")
    assert found["pairs"] == 6 and found["excluded"] == []
    scores = [r["score"] for side in ("a", "b") for r in found["results"][side]]
    assert all(0.0 <= score <= 1.0 for score in scores)
    assert found["comparison"]["verdict"] == "b_wins"


def test_semantic_scores_default_to_a_fifth_of_the_baselines_spread_as_minimum_effect(
    tmp_path: Path, app_module: str
) -> None:
    """Cosines sit at 0.9–1.0: B keeps one more word of the reference on every case, a
    small gain the paired test is sure of. 5% of the 0–1 scale would call it too small to
    matter; the semantic default (0.2 × A's standard deviation) and the verdict say so."""
    grader = {"type": "semantic", "threshold": 0.5}
    path = cases_file(tmp_path / "cases.jsonl", 30, grader, expected=REFERENCE)
    sides = ["--a", f"python:{app_module}:shorter", "--b", f"python:{app_module}:longer"]

    found = run_ab(path, *sides)
    comparison = found["comparison"]
    a_scores = [r["score"] for r in found["results"]["a"]]
    assert min(a_scores) > 0.85 and comparison["t_p_value"] < 1e-6
    assert 0.0 < comparison["mean_difference"] < 0.05
    assert comparison["min_effect"] == pytest.approx(0.2 * np.std(a_scores, ddof=1))
    assert comparison["min_effect_basis"] == (
        "0.2 × the standard deviation of A's scores, the semantic grader's default"
    )
    assert comparison["verdict"] == "b_wins"

    strict = CliRunner().invoke(cli, ["ab", path, *sides, "--min-effect", "0.05"])
    assert strict.exit_code == 0, strict.output
    headline = next(line for line in strict.output.splitlines() if line.startswith("Graded"))
    assert headline.startswith("Graded: SIGNIFICANT, BUT SMALLER THAN THE MINIMUM EFFECT — ")
    assert headline.endswith("but smaller than the minimum effect you set (0.05).")
    assert "no significant difference" not in strict.output.lower()
    same = CliRunner().invoke(cli, ["ab", path, *sides[:2], "--b", sides[1]])
    assert same.output.count("NO SIGNIFICANT DIFFERENCE") == 1
    assert "  minimum effect 0.0" in same.output
    assert "(0.2 × the standard deviation of A's scores, the semantic" in same.output


def test_a_crashing_case_is_left_out_and_a_bad_target_is_a_usage_error(
    tmp_path: Path, app_module: str
) -> None:
    path = cases_file(tmp_path / "cases.jsonl", 6)
    found = run_ab(path, "--a", f"python:{app_module}:crashy", "--b", f"python:{app_module}:good")
    assert found["excluded"] == ["refund-1"] and found["pairs"] == 5
    [crashed] = [r for r in found["results"]["a"] if r["id"] == "refund-1"]
    assert crashed["status"] == "error" and crashed["error_kind"] == "crash"
    bad = CliRunner().invoke(
        cli, ["ab", path, "--a", f"python:{app_module}:nothing", "--b", f"python:{app_module}:good"]
    )
    assert bad.exit_code == 2 and "has no attribute 'nothing'" in bad.output


@pytest.fixture(scope="module")
def judge_api() -> Iterator[ScriptedAPI]:
    with run_api() as api:
        yield api


def test_an_unknown_pairwise_rubric_is_a_usage_error_before_any_case_runs(
    tmp_path: Path, app_module: str, judge_api: ScriptedAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUDGE_KEY", "sk-test")
    config = judge_config(tmp_path, judge_api)
    path = cases_file(tmp_path / "cases.jsonl", 4)
    target = f"python:{app_module}:counted"
    args = ["ab", path, "--a", target, "--b", target, "--pairwise", "nope", "--config", config]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "the rubric 'nope'" in result.output
    assert importlib.import_module(app_module).calls == []


def judge_config(tmp_path: Path, api: ScriptedAPI) -> str:
    config = tmp_path / "liveeval.toml"
    config.write_text(
        f'[judge]\nprovider = "openai"\nmodel = "gpt-4o-mini"\nbase_url = "{api.url}/v1"\n'
        'api_key_env = "JUDGE_KEY"\nmax_attempts = 1\nconcurrency = 1\n',
        encoding="utf-8",
    )
    return str(config)


def test_pairwise_judging_asks_both_orders_and_counts_flips(
    tmp_path: Path, app_module: str, judge_api: ScriptedAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUDGE_KEY", "sk-test")
    config = judge_config(tmp_path, judge_api)
    path = cases_file(tmp_path / "cases.jsonl", 6)

    def winner(w: str):
        return chat_reply(json.dumps({"explanation": "because", "winner": w}))

    judge_api.reset()
    # A = bad, B = good: four pairs consistent (B, then A when swapped), two flip (A, A)
    judge_api.script(*[winner("B"), winner("A")] * 4, *[winner("A"), winner("A")] * 2)
    found = run_ab(
        path,
        "--a",
        f"python:{app_module}:bad",
        "--b",
        f"python:{app_module}:good",
        "--pairwise",
        "quality",
        "--concurrency",
        "1",
        "--config",
        config,
    )
    assert len(judge_api.requests) == 12
    first = judge_api.requests[0].body["messages"][1]["content"]
    second = judge_api.requests[1].body["messages"][1]["content"]
    assert first.index("not sure") < first.index("5 business days")  # A shown first …
    assert second.index("5 business days") < second.index("not sure")  # … then swapped
    assert found["flip_rate"] == {"flips": 2, "n": 6, "rate": pytest.approx(2 / 6)}
    pairwise = found["pairwise"]
    assert pairwise["mean_b"] == pytest.approx((4 + 0.5 * 2) / 6)
    assert pairwise["mean_a"] == pytest.approx((0.5 * 2) / 6)


def test_a_golden_set_mixing_contains_and_judge_graders_gets_a_verdict_per_grader(
    tmp_path: Path, app_module: str, judge_api: ScriptedAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUDGE_KEY", "sk-test")
    config = judge_config(tmp_path, judge_api)
    contains = tmp_path / "contains.jsonl"
    judged = tmp_path / "judged.jsonl"
    cases_file(contains, 6)
    cases_file(judged, 6, {"type": "judge", "rubric": "quality", "threshold": 3})
    mixed = [json.loads(line) for line in contains.read_text().splitlines()]
    for line in judged.read_text().splitlines():
        document = json.loads(line)
        mixed.append({**document, "id": document["id"] + "-judged"})
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in mixed), encoding="utf-8")
    judge_api.reset()
    judge_api.script(*[chat_reply(score=4)] * 12)
    a, b = f"python:{app_module}:bad", f"python:{app_module}:good"
    found = run_ab(str(path), "--a", a, "--b", b, "--config", config)
    assert found["pairs"] == 12 and found["comparison"] is None
    by_grader = {g["grader"]: g for g in found["by_grader"]}
    assert set(by_grader) == {"pass/fail", "judge:quality"}
    assert by_grader["pass/fail"]["comparison"]["verdict"] == "b_wins"
    assert by_grader["pass/fail"]["scale"] == [0.0, 1.0]
    assert by_grader["judge:quality"]["pairs"] == 6
    assert by_grader["judge:quality"]["comparison"]["mean_a"] == 4.0
    text = CliRunner().invoke(cli, ["ab", str(path), "--a", a, "--b", b, "--config", config])
    assert text.exit_code == 0, text.output
    assert "Graded by pass/fail (6 of 6 cases paired): B WINS" in text.output


def test_an_openai_variant_is_shown_with_its_model(
    tmp_path: Path, app_module: str, judge_api: ScriptedAPI
) -> None:
    path = cases_file(tmp_path / "cases.jsonl", 2)
    judge_api.reset()
    judge_api.script(*[chat_reply(GOOD)] * 2)
    url = f"openai:{judge_api.url}/v1"
    found = run_ab(path, "--a", url, "--model-a", "support-v1", "--b", f"python:{app_module}:good")
    assert found["a"] == f"{url} (model support-v1)"
    assert found["b"] == f"python:{app_module}:good"


def test_ab_help_says_that_repeated_tags_must_all_match() -> None:
    help_text = " ".join(CliRunner().invoke(cli, ["ab", "--help"]).output.split())
    assert "repeat it for cases with every tag given" in help_text
