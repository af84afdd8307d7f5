from __future__ import annotations

import math
from collections import Counter

import pytest

from liveeval.features.topic_labels import class_tfidf, content_words, top_words, word_counts


def test_content_words_drop_stop_words_short_words_and_numbers() -> None:
    assert content_words("What's the APR on my Visa card? It's 25% - why so high") == [
        "apr",
        "visa",
        "card",
        "high",
    ]


def test_class_tfidf_follows_its_formula() -> None:
    classes = {"a": Counter({"card": 3, "pay": 1}), "b": Counter({"pay": 2, "rain": 2})}
    weights = class_tfidf(classes)
    average = (4 + 4) / 2
    assert weights["a"]["card"] == pytest.approx(3 / 4 * math.log(1 + average / 3))
    assert weights["a"]["pay"] == pytest.approx(1 / 4 * math.log(1 + average / 3))
    assert weights["b"]["rain"] == pytest.approx(2 / 4 * math.log(1 + average / 2))


def test_a_word_every_class_uses_ranks_below_a_distinctive_one() -> None:
    classes = {
        "cards": word_counts(["card declined please", "card payment please", "card lost please"]),
        "weather": word_counts(["rain today please", "rain tomorrow please", "sunny please"]),
    }
    assert top_words(classes, 1) == {"cards": ["card"], "weather": ["rain"]}
    assert "please" not in top_words(classes, 2)["cards"]


def test_ties_are_broken_alphabetically() -> None:
    assert top_words({"x": Counter({"beta": 1, "alpha": 1})}, 2) == {"x": ["alpha", "beta"]}
