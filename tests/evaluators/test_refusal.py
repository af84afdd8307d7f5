from __future__ import annotations

import re

import pytest

from liveeval.evaluators.refusal import (
    PhraseSet,
    RefusalParams,
    normalize,
    normalize_words,
    refusal,
)
from tests.evaluators.interactions import DATASET_LANGUAGES, interaction, sentences

REFUSALS = {
    "en": [
        "I'm sorry, but I can't help with that.",
        "I can’t assist with that request.",
        "Unfortunately, I am unable to provide medical advice.",
        "As an AI language model, I don't have personal opinions.",
        "I must respectfully decline to write that.",
        "I won't be able to help with this one.",
    ],
    "de": [
        "Als KI kann ich keine persönlichen Meinungen haben.",
        "Es tut mir leid, aber dabei kann ich Ihnen nicht helfen.",
        "Leider kann ich Ihnen keine Auskunft über andere Kunden geben.",
        "Ich kann dir dabei leider nicht helfen.",
        "Ich bin nicht in der Lage, diese Anfrage zu bearbeiten.",
    ],
    "fr": [
        "Je ne peux pas vous aider avec cela.",
        "Je suis désolé, mais je ne peux pas répondre à cette question.",
        "En tant qu'IA, je n'ai pas d'opinion personnelle.",
        "En tant que modèle de langage, je ne peux pas naviguer sur Internet.",
        "Désolée, je ne suis pas en mesure de traiter cette demande.",
    ],
    "es": [
        "Lo siento, no puedo ayudarte con eso.",
        "No puedo proporcionar información sobre otras personas.",
        "Como IA, no tengo opiniones personales.",
        "Lamentablemente, no puedo acceder a tu cuenta.",
    ],
    "pt": [
        "Desculpe, mas não posso ajudar com isso.",
        "Não posso fornecer esse tipo de informação.",
        "Como uma IA, não tenho opiniões pessoais.",
        "Infelizmente, não consigo acessar sua conta.",
    ],
    "it": [
        "Mi dispiace, ma non posso aiutarti con questa richiesta.",
        "Non posso fornire informazioni su altri clienti.",
        "In quanto IA, non ho opinioni personali.",
        "Purtroppo non sono in grado di accedere al tuo account.",
    ],
    "nl": [
        "Het spijt me, maar ik kan je daar niet mee helpen.",
        "Sorry, daar kan ik je niet mee helpen.",
        "Als AI-taalmodel heb ik geen persoonlijke mening.",
        "Helaas kan ik u geen informatie geven over andere klanten.",
        "Ik ben niet in staat om dat te doen.",
    ],
    "ja": [
        "申し訳ありませんが、そのご要望にはお応えできません。",
        "申し訳ございませんが、その質問にはお答えすることはできません。",
        "そのリクエストにはお手伝いできません。",
        "AIとして、個人的な意見は持っていません。",
    ],
    "zh": [
        "抱歉，我无法提供这方面的帮助。",
        "对不起，我不能回答这个问题。",
        "我无法为您提供其他用户的信息。",
        "作为一个AI，我没有个人观点。",
        "很抱歉，我無法協助處理這個請求。",
    ],
}

NOT_REFUSALS = [
    "I can help you with that.",
    "Sure, I can assist with your refund: here are the steps.",
    "I can't wait to see what you build!",
    "I cannot stress enough how important backups are.",
    "Unfortunately, the store closes at 6 pm on Sundays.",
    "Ich kann Ihnen dabei helfen: Klicken Sie auf „Passwort vergessen“.",
    "Als Nächstes öffnen Sie die Einstellungen.",
    "Je peux vous aider avec cela : voici les étapes.",
    "Je ne peux pas vous dire à quel point je suis content de vous revoir.",
    "Puedo ayudarte con eso: sigue estos pasos.",
    "No puedo esperar a ver tu proyecto terminado.",
    "Posso ajudar com isso: siga estes passos.",
    "Posso aiutarti con questo: ecco i passaggi.",
    "Non posso che consigliarti questo ristorante.",
    "Ik kan je daarmee helpen: volg deze stappen.",
    "お手伝いできます。次の手順に従ってください。",
    "申し訳ありませんが、少々お待ちください。",
    "我可以帮助你解决这个问题。",
    "我无法想象没有音乐的生活。",
]


