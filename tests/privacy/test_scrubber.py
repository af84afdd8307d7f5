from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

import pytest
import tldextract

from liveeval.config.privacy import PrivacyConfig
from liveeval.privacy import scrubber as scrubber_module
from liveeval.privacy.entities import ENTITY_NAMES
from liveeval.privacy.scrubber import (
    WINDOW_CHARS,
    WINDOW_OVERLAP,
    Found,
    NerUnavailableError,
    Scrubbed,
    Scrubber,
    find_spacy_model,
    merge_overlaps,
    pattern_recognizers,
    replace_spans,
    windows,
)

NER_MODEL = find_spacy_model()
needs_ner = pytest.mark.skipif(NER_MODEL is None, reason="no spaCy model (the `ner` extra)")


@pytest.fixture(scope="module")
def patterns() -> Scrubber:
    return Scrubber(ner="off")


@pytest.fixture(scope="module")
def ner() -> Scrubber:
    if NER_MODEL is None:
        pytest.skip("no spaCy model (the `ner` extra)")
    return Scrubber(ner="spacy")


def test_an_email_becomes_its_typed_placeholder(patterns: Scrubber) -> None:
    result = patterns.scrub("Mail me at jo@x.com")
    assert result == Scrubbed("Mail me at <EMAIL_ADDRESS>", (Found("EMAIL_ADDRESS", 11, 19, 1.0),))
    assert result.counts == {"EMAIL_ADDRESS": 1}


def test_each_kind_gets_its_own_placeholder(patterns: Scrubber) -> None:
    text = (
        "Card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32, "
        "from 192.168.10.20, call (212) 555-0143, live at 24 Clarke Avenue, Apt. 5"
    )
    assert patterns.scrub(text).text == (
        "Card <CREDIT_CARD>, IBAN <IBAN_CODE>, from <IP_ADDRESS>, call <PHONE_NUMBER>, "
        "live at <STREET_ADDRESS>, <STREET_ADDRESS>"
    )


def test_text_without_pii_comes_back_unchanged(patterns: Scrubber) -> None:
    text = "The answer is 42 and the build took 3.5 seconds on version 1.2."
    assert patterns.scrub(text) == Scrubbed(text)


def test_the_placeholder_format_is_configurable() -> None:
    scrubber = Scrubber(["EMAIL_ADDRESS"], ner="off", placeholder="[{entity} removed]")
    assert scrubber.scrub("jo@x.com").text == "[EMAIL_ADDRESS removed]"


@pytest.mark.parametrize("placeholder", ["<{name}>", "<{0}>", "<{entity"])
def test_a_bad_placeholder_fails_when_built(placeholder: str) -> None:
    with pytest.raises(ValueError, match="placeholder"):
        Scrubber(["EMAIL_ADDRESS"], ner="off", placeholder=placeholder)


def test_overlapping_detections_are_replaced_once_by_the_longest() -> None:
    # At threshold 0 a card number is also a (weak) US bank number and driver's licence.
    scrubber = Scrubber(ner="off", score_threshold=0.0)
    result = scrubber.scrub("pay with 4111111111111111 today")
    assert result.text == "pay with <CREDIT_CARD> today"
    assert [(f.entity, f.start, f.end) for f in result.entities] == [("CREDIT_CARD", 9, 25)]


def test_merge_overlaps_unions_spans_and_names_them_by_the_longest() -> None:
    found = [
        Found("LOCATION", 20, 25, 0.85),
        Found("STREET_ADDRESS", 10, 27, 0.5),
        Found("PERSON", 0, 4, 0.85),
        Found("PHONE_NUMBER", 4, 8, 0.4),  # touches PERSON: stays apart
        Found("PHONE_NUMBER", 26, 30, 0.4),  # overlaps the address: joins it
    ]
    assert merge_overlaps(found) == (
        Found("PERSON", 0, 4, 0.85),
        Found("PHONE_NUMBER", 4, 8, 0.4),
        Found("STREET_ADDRESS", 10, 30, 0.85),
    )


