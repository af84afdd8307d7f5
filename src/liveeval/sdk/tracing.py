"""`setup()`: OpenTelemetry tracing and GenAI log events, exported to liveeval over OTLP/HTTP.

OpenTelemetry allows one global tracer provider (and one global logger provider) per
process, set once. `setup()` sets them on its first call; a later call builds new
providers (used by `llm_call` / `retrieval` and returned to the caller) and points the
signal client at the new endpoint, but cannot replace the global ones: it logs a warning
and the instrumentations that read the globals keep exporting where the first call said.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass

from opentelemetry import _logs, trace
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.util.types import AttributeValue

import liveeval
from liveeval.sdk.client import ClientConfig, default_client
from liveeval.sdk.span_queue import DEFAULT_MAX_BLOCK, DEFAULT_MAX_QUEUE, SpanQueue, SpanQueueStats

log = logging.getLogger(__name__)

TRACER_NAME = "liveeval.sdk"
DEFAULT_SERVICE_NAME = "default"


@dataclass(slots=True)
class _Providers:
    tracer_provider: TracerProvider | None = None
    logger_provider: LoggerProvider | None = None
    span_queue: SpanQueue | None = None


_current = _Providers()
_lock = threading.Lock()
# liveeval's tracer of each provider: `get_tracer` builds a scope and takes a lock per call.
_tracers: weakref.WeakKeyDictionary[trace.TracerProvider, trace.Tracer] = (
    weakref.WeakKeyDictionary()
)


def setup(
    endpoint: str | None = None,
    *,
    project: str | None = None,
    api_key: str | None = None,
    service_name: str | None = None,
    resource_attributes: Mapping[str, AttributeValue] | None = None,
    set_global: bool = True,
    batch: bool = True,
    max_queue: int = DEFAULT_MAX_QUEUE,
    max_block: float = DEFAULT_MAX_BLOCK,
) -> TracerProvider:
    """Send this process's spans, GenAI log events and signals to liveeval at `endpoint`.

    `endpoint`, `api_key` and `project` fall back to ``LIVEEVAL_ENDPOINT`` (default
    ``http://127.0.0.1:7318``), ``LIVEEVAL_API_KEY`` and ``LIVEEVAL_PROJECT``. The
    resource's ``service.name`` (liveeval's project when no key says otherwise) is
    `project`, else `service_name`, else the one in `resource_attributes`, else
    ``OTEL_SERVICE_NAME``, else ``"default"``.
    Spans wait for export in a queue of `max_queue`; when it is full, the thread ending
    a span waits up to `max_block` seconds for room (see `span_queue.SpanQueue`).
    Returns the tracer provider; pass it to instrumentations when `set_global` is off.
    """
    config = ClientConfig.resolve(endpoint, api_key, project)
    attributes = dict(resource_attributes or {})
    attributes["service.name"] = _service_name(config, service_name, attributes)
    resource = Resource.create(attributes)
    headers = {"authorization": f"Bearer {config.api_key}"} if config.api_key else None

    tracer_provider = TracerProvider(resource=resource)
    span_exporter = OTLPSpanExporter(endpoint=f"{config.endpoint}/v1/traces", headers=headers)
    span_queue = SpanQueue(span_exporter, max_queue=max_queue, max_block=max_block)
    tracer_provider.add_span_processor(span_queue if batch else SimpleSpanProcessor(span_exporter))
    logger_provider = LoggerProvider(resource=resource)
    log_exporter = OTLPLogExporter(endpoint=f"{config.endpoint}/v1/logs", headers=headers)
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(log_exporter) if batch else SimpleLogRecordProcessor(log_exporter)
    )

    with _lock:
        _current.tracer_provider = tracer_provider
        _current.logger_provider = logger_provider
        _current.span_queue = span_queue if batch else None
    if set_global:
        _set_globals(tracer_provider, logger_provider)
    default_client().configure(config)
    return tracer_provider


def get_tracer_provider() -> TracerProvider | None:
    """The tracer provider of the latest `setup()`, or None before the first."""
    return _current.tracer_provider


def get_logger_provider() -> LoggerProvider | None:
    """The logger provider of the latest `setup()`, for instrumentations that emit
    GenAI events as log records when `set_global` was off."""
    return _current.logger_provider


def span_stats() -> SpanQueueStats | None:
    """What the latest `setup()`'s span queue queued, exported, dropped and waited for;
    None before the first `setup()` or with `batch=False`."""
    span_queue = _current.span_queue
    return None if span_queue is None else span_queue.stats()


def get_tracer(provider: trace.TracerProvider | None = None) -> trace.Tracer:
    """liveeval's tracer from `provider`, else the latest `setup()`'s, else the global one."""
    provider = provider or _current.tracer_provider or trace.get_tracer_provider()
    tracer = _tracers.get(provider)
    if tracer is None:
        tracer = provider.get_tracer(TRACER_NAME, liveeval.__version__)
        _tracers[provider] = tracer
    return tracer


def is_noop(tracer: trace.Tracer) -> bool:
    """Whether `tracer` records nothing: OpenTelemetry's no-op one, or the global proxy
    while no provider is set (then the app's values need not be converted at all)."""
    if isinstance(tracer, trace.ProxyTracer):
        return isinstance(
            trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider
        )
    return isinstance(tracer, trace.NoOpTracer)


def flush_tracing(timeout: float) -> bool:
    """Export the spans and log records the latest `setup()`'s providers hold."""
    millis = max(0, int(timeout * 1000))
    tracer_provider, logger_provider = _current.tracer_provider, _current.logger_provider
    ok = True
    if tracer_provider is not None:
        ok = tracer_provider.force_flush(millis) and ok
    if logger_provider is not None:
        ok = logger_provider.force_flush(millis) and ok
    return ok


def _service_name(
    config: ClientConfig, service_name: str | None, attributes: Mapping[str, AttributeValue]
) -> str:
    named = attributes.get("service.name")
    return (
        config.project
        or service_name
        or (named if isinstance(named, str) and named else None)
        or os.environ.get("OTEL_SERVICE_NAME")
        or DEFAULT_SERVICE_NAME
    )


def _set_globals(tracer_provider: TracerProvider, logger_provider: LoggerProvider) -> None:
    trace.set_tracer_provider(tracer_provider)
    if trace.get_tracer_provider() is not tracer_provider:
        log.warning(
            "liveeval: a global OpenTelemetry TracerProvider was already set and OpenTelemetry "
            "allows only one per process; instrumentations keep using the first. liveeval's "
            "llm_call() uses the new one; pass the provider setup() returned to others."
        )
    _logs.set_logger_provider(logger_provider)
    if _logs.get_logger_provider() is not logger_provider:
        log.warning(
            "liveeval: a global OpenTelemetry LoggerProvider was already set; GenAI events "
            "emitted as log records keep going where it sends them."
        )
