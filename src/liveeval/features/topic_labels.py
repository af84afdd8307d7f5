"""Names for topic clusters: their most distinctive words by class-based TF-IDF.

Each cluster's member texts are pooled into one document (a class). A word's
weight in a class is its frequency in that class times log(1 + A / f), with A
the average number of words per class and f the word's count over all classes
(BERTopic's c-TF-IDF), so words every cluster uses score low. Stop words (the
repo's list, plus short English function words it leaves out) are dropped.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping

from liveeval.evaluators.stopwords import STOPWORDS

# STOPWORDS holds words of four letters or more; these are the shorter English ones and the
# question contractions it leaves out.
_EXTRA = """a an and any are but can did for get got had has her him his how its let may not now
    off one our out own she the too use was way who why yes you what's how's who's where's
    when's why's i've i'd i'll you've you'd you'll let's"""
EXTRA_STOPWORDS = frozenset(_EXTRA.split())
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def content_words(text: str) -> list[str]:
    """Lower-cased words of three letters or more that are not stop words."""
    return [
        word
        for word in _WORD.findall(text.lower())
        if len(word) >= 3 and word not in STOPWORDS and word not in EXTRA_STOPWORDS
    ]


def word_counts(texts: Iterable[str]) -> Counter[str]:
    """Content-word counts over `texts`."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(content_words(text))
    return counts


def class_tfidf(classes: Mapping[str, Counter[str]]) -> dict[str, dict[str, float]]:
    """c-TF-IDF weight of every word in every class."""
    totals = {name: sum(counts.values()) for name, counts in classes.items()}
    average = sum(totals.values()) / max(len(classes), 1)
    overall: Counter[str] = Counter()
    for counts in classes.values():
        overall.update(counts)
    return {
        name: {
            word: count / totals[name] * math.log(1.0 + average / overall[word])
            for word, count in counts.items()
        }
        for name, counts in classes.items()
    }


def top_words(classes: Mapping[str, Counter[str]], n: int = 3) -> dict[str, list[str]]:
    """Each class's `n` highest-weighted words (ties broken alphabetically)."""
    weights = class_tfidf(classes)
    return {
        name: [word for word, _ in sorted(scores.items(), key=lambda item: (-item[1], item[0]))][:n]
        for name, scores in weights.items()
    }