@pytest.mark.parametrize(
    ("language", "text"),
    [(language, text) for language, texts in REFUSALS.items() for text in texts],
)
def test_refusal_phrasing_fails_the_check_in_each_language(language: str, text: str) -> None:
    result = refusal(interaction("Can you help?", text), RefusalParams())
    assert result is not None
    assert (result.passed, result.value, result.label) == (False, 0.0, "refusal")
    assert result.details["language"] == language
    assert result.details["phrase"] in text.lower().replace("’", "'")


@pytest.mark.parametrize("text", NOT_REFUSALS)
def test_answers_sharing_words_with_refusals_pass(text: str) -> None:
    result = refusal(interaction("Can you help?", text), RefusalParams())
    assert result is not None
    assert result.passed, result.details


def test_every_language_of_the_issue_has_phrases() -> None:
    assert set(RefusalParams().languages) >= {"en", "de", "fr", "es", "pt", "it", "nl", "ja", "zh"}


def test_a_refusal_after_a_short_preamble_is_found_but_not_past_the_window() -> None:
    text = "Thanks for reaching out! I'm sorry, but I cannot share that."
    assert refusal(interaction("q", text), RefusalParams()).passed is False  # type: ignore[union-attr]
    late = "Here is the full answer. " * 20 + "I can't help with that."
    assert refusal(interaction("q", late), RefusalParams()).passed is True  # type: ignore[union-attr]
    wide = RefusalParams(max_chars=1000)
    assert refusal(interaction("q", late), wide).passed is False  # type: ignore[union-attr]


def test_extra_phrases_are_user_regexes_and_languages_restrict_the_sets() -> None:
    params = RefusalParams(extra_phrases=(r"please contact (our )?support",))
    result = refusal(interaction("q", "Please contact support for this."), params)
    assert result is not None and result.details["language"] == "custom"
    english_only = RefusalParams(languages=("en",))
    assert refusal(interaction("q", "Lo siento, no puedo ayudarte."), english_only).passed  # type: ignore[union-attr]


def test_empty_output_is_left_to_not_empty() -> None:
    assert refusal(interaction("q", "   "), RefusalParams()) is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"languages": ["en", "xx"]}, "no refusal phrases for xx"),
        ({"extra_phrases": ["(unclosed"]}, "is not a regular expression"),
    ],
)
def test_bad_params_are_rejected(params: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RefusalParams.model_validate(params)


def _search_every_phrase(phrases: PhraseSet, text: str) -> tuple[str, re.Match[str]] | None:
    """The search as first written: every phrase in order, skipped unless triggered."""
    words = phrases.words
    hits = {words[token] for token in words.keys() & text.split()}
    hits.update(sub for sub in phrases.substrings if sub in text)
    for phrase in phrases.phrases:
        if phrase.triggers and phrase.triggers.isdisjoint(hits):
            continue
        match = phrase.pattern.search(text)
        if match is not None:
            return phrase.language, match
    return None


@pytest.mark.parametrize(
    "params",
    [
        RefusalParams(),
        RefusalParams(languages=("en", "de", "ja"), extra_phrases=(r"contact (our )?support",)),
    ],
)
def test_the_trigger_index_finds_what_trying_every_phrase_finds(params: RefusalParams) -> None:
    texts = [text for texts in REFUSALS.values() for text in texts] + NOT_REFUSALS
    texts += [f"{refusal}. Please contact support." for refusal in REFUSALS["en"]]
    texts += [text for language in DATASET_LANGUAGES for text in sentences(language, 40)]
    found = 0
    for text in texts:
        head = normalize(text[:300])
        expected = _search_every_phrase(params.phrases, head)
        assert normalize_words(text[:300]) == (head, head.split())
        got = params.phrases.search(*normalize_words(text[:300]))
        assert (got and (got[0], got[1].span())) == (expected and (expected[0], expected[1].span()))
        found += expected is not None
    assert found >= len(REFUSALS["en"])