def test_merge_overlaps_breaks_length_ties_by_score() -> None:
    found = [Found("US_BANK_NUMBER", 0, 9, 0.05), Found("US_SSN", 0, 9, 0.85)]
    assert merge_overlaps(found) == (Found("US_SSN", 0, 9, 0.85),)


def test_replace_spans_keeps_the_text_between() -> None:
    spans = [Found("B", 6, 7, 1.0), Found("A", 0, 1, 1.0)]
    assert replace_spans("x and y!", spans, "<{entity}>") == "<A> and <B>!"


def test_allow_listed_values_are_kept_ignoring_case(patterns: Scrubber) -> None:
    scrubber = Scrubber(["EMAIL_ADDRESS"], ner="off", allow=["Support@Acme.com"])
    result = scrubber.scrub("Write to support@acme.com or SUPPORT@ACME.COM, not jo@x.com")
    assert result.text == "Write to support@acme.com or SUPPORT@ACME.COM, not <EMAIL_ADDRESS>"
    assert patterns.scrub("support@acme.com").text == "<EMAIL_ADDRESS>"


def test_only_the_configured_entities_are_scrubbed() -> None:
    scrubber = Scrubber(["EMAIL_ADDRESS"], ner="off")
    text = "jo@x.com, 192.168.10.20"
    assert scrubber.scrub(text).text == "<EMAIL_ADDRESS>, 192.168.10.20"
    assert Scrubber([], ner="off").scrub(text) == Scrubbed(text)


def test_the_score_threshold_drops_weak_detections() -> None:
    text = "call (212) 555-0143 or jo@x.com"  # a phone scores 0.4 without context
    assert Scrubber(ner="off").scrub(text).text == "call <PHONE_NUMBER> or <EMAIL_ADDRESS>"
    strict = Scrubber(ner="off", score_threshold=0.6)
    assert strict.scrub(text).text == "call (212) 555-0143 or <EMAIL_ADDRESS>"


def test_unknown_entities_are_rejected_with_their_names() -> None:
    with pytest.raises(ValueError, match=r"\['EMAIL'\]"):
        Scrubber(["EMAIL_ADDRESS", "EMAIL"], ner="off")


@pytest.mark.parametrize("text", ["", " ", "\n\t "])
def test_empty_text_is_returned_as_is(patterns: Scrubber, text: str) -> None:
    assert patterns.scrub(text) == Scrubbed(text)


def test_scrub_value_scrubs_string_leaves_and_keeps_the_shape(patterns: Scrubber) -> None:
    value: dict[str, Any] = {
        "jo@x.com": "a key is never scrubbed",
        "input": [
            {"role": "system", "content": "You help."},
            {"role": "user", "content": "I am at 10.0.0.7, mail jo@x.com", "n": 3},
        ],
        "context": ("doc one", "write to ann@y.org"),
        "score": 0.5,
        "ok": True,
        "missing": None,
        "nested": {"deeper": [["bob@z.net", 7]]},
    }
    result = patterns.scrub_value(value)
    assert result.value == {
        "jo@x.com": "a key is never scrubbed",
        "input": [
            {"role": "system", "content": "You help."},
            {"role": "user", "content": "I am at <IP_ADDRESS>, mail <EMAIL_ADDRESS>", "n": 3},
        ],
        "context": ("doc one", "write to <EMAIL_ADDRESS>"),
        "score": 0.5,
        "ok": True,
        "missing": None,
        "nested": {"deeper": [["<EMAIL_ADDRESS>", 7]]},
    }
    assert type(result.value["context"]) is tuple
    assert list(result.value) == list(value)  # key order kept
    assert result.counts == {"EMAIL_ADDRESS": 3, "IP_ADDRESS": 1}
    assert result.total == 4
    assert value["input"][1]["content"] == "I am at 10.0.0.7, mail jo@x.com"  # input untouched


