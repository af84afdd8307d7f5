"""POST /api/v1/signals: explicit feedback and implicit signals."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Header, Request, Response
from starlette.concurrency import run_in_threadpool

from liveeval.config import Settings
from liveeval.config.privacy import PrivacyConfig
from liveeval.ingest.assemble import hash_user_id
from liveeval.ingest.scoring import OnlineEvaluation, on_signal
from liveeval.model import Signal, SignalKind
from liveeval.server.auth import Caller, IngestCaller
from liveeval.server.responses import ANY_ROUTE, WITH_BODY, errors
from liveeval.server.signal_bodies import SignalBase, SignalBatch, SignalBody, SignalResult
from liveeval.server.targets import resolve_target
from liveeval.store.database import Store
from liveeval.store.interactions import get_interaction
from liveeval.store.signals import record_signal

router = APIRouter(prefix="/api/v1", tags=["signals"], responses=errors(*ANY_ROUTE))
ProjectHeader = Annotated[str | None, Header(alias="x-liveeval-project", max_length=200)]


def record_bodies(
    store: Store,
    caller: Caller,
    named_project: str | None,
    default_project: str,
    bodies: list[SignalBase],
    now: datetime,
    user_id_salt: str | None = None,
    evaluation: OnlineEvaluation | None = None,
    privacy: PrivacyConfig | None = None,
) -> list[SignalResult]:
    """Store signals in one transaction; all or none. With `user_id_salt`, user ids are
    stored as the same keyed hash interactions get (settings.hash_user_ids). With
    `evaluation`, a signal that forces judging (a thumbs-down, a regeneration …) samples
    its interaction for the judge, however late it arrives."""
    results = []
    with store.writing() as conn:
        for body in bodies:
            signal = _to_signal(conn, caller, named_project, default_project, body, now)
            if signal.user_id is not None and user_id_salt is not None:
                signal.user_id = hash_user_id(signal.user_id, user_id_salt)
            if signal.text and privacy is not None and privacy.scrubs_ingest(signal.project):
                signal.text = scrub_text(privacy, signal.text)  # a comment is user data
            recorded = record_signal(conn, signal, now)
            if evaluation is not None and recorded.interaction_id and not recorded.duplicate:
                interaction = get_interaction(conn, recorded.interaction_id)
                if interaction is not None:
                    on_signal(conn, evaluation, interaction, signal.kind, now)
            results.append(
                SignalResult(
                    signal_id=recorded.signal_id,
                    interaction_id=recorded.interaction_id,
                    attached=recorded.interaction_id is not None,
                    duplicate=recorded.duplicate,
                )
            )
    return results


def _to_signal(
    conn: sa.Connection,
    caller: Caller,
    named_project: str | None,
    default_project: str,
    body: SignalBase,
    now: datetime,
) -> Signal:
    target = resolve_target(
        conn,
        caller,
        named_project,
        default_project,
        interaction_id=body.interaction_id,
        trace_id=body.trace_id,
        response_id=body.response_id,
    )
    value, text, details = body.value_text_details()
    kind: SignalKind = body.kind  # type: ignore[attr-defined]
    return Signal(
        project=target.project,
        kind=kind,
        occurred_at=body.at or now,
        interaction_id=target.interaction_id,
        trace_id=target.trace_id,
        response_id=body.response_id,
        value=value,
        text=text,
        details=details,
        user_id=body.user_id,
        idempotency_key=body.idempotency_key,
    )


def scrub_text(privacy: PrivacyConfig, text: str) -> str:
    from liveeval.privacy.scrubber import shared_scrubber  # loads Presidio: only when used

    return shared_scrubber(privacy).scrub(text).text


def _user_id_salt(settings: Settings) -> str | None:
    return settings.user_id_salt if settings.hash_user_ids else None


def _status(results: list[SignalResult]) -> int:
    if all(r.duplicate for r in results):
        return 200
    return 201 if all(r.attached for r in results) else 202


@router.post(
    "/signals",
    response_model=SignalResult,
    responses={
        200: {"description": "Seen before (same idempotency key)"},
        **errors(*WITH_BODY, 404),
        202: {"description": "Stored; attached when the interaction's span arrives"},
    },
    status_code=201,
)
async def post_signal(
    body: SignalBody,
    request: Request,
    response: Response,
    caller: IngestCaller,
    x_liveeval_project: ProjectHeader = None,
) -> SignalResult:
    """Record one signal or piece of feedback about an interaction."""
    state = request.app.state
    results = await run_in_threadpool(
        record_bodies,
        state.store,
        caller,
        x_liveeval_project,
        state.settings.default_project,
        [body],
        state.clock(),
        _user_id_salt(state.settings),
        state.evaluation,
        state.settings.privacy,
    )
    response.status_code = _status(results)
    return results[0]


@router.post(
    "/signals/batch",
    response_model=list[SignalResult],
    status_code=201,
    responses={
        202: {"description": "Stored; some wait for their interaction's span to arrive"},
        **errors(*WITH_BODY, 404),
    },
)
async def post_signals(
    batch: SignalBatch,
    request: Request,
    response: Response,
    caller: IngestCaller,
    x_liveeval_project: ProjectHeader = None,
) -> list[SignalResult]:
    """Record up to 1,000 signals at once: all are stored, or (on any error) none."""
    state = request.app.state
    results = await run_in_threadpool(
        record_bodies,
        state.store,
        caller,
        x_liveeval_project,
        state.settings.default_project,
        list(batch.signals),
        state.clock(),
        _user_id_salt(state.settings),
        state.evaluation,
        state.settings.privacy,
    )
    response.status_code = _status(results)
    return results
