"""refusal: the output refuses or deflects ("I can't help with that", "Als KI kann ich …")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import Field, field_validator

from liveeval.evaluators.refusal_phrases import PHRASES, UNSPACED
from liveeval.evaluators.registry import CheckParams, register_check
from liveeval.evaluators.result import CheckResult
from liveeval.evaluators.texts import model_output
from liveeval.model import Interaction

NAME = "refusal"


# A trigger word still counts with punctuation around it ("sorry," "(ai").
_LEADING = ("", "(", '"', "«", "“", "¿", "¡")
_TRAILING = ("", ",", ".", "!", "?", ":", ";", ")", '"', "…", "»", "”")
_WIDE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True, slots=True)
class CompiledPhrase:
    language: str
    triggers: frozenset[str]  # empty: always run (a user's own phrase)
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class PhraseSet:
    """Compiled phrases, and their triggers: words (with punctuation variants) and substrings."""

    phrases: tuple[CompiledPhrase, ...]
    words: dict[str, str]  # a token as it may appear → its trigger word
    substrings: tuple[str, ...]  # Japanese and Chinese triggers
    # Each trigger → the positions of the phrases it lets run, and the phrases that always
    # run: the texts that trigger nothing (most) cost no loop over the phrases.
    by_trigger: dict[str, tuple[int, ...]]
    untriggered: tuple[int, ...]

    def search(
        self, text: str, tokens: list[str] | None = None
    ) -> tuple[str, re.Match[str]] | None:
        """The first phrase (in language order) found in normalized `text`; `tokens`, where
        given, are `text.split()`, which `normalize_words` already made."""
        words = self.words
        hits = {words[token] for token in words.keys() & (tokens or text.split())}
        if self.substrings and not text.isascii() and _WIDE.search(text):
            hits.update(sub for sub in self.substrings if sub in text)
        if not hits and not self.untriggered:
            return None
        candidates = set(self.untriggered)
        for hit in hits:
            candidates.update(self.by_trigger[hit])
        for position in sorted(candidates):
            phrase = self.phrases[position]
            match = phrase.pattern.search(text)
            if match is not None:
                return phrase.language, match
        return None


def compile_phrases(languages: tuple[str, ...], extra: tuple[str, ...]) -> PhraseSet:
    phrases = [
        CompiledPhrase(language, frozenset(phrase.triggers), re.compile(phrase.pattern))
        for language in languages
        for phrase in PHRASES[language]
    ]
    phrases += [CompiledPhrase("custom", frozenset(), re.compile(p, re.I)) for p in extra]
    words: dict[str, str] = {}
    substrings: set[str] = set()
    for language in languages:
        for phrase in PHRASES[language]:
            if language in UNSPACED:
                substrings.update(phrase.triggers)
                continue
            for word in phrase.triggers:
                for lead in _LEADING:
                    for trail in _TRAILING:
                        words[lead + word + trail] = word
    by_trigger: dict[str, list[int]] = {}
    for position, compiled in enumerate(phrases):
        for trigger in compiled.triggers:
            by_trigger.setdefault(trigger, []).append(position)
    untriggered = tuple(i for i, compiled in enumerate(phrases) if not compiled.triggers)
    return PhraseSet(
        tuple(phrases),
        words,
        tuple(sorted(substrings)),
        {trigger: tuple(positions) for trigger, positions in by_trigger.items()},
        untriggered,
    )


class RefusalParams(CheckParams):
    languages: tuple[str, ...] = Field(
        default=tuple(PHRASES), description="Built-in phrase sets to use, by language code."
    )
    extra_phrases: tuple[str, ...] = Field(
        default=(), description="More refusal phrasings, as regular expressions."
    )
    max_chars: int = Field(default=300, gt=0, description="Look at this many leading chars.")

    def model_post_init(self, context: Any, /) -> None:
        _ = self.phrases  # compile now, not on the first interaction

    @field_validator("languages")
    @classmethod
    def _known(cls, languages: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [lang for lang in languages if lang not in PHRASES]
        if unknown:
            raise ValueError(
                f"no refusal phrases for {', '.join(unknown)} (have: {', '.join(PHRASES)})"
            )
        return languages

    @field_validator("extra_phrases")
    @classmethod
    def _compiles(cls, phrases: tuple[str, ...]) -> tuple[str, ...]:
        for phrase in phrases:
            try:
                re.compile(phrase)
            except re.error as exc:
                raise ValueError(f"{phrase!r} is not a regular expression: {exc}") from None
        return phrases

    @cached_property
    def phrases(self) -> PhraseSet:
        """The compiled phrases. Cached in the instance's `__dict__`, so a read is a plain
        attribute read: a pydantic private attribute costs about 2 µs each time."""
        return compile_phrases(self.languages, self.extra_phrases)


def normalize(text: str) -> str:
    """Lower case, single spaces and plain apostrophes: the form phrases are written for."""
    return normalize_words(text)[0]


def normalize_words(text: str) -> tuple[str, list[str]]:
    """`normalize(text)`, and its words (split once, for both the text and the triggers)."""
    words = text.lower().replace("’", "'").replace("＇", "'").split()
    return " ".join(words), words


@register_check(NAME, params=RefusalParams)
def refusal(interaction: Interaction, params: RefusalParams) -> CheckResult | None:
    """Passes unless the output's opening refuses or deflects the request."""
    text = model_output(interaction)
    if not text or text.isspace():
        return None  # nothing to judge; not_empty reports it
    head, words = normalize_words(text[: params.max_chars])
    found = params.phrases.search(head, words)
    if found is None:
        return CheckResult.pass_(NAME, "The output does not refuse or deflect.")
    language, match = found
    return CheckResult.fail(
        NAME,
        f"The output refuses or deflects: {match.group(0)!r}.",
        {"phrase": match.group(0), "language": language, "offset": match.start()},
        label="refusal",
    )