@pytest.mark.parametrize("leaf", [None, 0, 1.5, True, b"jo@x.com"])
def test_non_string_leaves_are_returned_untouched(patterns: Scrubber, leaf: Any) -> None:
    result = patterns.scrub_value(leaf)
    assert result.value is leaf
    assert result.counts == {}


def test_scrub_messages_keeps_protocol_fields(patterns: Scrubber) -> None:
    messages = [
        {"role": "user", "content": "jo@x.com", "id": "jo@x.com"},
        {
            "role": "tool",
            "tool_call_id": "10.0.0.7",
            "content": [{"type": "text", "text": "10.0.0.7"}],
        },
    ]
    result = patterns.scrub_messages(messages)
    assert result.value == [
        {"role": "user", "content": "<EMAIL_ADDRESS>", "id": "jo@x.com"},
        {
            "role": "tool",
            "tool_call_id": "10.0.0.7",
            "content": [{"type": "text", "text": "<IP_ADDRESS>"}],
        },
    ]


def test_windows_cover_the_text_with_overlap() -> None:
    assert list(windows("x" * 10, size=4, overlap=1)) == [0, 3, 6]
    assert list(windows("", size=4, overlap=1)) == [0]
    with pytest.raises(ValueError):
        list(windows("x", size=4, overlap=4))


def test_a_megabyte_of_text_is_scrubbed_across_window_edges(patterns: Scrubber) -> None:
    filler = "lorem ipsum dolor sit amet " * 40_000  # 1,080,000 characters
    edge = WINDOW_CHARS - WINDOW_OVERLAP // 2 - 4  # an email astride the first window's end
    text = "jo@x.com " + filler[:edge] + " ann@y.org " + filler[edge:] + " bob@z.net"
    result = patterns.scrub(text)
    assert result.counts == {"EMAIL_ADDRESS": 3}
    assert (
        result.text
        == ("<EMAIL_ADDRESS> " + filler[:edge] + " <EMAIL_ADDRESS> " + filler[edge:])
        + " <EMAIL_ADDRESS>"
    )


def test_no_pattern_rescans_the_rest_of_the_text_at_every_position() -> None:
    # Presidio's IN_PAN ships (?=.*?…) lookaheads: quadratic, a minute per 100 kB.
    regexes = [
        pattern.regex
        for recognizer in pattern_recognizers(ENTITY_NAMES)
        for pattern in getattr(recognizer, "patterns", [])
    ]
    assert regexes
    assert not [regex for regex in regexes if "(?=.*" in regex]


def test_names_after_cues_are_found_without_ner(patterns: Scrubber) -> None:
    assert patterns.ner_in_use == "off"
    text = "Hi, my name is Martin. Please ask Mrs. Kathrine Filemonsen."
    assert patterns.scrub(text).text == "Hi, my name is <PERSON>. Please ask Mrs. <PERSON>."
    assert patterns.scrub("My name is not important").text == "My name is not important"


def test_ner_spacy_without_a_model_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scrubber_module, "find_spacy_model", lambda: None)
    with pytest.raises(NerUnavailableError, match=r"liveeval\[ner\]"):
        Scrubber(ner="spacy")


def test_ner_auto_without_a_model_falls_back_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(scrubber_module, "find_spacy_model", lambda: None)
    with caplog.at_level(logging.INFO, logger="liveeval.privacy.scrubber"):
        scrubber = Scrubber(ner="auto")
    assert scrubber.ner_in_use == "off"
    assert "LOCATION" not in scrubber.entities
    assert "PERSON" in scrubber.entities  # cue patterns still run
    assert "without NER" in caplog.text
    assert "liveeval[ner]" in caplog.text
    assert "pattern recognizers only" in caplog.text


