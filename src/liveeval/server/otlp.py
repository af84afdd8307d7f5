"""OTLP/HTTP receivers: /v1/traces and /v1/logs (GenAI events), protobuf and JSON.

Responses follow the OTLP/HTTP specification: the Export*ServiceResponse in the
request's encoding, with `partial_success` when some records were rejected;
failures carry a google.rpc.Status. The response is sent after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, HTTPException, Request, Response
from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import code_pb2, status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from pydantic import BaseModel

from liveeval.config.privacy import PrivacyConfig
from liveeval.ingest.decisions import decision_problems
from liveeval.ingest.otlp import (
    JSON,
    PROTOBUF,
    PayloadError,
    UnsupportedMediaType,
    log_events_from_request,
    media_type,
    parse_logs_request,
    parse_trace_request,
    spans_from_request,
)
from liveeval.ingest.pipeline import write_log_events, write_spans
from liveeval.ingest.scrub import scrub_records
from liveeval.server.auth import IngestCaller
from liveeval.server.body import BadEncoding, BodyTooLarge, UnsupportedEncoding, read_body
from liveeval.server.responses import WHY
from liveeval.server.signals import scrub_text

log = logging.getLogger(__name__)
router = APIRouter(tags=["otlp"])
MAX_REJECTION_REASONS = 5


class OtlpStatus(BaseModel):
    """OTLP/HTTP's error body: a google.rpc.Status, in the request's encoding."""

    code: int
    message: str
    details: list[Any] = []


_BOTH: dict[str, Any] = {"application/json": {}, "application/x-protobuf": {}}
OTLP_ROUTE: dict[str, Any] = {
    "openapi_extra": {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
    "responses": {
        200: {"description": "Accepted; `partialSuccess` counts what was not.", "content": _BOTH},
        **{
            status: {"model": OtlpStatus, "description": WHY[status], "content": _BOTH}
            for status in (400, 401, 403, 413, 415, 503)
        },
    },
}


class Overloaded(Exception):
    pass


class WriteGate:
    """Ingest work in flight: `threads` at a time, the rest queued up to `limit`, then 503.

    Decoding is CPU-bound Python: more threads than two (one in Python, one in the
    database driver, which releases the GIL) only trade the GIL back and forth.
    """

    def __init__(self, limit: int, threads: int = 2) -> None:
        self.limit = limit
        self.in_flight = 0
        self._threads = anyio.CapacityLimiter(threads)

    async def run(self, work: Callable[[], Any]) -> Any:
        if self.in_flight >= self.limit:
            raise Overloaded
        self.in_flight += 1
        try:
            return await anyio.to_thread.run_sync(work, limiter=self._threads)
        finally:
            self.in_flight -= 1


def otlp_status_response(status_code: int, message: str, kind: str, **headers: str) -> Response:
    grpc_code = {
        400: code_pb2.INVALID_ARGUMENT,
        401: code_pb2.UNAUTHENTICATED,
        403: code_pb2.PERMISSION_DENIED,
        413: code_pb2.RESOURCE_EXHAUSTED,
        415: code_pb2.INVALID_ARGUMENT,
        429: code_pb2.RESOURCE_EXHAUSTED,
        503: code_pb2.UNAVAILABLE,
    }.get(status_code, code_pb2.INTERNAL)
    status = status_pb2.Status(code=grpc_code, message=message)
    return _encode(status, kind, status_code, headers)


def _encode(message: Message, kind: str, status_code: int = 200, headers: Any = None) -> Response:
    if kind == PROTOBUF:
        body = message.SerializeToString()
    else:
        body = json_format.MessageToJson(message, indent=None).encode()
    return Response(body, status_code=status_code, media_type=kind, headers=headers)


def request_kind(request: Request) -> str:
    """The encoding to answer in: the request's, JSON when it was unusable."""
    try:
        return media_type(request.headers.get("content-type"))
    except UnsupportedMediaType:
        return JSON


async def _receive(
    request: Request,
    caller: IngestCaller,
    parse: Callable[[bytes, str], Any],
    decode: Callable[..., Any],
    write: Callable[..., Any],
) -> tuple[str, list[str], list[str]]:
    """(the answer's encoding, why records were rejected, warnings about records stored)."""
    state = request.app.state
    settings = state.settings
    try:
        kind = media_type(request.headers.get("content-type"))
        body = await read_body(request, settings.max_body_bytes)
    except UnsupportedMediaType as exc:
        raise HTTPException(415, str(exc)) from None
    except UnsupportedEncoding as exc:
        raise HTTPException(415, str(exc)) from None
    except BodyTooLarge as exc:
        raise HTTPException(413, str(exc)) from None
    except BadEncoding as exc:
        raise HTTPException(400, str(exc)) from None

    def work() -> tuple[list[str], list[str]]:
        try:
            message = parse(body, kind)
        except PayloadError as exc:
            raise HTTPException(400, str(exc)) from None
        decoded = decode(
            message,
            project=caller.project,
            default_project=settings.default_project,
            max_attribute_chars=settings.max_attribute_chars,
        )
        if decoded.records:
            write(
                state.store,
                scrubbed(decoded.records, settings.privacy),
                state.rules,
                state.clock(),
                evaluation=state.evaluation,
                # Open mode: a signal sent without a project waits in the default one.
                claim_pending_from=None if settings.require_keys else settings.default_project,
            )
        return decoded.rejected, decision_problems(decoded.records)

    try:
        rejected, warnings = await state.write_gate.run(work)
    except Overloaded:
        raise HTTPException(
            503, "the store is busy; retry later", headers={"Retry-After": "1"}
        ) from None
    return kind, rejected, warnings


def scrubbed(records: list[Any], privacy: PrivacyConfig) -> list[Any]:
    """The records of projects scrubbed at ingest with their PII replaced (docs/privacy.md)."""
    if not privacy.scrub_ingest_projects:
        return records
    return scrub_records(records, privacy.scrubs_ingest, partial(scrub_text, privacy))


def _rejection_message(rejected: list[str]) -> str:
    shown = "; ".join(rejected[:MAX_REJECTION_REASONS])
    more = len(rejected) - MAX_REJECTION_REASONS
    return shown + (f"; and {more} more" if more > 0 else "")


@router.post("/v1/traces", **OTLP_ROUTE)
async def export_traces(request: Request, caller: IngestCaller) -> Response:
    kind, rejected, warnings = await _receive(
        request, caller, parse_trace_request, spans_from_request, write_spans
    )
    response = ExportTraceServiceResponse()
    if rejected or warnings:  # OTLP: 0 rejected with a message is a warning
        response.partial_success.rejected_spans = len(rejected)
        response.partial_success.error_message = _rejection_message(rejected + warnings)
    return _encode(response, kind)


@router.post("/v1/logs", **OTLP_ROUTE)
async def export_logs(request: Request, caller: IngestCaller) -> Response:
    kind, rejected, _ = await _receive(
        request, caller, parse_logs_request, log_events_from_request, write_log_events
    )
    response = ExportLogsServiceResponse()
    if rejected:
        response.partial_success.rejected_log_records = len(rejected)
        response.partial_success.error_message = _rejection_message(rejected)
    return _encode(response, kind)
