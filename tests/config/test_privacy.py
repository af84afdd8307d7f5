from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from liveeval.config.privacy import PrivacyConfig
from liveeval.privacy.entities import ENTITIES, ENTITY_NAMES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "privacy.md"


def test_every_privacy_key_is_documented_and_every_documented_key_exists() -> None:
    rows = [line for line in DOCS.read_text().splitlines() if line.startswith("| `privacy.")]
    documented = {row.split("`")[1] for row in rows}
    assert documented == {f"privacy.{name}" for name in PrivacyConfig.model_fields}


def test_every_entity_is_documented() -> None:
    text = DOCS.read_text()
    assert [entity.name for entity in ENTITIES if f"`{entity.name}`" not in text] == []


def test_the_documented_example_is_valid() -> None:
    example = re.search(r"```toml\n(.*?)```", DOCS.read_text(), re.DOTALL)
    assert example is not None
    config = PrivacyConfig.model_validate(tomllib.loads(example.group(1))["privacy"])
    assert config.scrubs_ingest("support-bot")
    assert not config.scrubs_ingest("internal-tools")
    assert "support@example.com" in config.allow


def test_defaults_scrub_everything_supported_and_no_ingest() -> None:
    config = PrivacyConfig()
    assert config.entities == ENTITY_NAMES
    assert config.ner == "auto"
    assert config.score_threshold == 0.4
    assert config.placeholder == "<{entity}>"
    assert config.allow == ()
    assert not config.scrubs_ingest("any")


def test_a_star_scrubs_every_project_at_ingest() -> None:
    config = PrivacyConfig(scrub_ingest_projects=("*",))
    assert config.scrubs_ingest("a") and config.scrubs_ingest("b")


def test_a_toml_table_reads_into_the_model() -> None:
    table = tomllib.loads(
        """
        [privacy]
        entities = ["EMAIL_ADDRESS", "PHONE_NUMBER"]
        ner = "off"
        score_threshold = 0.6
        scrub_ingest_projects = ["shop"]
        placeholder = "[{entity}]"
        allow = ["help@shop.example"]
        """
    )["privacy"]
    config = PrivacyConfig.model_validate(table)
    assert config.entities == ("EMAIL_ADDRESS", "PHONE_NUMBER")
    assert config.ner == "off"
    assert config.scrubs_ingest("shop") and not config.scrubs_ingest("blog")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"entities": ["EMAIL_ADDRESS", "EMAIL"]}, "unknown PII entities ['EMAIL']"),
        ({"entities": ["IP_ADDRESS", "IP_ADDRESS"]}, "must not repeat"),
        ({"ner": "stanza"}, "'auto', 'spacy' or 'off'"),
        ({"score_threshold": 1.5}, "less than or equal to 1"),
        ({"placeholder": "<{type}>"}, "may only use {entity}, not {type}"),
        ({"placeholder": "<{entity>"}, "not a valid format"),
        ({"scrub_ingest_projects": ["shop", " "]}, "entry 1 is blank"),
        ({"allow": [""]}, "entry 0 is blank"),
        ({"entitys": ["PERSON"]}, "Extra inputs are not permitted"),
    ],
)
def test_bad_values_are_refused_with_their_field(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PrivacyConfig.model_validate(table)
    assert message in str(caught.value)
    assert next(iter(table)) in str(caught.value)


def test_the_config_does_not_load_presidio() -> None:
    # Reading liveeval.toml must stay cheap: presidio and spaCy load only to scrub.
    import subprocess
    import sys

    code = (
        "import sys, liveeval.config.privacy, liveeval.privacy;"
        "print(sorted(m for m in ('presidio_analyzer', 'spacy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
