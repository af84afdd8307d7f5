"""Recall on real labelled data (presidio-research's synth_dataset_v2, in ../shared/datasets).

Floors sit a little under what was measured (docs/privacy.md has the full table, from
bench/pii.py over all 1,500 texts). To stay fast the tests use fixed subsets: the
pattern kinds over every text that holds one of them (pattern recognizers only,
cheap), and the NER kinds over every fifth text.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import pytest

from liveeval.privacy.scrubber import Found, Scrubber, find_spacy_model
from tests.conftest import DATASETS

DATASET = DATASETS / "pii" / "synth_dataset_v2.json"
PATTERN_TYPES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS")
# Dataset type -> the entities of ours that count as finding it (as in bench/pii.py).
ACCEPTS = {
    "PERSON": {"PERSON"},
    "STREET_ADDRESS": {"STREET_ADDRESS", "LOCATION"},
    "GPE": {"LOCATION", "STREET_ADDRESS"},
    **{name: {name} for name in PATTERN_TYPES},
}

# Measured on these subsets (pattern-only / with en_core_web_sm 3.8.0), then floored.
# Measured: email 1.00 (49 spans), phone 0.88 (92), card 1.00 (136), IBAN 0.95 (21),
# IP 1.00 (14); without NER on every fifth text, street
# addresses 0.65 and cued names 0.14; with NER, PERSON 0.69, STREET_ADDRESS 0.64,
# GPE 0.48, and 0.31 of the PII characters of covered types left in the text.
PATTERN_FLOORS = {
    "EMAIL_ADDRESS": 0.98,
    "PHONE_NUMBER": 0.85,
    "CREDIT_CARD": 0.98,
    "IBAN_CODE": 0.9,
    "IP_ADDRESS": 0.95,
}
ADDRESS_FLOOR_WITHOUT_NER = 0.6
PERSON_FLOOR_WITHOUT_NER = 0.1
NER_FLOORS = {"PERSON": 0.65, "STREET_ADDRESS": 0.6, "GPE": 0.45}
NER_LEAK_CEILING = 0.35


@dataclass(frozen=True)
class Gold:
    entity: str
    start: int
    end: int


Record = tuple[str, tuple[Gold, ...]]


@pytest.fixture(scope="module")
def records() -> list[Record]:
    if not DATASET.exists():
        pytest.skip(f"dataset not found: {DATASET}")
    rows = json.loads(DATASET.read_text(encoding="utf-8"))
    return [
        (
            row["full_text"],
            tuple(
                Gold(s["entity_type"], s["start_position"], s["end_position"]) for s in row["spans"]
            ),
        )
        for row in rows
    ]


Findings = list[tuple[str, tuple[Gold, ...], tuple[Found, ...]]]


def find_all(scrubber: Scrubber, records: list[Record]) -> Findings:
    return [(text, gold, scrubber.find(text)) for text, gold in records]


def recall(findings: Findings, types: set[str]) -> dict[str, float]:
    """Share of gold spans of each type that a found span of an accepted entity overlaps."""
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for _, gold, found in findings:
        for span in gold:
            if span.entity in types:
                totals[span.entity] += 1
                hits[span.entity] += any(
                    f.start < span.end and span.start < f.end and f.entity in ACCEPTS[span.entity]
                    for f in found
                )
    return {entity: hits[entity] / totals[entity] for entity in totals}


def leak_rate(findings: Findings, types: set[str]) -> float:
    """Share of gold PII characters (whitespace aside) of `types` left in the scrubbed text."""
    kept = total = 0
    for text, gold, found in findings:
        covered = {i for f in found for i in range(f.start, f.end)}
        for span in gold:
            if span.entity in types:
                chars = [i for i in range(span.start, span.end) if not text[i].isspace()]
                total += len(chars)
                kept += sum(i not in covered for i in chars)
    return kept / total


@pytest.fixture(scope="module")
def patterns() -> Scrubber:
    return Scrubber(ner="off")


@pytest.fixture(scope="module")
def ner() -> Scrubber:
    if find_spacy_model() is None:
        pytest.skip("no spaCy model (the `ner` extra): PERSON floors need it")
    return Scrubber(ner="spacy")


def with_pattern_kinds(records: list[Record]) -> list[Record]:
    return [r for r in records if any(g.entity in PATTERN_TYPES for g in r[1])]


def test_pattern_kinds_meet_their_recall_floors(patterns: Scrubber, records: list[Record]) -> None:
    measured = recall(find_all(patterns, with_pattern_kinds(records)), set(PATTERN_TYPES))
    assert set(measured) == set(PATTERN_TYPES)
    for entity, floor in PATTERN_FLOORS.items():
        assert measured[entity] >= floor, f"{entity}: recall {measured[entity]:.3f} < {floor}"


def test_addresses_and_cued_names_are_found_without_ner(
    patterns: Scrubber, records: list[Record]
) -> None:
    measured = recall(find_all(patterns, records[::5]), {"STREET_ADDRESS", "PERSON"})
    assert measured["STREET_ADDRESS"] >= ADDRESS_FLOOR_WITHOUT_NER
    assert measured["PERSON"] >= PERSON_FLOOR_WITHOUT_NER


def test_ner_kinds_meet_their_recall_floors(ner: Scrubber, records: list[Record]) -> None:
    findings = find_all(ner, records[::5])
    measured = recall(findings, set(NER_FLOORS))
    leak = leak_rate(findings, set(ACCEPTS))
    for entity, floor in NER_FLOORS.items():
        assert measured[entity] >= floor, f"{entity}: recall {measured[entity]:.3f} < {floor}"
    assert leak <= NER_LEAK_CEILING
