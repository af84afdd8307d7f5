"""language: the output is in the language of the input (offline, py3langid's shipped model).

A bounded prefix of each text (`max_bytes`) is classified, so the cost does not
grow with the text. Text too short for the model, or classified below `min_confidence`,
gets a guess from its function words where it is in the Latin script (short_text.py):
the language mix counts the guess, and the check never fails on one (nor on a text it
cannot tell at all); it says so.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

from pydantic import Field, field_validator

from liveeval.evaluators.language_scorer import LanguageScorer, known_languages, language_scorer
from liveeval.evaluators.registry import CheckParams, register_check
from liveeval.evaluators.result import CheckResult
from liveeval.evaluators.short_text import guess_language
from liveeval.evaluators.texts import model_output, user_input
from liveeval.model import Interaction

NAME = "language"
# Labels the model confuses with a close neighbour; a pair inside one group is no mismatch.
EQUIVALENT: tuple[tuple[str, ...], ...] = (
    ("hr", "sr", "bs"),
    ("no", "nn"),
    ("zh", "wuu", "yue"),
    ("id", "ms"),
    ("ar", "ary", "arz"),
    ("es", "an", "ext", "gl"),
    ("pt", "gl"),
    ("en", "pcm"),
    ("tr", "tk"),
    ("nl", "fy"),
    ("de", "lb"),
)
NAMES = {
    "ar": "Arabic", "de": "German", "en": "English", "es": "Spanish", "fr": "French",
    "hi": "Hindi", "it": "Italian", "ja": "Japanese", "ko": "Korean", "nl": "Dutch",
    "pl": "Polish", "pt": "Portuguese", "ru": "Russian", "sv": "Swedish", "tr": "Turkish",
    "uk": "Ukrainian", "zh": "Chinese", "da": "Danish", "fi": "Finnish", "no": "Norwegian",
    "cs": "Czech", "el": "Greek", "he": "Hebrew", "id": "Indonesian", "vi": "Vietnamese",
    "th": "Thai", "ro": "Romanian", "hu": "Hungarian",
}  # fmt: skip
_ASCII_NON_LETTERS = {code: None for code in range(128) if not chr(code).isalpha()}
_FENCED = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)


def language_name(code: str | None) -> str:
    if code is None:
        return "an undetermined language"
    return f"{NAMES[code]} ({code})" if code in NAMES else code


def letter_count(text: str) -> int:
    """Letters in `text`, each weighted by its UTF-8 length: 1 for a Latin letter, 2 for
    Cyrillic, Greek or Arabic, 3 for Chinese, Japanese or Korean, which say more each."""
    if text.isascii():
        return len(text.translate(_ASCII_NON_LETTERS))
    return len("".join(filter(str.isalpha, text)).encode("utf-8", "surrogatepass"))


class LanguageParams(CheckParams):
    languages: tuple[str, ...] | None = Field(
        default=None,
        description="Candidate languages (ISO 639 codes); default: all the model knows.",
    )
    expected_output: tuple[str, ...] | None = Field(
        default=None,
        description="The output must be in one of these, whatever the input's language.",
    )
    max_bytes: int = Field(
        default=128, ge=20, description="Classify this many leading bytes (UTF-8) of each text."
    )
    min_letters: int = Field(default=15, ge=1, description="Fewer letters: too short to tell.")
    min_confidence: float = Field(default=0.8, ge=0.0, le=1.0)
    equivalent: tuple[tuple[str, ...], ...] = Field(
        default=EQUIVALENT, description="Groups of labels that count as the same language."
    )

    @field_validator("languages", "expected_output")
    @classmethod
    def _known(cls, codes: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if codes is not None:
            unknown = sorted(set(codes) - known_languages())
            if unknown:
                raise ValueError(f"unknown language code(s): {', '.join(unknown)}")
            if not codes:
                raise ValueError("give at least one language")
        return codes

    def model_post_init(self, context: Any, /) -> None:
        _ = self.scorer  # load the model now, not on the first interaction

    # Derived values are cached properties, kept in the instance's `__dict__`: read twice
    # or more per interaction, they cost a plain attribute read, where a pydantic private
    # attribute costs about 2 µs and the cached `language_scorer` call hashes its arguments.
    @cached_property
    def scorer(self) -> LanguageScorer:
        """The shared scorer for these candidates and equivalences."""
        return language_scorer(self.languages, self.equivalent)

    @cached_property
    def equivalent_pairs(self) -> frozenset[tuple[str, str]]:
        return frozenset((a, b) for group in self.equivalent for a in group for b in group)

    def same_language(self, first: str, second: str) -> bool:
        return first == second or (first, second) in self.equivalent_pairs


def detect(
    text: str, params: LanguageParams, expect: tuple[str, ...] = ()
) -> tuple[str | None, float | None, str | None]:
    """(language, confidence, None); (language, confidence, why) for a guess from a short
    text's function words; (None, confidence, why not) when it cannot tell.

    With `expect`, the first half of `max_bytes` is read first, and when it is
    already confidently one of the expected languages, that is the answer: most
    answers are in the language asked, and this halves their cost.
    """
    if "```" in text:
        text = _FENCED.sub(" ", text)
    head = text[: params.max_bytes]
    letters = letter_count(head)
    if letters < params.min_letters:
        why = f"too short to tell ({letters} letters < {params.min_letters})"
        return _guess(head, letters, params, None, why)
    scorer = params.scorer
    if expect:
        probe = scorer.classify(head, params.max_bytes // 2)
        if (
            probe is not None
            and probe[1] >= params.min_confidence
            and any(params.same_language(probe[0], want) for want in expect)
        ):
            return probe[0], probe[1], None
    found = scorer.classify(head, params.max_bytes)
    if found is None:
        return _guess(head, letters, params, None, "no features the model knows")
    code, confidence = found
    if confidence < params.min_confidence:
        why = f"unsure ({code} at {confidence:.2f} < {params.min_confidence})"
        return _guess(head, letters, params, confidence, why)
    return code, confidence, None


def _guess(
    text: str, letters: int, params: LanguageParams, confidence: float | None, why: str
) -> tuple[str | None, float | None, str]:
    """The short-text guess, if any, with why the model gave none."""
    found = guess_language(text, params.max_bytes, params.languages) if letters >= 2 else None
    if found is None:
        return None, confidence, why
    return found, confidence, f"guessed from its function words, the model being {why}"


def _side(
    details: dict[str, Any], side: str, found: tuple[str | None, float | None, str | None]
) -> None:
    language, confidence, reason = found
    details[f"{side}_language"] = language
    details[f"{side}_confidence"] = None if confidence is None else round(confidence, 4)
    if reason is not None:
        details.setdefault("undetermined" if language is None else "guessed", {})[side] = reason


@register_check(NAME, params=LanguageParams)
def language(interaction: Interaction, params: LanguageParams) -> CheckResult | None:
    """Fails when the output's language differs from the input's (or from `expected_output`)."""
    question, answer = user_input(interaction), model_output(interaction)
    if not answer or answer.isspace():
        return None
    details: dict[str, Any] = {}
    asked = detect(question, params) if params.expected_output is None else (None, None, None)
    if params.expected_output is None:
        _side(details, "input", asked)
    expect = params.expected_output or ((asked[0],) if asked[0] is not None else ())
    answered = detect(answer, params, expect)
    _side(details, "output", answered)
    in_code, out_code = asked[0], answered[0]
    label = f"{in_code or '?'}->{out_code or '?'}"
    if params.expected_output is not None:
        label = out_code or "?"
        if out_code is None or answered[2] is not None:  # undetermined, or a guess
            return CheckResult(NAME, True, None, label, f"Output language: {answered[2]}.", details)
        if any(params.same_language(out_code, want) for want in params.expected_output):
            return CheckResult.pass_(
                NAME, f"Answered in {language_name(out_code)} as expected.", details, label
            )
        wanted = ", ".join(map(language_name, params.expected_output))
        return CheckResult.fail(
            NAME, f"Answered in {language_name(out_code)}; expected {wanted}.", details, label
        )
    if in_code is None or out_code is None or asked[2] is not None or answered[2] is not None:
        unsure = {**details.get("undetermined", {}), **details.get("guessed", {})}
        unknown = "; ".join(f"{side} {why}" for side, why in sorted(unsure.items()))
        return CheckResult(NAME, True, None, label, f"Not compared: {unknown}.", details)
    if params.same_language(in_code, out_code):
        return CheckResult.pass_(
            NAME, f"Asked and answered in {language_name(in_code)}.", details, label
        )
    return CheckResult.fail(
        NAME,
        f"Asked in {language_name(in_code)}, answered in {language_name(out_code)}.",
        details,
        label,
    )
