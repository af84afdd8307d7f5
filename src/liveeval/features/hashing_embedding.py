"""The model-free fallback encoder: hashed word and character n-gram counts.

No weights, no vocabulary, nothing to install: words, word pairs and the
character 3-to-5-grams inside words are hashed (CRC-32, stable across processes
and machines) with a sign into a fixed number of dimensions, counted with
sublinear term frequency, and normalised. Texts that share words or word
pieces come out close; synonyms do not. Topics and intents still work on it,
less semantically than on MiniLM or the static encoder.
"""

from __future__ import annotations

import itertools
import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.sparse import csr_matrix

_WORD = re.compile(r"\w+")


def word_features(text: str) -> list[str]:
    """Lower-cased words and adjacent word pairs."""
    words = _WORD.findall(text.lower())
    return [*words, *(f"{first} {second}" for first, second in itertools.pairwise(words))]


def char_features(word: str, sizes: range = range(3, 6)) -> list[str]:
    """Character n-grams of a word padded with spaces ('card' -> ' ca', 'car', ... 'ard ')."""
    padded = f" {word} "
    return [
        padded[start : start + size] for size in sizes for start in range(len(padded) - size + 1)
    ]


@lru_cache(maxsize=1 << 16)
def _hashed(feature: str) -> int:
    return zlib.crc32(feature.encode())


@lru_cache(maxsize=1 << 16)
def _hashed_chars(word: str) -> tuple[int, ...]:
    return tuple(_hashed(gram) for gram in char_features(word))


@dataclass(frozen=True)
class HashingEncoder:
    """Signed feature hashing of word and character n-grams (`TextEncoder`), no model needed.

    `char_weight` is the share of the embedding's norm given to character n-grams.
    """

    dimensions: int = 512
    char_weight: float = 0.5
    name: str = "hashing"

    def _counts(self, rows: list[int], hashes: list[int], n: int) -> np.ndarray:
        """Rows of signed, sublinear (1 + log count) hashed counts, each of unit length."""
        keys = (np.asarray(rows, dtype=np.uint64) << np.uint64(32)) | np.asarray(
            hashes, dtype=np.uint64
        )
        unique, counts = np.unique(keys, return_counts=True)
        row = (unique >> np.uint64(32)).astype(np.int64)
        hashed = (unique & np.uint64(0xFFFFFFFF)).astype(np.int64)
        signs = np.where(hashed & 0x80000000, 1.0, -1.0)
        matrix = csr_matrix(
            ((1.0 + np.log(counts)) * signs, (row, hashed % self.dimensions)),
            shape=(n, self.dimensions),
        ).toarray()
        return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings, (len(texts), dimensions) float32; 0 for a text with no word."""
        word_rows: list[int] = []
        word_hashes: list[int] = []
        char_rows: list[int] = []
        char_hashes: list[int] = []
        for row, text in enumerate(texts):
            words = word_features(text)
            word_hashes.extend(_hashed(feature) for feature in words)
            word_rows.extend([row] * len(words))
            before = len(char_hashes)
            for word in words:
                if " " not in word:
                    char_hashes.extend(_hashed_chars(word))
            char_rows.extend([row] * (len(char_hashes) - before))
        matrix = math.sqrt(1.0 - self.char_weight) * self._counts(
            word_rows, word_hashes, len(texts)
        ) + math.sqrt(self.char_weight) * self._counts(char_rows, char_hashes, len(texts))
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
