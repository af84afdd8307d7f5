"""The `[privacy]` section of `liveeval.toml`: which PII is scrubbed, and where.

Samples are always scrubbed before they enter the review queue or the golden
set; `scrub_ingest_projects` also scrubs interactions as they are stored, per
project. docs/privacy.md describes every key; the scrubbing itself lives in
`liveeval.privacy`.
"""

from __future__ import annotations

import string
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from liveeval.privacy.entities import ENTITY_NAMES, unknown_entities

ALL_PROJECTS = "*"


class PrivacyConfig(BaseModel):
    """`[privacy]`: the PII entities to replace, how they are found and written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entities: tuple[str, ...] = Field(
        default=ENTITY_NAMES,
        description="PII entities replaced (default: all supported; see docs/privacy.md).",
    )
    ner: Literal["auto", "spacy", "off"] = Field(
        default="auto",
        description='Names and places need a spaCy model: "auto" uses it when installed '
        '(the `ner` extra), "spacy" requires it, "off" uses patterns only.',
    )
    score_threshold: float = Field(
        default=0.4,
        ge=0.0,
        le=1.0,
        description="Presidio confidence at or above which a span is replaced (0..1).",
    )
    scrub_ingest_projects: tuple[str, ...] = Field(
        default=(),
        description='Projects whose interactions are scrubbed before they are stored; "*" '
        "for all. Review queue and golden set are scrubbed regardless.",
    )
    placeholder: str = Field(
        default="<{entity}>",
        description='What replaces a span; "{entity}" becomes the entity name.',
    )
    allow: tuple[str, ...] = Field(
        default=(),
        description="Literal values never replaced, e.g. your support address "
        "(compared ignoring case and surrounding spaces).",
    )

    @field_validator("entities")
    @classmethod
    def _known_entities(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if unknown := unknown_entities(value):
            raise ValueError(
                f"unknown PII entities {unknown}; supported: {', '.join(ENTITY_NAMES)}"
            )
        if len(set(value)) != len(value):
            raise ValueError(f"entities must not repeat, got {list(value)}")
        return value

    @field_validator("placeholder")
    @classmethod
    def _placeholder_format(cls, value: str) -> str:
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as error:
            raise ValueError(f"placeholder {value!r} is not a valid format: {error}") from None
        if fields - {"entity"}:
            raise ValueError(
                f"placeholder {value!r} may only use {{entity}}, not "
                + ", ".join(f"{{{name}}}" for name in sorted(fields - {"entity"}))
            )
        return value

    @field_validator("scrub_ingest_projects", "allow")
    @classmethod
    def _no_blank_entries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for index, item in enumerate(value):
            if not item.strip():
                raise ValueError(f"entry {index} is blank")
        return value

    def scrubs_ingest(self, project: str) -> bool:
        """Whether `project`'s interactions are scrubbed before they are stored."""
        return ALL_PROJECTS in self.scrub_ingest_projects or project in self.scrub_ingest_projects
