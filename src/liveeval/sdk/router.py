"""`Router`: choose a task's arm in-process from a policy snapshot the server publishes.

    router = le.Router("support_answer", default="small")
    with router.route({"language": "de"}, session_id=conversation) as choice:
        answer = call_model(choice.arm)          # its llm_call span is a child of the route
    le.record_outcome(decision_id=choice.decision_id, success=resolved)

A daemon thread fetches ``GET /api/v1/routing/{task}/policy`` every `refresh_s` seconds
with ``If-None-Match``, so `choose()` never waits on the network. When the server is
unreachable or answers an error the router keeps its last snapshot for `max_stale_s`
(an hour by default), then serves the default arm, as it does before the first snapshot:
with probability 1 and policy version 0. A policy that old no longer says what the
server would route (a kill switch, a degraded arm), and the default is the arm the
task's owner chose to fall back on. `route()` opens the
INTERNAL span ``route <task>`` that carries the decision (`decision_attributes`), so the
server learns what was chosen, with which probability, from the trace.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from opentelemetry.trace import SpanKind, TracerProvider
from opentelemetry.util.types import AttributeValue

from liveeval.routing.choose import Choice, choose
from liveeval.routing.slices import TASK
from liveeval.routing.snapshot import Snapshot
from liveeval.sdk.client import ClientConfig, default_client
from liveeval.sdk.tracing import get_tracer, is_noop

log = logging.getLogger(__name__)

PREFIX = "liveeval.routing."
CONTEXT_PREFIX = PREFIX + "context."
MAX_ID = 200  # characters of a session or goal id the server records


@dataclass(frozen=True, slots=True)
class ArmSpec:
    """What an arm serves: a model, a prompt version and call parameters."""

    model: str
    prompt_version: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


def decision_attributes(
    choice: Choice,
    context: Mapping[str, str],
    *,
    session_id: str | None = None,
    goal_id: str | None = None,
) -> dict[str, AttributeValue]:
    """The span attributes that record a routing decision (the server reads them)."""
    attributes: dict[str, AttributeValue] = {
        PREFIX + "task": choice.task,
        PREFIX + "arm": choice.arm,
        PREFIX + "probability": float(choice.probability),
        PREFIX + "policy_version": choice.policy_version,
        PREFIX + "decision_id": choice.decision_id,
        PREFIX + "slice": choice.slice_key,
    }
    if session_id is not None:
        attributes[PREFIX + "session_id"] = session_id
    if goal_id is not None:
        attributes[PREFIX + "goal_id"] = goal_id
    for key, value in context.items():
        attributes[CONTEXT_PREFIX + key] = value
    return attributes


def check_context(context: object) -> Mapping[str, str]:
    """The context as given, when its keys and values are all str; ValueError otherwise."""
    if not isinstance(context, Mapping):
        raise ValueError(f"context must be a mapping of str to str, not {type(context).__name__}")
    for key, value in context.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValueError(f"context must map str to str, got {key!r}: {value!r}")
    return context


class Router:
    """Chooses arms of `task` from the latest policy snapshot of the server at `server`
    (default: where `setup()` sends, else ``LIVEEVAL_ENDPOINT``).

    `arms`, when given, are the arms this app can serve: a snapshot that names another is
    refused (logged) and the last one kept. `transport` replaces httpx's network
    transport; `start=False` leaves the refresh thread off until `start()` (tests call
    `refresh()` themselves). `clock` (seconds, monotonic) times `max_stale_s`.
    """

    def __init__(
        self,
        task: str,
        *,
        default: str,
        arms: Mapping[str, ArmSpec] | None = None,
        server: str | None = None,
        api_key: str | None = None,
        project: str | None = None,
        refresh_s: float = 30.0,
        max_stale_s: float | None = 3600.0,
        timeout: float = 5.0,
        tracer_provider: TracerProvider | None = None,
        transport: httpx.BaseTransport | None = None,
        start: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not task:
            raise ValueError("a router needs a task name")
        if arms is not None and default not in arms:
            raise ValueError(f"default {default!r} is not one of the arms ({', '.join(arms)})")
        if not refresh_s > 0:
            raise ValueError(f"refresh_s must be above 0, not {refresh_s!r}")
        if max_stale_s is not None and not max_stale_s >= refresh_s:
            raise ValueError(f"max_stale_s must be at least refresh_s, not {max_stale_s!r}")
        self.task = task
        self.default = default
        self.arms: Mapping[str, ArmSpec] = dict(arms or {})
        self.refresh_s = refresh_s
        self.max_stale_s = max_stale_s
        self._clock = clock
        self._confirmed_at = 0.0  # when the server last confirmed the snapshot (clock)
        self._given = (server, api_key, project)
        self._timeout = timeout
        self._tracer_provider = tracer_provider
        self._transport = transport
        self._path = f"/api/v1/routing/{quote(task, safe='')}/policy"
        self._snapshot: Snapshot | None = None
        self._etag: str | None = None
        self._failing = False
        self._traced = False  # route() has looked for a tracer provider
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._wanted = start
        alive = weakref.WeakMethod(self._after_fork)
        os.register_at_fork(after_in_child=lambda: (method := alive()) and method())
        if start:
            self.start()

    # -- choosing ----------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot | None:
        """The policy in use; None before the first one arrived or once the last one is
        more than `max_stale_s` past its last confirmation."""
        snapshot = self._snapshot
        if snapshot is not None and self._stale():
            return None
        return snapshot

    def _stale(self) -> bool:
        limit = self.max_stale_s
        return limit is not None and self._clock() - self._confirmed_at > limit

    def choose(self, context: Mapping[str, str], *, session_id: str | None = None) -> Choice:
        """An arm for `context` (str keys and values), drawn in-process from the snapshot;
        with `session_id` on a sticky task, the same session gets the same arm while the
        probabilities around its draw stay put. Records nothing: see `route()`."""
        check_context(context)
        if self._wanted and self._thread is None:  # a forked child: refresh there too
            self.start()
        snapshot = self.snapshot
        if snapshot is None:
            return Choice(self.task, self.default, 1.0, TASK, 0, uuid.uuid4().hex)
        return choose(snapshot, context, session_id=session_id)

    @contextmanager
    def route(
        self,
        context: Mapping[str, str],
        *,
        session_id: str | None = None,
        goal_id: str | None = None,
    ) -> Iterator[Choice]:
        """Choose, inside the INTERNAL span ``route <task>`` that records the decision; the
        LLM spans made in the block are its children. Pass `goal_id` when several calls
        succeed or fail together (then `record_outcome(goal_id=...)`)."""
        for name, value in (("session_id", session_id), ("goal_id", goal_id)):
            if value is not None and not (isinstance(value, str) and 0 < len(value) <= MAX_ID):
                raise ValueError(f"{name} must be a str of 1 to {MAX_ID} characters: {value!r}")
        choice = self.choose(context, session_id=session_id)
        attributes = decision_attributes(choice, context, session_id=session_id, goal_id=goal_id)
        tracer = get_tracer(self._tracer_provider)
        if not self._traced:
            self._traced = True
            if is_noop(tracer):
                log.warning(
                    "liveeval: routing decisions of %r are not recorded: no tracer provider "
                    "(call setup() or pass tracer_provider)",
                    self.task,
                )
        with tracer.start_as_current_span(
            f"route {self.task}", kind=SpanKind.INTERNAL, attributes=attributes
        ):
            yield choice

    def arm(self, choice: Choice) -> ArmSpec:
        """The spec of the arm `choice` picked (KeyError when `arms` does not name it)."""
        return self.arms[choice.arm]

    # -- refreshing --------------------------------------------------------------------

    def start(self) -> None:
        """Start the refresh thread (fetching at once, then every `refresh_s`)."""
        with self._lock:
            self._wanted = True
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name=f"liveeval-router-{self.task}", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        """Stop the refresh thread; `choose()` keeps serving the last snapshot."""
        with self._lock:
            self._wanted = False
            self._stop.set()
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(self._timeout + 1.0)

    def __enter__(self) -> Router:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def refresh(self, http: httpx.Client | None = None) -> bool:
        """Fetch the policy once; True when the router holds the server's current one
        (a new snapshot, or 304 for the one it has)."""
        if http is None:
            with httpx.Client(transport=self._transport, timeout=self._timeout) as own:
                return self.refresh(own)
        config = self._config()
        headers = config.headers()
        if self._etag is not None:
            headers["if-none-match"] = self._etag
        try:
            response = http.get(config.endpoint + self._path, headers=headers)
        except httpx.TransportError as exc:
            return self._failed(f"{config.endpoint} is unreachable ({type(exc).__name__})")
        if response.status_code == 304 and self._snapshot is not None:
            return self._ok()
        if response.status_code != 200:
            return self._failed(f"HTTP {response.status_code}: {response.text[:300]}")
        try:
            snapshot = Snapshot.from_json(response.content)
        except ValueError as exc:
            return self._failed(f"an unreadable policy: {exc}")
        problem = self._refusal(snapshot)
        if problem:
            return self._failed(problem)
        self._snapshot = snapshot
        self._etag = response.headers.get("etag")
        return self._ok()

    def _refusal(self, snapshot: Snapshot) -> str | None:
        if snapshot.task != self.task:
            return f"a policy for task {snapshot.task!r}"
        unknown = [arm for arm in snapshot.arms if self.arms and arm not in self.arms]
        if unknown:
            return f"a policy with arms this app does not know: {', '.join(unknown)}"
        return None

    def _config(self) -> ClientConfig:
        server, api_key, project = self._given
        if server is None and api_key is None and project is None:
            return default_client().config
        return ClientConfig.resolve(server, api_key, project)

    def _ok(self) -> bool:
        self._confirmed_at = self._clock()
        if self._failing:
            log.info("liveeval: routing policy of %r is reachable again", self.task)
        self._failing = False
        return True

    def _failed(self, reason: str) -> bool:
        """Keep the last snapshot; say so once per run of failures."""
        if not self._failing:
            kept = (
                f"the last snapshot for up to {self.max_stale_s:g} s, then the default arm"
                if self._snapshot is not None and self.max_stale_s is not None
                else "the last snapshot"
                if self._snapshot is not None
                else f"the default arm {self.default!r}"
            )
            log.warning(
                "liveeval: routing policy of %r not refreshed (%s); serving %s",
                self.task,
                reason,
                kept,
            )
        self._failing = True
        return False

    def _run(self) -> None:
        stop = self._stop
        with httpx.Client(transport=self._transport, timeout=self._timeout) as http:
            while not stop.is_set():
                try:
                    self.refresh(http)
                except Exception:  # a bug here must not end the thread
                    log.exception("liveeval: refreshing the routing policy of %r", self.task)
                if stop.wait(self.refresh_s):
                    return

    def _after_fork(self) -> None:
        """In a forked child: a fresh lock and no thread; `choose()` starts one there."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
