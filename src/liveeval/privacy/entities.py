"""What counts as PII here, and which Presidio recognizer finds each kind.

Our entity names are Presidio's where Presidio has one (`EMAIL_ADDRESS`,
`US_SSN`, …), so a placeholder reads the same as Presidio's documentation. Two
kinds are ours: `STREET_ADDRESS`, found by the small pattern recognizer below
(Presidio ships none), and `LOCATION`, which spaCy's NER labels GPE, LOC and
FAC all become. PERSON and LOCATION need the NER model (a few cue patterns find
PERSON without it); every other kind is a pattern, most with a checksum, and
runs offline with no model at all.

Left out on purpose, though Presidio has recognizers for them: dates, URLs,
UUIDs, organisations, nationalities, postcodes on their own, company and VAT
numbers, vehicle plates. They are not personal on their own or they would
rewrite too much ordinary text (trace ids, version numbers, years), which
spoils the samples the review queue and golden set are made of.

This module is plain data, so the config can import it without loading
Presidio; `scrubber` turns it into recognizers.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

Category = Literal["identity", "contact", "network", "financial", "government_id"]


@dataclass(frozen=True)
class Entity:
    """One kind of PII: its placeholder name, what it is, and whether it needs NER."""

    name: str
    category: Category
    description: str
    needs_ner: bool = False


ENTITIES: tuple[Entity, ...] = (
    Entity(
        "PERSON",
        "identity",
        "Names of people (NER; without it only names after cues like 'my name is', 'Mrs.').",
        needs_ner=True,
    ),
    Entity("LOCATION", "contact", "Cities, countries, regions, places (NER).", needs_ner=True),
    Entity("STREET_ADDRESS", "contact", "Street lines, apartment/suite numbers, PO boxes."),
    Entity("EMAIL_ADDRESS", "contact", "Email addresses."),
    Entity("PHONE_NUMBER", "contact", "Phone numbers (libphonenumber)."),
    Entity("IP_ADDRESS", "network", "IPv4 and IPv6 addresses."),
    Entity("MAC_ADDRESS", "network", "Network card hardware addresses."),
    Entity("CREDIT_CARD", "financial", "Card numbers (Luhn checked)."),
    Entity("IBAN_CODE", "financial", "International bank account numbers (checksum)."),
    Entity("US_BANK_NUMBER", "financial", "US bank account numbers."),
    Entity("CRYPTO", "financial", "Bitcoin wallet addresses."),
    Entity("US_SSN", "government_id", "US social security numbers."),
    Entity("US_ITIN", "government_id", "US individual taxpayer numbers."),
    Entity("US_PASSPORT", "government_id", "US passport numbers."),
    Entity("US_DRIVER_LICENSE", "government_id", "US driver's licence numbers."),
    Entity("MEDICAL_LICENSE", "government_id", "US DEA medical licence numbers."),
    Entity("UK_NHS", "government_id", "UK NHS numbers (checksum)."),
    Entity("UK_NINO", "government_id", "UK national insurance numbers."),
    Entity("ES_NIF", "government_id", "Spanish personal tax ids (check letter)."),
    Entity("ES_NIE", "government_id", "Spanish foreigner ids (check letter)."),
    Entity("IT_FISCAL_CODE", "government_id", "Italian fiscal codes (check letter)."),
    Entity("PL_PESEL", "government_id", "Polish PESEL numbers (checksum)."),
    Entity("FI_PERSONAL_IDENTITY_CODE", "government_id", "Finnish henkilötunnus (checksum)."),
    Entity("SE_PERSONNUMMER", "government_id", "Swedish personnummer (checksum)."),
    Entity("DE_TAX_ID", "government_id", "German Steuer-ID (checksum)."),
    Entity("IN_AADHAAR", "government_id", "Indian Aadhaar numbers (Verhoeff checksum)."),
    Entity("IN_PAN", "government_id", "Indian PAN numbers."),
    Entity("SG_NRIC_FIN", "government_id", "Singapore NRIC/FIN numbers."),
    Entity("AU_TFN", "government_id", "Australian tax file numbers (checksum)."),
    Entity("AU_MEDICARE", "government_id", "Australian Medicare numbers (checksum)."),
    Entity("CA_SIN", "government_id", "Canadian social insurance numbers (Luhn)."),
    Entity("KR_RRN", "government_id", "Korean resident registration numbers (checksum)."),
    Entity("TR_NATIONAL_ID", "government_id", "Turkish national ids (checksum)."),
    Entity("ZA_ID_NUMBER", "government_id", "South African id numbers (Luhn)."),
)
ENTITY_NAMES: tuple[str, ...] = tuple(entity.name for entity in ENTITIES)
NER_ENTITIES: frozenset[str] = frozenset(e.name for e in ENTITIES if e.needs_ner)

# spaCy's OntoNotes labels that we keep, and the entity each becomes. Every other label
# (ORG, DATE, NORP, CARDINAL, …) is ignored: not PII on its own.
SPACY_LABELS: dict[str, str] = {
    "PERSON": "PERSON",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "FAC": "LOCATION",
}
SPACY_IGNORED_LABELS: tuple[str, ...] = (
    "CARDINAL",
    "DATE",
    "EVENT",
    "LANGUAGE",
    "LAW",
    "MONEY",
    "NORP",
    "ORDINAL",
    "ORG",
    "PERCENT",
    "PRODUCT",
    "QUANTITY",
    "TIME",
    "WORK_OF_ART",
)


@dataclass(frozen=True)
class CustomPattern:
    """A regular expression of ours (`regex` module syntax, case-sensitive) and its score."""

    name: str
    regex: str
    score: float


# Street-type words, the part that makes a number and a name an address.
_SUFFIXES = (
    r"Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|"
    r"Square|Sq|Terrace|Way|Parkway|Pkwy|Highway|Hwy|Crescent|Close|Grove|Row|Walk|"
    r"Circle|Cir|Trail|Alley|Plaza|Mews|Gardens|Hill|Loop|Path|Pike"
)
# Street-type words written before the name (Romance, Slavic, Baltic languages).
_PREFIXES = (
    r"Rue|Avenue|Boulevard|Bd|Chemin|Allée|Impasse|Quai|Route|Place|Via|Viale|Piazza|"
    r"Piazzale|Corso|Vicolo|Largo|Calle|Carrer|Avenida|Avda\.|Av\.|Paseo|Camino|Plaza|"
    r"Rua|Travessa|Praça|Estrada|Alameda|Strada|Calea|Bulevardul|Aleea|ul\.|al\.|os\.|pl\."
)
# Compound endings written onto the name (Germanic, Nordic, Finnic, Hungarian).
_COMPOUNDS = (
    r"straße|strasse|str\.|weg|gasse|allee|platz|damm|ufer|straat|laan|plein|gracht|"
    r"kade|singel|dreef|gade|vej|vei|veien|vegen|vegur|gata|gatan|vägen|väg|stræde|"
    r"straeti|stræti|katu|tie|kuja|polku|rinne|iela|gatve|utca|út|ulica"
)
_NAME = r"\p{Lu}[\p{L}'’.-]*"
_NUMBER = r"\d{1,5}[A-Za-z]?"
_SPACE = r"[ \t]+"
_LEAD = rf"(?:\d{{1,6}}{_SPACE})?"  # a building number before the street, often doubled
# One to five capitalised words, "de", "da", "del", "di", "du", "de la" allowed between.
_NAMES = rf"(?:(?:{_SPACE}(?:d[aeiou]s?|del|de la))?{_SPACE}{_NAME}){{1,5}}"

ADDRESS_PATTERNS: tuple[CustomPattern, ...] = (
    # 221 Baker Street / 24 Clarke Avenue
    CustomPattern(
        "street, number first",
        rf"\b{_NUMBER}(?:{_SPACE}{_NAME}){{1,4}}{_SPACE}(?:{_SUFFIXES})\b\.?",
        0.5,
    ),
    # 31 Rue Al Imam Al Bakri (a number first, the number after is optional)
    CustomPattern(
        "number, then street type first",
        rf"\b{_NUMBER},?{_SPACE}(?:{_PREFIXES}){_NAMES}(?:,?{_SPACE}{_NUMBER}\b)?",
        0.5,
    ),
    # Via Roma 131 / ul. Biskupa Bogedaina 118 / Rue de la Gare 4
    CustomPattern(
        "street type first, then number",
        rf"(?<![\p{{L}}.])(?:{_PREFIXES}){_NAMES},?{_SPACE}{_NUMBER}\b",
        0.5,
    ),
    # Koskikatu 25 / Hafnarstraeti 5 / Koepenicker Str. 74 / Rákóczi út 66
    CustomPattern(
        "street name with a compound ending",
        rf"\b{_LEAD}\p{{Lu}}[\p{{L}}-]*(?:{_COMPOUNDS})(?!\p{{L}})\.?{_SPACE}{_NUMBER}\b",
        0.5,
    ),
    CustomPattern(
        "street name then a separate street word",
        rf"\b{_LEAD}{_NAME}{_SPACE}(?:Str\.|Straße|Strasse|Weg|Gasse|Allee|Platz|útja|út|utca|u\.|tér)"
        rf"{_SPACE}{_NUMBER}\b",
        0.5,
    ),
    # Apt. 117 / Suite 464
    CustomPattern(
        "apartment or suite",
        r"\b(?:Apt\.?|Apartment|Suite|Ste\.)[ \t]*#?[ \t]*\d{1,5}[A-Za-z]?\b",
        0.5,
    ),
    # PO Box 123 / PSC 3294, Box 9168 / APO AA 61487
    CustomPattern(
        "post office box",
        r"\b(?:P\.?[ \t]?O\.?[ \t]?Box|(?:PSC|Unit|USNS|USS|USNV)[ \t]+\d{1,5},?[ \t]+Box)"
        r"[ \t]+\d{1,6}\b|\b[AFD]PO[ \t]+A[AEP][ \t]+\d{5}\b",
        0.5,
    ),
)


ADDRESS_CONTEXT: tuple[str, ...] = ("address", "street", "lives", "located", "deliver", "ship")

# A name right after words that announce one: "my name is …", "call me …", "Mrs. …".
# The small NER model misses many names (foreign, lower-case, one word); these cues
# catch some of them, and are all that finds a PERSON when NER is off.
_NOT_A_NAME = r"(?!(?:not|no|and|or|the|a|an|is|on|in|at|that|this|what|also|still|just)\b)"
_GIVEN = r"\p{L}[\p{L}'’-]*"
_FAMILY = r"(?:[ \t]+\p{Lu}\.?(?=[ \t]))?(?:[ \t]+\p{Lu}[\p{L}'’-]+){0,2}"
NAME_PATTERNS: tuple[CustomPattern, ...] = (
    CustomPattern(
        "name after 'name is' or 'call me'",
        rf"(?<=\b(?i:(?:name|names)[ \t]+(?:is|was)|call[ \t]+me|called[ \t]+me)[ \t]+)"
        rf"{_NOT_A_NAME}{_GIVEN}{_FAMILY}",
        0.5,
    ),
    CustomPattern(
        "name after a title",
        rf"(?<=\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?[ \t]+)\p{{Lu}}[\p{{L}}'’-]+{_FAMILY}",
        0.5,
    ),
)
NAME_CONTEXT: tuple[str, ...] = ("name", "called")


# Card numbers that Presidio's pattern (13-17 digits, first digit 1, 3, 4, 5 or 6)
# does not reach: Mastercard's 2-series, 12- to 19-digit Maestro, 19-digit Visa, JCB
# 2131. They join Presidio's pattern and, like it, must pass the Luhn check.
_SEP = r"[- ]?"
CARD_PATTERNS: tuple[CustomPattern, ...] = (
    CustomPattern(
        "Mastercard 2-series",
        rf"\b2(?:2[2-9]\d|[3-6]\d\d|7[01]\d|720){_SEP}\d{{4}}{_SEP}\d{{4}}{_SEP}\d{{4}}\b",
        0.3,
    ),
    CustomPattern(
        "Maestro",
        r"\b(?:5018|5020|5038|5[678]\d\d|6304|6390|6759|676[1-3]|0604)\d{8,15}\b",
        0.3,
    ),
    CustomPattern("Visa, 19 digits", r"\b4\d{18}\b", 0.3),
    CustomPattern("JCB 2131", rf"\b2131{_SEP}\d{{4}}{_SEP}\d{{4}}{_SEP}\d{{3}}\b", 0.3),
)


@dataclass(frozen=True)
class CustomRecognizer:
    """A Presidio pattern recognizer of ours: its name, patterns and context words."""

    name: str
    patterns: tuple[CustomPattern, ...]
    context: tuple[str, ...]


CUSTOM_RECOGNIZERS: dict[str, CustomRecognizer] = {
    "STREET_ADDRESS": CustomRecognizer(
        "StreetAddressRecognizer", ADDRESS_PATTERNS, ADDRESS_CONTEXT
    ),
    "PERSON": CustomRecognizer("NameCueRecognizer", NAME_PATTERNS, NAME_CONTEXT),
}

# libphonenumber reads a national number only for the regions asked (an international
# "+…" number needs none); each region costs one pass over the text. These cover
# North America, the largest EU countries, the UK and Nordics, Oceania, India, Brazil.
PHONE_REGIONS: tuple[str, ...] = (
    "US", "GB", "DE", "FR", "IT", "ES", "NL", "BE", "SE", "DK", "NO", "FI",
    "IS", "PL", "AU", "IN", "BR", "IL",
)  # fmt: skip

# The Presidio recognizer class (in presidio_analyzer.predefined_recognizers) that finds
# each pattern-found kind. STREET_ADDRESS is ours (ADDRESS_PATTERNS), EMAIL_ADDRESS is
# Presidio's with an offline domain check, and PERSON and LOCATION come from NER.
PRESIDIO_RECOGNIZERS: dict[str, str] = {
    "EMAIL_ADDRESS": "EmailRecognizer",
    "PHONE_NUMBER": "PhoneRecognizer",
    "IP_ADDRESS": "IpRecognizer",
    "MAC_ADDRESS": "MacAddressRecognizer",
    "CREDIT_CARD": "CreditCardRecognizer",
    "IBAN_CODE": "IbanRecognizer",
    "US_BANK_NUMBER": "UsBankRecognizer",
    "CRYPTO": "CryptoRecognizer",
    "US_SSN": "UsSsnRecognizer",
    "US_ITIN": "UsItinRecognizer",
    "US_PASSPORT": "UsPassportRecognizer",
    "US_DRIVER_LICENSE": "UsLicenseRecognizer",
    "MEDICAL_LICENSE": "MedicalLicenseRecognizer",
    "UK_NHS": "NhsRecognizer",
    "UK_NINO": "UkNinoRecognizer",
    "ES_NIF": "EsNifRecognizer",
    "ES_NIE": "EsNieRecognizer",
    "IT_FISCAL_CODE": "ItFiscalCodeRecognizer",
    "PL_PESEL": "PlPeselRecognizer",
    "FI_PERSONAL_IDENTITY_CODE": "FiPersonalIdentityCodeRecognizer",
    "SE_PERSONNUMMER": "SePersonnummerRecognizer",
    "DE_TAX_ID": "DeTaxIdRecognizer",
    "IN_AADHAAR": "InAadhaarRecognizer",
    "IN_PAN": "InPanRecognizer",
    "SG_NRIC_FIN": "SgFinRecognizer",
    "AU_TFN": "AuTfnRecognizer",
    "AU_MEDICARE": "AuMedicareRecognizer",
    "CA_SIN": "CaSinRecognizer",
    "KR_RRN": "KrRrnRecognizer",
    "TR_NATIONAL_ID": "TrNationalIdRecognizer",
    "ZA_ID_NUMBER": "ZaIdNumberRecognizer",
}


# The kinds found without NER (PERSON only partly: after cues).
PATTERN_ENTITIES: frozenset[str] = frozenset(PRESIDIO_RECOGNIZERS) | frozenset(CUSTOM_RECOGNIZERS)


def unknown_entities(names: Collection[str]) -> list[str]:
    """The names that are not in our vocabulary, in their given order."""
    return [name for name in names if name not in ENTITY_NAMES]
