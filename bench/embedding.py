"""Text-feature benchmark: encoder speed, distillation time, intent and topic quality on CLINC150.

    python bench/embedding.py                      # everything (distils into a fresh folder)
    python bench/embedding.py --cached             # use the cached static encoder
    python bench/embedding.py --minilm-texts 300 --skip-quality minilm

Data: CLINC150 user utterances from ../shared/datasets/intents (see SOURCES.md).

- Speed: texts a second for each encoder, best of `--rounds`, over the
  train+val+test utterances (22,500; MiniLM over the first `--minilm-texts`).
- Distillation: seconds to distil the static encoder (all 29,523 tokens through
  the NumPy MiniLM), into a temporary cache unless `--cached`.
- Intents: nearest centroid from `--examples` train utterances per intent, on
  the 4,500 test utterances (150 intents): right without a floor; with the
  calibrated floor, the share sent to "other" and how many of the rest are
  right; the share of the 1,000 out-of-scope test utterances sent to "other".
  MiniLM: `--minilm-examples` per intent, every 5th test and out-of-scope utterance.
- Topics: a baseline of 900 train utterances of three domains (banking,
  kitchen_and_dining, travel); windows of 600: held-out utterances of the same
  domains, and 510 of those with 90 test utterances of one other domain (each
  of the seven). Prints the new topics found, their purity (share of members
  from the added domain), recall (share of the added texts in a new topic) and
  label.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from liveeval.features import (
    OTHER,
    HashingEncoder,
    IntentClassifier,
    MiniLM,
    StaticEncoder,
    TextEncoder,
    TopicModel,
)
from liveeval.features.intents import NearestCentroid
from liveeval.features.static_embedding import CACHE_ENV

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
BASELINE_DOMAINS = ("banking", "kitchen_and_dining", "travel")


def load_clinc() -> tuple[dict[str, list[tuple[str, str]]], dict[str, str]]:
    data = json.loads((DATASETS / "intents" / "data_full.json").read_text("utf-8"))
    domains = json.loads((DATASETS / "intents" / "domains.json").read_text("utf-8"))
    domain_of = {intent: domain for domain, intents in domains.items() for intent in intents}
    return {k: [(t, i) for t, i in v] for k, v in data.items()}, domain_of


class Remembering:
    """An encoder that embeds each distinct text once (windows here share most of their texts)."""

    def __init__(self, encoder: TextEncoder) -> None:
        self.encoder = encoder
        self.name = encoder.name
        self.dimensions = encoder.dimensions
        self.seen: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        new = list(dict.fromkeys(t for t in texts if t not in self.seen))
        if new:
            self.seen.update(zip(new, self.encoder.encode(new), strict=True))
        return np.stack([self.seen[t] for t in texts]) if texts else np.zeros((0, self.dimensions))


def texts_per_second(encoder: TextEncoder, texts: Sequence[str], rounds: int) -> float:
    encoder.encode(texts[:32])  # warm up
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        encoder.encode(texts)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def intent_quality(
    encoder: TextEncoder,
    data: dict[str, list[tuple[str, str]]],
    examples_per_intent: int,
    step: int,
) -> str:
    examples: dict[str, list[str]] = defaultdict(list)
    for text, intent in data["train"]:
        if len(examples[intent]) < examples_per_intent:
            examples[intent].append(text)
    classifier = IntentClassifier.from_examples(examples, encoder)
    matcher = classifier.matcher
    assert isinstance(matcher, NearestCentroid)
    test = data["test"][::step]
    similarities = matcher.similarities([text for text, _ in test])
    nearest = [matcher.intents[i] for i in similarities.argmax(axis=1)]
    right = np.array([n == intent for n, (_, intent) in zip(nearest, test, strict=True)])
    decided = similarities.max(axis=1) >= matcher.min_similarity
    out_of_scope = classifier.classify([text for text, _ in data["oos_test"][::step]])
    return (
        f"right {right.mean():.3f} without a floor; floor {matcher.min_similarity:.3f}: "
        f"{1 - decided.mean():.3f} to other, {right[decided].mean():.3f} of the rest right; "
        f"out-of-scope to other {out_of_scope.count(OTHER) / len(out_of_scope):.3f}"
        f"  ({len(test)} test utterances)"
    )


def topic_quality(
    encoder: TextEncoder, data: dict[str, list[tuple[str, str]]], domain_of: dict[str, str]
) -> list[str]:
    def pick(split: str, domains: Sequence[str], count: int) -> list[str]:
        chosen = [t for t, i in data[split] if domain_of.get(i) in domains]
        random.Random(0).shuffle(chosen)
        return chosen[:count]

    pool = pick("train", BASELINE_DOMAINS, 1500)
    baseline, held_out = pool[:900], pool[900:]
    started = time.perf_counter()
    model = TopicModel.fit(encoder.encode(baseline), baseline)
    lines = [
        f"baseline: {len(model.topics)} topics, fitted in {time.perf_counter() - started:.2f} s"
    ]
    others = sorted({d for d in domain_of.values() if d not in BASELINE_DOMAINS})
    for name in ["same domains", *others]:
        added = [] if name == "same domains" else pick("test", [name], 90)
        window = held_out[: 600 - len(added)] + added
        started = time.perf_counter()
        found = model.discover(encoder.encode(window), window)
        seconds = time.perf_counter() - started
        new_ids = {t.topic_id for t in found.new_topics}
        members = [t for t, i in zip(window, found.topic_ids, strict=True) if i in new_ids]
        from_added = sum(t in set(added) for t in members)
        purity = from_added / len(members) if members else float("nan")
        recall = from_added / len(added) if added else float("nan")
        labels = "; ".join(f"{i}: {found.label(i)}" for i in sorted(new_ids, key=int))
        lines.append(
            f"{name:<17} {len(new_ids)} new, purity {purity:.2f}, recall {recall:.2f}, "
            f"unassigned {found.shares().get('unassigned', 0.0):.3f}, {seconds:.2f} s  {labels}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--minilm-texts", type=int, default=500)
    parser.add_argument("--examples", type=int, default=100, help="train examples per intent")
    parser.add_argument("--minilm-examples", type=int, default=20, help="the same, for MiniLM")
    parser.add_argument("--cached", action="store_true", help="do not time a fresh distillation")
    parser.add_argument("--skip-quality", nargs="*", default=[], help="encoders to skip")
    args = parser.parse_args()
    data, domain_of = load_clinc()
    texts = [t for split in ("train", "val", "test") for t, _ in data[split]]
    print(f"CLINC150: {len(texts)} utterances, mean {np.mean([len(t) for t in texts]):.0f} chars")

    minilm = MiniLM.load()
    if args.cached:
        static = StaticEncoder.load()
    else:
        with tempfile.TemporaryDirectory() as folder:
            os.environ[CACHE_ENV] = folder
            started = time.perf_counter()
            static = StaticEncoder.load()
            print(f"distillation (fresh cache): {time.perf_counter() - started:.1f} s")
            del os.environ[CACHE_ENV]
    encoders: list[tuple[TextEncoder, Sequence[str]]] = [
        (minilm, texts[: args.minilm_texts]),
        (static, texts),
        (HashingEncoder(), texts),
    ]
    print("speed, texts a second (best of rounds):")
    for encoder, sample in encoders:
        rate = texts_per_second(encoder, sample, args.rounds if encoder is not minilm else 1)
        print(
            f"  {encoder.name:<8} {rate:10.0f}   ({len(sample)} texts, {encoder.dimensions} dims)"
        )
    for encoder, _ in encoders:
        if encoder.name in args.skip_quality:
            continue
        step, examples = (5, args.minilm_examples) if encoder is minilm else (1, args.examples)
        remembering = Remembering(encoder)
        print(f"intents, {encoder.name}: {intent_quality(remembering, data, examples, step)}")
        for line in topic_quality(remembering, data, domain_of):
            print(f"topics, {encoder.name}: {line}")


if __name__ == "__main__":
    main()
