"""Spans of a trace (and their GenAI log events) to normalized interactions.

Per LLM span: the convention extractor reads the call; the trace adds what the
span itself lacks: retrieved documents from retriever spans, and `liveeval.*`
(and session / user) attributes set on an ancestor span or on the resource.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from liveeval.config import ModelPrice
from liveeval.ingest.genai import extract_genai
from liveeval.ingest.llm_call import LLMCall
from liveeval.ingest.openinference import extract_openinference, retrieval_documents
from liveeval.ingest.pricing import cost_usd, find_price
from liveeval.model import Interaction, LogEvent, RetrievedDocument, Span

# The attributes liveeval reads itself, for what neither convention covers (docs/tracing.md).
PROMPT_VERSION = "liveeval.prompt.version"
ROUTE = "liveeval.route"
SEGMENT = "liveeval.segment"
USER_ID = "liveeval.user.id"
COST_USD = "liveeval.cost.usd"
INHERITED = (PROMPT_VERSION, ROUTE, SEGMENT, USER_ID, "session.id", "user.id")


@dataclass(frozen=True, slots=True)
class AssemblyRules:
    """The parts of the config that shape interactions."""

    prices: Mapping[str, ModelPrice] = field(default_factory=dict)
    hash_user_ids: bool = False
    user_id_salt: str = ""


def span_type(span: Span) -> str | None:
    """What a span is, for the trace tree: llm, retriever, tool, chain, agent, embedding…"""
    kind = span.attributes.get("openinference.span.kind")
    if isinstance(kind, str) and kind:
        return kind.lower()
    operation = span.attributes.get("gen_ai.operation.name")
    if isinstance(operation, str) and operation:
        return {
            "chat": "llm",
            "text_completion": "llm",
            "generate_content": "llm",
            "embeddings": "embedding",
            "execute_tool": "tool",
            "invoke_agent": "agent",
            "create_agent": "agent",
        }.get(operation.lower(), operation.lower())
    return None


def extract_call(span: Span, log_events: Sequence[LogEvent]) -> LLMCall | None:
    if "openinference.span.kind" in span.attributes:
        return extract_openinference(span)
    return extract_genai(span, log_events)


def assemble(
    spans: Iterable[Span],
    log_events: Iterable[LogEvent],
    rules: AssemblyRules,
) -> list[Interaction]:
    """Every LLM span among `spans` as an interaction; the spans may mix traces."""
    by_trace: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        by_trace[span.trace_id].append(span)
    events_by_span: dict[tuple[str, str], list[LogEvent]] = defaultdict(list)
    for event in log_events:
        events_by_span[(event.trace_id, event.span_id)].append(event)
    interactions = []
    for trace_spans in by_trace.values():
        interactions.extend(_assemble_trace(trace_spans, events_by_span, rules))
    return interactions


def _assemble_trace(
    spans: list[Span],
    events_by_span: Mapping[tuple[str, str], list[LogEvent]],
    rules: AssemblyRules,
) -> list[Interaction]:
    by_id = {span.span_id: span for span in spans}
    retrievals: list[tuple[Span, tuple[RetrievedDocument, ...]]] | None = None
    interactions = []
    for span in spans:
        call = extract_call(span, events_by_span.get((span.trace_id, span.span_id), ()))
        if call is None:
            continue
        if retrievals is None:
            retrievals = sorted(
                ((s, docs) for s in spans if (docs := retrieval_documents(s))),
                key=lambda pair: pair[0].start_at,
            )
        context = tuple(
            doc
            for retriever, docs in retrievals
            if retriever.start_at <= span.start_at and retriever.span_id != span.span_id
            for doc in docs
        )
        interactions.append(_interaction(span, call, context, _lineage(span, by_id), rules))
    return interactions


def _lineage(span: Span, by_id: Mapping[str, Span]) -> list[Mapping[str, Any]]:
    """Attribute maps to look in, nearest first: the span, its ancestors, the resource."""
    chain: list[Mapping[str, Any]] = [span.attributes]
    seen = {span.span_id}
    parent = by_id.get(span.parent_span_id or "")
    while parent is not None and parent.span_id not in seen:
        seen.add(parent.span_id)
        chain.append(parent.attributes)
        parent = by_id.get(parent.parent_span_id or "")
    chain.append(span.resource)
    return chain


def _inherited(chain: list[Mapping[str, Any]], key: str) -> str | None:
    for attributes in chain:
        value = attributes.get(key)
        if value is not None and value != "":
            return str(value)[:200]
    return None


def _interaction(
    span: Span,
    call: LLMCall,
    context: tuple[RetrievedDocument, ...],
    chain: list[Mapping[str, Any]],
    rules: AssemblyRules,
) -> Interaction:
    user = call.user_id or _inherited(chain, "user.id") or _inherited(chain, USER_ID)
    if user is not None and rules.hash_user_ids:
        user = hash_user_id(user, rules.user_id_salt)
    cost, cost_source = _cost(span, call, rules)
    return Interaction(
        project=span.project,
        trace_id=span.trace_id,
        span_id=span.span_id,
        parent_span_id=span.parent_span_id,
        name=span.name,
        convention=call.convention,
        operation=call.operation,
        start_at=span.start_at,
        end_at=span.end_at,
        latency_ms=span.duration_ms,
        status="error" if _failed(span) else span.status_code,
        error=_error(span),
        provider=call.provider,
        model_requested=call.model_requested,
        model_served=call.model_served,
        response_id=call.response_id,
        finish_reasons=call.finish_reasons,
        prompt_version=call.prompt_version or _inherited(chain, PROMPT_VERSION),
        route=_inherited(chain, ROUTE),
        segment=_inherited(chain, SEGMENT),
        session_id=call.session_id or _inherited(chain, "session.id"),
        user_id=user,
        input_text=call.input_text,
        input_messages=call.input_messages,
        output_text=call.output_text,
        output_messages=call.output_messages,
        retrieved_context=context,
        tool_calls=call.tool_calls,
        usage=call.usage,
        cost_usd=cost,
        cost_source=cost_source,
        tags=call.tags,
        metadata=call.metadata,
    )


def _cost(span: Span, call: LLMCall, rules: AssemblyRules) -> tuple[float | None, str | None]:
    reported = call.cost_usd
    if reported is None:
        value = span.attributes.get(COST_USD)
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            reported = float(value)
    if reported is not None:
        return reported, "span"
    price = find_price(rules.prices, call.model_served, call.model_requested)
    if price is None:
        return None, None
    computed = cost_usd(price, call.usage)
    return (computed, "price_table") if computed is not None else (None, None)


def _failed(span: Span) -> bool:
    """The span's status says error, or its `error.type` does (the GenAI conventions set
    it when the call failed, whether or not the instrumentation set the status too)."""
    return span.status_code == "error" or bool(span.attributes.get("error.type"))


def _error(span: Span) -> str | None:
    if not _failed(span):
        return None
    for event in span.events:
        if event.name == "exception":
            kind = event.attributes.get("exception.type")
            message = event.attributes.get("exception.message")
            text = ": ".join(str(part) for part in (kind, message) if part)
            if text:
                return text
    error_type = span.attributes.get("error.type")
    return span.status_message or (str(error_type) if error_type else None) or "error"


def hash_user_id(user_id: str, salt: str) -> str:
    digest = hmac.new(salt.encode(), user_id.encode(), hashlib.sha256).hexdigest()
    return "h:" + digest[:32]
