"""The Anthropic provider and the official `anthropic` client, against a local stand-in.

The stand-in (tests/judge/api.py) is a real HTTP server on a loopback port speaking
the Messages API (`POST /v1/messages`) in place of Anthropic's paid API.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from liveeval.config.judge import JudgeConfig
from liveeval.judge.grading import Grader
from liveeval.judge.providers import build_provider
from liveeval.judge.rubrics import BUILTIN_RUBRICS
from tests.judge.api import ScriptedAPI, error_reply, interaction, messages_reply
from tests.judge.conftest import FakeTime

pytestmark = pytest.mark.anyio

QUALITY = BUILTIN_RUBRICS["quality"]


def anthropic_config(api: ScriptedAPI, **overrides: Any) -> JudgeConfig:
    values: dict[str, Any] = {
        "provider": "anthropic",
        "model": "claude-haiku-4-5",
        "base_url": api.url,
        "api_key_env": "TEST_ANTHROPIC_KEY",
        "max_attempts": 3,
    }
    return JudgeConfig(**(values | overrides))


@pytest.fixture
async def grader(api: ScriptedAPI, fake_time: FakeTime) -> AsyncIterator[Grader]:
    config = anthropic_config(api)
    provider = build_provider(config, environ={"TEST_ANTHROPIC_KEY": "sk-ant-test"})
    grader = Grader(provider, config, fake_time, sleep=fake_time.sleep)
    yield grader
    await grader.aclose()


async def test_a_good_answer_is_graded_with_the_schema_as_output_format(
    api: ScriptedAPI, grader: Grader
) -> None:
    api.script(messages_reply(score=5, model="claude-haiku-4-5-20251001", usage=(900, 60)))
    judgment = await grader.grade(QUALITY, interaction())
    assert (judgment.status, judgment.value, judgment.provider) == ("ok", 5.0, "anthropic")
    assert judgment.model_reported == "claude-haiku-4-5-20251001"
    assert not judgment.model_mismatch
    assert (judgment.input_tokens, judgment.output_tokens) == (900, 60)
    assert judgment.cost_usd is None  # no price configured
    [sent] = api.requests
    assert sent.path == "/v1/messages"
    assert sent.headers["authorization"] == "Bearer sk-ant-test"  # how the 2.x client sends it
    assert sent.body["model"] == "claude-haiku-4-5"
    assert sent.body["system"] == QUALITY.instructions
    assert [m["role"] for m in sent.body["messages"]] == ["user"]
    assert "temperature" not in sent.body  # the current Messages API refuses sampling params
    assert sent.body["max_tokens"] == 512
    assert sent.body["output_config"] == {
        "format": {"type": "json_schema", "schema": QUALITY.output_schema()}
    }


async def test_another_model_answering_is_flagged(api: ScriptedAPI, grader: Grader) -> None:
    api.script(messages_reply(model="claude-sonnet-4-5-20250929"))
    judgment = await grader.grade(QUALITY, interaction())
    assert judgment.status == "ok"
    assert judgment.model_mismatch


async def test_rate_limit_and_overload_are_retried(
    api: ScriptedAPI, grader: Grader, fake_time: FakeTime
) -> None:
    api.script(error_reply(429, {"retry-after": "3"}), error_reply(529), messages_reply(score=2))
    judgment = await grader.grade(QUALITY, interaction())
    assert (judgment.status, judgment.value, judgment.attempts) == ("ok", 2.0, 3)
    assert fake_time.sleeps[0] == 3.0
    assert len(fake_time.sleeps) == 2


async def test_a_refusal_stop_reason_is_an_error(api: ScriptedAPI, grader: Grader) -> None:
    api.script(messages_reply("", stop_reason="refusal"))
    judgment = await grader.grade(QUALITY, interaction())
    assert judgment.status == "error"
    assert judgment.error is not None and judgment.error.startswith("the judge refused")


async def test_a_bad_request_is_an_error_with_the_api_message(
    api: ScriptedAPI, grader: Grader
) -> None:
    api.script(error_reply(400))
    judgment = await grader.grade(QUALITY, interaction())
    assert (judgment.status, judgment.attempts) == ("error", 1)
    assert judgment.error == "HTTP 400: Error"


async def test_prompt_mode_sends_no_output_format_and_repairs_once(
    api: ScriptedAPI, fake_time: FakeTime
) -> None:
    config = anthropic_config(api, structured_output="prompt")
    provider = build_provider(config, environ={"TEST_ANTHROPIC_KEY": "k"})
    grader = Grader(provider, config, fake_time, sleep=fake_time.sleep)
    api.script(
        messages_reply("Score: 3"),
        messages_reply(json.dumps({"explanation": "fine", "score": 3})),
    )
    try:
        judgment = await grader.grade(QUALITY, interaction())
    finally:
        await grader.aclose()
    assert (judgment.status, judgment.value, judgment.attempts) == ("ok", 3.0, 2)
    first, repair = (request.body for request in api.requests)
    assert "output_config" not in first
    assert [m["role"] for m in repair["messages"]] == ["user", "assistant", "user"]
