"""py3langid's shipped naive Bayes model, scored faster for short texts.

py3langid (offline, model inside the package) walks the text's bytes through a
DFA to count n-gram features, then scores 140 languages. Its scorer does the
matrix product in float16, which NumPy emulates slowly; this one keeps the
shipped float16 weights (28 MB; a float32 copy would take 57 MB a process), widens
only the rows of the features a text has to float32 before the product, walks the
DFA over compact arrays, and computes only the winning language's probability.
Features, weights, temperature and normalization are py3langid's, so labels
agree with `py3langid.classify` (tests/evaluators/test_language_scorer.py
checks it on real text).
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from typing import Literal

import numpy as np
from py3langid.langid import MODEL_FILE, LanguageIdentifier


class LanguageScorer:
    """Classifies text among `labels` (all of the model's, or a chosen subset)."""

    def __init__(
        self,
        model: _Model,
        labels: Sequence[str] | None = None,
        equivalent: Sequence[Sequence[str]] = (),
    ) -> None:
        self._model = model
        if labels is None:
            self.table = model.table
            self.prior = model.prior
            self.columns = model.classes
        else:
            wanted = set(labels)
            keep = [i for i, label in enumerate(model.classes) if label in wanted]
            self.table = np.ascontiguousarray(model.table[:, keep])
            self.prior = model.prior[keep]
            self.columns = [model.classes[i] for i in keep]
        # A label's probability includes its other columns (script variants: sr, uz) and
        # the labels equivalent to it (zh with wuu and yue): the model confuses them.
        kin = {(label, label) for label in self.columns}
        kin.update((a, b) for group in equivalent for a in group for b in group)
        self._kin: dict[int, list[int]] = {}
        for i, label in enumerate(self.columns):
            others = [j for j, other in enumerate(self.columns) if j != i and (label, other) in kin]
            if others:
                self._kin[i] = others

    @property
    def labels(self) -> set[str]:
        return set(self.columns)

    def classify(self, text: str, max_bytes: int) -> tuple[str, float] | None:
        """(language, probability) for the first `max_bytes` of `text`; None without features.

        The probability is that of the language and of those equivalent to it.
        """
        weights = self._weights(text, max_bytes)
        if weights is None:
            return None
        best = int(weights.argmax())
        mass = float(weights[best]) + sum(float(weights[j]) for j in self._kin.get(best, ()))
        return self.columns[best], mass / float(weights.sum())

    def probabilities(self, text: str, max_bytes: int) -> dict[str, float]:
        """Each label's own probability for the first `max_bytes` of `text`; {} without
        features."""
        weights = self._weights(text, max_bytes)
        if weights is None:
            return {}
        weights /= weights.sum()
        return dict(zip(self.columns, weights.tolist(), strict=True))

    def _weights(self, text: str, max_bytes: int) -> np.ndarray | None:
        """Unnormalized probabilities, the best at 1; None without features."""
        data = _encode(text, max_bytes)
        visits = self._model.features(data)
        if not visits:
            return None
        features = np.fromiter(visits.keys(), dtype=np.intp, count=len(visits))
        counts = np.fromiter(visits.values(), dtype=np.float32, count=len(visits))
        rows = self.table.take(features, axis=0).astype(np.float32)  # exact: f16 -> f32
        scores = np.log1p(counts) @ rows
        scores += self.prior
        scores *= 1.0 / math.sqrt(len(data))  # py3langid's temperature for norm_probs
        return np.exp(scores - scores.max())


def _encode(text: str, max_bytes: int) -> bytes:
    """py3langid's input form (NFC UTF-8, lower-cased if all caps), cut at a char boundary."""
    if text.isupper():
        text = text.lower()
    data = unicodedata.normalize("NFC", text).encode("utf-8", "surrogatepass")
    if len(data) > max_bytes:
        data = data[:max_bytes].decode("utf-8", "ignore").encode("utf-8", "surrogatepass")
    return data


class _Model:
    """The model's arrays: the DFA and the weights (float16, as shipped)."""

    def __init__(self, identifier: LanguageIdentifier) -> None:
        # Compact arrays rather than lists of int objects: fewer cache misses per byte. Each
        # byte reads the 39 MB transition table at random; numpy puts an array that big on
        # transparent huge pages (where the kernel allows), which spares most of those reads
        # a TLB miss (about 10% of the walk), and a memoryview reads it as fast as an array.
        self.nextmove = _ints(np.array(identifier.tk_nextmove, dtype=np.uint32), "I")
        self.rowbase = _ints(np.array(identifier.tk_row, dtype=np.uint32) << 8, "I")
        self.output = _ints(np.array(identifier.tk_output, dtype=np.int32), "i")
        self.table = np.asarray(identifier.nb_ptc, dtype=np.float16)
        self.prior = np.asarray(identifier.nb_pc, dtype=np.float32)
        self.classes: list[str] = list(identifier.nb_classes)
        # The last few walks, shared: a text the model was unsure of is read again for the
        # short-text guess, and a short answer's probe is its whole text. Callers do not
        # modify the counts they get.
        self.features: Callable[[bytes], Counter[int]] = lru_cache(maxsize=8)(self._walk)

    def _walk(self, data: bytes) -> Counter[int]:
        """Feature counts of `data`: py3langid's DFA walk (`visit_counts`) over compact arrays."""
        nextmove, rowbase, output = self.nextmove, self.rowbase, self.output
        found: list[int] = []
        append = found.append
        state = 0
        for byte in data:
            state = nextmove[rowbase[state] + byte]
            feature = output[state]
            if feature >= 0:
                append(feature)
        return Counter(found)


def _ints(values: np.ndarray, typecode: Literal["I", "i"]) -> memoryview[int]:
    """`values` read item by item as Python ints (the view keeps the array alive)."""
    return np.ascontiguousarray(values).data.cast("B").cast(typecode)


@cache
def _model() -> _Model:
    return _Model(LanguageIdentifier.from_model_file(MODEL_FILE))


def known_languages() -> set[str]:
    return set(_model().classes)


@cache
def language_scorer(
    languages: tuple[str, ...] | None = None, equivalent: tuple[tuple[str, ...], ...] = ()
) -> LanguageScorer:
    """The shared scorer for these candidates; the model loads once (about a second)."""
    return LanguageScorer(_model(), languages, equivalent)
