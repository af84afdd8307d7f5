"""PII scrubbing benchmark: precision, recall and leak rate per entity type, and time per text.

    python bench/pii.py                       # all 1,500 texts, patterns only and with NER
    python bench/pii.py --limit 300           # the first 300 texts
    python bench/pii.py --no-address          # also without our street-address recognizer
    python bench/pii.py --spacy-model PATH    # NER with another spaCy model (name or path)

Data: ../shared/datasets/pii/synth_dataset_v2.json (presidio-research; see its
SOURCES.md): 1,500 texts, 2,863 labelled spans of 17 types.

Matching. Each dataset type maps to the entities of ours that count as finding it
(DATASET_TYPES); types we do not scrub are "not covered". A predicted span is
a true positive when it overlaps a gold span of a type that accepts its entity;
"strict" figures need the exact same boundaries. Recall per dataset type is the
share of its gold spans that some accepted predicted span overlaps (strict:
matches exactly). Precision per entity of ours is the share of predicted spans
that overlap a gold span accepting that entity; "on any PII" counts a span that
overlaps any gold span at all (a PERSON over an ORGANIZATION, say), which is a
wrong label but no harm to privacy.

Leak rate, what matters for privacy: the share of gold PII characters
(whitespace aside) still in the scrubbed text, whatever entity replaced them.

Predicted spans are the scrubber's own, after overlaps are merged: what is replaced.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liveeval.privacy.entities import ENTITY_NAMES
from liveeval.privacy.scrubber import Found, Scrubber

DATASET = (
    Path(__file__).resolve().parents[2] / "shared" / "datasets" / "pii" / "synth_dataset_v2.json"
)

# Dataset type -> the entities of ours that count as finding it. An address in this
# dataset is split into street, city (GPE) and postcode spans as often as it is one
# span, so a street span found as LOCATION, or a city inside a STREET_ADDRESS, counts.
DATASET_TYPES: dict[str, frozenset[str]] = {
    "PERSON": frozenset({"PERSON"}),
    "STREET_ADDRESS": frozenset({"STREET_ADDRESS", "LOCATION"}),
    "GPE": frozenset({"LOCATION", "STREET_ADDRESS"}),
    "ZIP_CODE": frozenset({"STREET_ADDRESS", "LOCATION"}),
    "EMAIL_ADDRESS": frozenset({"EMAIL_ADDRESS"}),
    "PHONE_NUMBER": frozenset({"PHONE_NUMBER"}),
    "CREDIT_CARD": frozenset({"CREDIT_CARD"}),
    "IBAN_CODE": frozenset({"IBAN_CODE"}),
    "IP_ADDRESS": frozenset({"IP_ADDRESS"}),
    "US_SSN": frozenset({"US_SSN"}),
    "US_DRIVER_LICENSE": frozenset({"US_DRIVER_LICENSE"}),
}
NOT_COVERED = ("ORGANIZATION", "DATE_TIME", "TITLE", "AGE", "NRP", "DOMAIN_NAME")


@dataclass(frozen=True)
class Gold:
    entity: str
    start: int
    end: int


@dataclass(frozen=True)
class Sample:
    text: str
    gold: tuple[Gold, ...]


def load_samples(path: Path = DATASET, limit: int | None = None) -> list[Sample]:
    """The dataset's texts with their spans; a malformed record fails with its index."""
    records = json.loads(path.read_text(encoding="utf-8"))
    samples = []
    for index, record in enumerate(records[:limit]):
        try:
            text = record["full_text"]
            gold = tuple(
                Gold(span["entity_type"], int(span["start_position"]), int(span["end_position"]))
                for span in record["spans"]
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{path}: record {index}: bad field {error}") from None
        for span in gold:
            if not 0 <= span.start < span.end <= len(text):
                raise ValueError(f"{path}: record {index}: span {span} outside the text")
        samples.append(Sample(text, gold))
    return samples


def _overlaps(a: Found | Gold, b: Found | Gold) -> bool:
    return a.start < b.end and b.start < a.end


def _accepts(gold: Gold, found: Found) -> bool:
    return found.entity in DATASET_TYPES.get(gold.entity, frozenset())


def _exact(gold: Gold, found: Found) -> bool:
    return gold.start == found.start and gold.end == found.end


@dataclass
class Tally:
    """Counts over a run; recall by dataset type, precision by entity of ours."""

    gold: Counter[str] = field(default_factory=Counter)
    found_gold: Counter[str] = field(default_factory=Counter)
    exact_gold: Counter[str] = field(default_factory=Counter)
    gold_chars: Counter[str] = field(default_factory=Counter)
    leaked_chars: Counter[str] = field(default_factory=Counter)
    predicted: Counter[str] = field(default_factory=Counter)
    correct: Counter[str] = field(default_factory=Counter)
    exact: Counter[str] = field(default_factory=Counter)
    on_pii: Counter[str] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)

    def add(self, sample: Sample, found: Sequence[Found], seconds: float) -> None:
        self.seconds.append(seconds)
        covered = [False] * len(sample.text)
        for span in found:
            covered[span.start : span.end] = [True] * (span.end - span.start)
        for gold in sample.gold:
            self.gold[gold.entity] += 1
            self.found_gold[gold.entity] += any(
                _overlaps(gold, f) and _accepts(gold, f) for f in found
            )
            self.exact_gold[gold.entity] += any(
                _exact(gold, f) and _accepts(gold, f) for f in found
            )
            chars = [i for i in range(gold.start, gold.end) if not sample.text[i].isspace()]
            self.gold_chars[gold.entity] += len(chars)
            self.leaked_chars[gold.entity] += sum(not covered[i] for i in chars)
        for span in found:
            self.predicted[span.entity] += 1
            self.correct[span.entity] += any(
                _overlaps(g, span) and _accepts(g, span) for g in sample.gold
            )
            self.exact[span.entity] += any(
                _exact(g, span) and _accepts(g, span) for g in sample.gold
            )
            self.on_pii[span.entity] += any(_overlaps(g, span) for g in sample.gold)

    def leak_rate(self, types: Iterable[str]) -> float:
        types = list(types)
        total = sum(self.gold_chars[t] for t in types)
        return sum(self.leaked_chars[t] for t in types) / total if total else 0.0


