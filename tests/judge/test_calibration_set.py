"""Reading a calibration set: every field, every mistake with file:line, and the schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from liveeval.judge.calibration_set import (
    CALIBRATION_ITEM_SCHEMA,
    CalibrationSetError,
    check_scale,
    item_interaction,
    read_calibration_set,
)
from liveeval.judge.material import context_documents, conversation, response_text
from liveeval.judge.rubrics import BUILTIN_RUBRICS, applies

LIKERT = (1, 2, 3, 4, 5)
FULL: dict[str, Any] = {
    "id": "q1",
    "input": "How long do refunds take?",
    "output": "Refunds reach your card within 5 business days.",
    "human_scores": [4, 5, 4],
    "raters": ["ana", "bo", "cy"],
    "judge_score": 4,
    "context": ["Refunds are processed within 5 business days."],
    "rubric": "faithfulness",
    "metadata": {"source": "support", "week": 3},
}
MINIMAL: dict[str, Any] = {"id": "q2", "input": "", "output": "Hi.", "human_score": 2.5}

# Lines each broken in one way, with what the error must say. The schema must refuse
# them too (a test below checks that the reader and the schema agree).
BROKEN: list[tuple[dict[str, Any], str]] = [
    ({**MINIMAL, "human_socre": 3}, "unknown field 'human_socre'"),
    ({k: v for k, v in MINIMAL.items() if k != "output"}, "field 'output' is missing"),
    ({k: v for k, v in MINIMAL.items() if k != "human_score"}, "exactly one of human_scores"),
    ({**MINIMAL, "human_scores": [1, 2]}, "exactly one of human_scores"),
    ({**MINIMAL, "human_score": "4"}, "field 'human_score': Input should be a valid number"),
    ({**MINIMAL, "human_score": True}, "field 'human_score'"),
    ({**MINIMAL, "judge_score": "high"}, "field 'judge_score'"),
    ({**FULL, "human_scores": []}, "field 'human_scores'"),
    ({**FULL, "human_scores": [4, "5", 4]}, "field 'human_scores.1'"),
    ({**FULL, "raters": ["ana", "bo"]}, "raters: 2 names for 3 human_scores"),
    ({**FULL, "raters": ["ana", "ana", "bo"]}, "raters: a rater is named twice"),
    ({**MINIMAL, "raters": ["ana"]}, "raters: goes with human_scores"),
    ({**MINIMAL, "id": ""}, "field 'id'"),
    ({**MINIMAL, "id": 7}, "field 'id': Input should be a valid string"),
    ({**MINIMAL, "context": "one document"}, "field 'context'"),
    ({**MINIMAL, "metadata": []}, "field 'metadata'"),
]


def write(path: Path, lines: list[Any]) -> Path:
    """A JSONL file: dicts are dumped, strings written as they are."""
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def schema_errors(item: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(CALIBRATION_ITEM_SCHEMA)
    return [error.message for error in validator.iter_errors(item)]


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(CALIBRATION_ITEM_SCHEMA)


def test_every_field_is_read(tmp_path: Path) -> None:
    items = read_calibration_set(write(tmp_path / "set.jsonl", [FULL, MINIMAL]))
    full, minimal = items
    assert (full.id, full.input, full.output) == ("q1", FULL["input"], FULL["output"])
    assert full.human_scores == (4.0, 5.0, 4.0)
    assert full.raters == ("ana", "bo", "cy")
    assert full.judge_score == 4.0
    assert full.context == tuple(FULL["context"])
    assert full.rubric == "faithfulness"
    assert full.metadata == {"source": "support", "week": 3}
    assert (full.line, minimal.line) == (1, 2)
    assert minimal.human_scores == (2.5,)
    assert (minimal.raters, minimal.judge_score, minimal.context, minimal.rubric) == (
        None,
        None,
        (),
        None,
    )


def test_every_example_file_written_here_validates_against_the_schema(tmp_path: Path) -> None:
    one_in_a_list = {"id": "q3", "input": "", "output": "x", "human_scores": [1], "raters": ["d"]}
    examples = [FULL, MINIMAL, one_in_a_list]
    path = write(tmp_path / "set.jsonl", examples)
    for line in path.read_text(encoding="utf-8").splitlines():
        assert schema_errors(json.loads(line)) == []
    assert len(read_calibration_set(path)) == 3


@pytest.mark.parametrize(("line", "message"), BROKEN, ids=[m for _, m in BROKEN])
def test_a_broken_line_is_an_error_with_file_line_and_field(
    tmp_path: Path, line: dict[str, Any], message: str
) -> None:
    path = write(tmp_path / "set.jsonl", [FULL, "", line])
    with pytest.raises(CalibrationSetError) as caught:
        read_calibration_set(path)
    assert caught.value.errors[0].startswith(f"{path}:3: ")
    assert message in str(caught.value)


# JSON Schema cannot say that two arrays have the same length; the reader checks it.
SCHEMA_CANNOT = {"raters: 2 names for 3 human_scores"}


@pytest.mark.parametrize(
    ("line", "message"),
    [case for case in BROKEN if case[1] not in SCHEMA_CANNOT],
    ids=[m for _, m in BROKEN if m not in SCHEMA_CANNOT],
)
def test_the_schema_refuses_what_the_reader_refuses(line: dict[str, Any], message: str) -> None:
    assert schema_errors(line), f"the schema lets through a line the reader refuses: {message}"


def test_blank_lines_are_skipped_and_lines_keep_their_numbers(tmp_path: Path) -> None:
    path = write(tmp_path / "set.jsonl", ["", FULL, "   ", "", MINIMAL, ""])
    assert [item.line for item in read_calibration_set(path)] == [2, 5]


def test_a_duplicate_id_names_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "set.jsonl", [FULL, MINIMAL, {**MINIMAL, "output": "Hello."}])
    with pytest.raises(
        CalibrationSetError, match=r"set\.jsonl:3: id 'q2' is already used on line 2"
    ):
        read_calibration_set(path)


def test_every_error_in_the_file_is_reported_at_once(tmp_path: Path) -> None:
    lines = [
        "{not json",
        "[1, 2]",
        {**MINIMAL, "id": "a", "typo": 1},
        FULL,
        {**MINIMAL, "id": "b", "human_score": "x"},
    ]
    path = write(tmp_path / "set.jsonl", lines)
    with pytest.raises(CalibrationSetError) as caught:
        read_calibration_set(path)
    errors = caught.value.errors
    assert [e.split(": ", 1)[0] for e in errors] == [f"{path}:{n}" for n in (1, 2, 3, 5)]
    assert "not valid JSON" in errors[0]
    assert "expected a JSON object, got list" in errors[1]
    assert "unknown field 'typo'" in errors[2]


def test_nan_is_not_a_score(tmp_path: Path) -> None:
    path = write(
        tmp_path / "set.jsonl", ['{"id": "a", "input": "", "output": "x", "human_score": NaN}']
    )
    with pytest.raises(CalibrationSetError, match=r":1: not valid JSON: NaN"):
        read_calibration_set(path)


def test_bytes_that_are_not_utf8_are_an_error_on_their_line(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_bytes(json.dumps(FULL).encode() + b"\n" + b'{"id": "\xff"}\n')
    with pytest.raises(CalibrationSetError, match=r":2: not UTF-8"):
        read_calibration_set(path)


def test_a_missing_file_and_an_empty_file_are_errors(tmp_path: Path) -> None:
    with pytest.raises(CalibrationSetError, match="no such file"):
        read_calibration_set(tmp_path / "absent.jsonl")
    with pytest.raises(CalibrationSetError, match="no items"):
        read_calibration_set(write(tmp_path / "empty.jsonl", ["", ""]))


def test_scores_off_the_scale_are_errors_with_file_line(tmp_path: Path) -> None:
    lines = [
        FULL,
        {**MINIMAL, "human_score": 45},
        {**FULL, "id": "q9", "human_scores": [4, 0, 5], "judge_score": 6},
    ]
    path = write(tmp_path / "set.jsonl", lines)
    with pytest.raises(CalibrationSetError) as caught:
        read_calibration_set(path, LIKERT)
    assert caught.value.errors == [
        f"{path}:2: human score is 45, outside the scale 1-5",
        f"{path}:3: human_scores[1] is 0, outside the scale 1-5",
        f"{path}:3: judge_score is 6, outside the scale 1-5",
    ]
    items = read_calibration_set(path)  # without a scale, nothing is checked
    with pytest.raises(CalibrationSetError, match="human score is 45"):
        check_scale(items, LIKERT, path)


def test_a_score_between_levels_is_on_the_scale(tmp_path: Path) -> None:
    path = write(tmp_path / "set.jsonl", [{**MINIMAL, "human_score": 3.5, "judge_score": 1}])
    assert read_calibration_set(path, LIKERT)[0].human_scores == (3.5,)
    with pytest.raises(CalibrationSetError, match="outside the scale 0-1"):
        read_calibration_set(path, (0, 1))


def test_an_item_becomes_an_interaction_the_judge_can_read(tmp_path: Path) -> None:
    full, minimal = read_calibration_set(write(tmp_path / "set.jsonl", [FULL, MINIMAL]))
    interaction = item_interaction(full)
    assert [t.text for t in conversation(interaction)] == [FULL["input"]]
    assert response_text(interaction) == FULL["output"]
    assert context_documents(interaction) == FULL["context"]
    assert interaction.metadata["calibration_id"] == "q1"
    assert applies(BUILTIN_RUBRICS["faithfulness"], interaction)
    bare = item_interaction(minimal)
    assert conversation(bare) == []
    assert not applies(BUILTIN_RUBRICS["faithfulness"], bare)  # no context to be faithful to
    assert applies(BUILTIN_RUBRICS["quality"], bare)