def test_from_config_follows_the_privacy_table() -> None:
    config = PrivacyConfig(
        entities=("EMAIL_ADDRESS",), ner="off", placeholder="#{entity}#", allow=("ok@x.com",)
    )
    scrubber = Scrubber.from_config(config)
    assert (
        scrubber.scrub("ok@x.com, jo@x.com, 10.0.0.7").text == "ok@x.com, #EMAIL_ADDRESS#, 10.0.0.7"
    )


@needs_ner
def test_ner_finds_people_and_places(ner: Scrubber) -> None:
    assert ner.ner_in_use == "spacy"
    result = ner.scrub("Yesterday John Smith flew from Paris to Berlin.")
    assert result.text == "Yesterday <PERSON> flew from <LOCATION> to <LOCATION>."


@needs_ner
def test_new_words_do_not_stay_in_spacys_vocabulary(ner: Scrubber) -> None:
    """A server scrubs user text for months: spaCy would keep every new word it read."""
    strings = ner._analyzer.nlp_engine.nlp["en"].vocab.strings  # type: ignore[union-attr]
    ner.scrub("Warm-up: Maria Lopez wrote from Lisbon.")
    before = len(strings)
    for n in range(50):
        made_up = " ".join(f"zqx{n}w{k}vrt" for k in range(20))
        result = ner.scrub(f"{made_up}. Yesterday John Smith flew from Paris.")
        assert result.text.endswith("Yesterday <PERSON> flew from <LOCATION>.")
    assert len(strings) == before


@needs_ner
def test_a_place_inside_an_address_is_one_address(ner: Scrubber) -> None:
    result = ner.scrub("Send it to 24 Clarke Avenue, please.")
    assert result.text == "Send it to <STREET_ADDRESS>, please."


@needs_ner
def test_ner_off_never_loads_the_model() -> None:
    scrubber = Scrubber(ner="off")
    assert scrubber.ner_in_use == "off"
    assert scrubber.spacy_model is None
    assert scrubber.scrub("Yesterday John Smith flew in.").text == "Yesterday John Smith flew in."


class _Network:
    """Records every attempt to resolve or connect, and refuses it."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def connect(self, sock: socket.socket, address: Any) -> None:
        self.attempts.append(f"connect {address}")
        raise OSError("network blocked by the test")

    def getaddrinfo(self, host: Any, *args: Any, **kwargs: Any) -> Any:
        self.attempts.append(f"resolve {host}")
        raise socket.gaierror("network blocked by the test")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> _Network:
    network = _Network()
    monkeypatch.setattr(socket.socket, "connect", network.connect)
    monkeypatch.setattr(socket.socket, "connect_ex", network.connect)
    monkeypatch.setattr(socket, "getaddrinfo", network.getaddrinfo)
    # No public-suffix cache anywhere tldextract or spaCy might look.
    for name in ("HOME", "XDG_CACHE_HOME", "TLDEXTRACT_CACHE"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.delenv("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", raising=False)
    return network


def test_scrubbing_works_offline_without_a_suffix_cache(
    no_network: _Network, tmp_path: Path
) -> None:
    scrubber = Scrubber(ner="auto")  # a fresh one: new recognizers, new tldextract
    text = "Mail jo@example.co.uk or ann@school.ac.jp, I am John Smith at 10.0.0.7"
    result = scrubber.scrub(text)
    assert result.counts["EMAIL_ADDRESS"] == 2
    assert result.counts["IP_ADDRESS"] == 1
    assert no_network.attempts == []
    assert list(tmp_path.iterdir()) == []  # nothing cached either


def test_the_network_probe_sees_stock_tldextract_reach_out(
    no_network: _Network, tmp_path: Path
) -> None:
    # The control for the test above: tldextract's default extractor does try the network.
    extract = tldextract.TLDExtract(cache_dir=str(tmp_path / "cache"))
    assert extract("jo@example.co.uk").suffix == "co.uk"  # from the snapshot, after trying
    assert no_network.attempts
