"""A guess at the language of a short text the n-gram model cannot place.

py3langid needs more letters than "Can I reactivate a card?" has: over its 97 languages
it leaves 12% of CLINC150's English queries undecided (too short, or unsure). For such a
text in the Latin script, `guess_language` chooses among the ten languages with function
word lists (`stopwords.FUNCTION_WORDS`):

1. each function word votes for the languages that have it, 1/n each ("is" is English
   and Dutch); the languages within `MARGIN` of the most votes are the nominees;
2. the model, restricted to the ten, ranks them; in pure ASCII text English counts
   `ASCII_ENGLISH` times, since the other nine mostly write letters ASCII lacks;
3. the top nominee is the guess when it is also the restricted model's favourite; a text
   without function words is English when it is ASCII and the model favours English.

Markup and figures (letters under half of the characters) get no guess.

A guess is good enough for the language mix, not to fail a check on (language.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from functools import cache

from liveeval.evaluators.language_scorer import language_scorer
from liveeval.evaluators.stopwords import FUNCTION_WORDS

MARGIN = 0.5
ASCII_ENGLISH = 2.0
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def guess_language(
    text: str, max_bytes: int, candidates: Iterable[str] | None = None
) -> str | None:
    """The language of `text` among the ten (and `candidates`, when given), or None."""
    languages = tuple(sorted(set(FUNCTION_WORDS) & set(candidates or FUNCTION_WORDS)))
    if not languages or not _prose(text):
        return None
    probabilities = language_scorer(languages).probabilities(text, max_bytes)
    if not probabilities:
        return None
    if text.isascii() and "en" in probabilities:
        probabilities["en"] *= ASCII_ENGLISH
    favourite = max(probabilities, key=probabilities.__getitem__)
    votes = _votes(text, languages)
    if not votes:
        return "en" if favourite == "en" and text.isascii() else None
    lead = max(votes.values())
    nominees = [language for language, count in votes.items() if count > lead - MARGIN]
    top = max(nominees, key=lambda language: probabilities.get(language, 0.0))
    return top if top == favourite else None


def _votes(text: str, languages: tuple[str, ...]) -> dict[str, float]:
    votes: dict[str, float] = defaultdict(float)
    known = _languages_of(languages)
    for word in _WORD.findall(text.lower()):
        having = known.get(word, ())
        for language in having:
            votes[language] += 1.0 / len(having)
    return votes


@cache
def _languages_of(languages: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Each function word of `languages` with the languages that have it."""
    having: dict[str, list[str]] = defaultdict(list)
    for language in languages:
        for word in FUNCTION_WORDS[language]:
            having[word].append(language)
    return {word: tuple(found) for word, found in having.items()}


def _prose(text: str) -> bool:
    """Words in the Latin script, not markup or figures: letters are at least half of the
    characters that are not spaces (not so in '{"id": 123, "ok": true}')."""
    letters = [char for char in text if char.isalpha()]
    if 2 * len(letters) < sum(not char.isspace() for char in text):
        return False
    return all(char.isascii() or "LATIN" in unicodedata.name(char, "") for char in letters)
