"""`liveeval judge calibrate`: precomputed scores, a judge over a real HTTP server, exit codes.

The judge path talks to the scripted model API of tests/judge/api.py on a loopback port
through the official `openai` client. The SummEval test calibrates the experts' median
against the crowd's ratings on all 1,200 summaries and checks each figure against the
reference libraries on the same data.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import jsonschema
import krippendorff
import numpy as np
import pytest
from click.testing import CliRunner, Result
from scipy.stats import spearmanr
from sklearn.metrics import cohen_kappa_score, confusion_matrix

from liveeval.cli.judge import judge
from liveeval.judge.calibration_set import CALIBRATION_ITEM_SCHEMA
from tests.conftest import DATASETS
from tests.judge.api import ScriptedAPI, chat_reply

SUMMEVAL = DATASETS / "judge-calibration"
LIKERT = [1, 2, 3, 4, 5]


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No liveeval.toml from the working directory or LIVEEVAL_CONFIG leaks in."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LIVEEVAL_CONFIG", raising=False)


def calibrate(*args: str) -> Result:
    return CliRunner().invoke(judge, ["calibrate", *args], catch_exceptions=False)


def write_set(path: Path, items: list[dict[str, Any]]) -> str:
    """A calibration file; each item is first checked against the published schema."""
    validator = jsonschema.Draft202012Validator(CALIBRATION_ITEM_SCHEMA)
    errors = [error.message for item in items for error in validator.iter_errors(item)]
    assert errors == [], errors
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return str(path)


def item(index: int, humans: list[int], judge_score: float | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {
        "id": f"i{index}",
        "input": f"question {index}",
        "output": f"answer {index} " + "x" * (10 * index),
        "human_scores": humans,
    }
    if judge_score is not None:
        value["judge_score"] = judge_score
    return value


# Ten items: the judge agrees with the human median on eight, is one level off on two.
HUMANS = [[1, 1], [2, 1], [2, 2], [3, 3], [3, 4], [4, 4], [4, 5], [5, 5], [5, 4], [1, 2]]
JUDGE = [1, 2, 2, 3, 4, 4, 5, 5, 4, 1]


SCORED = [item(i, h, j) for i, (h, j) in enumerate(zip(HUMANS, JUDGE, strict=True))]


def write_config(path: Path, api: ScriptedAPI, **judge_keys: Any) -> str:
    keys = {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "base_url": f"{api.url}/v1",
        "max_attempts": 1,
        "concurrency": 1,
        **judge_keys,
    }
    body = "".join(f"{k} = {json.dumps(v)}\n" for k, v in keys.items())
    path.write_text(f"[judge]\n{body}", encoding="utf-8")
    return str(path)


def strict_json(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


# precomputed judge scores


def test_precomputed_scores_give_the_report_without_a_judge(tmp_path: Path) -> None:
    path = write_set(tmp_path / "set.jsonl", SCORED)
    result = calibrate("--set", path)
    assert result.exit_code == 0, result.output
    medians = [int(np.floor(np.median(h) + 0.5)) for h in HUMANS]
    kappa = cohen_kappa_score(JUDGE, medians, labels=LIKERT, weights="quadratic")
    assert f"kappa, quadratic      {kappa:.3f}  floor 0.6" in result.output
    assert "judge: judge_score in the file" in result.output
    assert "rubric quality" in result.output
    assert result.output.rstrip().endswith(f"PASS: quadratic kappa {kappa:.3f} >= floor 0.6")


def test_below_the_floor_exits_1(tmp_path: Path) -> None:
    path = write_set(tmp_path / "set.jsonl", SCORED)
    result = calibrate("--set", path, "--floor", "0.99")
    assert result.exit_code == 1
    assert "FAIL: quadratic kappa" in result.output


def test_json_output_is_strict_json_with_the_set_rubric_and_judge(tmp_path: Path) -> None:
    path = write_set(tmp_path / "set.jsonl", SCORED)
    result = calibrate("--set", path, "--json", "--floor", "0.5")
    assert result.exit_code == 0
    document = strict_json(result.stdout)
    assert (document["set"], document["rubric"], document["judge"]) == (
        path,
        "quality",
        "judge_score in the file",
    )
    assert document["n"] == 10 and document["floor"]["value"] == 0.5
    assert document["exact_agreement"]["value"] == pytest.approx(0.8)
    assert document["passed"] is True


def test_a_binary_rubric_uses_its_own_scale(tmp_path: Path) -> None:
    items = [item(i, [i % 2, i % 2], i % 2) for i in range(6)]
    path = write_set(tmp_path / "set.jsonl", items)
    result = calibrate("--set", path, "--rubric", "refusal_appropriateness", "--json")
    document = strict_json(result.stdout)
    assert document["levels"] == [0, 1] and document["kappa_quadratic"]["value"] == 1.0
    assert result.exit_code == 0


# usage and file errors: exit 2


@pytest.mark.parametrize(
    ("lines", "args", "message"),
    [
        (
            ['{"id": "a", "input": "", "output": "x", "human_scor": 3}'],
            [],
            "set.jsonl:1: unknown field 'human_scor'",
        ),
        ([item(0, [3], 3), item(0, [4], 4)], [], "set.jsonl:2: id 'i0' is already used on line 1"),
        (
            [item(0, [3], 3), item(1, [9], 4)],
            [],
            "set.jsonl:2: human score is 9, outside the scale 1-5",
        ),
        (
            [item(0, [3], 3), item(1, [4])],
            [],
            "set.jsonl:2: no judge_score, while 1 of the 2 items have one",
        ),
        ([item(0, [3])], [], "no judge configured and not every item has a judge_score"),
        ([item(0, [3], 3)], ["--rubric", "nope"], "unknown rubric 'nope'"),
        (
            [
                {**item(0, [3], 3), "rubric": "quality"},
                {**item(1, [3], 3), "rubric": "faithfulness"},
            ],
            [],
            "the items name several rubrics",
        ),
        (
            [{**item(0, [3], 3), "rubric": "faithfulness"}],
            ["--rubric", "quality"],
            "set.jsonl:1: item 'i0' is for rubric 'faithfulness', not 'quality'",
        ),
    ],
)
def test_usage_and_file_errors_exit_2_with_the_place(
    tmp_path: Path, lines: list[Any], args: list[str], message: str
) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    result = calibrate("--set", str(path), *args)
    assert result.exit_code == 2
    assert message in result.output


def test_a_missing_set_exits_2(tmp_path: Path) -> None:
    result = calibrate("--set", str(tmp_path / "absent.jsonl"))
    assert result.exit_code == 2 and "absent.jsonl: no such file" in result.output


def test_a_labels_rubric_cannot_be_calibrated(tmp_path: Path) -> None:
    config = tmp_path / "liveeval.toml"
    config.write_text(
        '[judge.rubrics.tone]\ntemplate = "Grade the tone."\nscale = "labels"\n'
        'labels = ["friendly", "rude"]\n'
    )
    path = write_set(tmp_path / "set.jsonl", [item(0, [1], 1)])
    result = calibrate("--set", path, "--rubric", "tone", "--config", str(config))
    assert result.exit_code == 2 and "grades with labels" in result.output


# the judge path: a real HTTP server answering as the model


def test_items_without_scores_are_graded_by_the_configured_judge(
    tmp_path: Path, api: ScriptedAPI
) -> None:
    config = write_config(tmp_path / "liveeval.toml", api)
    path = write_set(tmp_path / "set.jsonl", [item(i, h) for i, h in enumerate(HUMANS)])
    api.script(*(chat_reply(score=s) for s in JUDGE))
    result = calibrate("--set", path, "--config", config, "--json")
    assert result.exit_code == 0, result.output
    document = strict_json(result.stdout)
    assert len(api.requests) == len(HUMANS)
    sent = [r.body["messages"][-1]["content"] for r in api.requests]
    assert all(
        f"answer {i} " in text for i, text in enumerate(sent)
    )  # one request per item, in order
    assert document["judge"].startswith("openai/gpt-4o-mini/quality@1#")
    assert document["models_reported"] == ["gpt-4o-mini-2024-07-18"]
    assert document["n"] == 10 and document["judge_errors"]["count"] == 0
    assert document["exact_agreement"]["value"] == pytest.approx(0.8)


def test_a_judge_error_is_counted_and_shown_never_scored(tmp_path: Path, api: ScriptedAPI) -> None:
    config = write_config(tmp_path / "liveeval.toml", api)
    path = write_set(tmp_path / "set.jsonl", [item(i, h) for i, h in enumerate(HUMANS)])
    replies = [chat_reply(score=s) for s in JUDGE]
    replies[3] = chat_reply(refusal="I can't grade this.")
    api.script(*replies)
    result = calibrate("--set", path, "--config", config)
    assert "9 items scored, 1 judge error;" in result.output
    assert "judge error on i3: the judge refused: I can't grade this." in result.output
    api.reset()  # the JSON tells the same
    api.script(*replies)
    document = strict_json(calibrate("--set", path, "--config", config, "--json").stdout)
    assert document["n"] == 9
    assert document["judge_errors"]["items"] == [
        {"id": "i3", "reason": "the judge refused: I can't grade this."}
    ]
    assert sum(map(sum, document["confusion"]["counts"])) == 9


def test_an_item_the_rubric_does_not_apply_to_is_a_judge_error_without_a_call(
    tmp_path: Path, api: ScriptedAPI
) -> None:
    config = write_config(tmp_path / "liveeval.toml", api)
    with_context = {**item(0, [4]), "context": ["answer 0 is right"]}
    path = write_set(tmp_path / "set.jsonl", [with_context, item(1, [2])])
    api.script(chat_reply(score=4))
    result = calibrate("--set", path, "--config", config, "--rubric", "faithfulness", "--json")
    document = strict_json(result.stdout)
    assert len(api.requests) == 1
    assert document["judge_errors"]["items"] == [
        {"id": "i1", "reason": "rubric faithfulness needs output and context"}
    ]
    assert result.exit_code == 1  # one item: kappa is undefined, which never passes


def test_regrade_calls_the_judge_even_with_scores_in_the_file(
    tmp_path: Path, api: ScriptedAPI
) -> None:
    config = write_config(tmp_path / "liveeval.toml", api, concurrency=4)
    items = [item(i, h, judge_score=1) for i, h in enumerate(HUMANS)]
    path = write_set(tmp_path / "set.jsonl", items)
    api.script(*(chat_reply(score=3) for _ in HUMANS))
    document = strict_json(
        calibrate("--set", path, "--config", config, "--regrade", "--json").stdout
    )
    assert len(api.requests) == len(HUMANS)
    assert document["judge_mean"] == 3.0 and document["n"] == len(HUMANS)


# real data: SummEval, experts as the judge, the crowd as the humans


def summeval_rows() -> list[dict[str, Any]]:
    files = sorted(SUMMEVAL.glob("M*_outputs_annotations.jsonl"))
    if not files:
        pytest.skip(f"SummEval annotations not found under {SUMMEVAL}")
    rows = []
    for file in files:
        with file.open(encoding="utf-8") as handle:
            rows += [json.loads(line) for line in handle if line.strip()]
    return rows


def test_summeval_relevance_matches_the_reference_libraries(tmp_path: Path) -> None:
    rows = summeval_rows()
    dimension = "relevance"
    expert = [statistics.median(a[dimension] for a in r["expert_annotations"]) for r in rows]
    crowd = [[a[dimension] for a in r["turker_annotations"]] for r in rows]
    items = [
        {
            "id": f"{r['model_id']}/{r['id']}",
            "input": r["text"],
            "output": r["decoded"],
            "judge_score": score,
            "human_scores": ratings,
            "metadata": {"dimension": dimension},
        }
        for r, score, ratings in zip(rows, expert, crowd, strict=True)
    ]
    path = tmp_path / "summeval.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    result = calibrate("--set", str(path), "--json")
    assert result.exit_code in (0, 1), result.output
    got = strict_json(result.stdout)

    assert got["n"] == len(rows) == 1200
    medians = [float(np.median(c)) for c in crowd]
    human = np.floor(np.array(medians) + 0.5).astype(int)  # 5 ratings: medians are whole
    judged = np.floor(np.array(expert, dtype=float) + 0.5).astype(int)
    assert got["exact_agreement"]["value"] == pytest.approx(np.mean(judged == human))
    assert got["within_one_agreement"]["value"] == pytest.approx(np.mean(abs(judged - human) <= 1))
    for weights in ("quadratic", "linear"):
        expected = cohen_kappa_score(judged, human, labels=LIKERT, weights=weights)
        assert got[f"kappa_{weights}"]["value"] == pytest.approx(expected, abs=1e-12)
    rho = spearmanr(expert, medians)
    assert got["spearman"]["rho"] == pytest.approx(rho.statistic)
    assert got["spearman"]["p_value"] == pytest.approx(rho.pvalue)
    assert got["confusion"]["counts"] == confusion_matrix(judged, human, labels=LIKERT).tolist()
    everyone = np.vstack([np.array(expert, dtype=float)[None, :], np.array(crowd, dtype=float).T])
    crowd_only = np.array(crowd, dtype=float).T  # 5 raters x 1200 summaries
    assert got["krippendorff_alpha_ordinal"]["value"] == pytest.approx(
        krippendorff.alpha(everyone, level_of_measurement="ordinal"), abs=1e-10
    )
    assert got["krippendorff_alpha_ordinal_humans"]["value"] == pytest.approx(
        krippendorff.alpha(crowd_only, level_of_measurement="ordinal"), abs=1e-10
    )
    lengths = [len(r["decoded"]) for r in rows]
    bias = got["length_bias"]
    assert bias["judge"]["rho"] == pytest.approx(spearmanr(expert, lengths).statistic)
    assert bias["human"]["rho"] == pytest.approx(spearmanr(medians, lengths).statistic)
    # What the data says (docs/calibration.md): the crowd barely agrees with the experts.
    assert got["kappa_quadratic"]["value"] < 0.2 and got["passed"] is False
    assert result.exit_code == 1


def test_store_keeps_the_set_and_the_run_and_history_shows_it(
    tmp_path: Path, api: ScriptedAPI
) -> None:
    from liveeval.store.calibration import calibration_set
    from liveeval.store.database import open_store

    db = f"sqlite:///{tmp_path / 'liveeval.db'}"
    config = write_config(tmp_path / "liveeval.toml", api)
    path = write_set(tmp_path / "set.jsonl", [item(i, h) for i, h in enumerate(HUMANS)])
    api.script(*(chat_reply(score=s) for s in JUDGE))
    result = calibrate(
        "--set", path, "--config", config, "--store", "--project", "shop", "--db", db
    )
    assert result.exit_code == 0, result.output
    store = open_store(db)
    with store.reading() as conn:
        kept = calibration_set(conn, "shop", "quality")
    store.close()
    assert [k.item_id for k in kept] == sorted(f"i{i}" for i in range(10))
    assert kept[0].human_scores == (1.0, 1.0)

    shown = CliRunner().invoke(
        judge, ["history", "--project", "shop", "--db", db, "--config", config, "--json"]
    )
    assert shown.exit_code == 0, shown.output
    [run] = [json.loads(line) for line in shown.stdout.splitlines()]
    assert run["source"] == "calibration_set" and run["trigger"] == "manual"
    assert run["model_reported"] == "gpt-4o-mini-2024-07-18" and run["passed"] is True
    assert run["judge_version"].startswith("openai/gpt-4o-mini/quality@1#")