def evaluate(scrubber: Scrubber, samples: Sequence[Sample]) -> Tally:
    tally = Tally()
    for sample in samples:
        start = time.perf_counter()
        found = scrubber.find(sample.text)
        tally.add(sample, found, time.perf_counter() - start)
    return tally


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.2f}" if whole else "–"


def report(name: str, tally: Tally, samples: Sequence[Sample], load_seconds: float) -> str:
    lines = [f"### {name}", ""]
    lines += [
        "| dataset type | spans | recall | strict recall | leak rate |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    covered = [t for t in sorted(tally.gold, key=lambda t: -tally.gold[t]) if t in DATASET_TYPES]
    for t in covered:
        lines.append(
            f"| {t} | {tally.gold[t]} | {_ratio(tally.found_gold[t], tally.gold[t])} | "
            f"{_ratio(tally.exact_gold[t], tally.gold[t])} | {tally.leak_rate([t]):.2f} |"
        )
    for t in sorted(tally.gold, key=lambda t: -tally.gold[t]):
        if t not in DATASET_TYPES:
            lines.append(
                f"| {t} (not covered) | {tally.gold[t]} | – | – | {tally.leak_rate([t]):.2f} |"
            )
    lines += [
        "",
        "| entity (ours) | predicted | precision | strict precision | on any PII |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for entity in sorted(tally.predicted, key=lambda e: -tally.predicted[e]):
        n = tally.predicted[entity]
        lines.append(
            f"| {entity} | {n} | {_ratio(tally.correct[entity], n)} | "
            f"{_ratio(tally.exact[entity], n)} | {_ratio(tally.on_pii[entity], n)} |"
        )
    ms = [s * 1000 for s in tally.seconds]
    p95 = statistics.quantiles(ms, n=20)[-1] if len(ms) > 1 else ms[0]
    lines += [
        "",
        f"Leak rate: {tally.leak_rate(covered):.3f} of covered PII characters, "
        f"{tally.leak_rate(tally.gold):.3f} of all labelled ones.",
        f"Time per text: mean {statistics.fmean(ms):.2f} ms, p95 {p95:.2f} ms "
        f"(mean {statistics.fmean(len(s.text) for s in samples):.0f} characters); "
        f"scrubber built in {load_seconds:.2f} s.",
        "",
    ]
    return "\n".join(lines)


def run(name: str, samples: Sequence[Sample], **kwargs: Any) -> str:
    start = time.perf_counter()
    scrubber = Scrubber(**kwargs)
    load = time.perf_counter() - start
    scrubber.find("warm up, Jane Doe at 1 Main Street")
    tally = evaluate(scrubber, samples)
    return report(f"{name} — {scrubber.ner_in_use}", tally, samples, load)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="use the first N texts")
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--spacy-model", default=None, help="spaCy model name or path for NER")
    parser.add_argument(
        "--no-address", action="store_true", help="also run without STREET_ADDRESS patterns"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    samples = load_samples(args.dataset, args.limit)
    print(f"{len(samples)} texts, {sum(len(s.gold) for s in samples)} labelled spans\n")
    print(run("Patterns only (no_op NLP engine)", samples, ner="off"))
    print(run("With NER", samples, ner="spacy", spacy_model=args.spacy_model))
    if args.no_address:
        without = [name for name in ENTITY_NAMES if name != "STREET_ADDRESS"]
        print(run("With NER, no street-address patterns", samples, entities=without, ner="spacy"))


if __name__ == "__main__":
    main()
