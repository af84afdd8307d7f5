from __future__ import annotations

import pytest

from liveeval.judge.rubrics import Scale
from liveeval.judge.verdict import ParseFailure, Verdict, find_json_object, parse_verdict

FIVE = Scale("1-5")
BINARY = Scale("binary")
TONE = Scale("labels", ("friendly", "neutral", "rude"))


@pytest.mark.parametrize(
    "text",
    [
        '{"explanation": "Good.", "score": 4}',
        '  {"score": 4, "explanation": "Good."}\n',
        '```json\n{"explanation": "Good.", "score": 4}\n```',
        '```\n{"explanation": "Good.", "score": 4}\n```',
        'Sure! Here is my grade: {"explanation": "Good.", "score": 4} Hope it helps.',
        '{"explanation": "Good.", "score": "4"}',
        '{"explanation": "Good.", "score": 4.0}',
    ],
)
def test_the_answer_is_found_in_plain_fenced_or_surrounded_json(text: str) -> None:
    assert parse_verdict(text, FIVE) == Verdict(value=4.0, label=None, explanation="Good.")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the answer is empty"),
        ("four out of five", "no JSON object found in the answer: 'four out of five'"),
        ("[4]", "no JSON object found"),
        ('{"explanation": "x", "score": 7}', "score 7 is not on the 1-5 scale (1, 2, 3, 4, 5)"),
        ('{"explanation": "x", "score": 0}', "score 0 is not on the 1-5 scale"),
        ('{"explanation": "x", "score": 3.5}', "score 3.5 is not on the 1-5 scale"),
        ('{"explanation": "x", "score": "high"}', "\"score\" is not a number: 'high'"),
        ('{"explanation": "x", "score": true}', '"score" is not a number: True'),
        ('{"explanation": "x", "score": null}', '"score" is not a number: None'),
        ('{"explanation": "x"}', 'the answer has no "score" (keys: explanation)'),
        ('{"explanation": "x", "score": 4', "no JSON object found"),
    ],
)
def test_what_is_not_a_verdict_on_the_scale_says_why(text: str, reason: str) -> None:
    result = parse_verdict(text, FIVE)
    assert isinstance(result, ParseFailure)
    assert result.reason.startswith(reason)


def test_a_binary_scale_takes_0_1_and_booleans_only() -> None:
    assert parse_verdict('{"score": 1, "explanation": "y"}', BINARY) == Verdict(1.0, None, "y")
    assert parse_verdict('{"score": false}', BINARY) == Verdict(0.0, None, None)
    failure = parse_verdict('{"score": 2}', BINARY)
    assert isinstance(failure, ParseFailure)
    assert failure.reason == "score 2 is not on the binary scale (0, 1)"


def test_labels_match_case_insensitively_and_come_back_as_written_in_the_rubric() -> None:
    assert parse_verdict('{"label": " Rude ", "explanation": "x"}', TONE) == Verdict(
        None, "rude", "x"
    )
    unknown = parse_verdict('{"label": "angry"}', TONE)
    assert isinstance(unknown, ParseFailure)
    assert (
        unknown.reason
        == "label 'angry' is not one of the rubric's labels (friendly, neutral, rude)"
    )
    numeric = parse_verdict('{"score": 3}', TONE)
    assert isinstance(numeric, ParseFailure)
    assert numeric.reason == 'the answer has no "label" (keys: score)'


def test_a_non_string_explanation_is_kept_as_json() -> None:
    verdict = parse_verdict('{"score": 5, "explanation": ["a", "b"]}', FIVE)
    assert verdict == Verdict(5.0, None, '["a", "b"]')


def test_the_first_object_wins_when_the_text_has_several() -> None:
    assert find_json_object('x {"score": 2} y {"score": 3}') == {"score": 2}
