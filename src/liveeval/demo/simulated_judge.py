"""A judge provider for the demo that calls no model: it recognises the story's answers.

The demo must judge thousands of answers in seconds on a laptop, so by default it
grades with this provider. It is named "simulated" and reports the model
"simulated-judge-1", so every score, the judge page and the CLI say plainly that no
real model graded. It scores from the text alone: it finds which template of the
phrasebook produced the answer (its quality tier) and in which language the question
was asked, then adds seeded noise, as a real judge would disagree with itself a little.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from dataclasses import dataclass

from liveeval.demo.phrasebook import ANSWERS, BAD_ANSWERS, QUESTIONS
from liveeval.judge.providers.base import Completion, JudgeRequest

PROVIDER_NAME = "simulated"
MODEL = "simulated-judge-1"
NOISE = 0.2  # share of verdicts moved one point up or down

_RESPONSE = re.compile(r"<response>\n(.*?)\n</response>", re.DOTALL)
_QUESTION = re.compile(r'<message role="user">\n(.*?)\n</message>', re.DOTALL)


def _pattern(template: str) -> re.Pattern[str]:
    parts = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append(r".+?")
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


_ANSWER_PATTERNS = [
    (_pattern(text), language, tier) for (_, language, tier), text in ANSWERS.items()
] + [(_pattern(text), language, "bad") for language, text in BAD_ANSWERS.items()]
_QUESTION_PATTERNS = [
    (_pattern(text), topic, language)
    for (topic, language), texts in QUESTIONS.items()
    for text in texts
]
_TIER_SCORES = {"good": 5, "ok": 3, "bad": 1}
_WHY = {
    "good": "Specific, cites the knowledge base and answers the question.",
    "ok": "Generic: correct in spirit but does not answer the specific question.",
    "bad": "Unhelpful: does not answer the question.",
}


@dataclass(frozen=True, slots=True)
class Grade:
    score: int
    explanation: str


def question_topic_language(question: str) -> tuple[str, str] | None:
    """The (topic, language) of one of the story's questions; None for any other text."""
    for pattern, topic, language in _QUESTION_PATTERNS:
        if pattern.match(question.strip()):
            return topic, language
    return None


def question_language(question: str) -> str | None:
    found = question_topic_language(question)
    return found[1] if found else None


def grade_answer(question: str, answer: str, seed: int = 0) -> Grade:
    """The simulated verdict (1-5) on one answer: its tier's score, plus seeded noise."""
    score, why = true_grade(question, answer)
    digest = hashlib.sha256(f"{seed}\x00{question}\x00{answer}".encode()).digest()
    draw = int.from_bytes(digest[:8], "big") / 2**64
    if draw < NOISE / 2:
        score -= 1
    elif draw < NOISE:
        score += 1
    return Grade(min(5, max(1, score)), why)


def true_grade(question: str, answer: str) -> tuple[int, str]:
    """The score the answer's tier deserves, without the judge's noise: what the demo's
    reviewer gives, so the judge's agreement with people can be followed."""
    asked_in = question_language(question)
    found = next(
        ((lang, tier) for pattern, lang, tier in _ANSWER_PATTERNS if pattern.match(answer.strip())),
        None,
    )
    if found is None:
        score, why = 3, "Not an answer of the demo's assistant; graded as average."
    elif asked_in is not None and found[0] != asked_in:
        score, why = 2, f"Answers in the wrong language ({found[0]}, asked in {asked_in})."
    else:
        score, why = _TIER_SCORES[found[1]], _WHY[found[1]]
    return score, why


class SimulatedJudgeProvider:
    """A `JudgeProvider` that grades the demo's answers without a model (see above)."""

    name = PROVIDER_NAME

    def __init__(self, seed: int = 0, model: str = MODEL) -> None:
        self.model = model
        self.seed = seed

    async def complete(self, request: JudgeRequest) -> Completion:
        material = request.messages[-1]["content"]
        response = _RESPONSE.search(material)
        question = _QUESTION.search(material)
        grade = grade_answer(
            question.group(1) if question else "", response.group(1) if response else "", self.seed
        )
        properties = request.output_schema.get("properties", {})
        key = next((name for name in properties if name != "explanation"), "score")
        allowed = properties.get(key, {}).get("enum")
        verdict: object = grade.score
        if allowed and sorted(allowed) != [1, 2, 3, 4, 5]:  # a binary or label rubric
            verdict = allowed[-1] if grade.score >= 4 else allowed[0]
        text = json.dumps({"explanation": f"[simulated] {grade.explanation}", key: verdict})
        return Completion(
            text=text,
            model=self.model,
            input_tokens=len(material) // 4,
            output_tokens=len(text) // 4,
            finish_reason="stop",
            refusal=None,
        )

    async def aclose(self) -> None:
        return None
