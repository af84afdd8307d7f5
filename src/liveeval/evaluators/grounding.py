"""grounding: citations point at retrieved documents, and the context supports the output.

Support is lexical: a sentence is supported when at least `min_coverage` of its
content words occur in the retrieved context, and the score is the share of
supported sentences. Content words are words of four letters or more that are
not function words (see `stopwords`), compared on their first six letters
(so "refunds" matches "refunded"), and numbers, compared whole; Chinese,
Japanese and Korean text is compared as character pairs. Sentences with fewer
than `min_sentence_words` content words are not scored.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from liveeval.evaluators.citations import DocumentIndex, Numbering, read_citations, strip_citations
from liveeval.evaluators.registry import CheckParams, register_check
from liveeval.evaluators.result import CheckResult
from liveeval.evaluators.stopwords import STOPWORDS
from liveeval.evaluators.texts import model_output
from liveeval.model import Interaction

NAME = "grounding"
STEM = 6
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])|\n+")
_TOKEN = re.compile(r"[^\W_]+")
_WIDE_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
_FENCED = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)


class GroundingParams(CheckParams):
    min_support: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Pass when this share of sentences is supported."
    )
    min_coverage: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Share of a sentence's words the context must hold.",
    )
    min_sentence_words: int = Field(default=3, ge=1)
    check_citations: bool = True
    numeric_citations: Numbering = Field(
        default="position", description='"position": [2] is the second document; "id": its id.'
    )
    max_output_chars: int = Field(default=4000, gt=0)
    max_context_chars: int = Field(default=50_000, gt=0)
    max_listed: int = Field(default=5, ge=0, description="Unsupported sentences listed.")


def content_units(sentence: str) -> list[str]:
    """The units of `sentence` whose presence in the context is tested (lower case)."""
    units: list[str] = []
    for token in _TOKEN.findall(sentence.lower()):
        if token.isdigit():
            units.append(token)
        elif not token.isascii() and _WIDE_RUN.search(token):
            for run in _WIDE_RUN.findall(token):
                units.extend(
                    [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
                )
        elif len(token) >= 4 and token not in STOPWORDS:
            units.append(token[:STEM])
    return units


def has_number(context: str, number: str) -> bool:
    """`number` occurs in `context` as a whole number ("20" is not in "2020")."""
    start = context.find(number)
    while start != -1:
        end = start + len(number)
        if (start == 0 or not context[start - 1].isdigit()) and (
            end == len(context) or not context[end].isdigit()
        ):
            return True
        start = context.find(number, start + 1)
    return False


def coverage(units: list[str], context: str) -> float:
    found = sum(has_number(context, u) if u.isdigit() else (u in context) for u in units)
    return found / len(units)


def support(output: str, context: str, params: GroundingParams) -> dict[str, Any]:
    """Score the output's sentences against the lower-cased context."""
    scored = supported = 0
    unsupported: list[dict[str, Any]] = []
    for sentence in _SENTENCE_BREAK.split(output):
        units = content_units(sentence)
        if len(units) < params.min_sentence_words:
            continue
        scored += 1
        share = coverage(units, context)
        if share >= params.min_coverage:
            supported += 1
        elif len(unsupported) < params.max_listed:
            unsupported.append({"sentence": sentence.strip()[:300], "coverage": round(share, 3)})
    return {
        "support": round(supported / scored, 4) if scored else None,
        "scored_sentences": scored,
        "supported_sentences": supported,
        "unsupported": unsupported,
    }


@register_check(NAME, params=GroundingParams)
def grounding(interaction: Interaction, params: GroundingParams) -> CheckResult | None:
    """For outputs with retrieved context: valid citations and lexical support."""
    documents = interaction.retrieved_context
    output = model_output(interaction)
    if not documents or not output or output.isspace():
        return None
    output = output[: params.max_output_chars]
    if "```" in output:
        output = _FENCED.sub(" ", output)
    details: dict[str, Any] = {"documents": len(documents)}
    parts: list[str] = []  # the explanation: failures first, then the support score
    label = "pass"
    if params.check_citations:
        index = DocumentIndex(documents, params.numeric_citations)
        citations, prose = read_citations(output, index)
        invalid = [c.ref for c in citations if c.document is None]
        details["citations"] = [c.ref for c in citations]
        details["invalid_citations"] = invalid
        if invalid:
            label = "bad_citation"
            parts.append(
                f"cites {', '.join(f'[{ref}]' for ref in invalid)}, not among the "
                f"{len(documents)} retrieved documents"
            )
    else:
        prose = strip_citations(output)
    context = "\n".join(d.content for d in documents if d.content)[: params.max_context_chars]
    score = None
    if context:
        details.update(support(prose, context.lower(), params))
        score = details["support"]
    if not context:
        parts.append("the retrieved documents have no text to score support against")
    elif score is None:
        parts.append("no sentence long enough to score support")
    else:
        low = score < params.min_support
        if low and label == "pass":
            label = "unsupported"
        parts.append(
            f"{details['supported_sentences']} of {details['scored_sentences']} sentences "
            f"supported by the context ({score:.2f} {'<' if low else '≥'} {params.min_support:.2f})"
        )
    passed = label == "pass"
    value = score if score is not None else (None if passed else 0.0)
    explanation = "; ".join(parts)
    return CheckResult(
        NAME, passed, value, label, explanation[0].upper() + explanation[1:] + ".", details
    )
