"""Intent of an input: from labelled examples (nearest centroid) or from keyword rules.

`IntentClassifier.from_examples` embeds a few example inputs per intent and
gives each text the intent whose centroid (normalised mean of its examples'
embeddings) is most similar by cosine; below `min_similarity` the text is
"other". `IntentClassifier.from_rules` matches keywords and regular
expressions, case-insensitively, in the order given: the first match wins,
no match is "other".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from liveeval.features.encoder import TextEncoder

OTHER = "other"
# A rule entry made only of these characters is a keyword, matched as whole words.
_KEYWORD = re.compile(r"[\w\s'-]+")


class IntentMatcher(Protocol):
    def classify(self, texts: Sequence[str]) -> list[str]: ...


@dataclass(frozen=True, eq=False)
class NearestCentroid:
    """Cosine similarity to each intent's centroid; "other" below the floor."""

    encoder: TextEncoder
    intents: tuple[str, ...]
    centroids: np.ndarray
    min_similarity: float

    def similarities(self, texts: Sequence[str]) -> np.ndarray:
        """Cosine of each text to each intent's centroid, (len(texts), len(intents))."""
        return np.asarray(self.encoder.encode(texts), dtype=np.float64) @ self.centroids.T

    def classify(self, texts: Sequence[str]) -> list[str]:
        if not texts:
            return []
        similarities = self.similarities(texts)
        best = similarities.argmax(axis=1)
        scores = similarities[np.arange(len(texts)), best]
        return [
            self.intents[i] if score >= self.min_similarity else OTHER
            for i, score in zip(best, scores, strict=True)
        ]


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def leave_one_out_similarities(vectors: np.ndarray) -> np.ndarray:
    """Cosine of each row to the sum of the other rows (empty for fewer than two rows)."""
    if len(vectors) < 2:
        return np.zeros(0)
    others = vectors.sum(axis=0)[None, :] - vectors
    norms = np.linalg.norm(vectors, axis=1) * np.linalg.norm(others, axis=1)
    return (vectors * others).sum(axis=1) / np.maximum(norms, 1e-12)


def rule_pattern(entry: str) -> re.Pattern[str]:
    """A keyword ("refund", "credit card") as whole words; anything else as a regex."""
    if _KEYWORD.fullmatch(entry):
        words = r"\s+".join(re.escape(word) for word in entry.split())
        return re.compile(rf"\b{words}\b", re.IGNORECASE)
    return re.compile(entry, re.IGNORECASE)


@dataclass(frozen=True)
class KeywordRules:
    """(intent, pattern) pairs tried in order; the first that matches names the intent."""

    rules: tuple[tuple[str, re.Pattern[str]], ...]

    def classify(self, texts: Sequence[str]) -> list[str]:
        return [
            next((intent for intent, pattern in self.rules if pattern.search(text)), OTHER)
            for text in texts
        ]


@dataclass(frozen=True)
class IntentClassifier:
    """Gives each input text an intent name, or "other"."""

    matcher: IntentMatcher

    @classmethod
    def from_examples(
        cls,
        examples: Mapping[str, Sequence[str]],
        encoder: TextEncoder,
        min_similarity: float | None = None,
        floor_quantile: float = 0.2,
    ) -> IntentClassifier:
        """Nearest centroid over `examples` ({intent: [example inputs]}) embedded by `encoder`.

        Without `min_similarity`, the floor is calibrated on the examples: the
        `floor_quantile` quantile of each example's cosine to its own intent's
        centroid computed without it (leave-one-out), so 80% of held-out
        examples clear it by default, whatever the encoder's similarity scale.
        """
        intents = tuple(intent for intent, texts in examples.items() if texts)
        if not intents:
            raise ValueError("no intent has an example")
        if OTHER in intents:
            raise ValueError(f"{OTHER!r} is what unmatched texts get; name that intent otherwise")
        embedded = [np.asarray(encoder.encode(list(examples[i])), np.float64) for i in intents]
        centroids = _unit_rows(np.stack([vectors.sum(axis=0) for vectors in embedded]))
        if min_similarity is None:
            held_out = np.concatenate([leave_one_out_similarities(v) for v in embedded])
            if len(held_out) == 0:
                raise ValueError("calibrating the floor needs two examples of some intent")
            min_similarity = float(np.quantile(held_out, floor_quantile))
        return cls(NearestCentroid(encoder, intents, centroids, min_similarity))

    @classmethod
    def from_rules(cls, rules: Mapping[str, Sequence[str]]) -> IntentClassifier:
        """Rules {intent: [keyword or regex, ...]}; a bad regex raises with its intent named."""
        compiled = []
        for intent, entries in rules.items():
            for entry in entries:
                try:
                    compiled.append((intent, rule_pattern(entry)))
                except re.error as error:
                    raise ValueError(f"intent {intent!r}: bad pattern {entry!r}: {error}") from None
        return cls(KeywordRules(tuple(compiled)))

    def classify(self, texts: Sequence[str]) -> list[str]:
        """One intent name (or "other") per text."""
        return self.matcher.classify(texts)
