"""The simulated judge: grades the story's answers from their text, and says it is simulated."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from liveeval.demo.phrasebook import ANSWERS, BAD_ANSWERS, QUESTIONS
from liveeval.demo.settings import simulated_judge_config
from liveeval.demo.simulated_judge import SimulatedJudgeProvider, grade_answer
from liveeval.demo.story import build_story
from liveeval.judge.grading import Grader
from liveeval.judge.rubrics import BUILTIN_RUBRICS, QUALITY
from liveeval.model import Interaction

SLOTS = {"order": "A-12345", "item": "Acme Kettle", "days": 3}
QUESTION = QUESTIONS[("returns", "de")][0].format(**SLOTS)


def test_grades_follow_the_answers_tier_apart_from_noise() -> None:
    story = build_story(datetime(2026, 11, 1, tzinfo=UTC), days=7, per_day=200)
    by_tier: dict[str, list[int]] = {}
    for turn in story.turns:
        by_tier.setdefault(turn.tier, []).append(grade_answer(turn.question, turn.answer).score)
    means = {tier: sum(s) / len(s) for tier, s in by_tier.items()}
    assert means["good"] > 4.5 > means["ok"] > 2.5 > means["bad"]
    exact = sum(1 for t in story.turns if grade_answer(t.question, t.answer).score in (5, 3, 1))
    assert 0.7 < exact / len(story.turns) < 0.9  # about NOISE of the verdicts moved


def test_an_answer_in_another_language_than_the_question_scores_low() -> None:
    english = ANSWERS[("returns", "en", "good")].format(**SLOTS)
    german = ANSWERS[("returns", "de", "good")].format(**SLOTS)
    assert grade_answer(QUESTION, english).score <= 3
    assert "wrong language" in grade_answer(QUESTION, english).explanation
    assert grade_answer(QUESTION, german).score >= 4
    assert grade_answer(QUESTION, BAD_ANSWERS["de"]).score <= 2


def test_the_same_text_always_gets_the_same_grade() -> None:
    answer = ANSWERS[("returns", "de", "ok")].format(**SLOTS)
    assert {grade_answer(QUESTION, answer, seed=1) for _ in range(5)} == {
        grade_answer(QUESTION, answer, seed=1)
    }


def test_the_grader_records_it_as_simulated() -> None:
    at = datetime(2026, 11, 1, tzinfo=UTC)
    interaction = Interaction(
        project="p",
        trace_id="0" * 32,
        span_id="0" * 16,
        parent_span_id=None,
        name="chat",
        convention="genai",
        operation="chat",
        start_at=at,
        end_at=at,
        latency_ms=1.0,
        status="ok",
        input_text=QUESTION,
        output_text=ANSWERS[("returns", "de", "good")].format(**SLOTS),
    )
    grader = Grader(SimulatedJudgeProvider(), simulated_judge_config())
    judgment = asyncio.run(grader.grade(QUALITY, interaction))
    assert judgment.status == "ok" and judgment.value is not None and judgment.value >= 4
    assert judgment.provider == "simulated"
    assert judgment.model_reported == "simulated-judge-1" and not judgment.model_mismatch
    assert judgment.evaluator_version.startswith("simulated/simulated-judge-1/quality@")
    assert judgment.explanation is not None and judgment.explanation.startswith("[simulated]")
    # the rubric's scale goes with the score: the rollups count a binary 0 as bad
    assert judgment.to_score("p", 1).details["scale"] == "1-5"
    binary = asyncio.run(grader.grade(BUILTIN_RUBRICS["refusal_appropriateness"], interaction))
    assert binary.status == "ok" and binary.value in (0.0, 1.0)
    assert binary.to_score("p", 1).details["scale"] == "binary"


def test_a_binary_rubric_gets_a_binary_verdict() -> None:
    from liveeval.judge.providers.base import JudgeRequest

    request = JudgeRequest(
        messages=[
            {"role": "system", "content": "rubric"},
            {
                "role": "user",
                "content": f'<conversation>\n<message role="user">\n{QUESTION}\n</message>\n'
                f"</conversation>\n\n<response>\n{BAD_ANSWERS['de']}\n</response>",
            },
        ],
        output_schema={
            "properties": {"explanation": {"type": "string"}, "pass": {"enum": [0, 1]}},
        },
        max_tokens=64,
        timeout_s=5,
    )
    completion = asyncio.run(SimulatedJudgeProvider().complete(request))
    assert json.loads(completion.text)["pass"] == 0
