"""Judge providers: the model APIs a judge can call, built from `[judge]` config.

Provider modules import their SDK (`openai`, `anthropic`), so they are imported
here only when a provider of that kind is built.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from liveeval.config.judge import JudgeConfig
from liveeval.judge.providers.base import Completion, JudgeProvider, JudgeRequest, ProviderError

__all__ = [
    "PROVIDER_FACTORIES",
    "Completion",
    "JudgeProvider",
    "JudgeProviderError",
    "JudgeRequest",
    "ProviderError",
    "build_provider",
]


class JudgeProviderError(ValueError):
    """The judge cannot be built as configured (no provider, no API key, extra missing)."""


def _openai(config: JudgeConfig, environ: Mapping[str, str]) -> JudgeProvider:
    from liveeval.judge.providers.openai_compatible import OpenAICompatibleProvider

    return OpenAICompatibleProvider(
        config.pinned_model,
        api_key=_api_key(config, environ),
        base_url=config.base_url,
        headers=config.headers,
        structured_output=config.resolved_structured_output,
        temperature=config.sent_temperature,
    )


def _anthropic(config: JudgeConfig, environ: Mapping[str, str]) -> JudgeProvider:
    from liveeval.judge.providers.anthropic import AnthropicProvider

    return AnthropicProvider(
        config.pinned_model,
        api_key=_api_key(config, environ) or "unused",
        base_url=config.base_url,
        headers=config.headers,
        structured_output=config.resolved_structured_output,
    )


def _local(config: JudgeConfig, environ: Mapping[str, str]) -> JudgeProvider:
    from liveeval.judge.providers.local import (
        LocalJudgeUnavailable,
        LocalProvider,
        check_server_installed,
        find_default_model,
    )

    try:
        check_server_installed()
        path = Path(config.model_path) if config.model_path else find_default_model()
    except LocalJudgeUnavailable as exc:
        raise JudgeProviderError(f"judge.provider = 'local': {exc}") from None
    if not path.is_file():
        raise JudgeProviderError(f"judge.model_path: {path} is not a file")
    return LocalProvider(
        config.pinned_model,
        path,
        structured_output=config.resolved_structured_output,
        temperature=config.sent_temperature,
        startup_timeout_s=config.startup_timeout_s,
    )


# Built-in providers by `[judge] provider` name; an extension adds its own the same way.
PROVIDER_FACTORIES: dict[str, Callable[[JudgeConfig, Mapping[str, str]], JudgeProvider]] = {
    "openai": _openai,
    "anthropic": _anthropic,
    "local": _local,
}


def build_provider(config: JudgeConfig, environ: Mapping[str, str] | None = None) -> JudgeProvider:
    """The provider `config` names, reading its API key from `environ` (default os.environ)."""
    factory = PROVIDER_FACTORIES.get(config.provider)
    if factory is None:
        raise JudgeProviderError(
            f"judge.provider is {config.provider!r}: no judge is configured "
            f"(choose one of {', '.join(PROVIDER_FACTORIES)})"
        )
    return factory(config, os.environ if environ is None else environ)


def _api_key(config: JudgeConfig, environ: Mapping[str, str]) -> str | None:
    """The key from the environment: required for the provider's own API, or when named."""
    name = config.resolved_api_key_env
    key = environ.get(name) if name else None
    required = config.base_url is None or config.api_key_env is not None
    if required and not key:
        raise JudgeProviderError(
            f"judge.api_key_env: the environment variable {name} holding the "
            f"{config.provider} API key is not set"
        )
    return key
