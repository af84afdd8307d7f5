"""Graders: each type on passing and failing outputs, unicode included; the semantic grader
against a numpy cosine; the judge grader through the real judge client and a scripted API.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from liveeval.config.judge import JudgeConfig
from liveeval.features.hashing_embedding import HashingEncoder
from liveeval.gate import graders
from liveeval.gate.graders import Grade, GradeError, GradingContext, case_interaction, grade
from liveeval.judge.grading import Grader
from liveeval.judge.providers import build_provider
from liveeval.judge.rubrics import BUILTIN_RUBRICS, Rubric, Scale
from liveeval.model.case import Case
from tests.judge.api import ScriptedAPI, chat_reply, error_reply

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def make_case(grader: dict[str, Any], **fields: Any) -> Case:
    document: dict[str, Any] = {
        "id": "refund-1",
        "input": {"text": "How long do refunds take?"},
        "grader": grader,
        "author": "alice",
        "created_at": T0.isoformat(),
        **fields,
    }
    return Case.model_validate(document)


async def check(grader: dict[str, Any], output: str, **fields: Any) -> Grade:
    return await grade(make_case(grader, **fields), output, GradingContext())


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- exact ------------------------------------------------------------------------------


async def test_exact_compares_with_the_expected_output_stripped() -> None:
    expected = {"expected": {"output": "5 business days"}}
    assert await check({"type": "exact"}, "  5 business days\n", **expected) == Grade(
        True, 1.0, "equal to the expected output"
    )
    failed = await check({"type": "exact"}, "5 Business Days", **expected)
    assert (failed.passed, failed.score) == (False, 0.0)
    assert failed.detail == "expected '5 business days', got '5 Business Days'"


async def test_exact_without_strip_counts_whitespace() -> None:
    grader = {"type": "exact", "value": "yes", "strip": False}
    assert not (await check(grader, "yes\n")).passed
    assert (await check(grader, "yes")).passed


async def test_exact_value_overrides_the_expected_output() -> None:
    result = await check({"type": "exact", "value": "B"}, "B", expected={"output": "A"})
    assert result.passed


async def test_exact_case_insensitive_casefolds_unicode() -> None:
    grader = {"type": "exact", "value": "Straße", "case_sensitive": False}
    assert (await check(grader, "STRASSE")).passed
    assert not (await check({**grader, "case_sensitive": True}, "STRASSE")).passed


async def test_exact_treats_composed_and_decomposed_accents_alike() -> None:
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    assert composed != decomposed
    assert (await check({"type": "exact", "value": composed}, decomposed)).passed


# --- contains ---------------------------------------------------------------------------


async def test_contains_all_names_what_is_missing() -> None:
    grader = {"type": "contains", "values": ["5 business days", "refund"]}
    assert (await check(grader, "Your REFUND arrives in 5 Business Days.")).passed
    failed = await check(grader, "Your refund arrives soon.")
    assert (failed.passed, failed.score) == (False, 0.0)
    assert failed.detail == "missing '5 business days'"


async def test_contains_any_and_none() -> None:
    any_of = {"type": "contains", "values": ["払い戻し", "返金"], "mode": "any"}
    assert (await check(any_of, "返金は5営業日以内です。")).passed
    assert (await check(any_of, "返金は5営業日以内です。")).detail == "contains '返金'"
    assert not (await check(any_of, "お問い合わせください。")).passed
    none_of = {"type": "contains", "values": ["as an AI", "I cannot"], "mode": "none"}
    assert (await check(none_of, "Refunds take 5 days.")).passed
    failed = await check(none_of, "As an AI I cannot say.")
    assert not failed.passed
    assert failed.detail == "contains 'as an AI', 'I cannot'"


async def test_contains_case_sensitive_when_asked() -> None:
    grader = {"type": "contains", "values": ["SKU-42"], "case_sensitive": True}
    assert (await check(grader, "Order SKU-42 shipped")).passed
    assert not (await check(grader, "Order sku-42 shipped")).passed


# --- regex ------------------------------------------------------------------------------


async def test_regex_flags_change_the_match() -> None:
    pattern = {"type": "regex", "pattern": r"^total: \d+ €$"}
    output = "Invoice\nTOTAL: 42 €\nThanks"
    assert not (await check(pattern, output)).passed
    assert not (await check({**pattern, "flags": ["i"]}, output)).passed
    result = await check({**pattern, "flags": ["i", "m"]}, output)
    assert result.passed
    assert result.detail == "matches at 8: 'TOTAL: 42 €'"
    dotall = {"type": "regex", "pattern": "Invoice.TOTAL"}
    assert not (await check({**dotall, "flags": ["i"]}, output)).passed
    assert (await check({**dotall, "flags": ["s"]}, output)).passed


async def test_regex_must_not_match() -> None:
    grader = {"type": "regex", "pattern": r"\b\d{16}\b", "must_match": False}
    assert (await check(grader, "Card ending 4242")).passed
    failed = await check(grader, "Card 4242424242424242 charged")
    assert (failed.passed, failed.score) == (False, 0.0)
    assert "4242424242424242" in failed.detail


# --- json_schema ------------------------------------------------------------------------

ORDER_SCHEMA = {
    "type": "object",
    "properties": {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"sku": {"type": "string"}, "price": {"type": "number"}},
                "required": ["sku", "price"],
            },
        },
        "email": {"type": "string", "format": "email"},
    },
    "required": ["items"],
}


async def test_json_schema_passes_valid_json() -> None:
    output = json.dumps({"items": [{"sku": "Ü-1", "price": 9.5}]}, ensure_ascii=False)
    assert await check({"type": "json_schema", "schema": ORDER_SCHEMA}, output) == Grade(
        True, 1.0, "valid JSON under the schema"
    )


async def test_json_schema_names_the_path_of_the_first_error() -> None:
    output = json.dumps({"items": [{"sku": "a", "price": 1}, {"sku": "b", "price": "free"}]})
    failed = await check({"type": "json_schema", "schema": ORDER_SCHEMA}, output)
    assert (failed.passed, failed.score) == (False, 0.0)
    assert failed.detail == "at $.items[1].price: 'free' is not of type 'number'"


async def test_json_schema_checks_formats() -> None:
    output = json.dumps({"items": [], "email": "not an address"})
    failed = await check({"type": "json_schema", "schema": ORDER_SCHEMA}, output)
    assert failed.detail == "at $.email: 'not an address' is not a 'email'"


@pytest.mark.parametrize(
    ("output", "says"),
    [
        ("Sure! Here it is: {}", "not JSON: Expecting value: line 1 column 1"),
        ('{"items": [{"sku": "a", "price": NaN}]}', "not JSON: NaN is not a number JSON allows"),
        ("", "not JSON"),
    ],
)
async def test_json_schema_fails_output_that_is_not_json(output: str, says: str) -> None:
    failed = await check({"type": "json_schema", "schema": ORDER_SCHEMA}, output)
    assert not failed.passed
    assert failed.detail.startswith(says)


# --- semantic ---------------------------------------------------------------------------


def numpy_cosine(encoder: HashingEncoder, first: str, second: str) -> float:
    a, b = encoder.encode([first]).astype(np.float64)[0], encoder.encode([second])[0]
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


async def test_semantic_score_is_the_cosine_of_the_embeddings() -> None:
    encoder = HashingEncoder()
    reference = "Refunds are processed within five business days."
    output = "Your refund is processed within five business days, usually sooner."
    expected = numpy_cosine(encoder, output, reference)
    assert 0.3 < expected < 0.95
    context = GradingContext(encoder=encoder)
    case = make_case(
        {"type": "semantic", "threshold": round(expected - 0.01, 2)},
        expected={"output": reference},
    )
    passed = await grade(case, output, context)
    assert passed.passed
    assert passed.score == pytest.approx(expected, abs=1e-6)
    assert passed.detail == f"similarity {expected:.2f} >= {round(expected - 0.01, 2):g}"
    strict = make_case(
        {"type": "semantic", "threshold": round(expected + 0.01, 2)},
        expected={"output": reference},
    )
    failed = await grade(strict, output, context)
    assert not failed.passed
    assert failed.score == pytest.approx(expected, abs=1e-6)
    assert "<" in failed.detail


async def test_semantic_reference_overrides_the_expected_output_and_handles_unicode() -> None:
    encoder = HashingEncoder()
    context = GradingContext(encoder=encoder)
    case = make_case(
        {"type": "semantic", "threshold": 0.99, "reference": "返金は五営業日以内に処理されます"},
        expected={"output": "something else entirely"},
    )
    result = await grade(case, "返金は五営業日以内に処理されます", context)
    assert result.passed
    assert result.score == pytest.approx(1.0, abs=1e-6)
    empty = await grade(case, "", context)
    assert (empty.passed, empty.score) == (False, 0.0)


async def test_semantic_score_stays_on_the_0_to_1_scale_the_cosine_rounds_off() -> None:
    """An answer equal to its reference has cosine 1.0000000000000002 under rounding, and an
    unrelated one a negative cosine: a paired A/B rejected both as off the scale."""
    encoder = HashingEncoder()
    reference = "Refunds reach your card within 5 business days."
    unrelated = "I am not sure, please ask again later."
    vectors = encoder.encode([reference, unrelated]).astype(np.float64)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    assert unit[0] @ unit[0] > 1.0 and unit[1] @ unit[0] < 0.0
    context = GradingContext(encoder=encoder)
    case = make_case({"type": "semantic", "threshold": 0.8}, expected={"output": reference})
    same = await grade(case, reference, context)
    assert (same.passed, same.score, same.detail) == (True, 1.0, "similarity 1.00 >= 0.8")
    other = await grade(case, unrelated, context)
    assert (other.passed, other.score, other.detail) == (False, 0.0, "similarity -0.05 < 0.8")


async def test_semantic_loads_the_default_encoder_once(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[str] = []

    def load(kind: str) -> HashingEncoder:
        loads.append(kind)
        return HashingEncoder()

    monkeypatch.setattr(graders, "load_encoder_or_fallback", load)
    context = GradingContext()
    case = make_case({"type": "semantic", "threshold": 0.5}, expected={"output": "five days"})
    assert (await grade(case, "five days", context)).passed
    assert (await grade(case, "ten weeks", context)).passed is False
    assert loads == ["static"]
    assert isinstance(context.encoder, HashingEncoder)


# --- judge ------------------------------------------------------------------------------

QUALITY = BUILTIN_RUBRICS["quality"]
JUDGE_CASE: dict[str, Any] = {
    "input": {
        "messages": [
            {"role": "system", "content": "You are the support bot of Acme."},
            {"role": "user", "content": "Wie lange dauert eine Erstattung?"},
        ],
        "context": ["Erstattungen dauern 5 Werktage."],
    },
    "expected": {"behaviour": "Says five business days, in German.", "output": "5 Werktage."},
}


@pytest.fixture
async def judge(api: ScriptedAPI) -> AsyncIterator[Grader]:
    config = JudgeConfig(
        provider="openai", model="gpt-4o-mini", base_url=f"{api.url}/v1", max_attempts=1
    )
    grader = Grader(build_provider(config, environ={}), config)
    yield grader
    await grader.aclose()


def judge_context(judge: Grader, **rubrics: Rubric) -> GradingContext:
    return GradingContext(judge=judge, rubrics={"quality": QUALITY, **rubrics})


async def test_judge_passes_at_the_threshold_and_sees_the_expected_behaviour(
    api: ScriptedAPI, judge: Grader
) -> None:
    api.script(chat_reply(score=4))
    case = make_case({"type": "judge", "rubric": "quality", "threshold": 4}, **JUDGE_CASE)
    result = await grade(case, "Eine Erstattung dauert 5 Werktage. ✅", judge_context(judge))
    assert result == Grade(True, 4.0, "judge quality 4 >= 4: Answers the question directly.")
    [sent] = api.requests
    prompt = sent.body["messages"][1]["content"]
    assert "You are the support bot of Acme." in prompt
    assert "Wie lange dauert eine Erstattung?" in prompt
    assert "<response>\nEine Erstattung dauert 5 Werktage. ✅\n</response>" in prompt
    first, second = (
        prompt.index("Erstattungen dauern 5 Werktage."),
        prompt.index("Expected behaviour"),
    )
    assert first < second  # the case's own context first, the expectation last
    assert "Says five business days, in German." in prompt
    assert "A reference answer:\n5 Werktage." in prompt


async def test_judge_below_the_threshold_fails(api: ScriptedAPI, judge: Grader) -> None:
    api.script(chat_reply(score=2))
    case = make_case({"type": "judge", "rubric": "quality", "threshold": 3.5}, **JUDGE_CASE)
    result = await grade(case, "Keine Ahnung.", judge_context(judge))
    assert (result.passed, result.score) == (False, 2.0)
    assert result.detail.startswith("judge quality 2 < 3.5")


async def test_judge_error_is_a_grade_error(api: ScriptedAPI, judge: Grader) -> None:
    api.script(error_reply(401))
    case = make_case({"type": "judge", "rubric": "quality", "threshold": 3}, **JUDGE_CASE)
    with pytest.raises(GradeError, match="the judge gave no verdict: HTTP 401"):
        await grade(case, "5 Werktage.", judge_context(judge))


async def test_unparseable_judge_answers_are_a_grade_error(api: ScriptedAPI, judge: Grader) -> None:
    api.script(chat_reply("I think it is good"), chat_reply("still no JSON"))
    case = make_case({"type": "judge", "rubric": "quality", "threshold": 3}, **JUDGE_CASE)
    with pytest.raises(GradeError, match="unusable answer"):
        await grade(case, "5 Werktage.", judge_context(judge))
    assert len(api.requests) == 2


async def test_judge_grader_without_a_judge_or_rubric_is_a_grade_error(judge: Grader) -> None:
    case = make_case({"type": "judge", "rubric": "tone", "threshold": 3}, **JUDGE_CASE)
    with pytest.raises(GradeError, match="none is configured"):
        await grade(case, "x", GradingContext())
    with pytest.raises(GradeError, match=r"no rubric 'tone' \(known: quality\)"):
        await grade(case, "x", judge_context(judge))
    labels = Rubric("tone", "1", "Grade the tone.", Scale("labels", ("ok", "rude")), "Tone.")
    with pytest.raises(GradeError, match="answers with labels"):
        await grade(case, "x", judge_context(judge, tone=labels))


def test_case_interaction_carries_text_input_and_the_expectation() -> None:
    case = make_case(
        {"type": "judge", "rubric": "quality", "threshold": 3},
        expected={"behaviour": "Apologises and offers a refund."},
    )
    interaction = case_interaction(case, "Sorry! Here is your refund.")
    assert interaction.input_text == "How long do refunds take?"
    assert interaction.input_messages == ()
    assert interaction.output_text == "Sorry! Here is your refund."
    [document] = interaction.retrieved_context
    assert document.content is not None
    assert document.content.startswith("Expected behaviour")
    assert document.content.endswith("Apologises and offers a refund.")
    assert "reference answer" not in document.content
    assert interaction.metadata == {"case_id": "refund-1", "case_version": 1}
