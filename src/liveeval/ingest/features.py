"""The drift features of an evaluated interaction: lengths, input language, intent."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache

from liveeval.evaluators import CheckResult, ConfiguredCheck
from liveeval.evaluators.language import LanguageParams, detect
from liveeval.evaluators.texts import model_output, user_input
from liveeval.model import Interaction
from liveeval.store.features import Features

IntentOf = Callable[[str], str]


def features_of(
    interaction: Interaction,
    interaction_id: int,
    checks: Sequence[tuple[ConfiguredCheck, CheckResult]],
    intent_of: IntentOf | None = None,
) -> Features:
    question = user_input(interaction)
    return Features(
        interaction_id=interaction_id,
        project=interaction.project,
        start_at=interaction.start_at,
        input_chars=len(question),
        output_chars=len(model_output(interaction)),
        language=input_language(question, checks),
        intent=intent_of(question) if intent_of is not None and question else None,
    )


def input_language(
    question: str, checks: Sequence[tuple[ConfiguredCheck, CheckResult]]
) -> str | None:
    """The input's language: as the language check found it, else detected here."""
    for configured, result in checks:
        if configured.check == "language" and "input_language" in result.details:
            found = result.details["input_language"]
            return found if isinstance(found, str) else None
    if not question:
        return None
    return detect(question, _default_params())[0]


@cache
def _default_params() -> LanguageParams:
    return LanguageParams()


def intent_rules(rules: Mapping[str, Sequence[str]]) -> IntentOf:
    """The intent of a text by the [monitor.drift] keyword rules (first match, else "other")."""
    from liveeval.features.intents import IntentClassifier

    classifier = IntentClassifier.from_rules(rules)
    return lambda text: classifier.classify([text])[0]
