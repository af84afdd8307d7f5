"""The signal client: an in-memory queue and a daemon thread that posts signals in batches.

Queuing never blocks on the network and never raises. The thread posts up to
`batch_size` signals to ``POST /api/v1/signals/batch``; connection errors, 408, 429 and
5xx are retried with exponential backoff (a ``Retry-After`` wins), other 4xx are not.
A batch the server refuses as a whole (400, 403, 404, 409, 413, 422) is re-sent one
signal at a time to ``POST /api/v1/signals`` so only the bad one is dropped. Every
signal carries the idempotency key it got when queued, so a retried post counts once.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import random
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

import liveeval

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "http://127.0.0.1:7318"
BATCH_PATH = "/api/v1/signals/batch"
SINGLE_PATH = "/api/v1/signals"
SPLIT_STATUSES = frozenset({400, 403, 404, 409, 413, 422})
MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True, slots=True)
class Paths:
    """Where a client posts: `batch` takes ``{field: [items]}``; a batch it refuses as a
    whole is re-sent one item at a time to `single` (None: to `batch`, as a list of one).
    `kind` names an item whose body has no ``kind`` of its own, in the log."""

    batch: str = BATCH_PATH
    field: str = "signals"
    single: str | None = SINGLE_PATH
    kind: str = "signal"


SIGNALS = Paths()


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Where signals go: the server's base URL, an API key, a project name."""

    endpoint: str = DEFAULT_ENDPOINT
    api_key: str | None = None
    project: str | None = None

    @classmethod
    def resolve(
        cls,
        endpoint: str | None = None,
        api_key: str | None = None,
        project: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> ClientConfig:
        """Arguments, else ``LIVEEVAL_ENDPOINT`` / ``LIVEEVAL_API_KEY`` / ``LIVEEVAL_PROJECT``."""
        env = os.environ if environ is None else environ
        base = endpoint or env.get("LIVEEVAL_ENDPOINT") or DEFAULT_ENDPOINT
        return cls(
            endpoint=base.rstrip("/"),
            api_key=api_key or env.get("LIVEEVAL_API_KEY") or None,
            project=project or env.get("LIVEEVAL_PROJECT") or None,
        )

    def headers(self) -> dict[str, str]:
        headers = {
            "content-type": "application/json",
            "user-agent": f"liveeval-python/{liveeval.__version__}",
        }
        if self.api_key:
            headers["authorization"] = f"Bearer {self.api_key}"
        if self.project:
            headers["x-liveeval-project"] = self.project
        return headers


@dataclass(frozen=True, slots=True)
class SignalStats:
    """Counts since the client started. `dropped`: pushed out of a full queue or left at
    shutdown; `rejected`: refused by the server (4xx); `failed`: gave up after retries."""

    queued: int
    sent: int
    dropped: int
    rejected: int
    failed: int


def should_retry(status: int) -> bool:
    """408, 429 and 5xx are worth another try; any other answer is final."""
    return status >= 500 or status in (408, 429)


def retry_delay(
    attempt: int,
    retry_after: str | None,
    backoff: float,
    max_backoff: float,
    jitter: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number `attempt` + 1 (attempt counts from 0)."""
    if retry_after is not None:
        seconds = parse_retry_after(retry_after)
        if seconds is not None:
            return min(seconds, MAX_RETRY_AFTER)
    delay = min(max_backoff, backoff * 2**attempt)
    return delay * (0.5 + 0.5 * jitter())


def parse_retry_after(value: str, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` in seconds: delta-seconds or an HTTP date; None when unreadable."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, moment.timestamp() - now())


@dataclass(frozen=True, slots=True)
class _Item:
    key: str
    kind: str
    json: str


class SignalClient:
    """Queues signals and sends them from a daemon thread, started on the first signal.

    `transport` replaces httpx's network transport (a test double, a proxy); `backoff`
    and `max_backoff` are seconds; `max_retries` counts retries after the first post;
    `paths` says where it posts (the signal endpoints unless told otherwise).
    """

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        api_key: str | None = None,
        project: str | None = None,
        max_queue: int = 10_000,
        batch_size: int = 100,
        max_retries: int = 6,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        timeout: float = 10.0,
        exit_timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        paths: Paths = SIGNALS,
    ) -> None:
        self._config = ClientConfig.resolve(endpoint, api_key, project)
        self._paths = paths
        self._max_queue = max(1, max_queue)
        self._batch_size = max(1, batch_size)
        self._max_retries = max(0, max_retries)
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._timeout = timeout
        self._exit_timeout = exit_timeout
        self._transport = transport
        self._counts = {"queued": 0, "sent": 0, "dropped": 0, "rejected": 0, "failed": 0}
        self._queue: deque[_Item] = deque()
        self._stop = threading.Event()
        self._exit_hook = False
        self._reset_thread_state()
        alive = weakref.WeakMethod(self._after_fork)
        os.register_at_fork(after_in_child=lambda: (method := alive()) and method())

    def _reset_thread_state(self) -> None:
        self._lock = threading.Lock()
        self._has_work = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._thread: threading.Thread | None = None

    def _after_fork(self) -> None:
        """In a forked child: fresh locks and no thread; the parent sends what it queued."""
        stopped = self._stop.is_set()
        self._stop = threading.Event()
        if stopped:
            self._stop.set()
        self._reset_thread_state()
        self._queue.clear()

    @property
    def config(self) -> ClientConfig:
        return self._config

    def configure(self, config: ClientConfig) -> None:
        """Send from now on (queued signals included) to `config`'s endpoint."""
        self._config = config

    def stats(self) -> SignalStats:
        with self._lock:
            return SignalStats(**self._counts)

    def enqueue(self, body: Mapping[str, Any]) -> str | None:
        """Queue one signal body (see `bodies.build_signal`); returns its idempotency key,
        or None when it cannot be sent (not JSON-serializable, or the client is shut down)."""
        try:
            kind = str(body.get("kind", self._paths.kind))
            item = _Item(str(body["idempotency_key"]), kind, _dump(body))
        except (TypeError, ValueError, KeyError) as exc:
            log.warning("liveeval: dropped a %s signal: %s", body.get("kind"), exc)
            return None
        with self._lock:
            if self._stop.is_set():
                log.warning("liveeval: dropped a %s signal: the client is shut down", item.kind)
                return None
            if len(self._queue) >= self._max_queue:
                self._queue.popleft()
                self._counts["dropped"] += 1
                dropped = self._counts["dropped"]
                if dropped & (dropped - 1) == 0:  # 1, 2, 4, 8, ...: say it, but not always
                    log.warning(
                        "liveeval: signal queue full (%d); dropped the oldest (%d so far)",
                        self._max_queue,
                        dropped,
                    )
            self._queue.append(item)
            self._counts["queued"] += 1
            self._start()
            self._has_work.notify()
        return item.key

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued signal is sent or given up on; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._queue or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._thread is None or not self._thread.is_alive():
                    return False
                self._idle.wait(remaining)
        return True

    def shutdown(self, timeout: float = 5.0) -> None:
        """Flush for up to `timeout` seconds, then stop the thread; later signals are dropped."""
        self.flush(timeout)
        self._stop_thread()
        atexit.unregister(self._at_exit)

    def _stop_thread(self) -> None:
        with self._lock:
            self._stop.set()
            self._has_work.notify_all()
            thread = self._thread
            left = len(self._queue)
            self._counts["dropped"] += left
            self._queue.clear()
        if left:
            log.warning("liveeval: shut down with %d signals unsent", left)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=max(1.0, self._timeout))

    # -- the sending thread ----------------------------------------------------------

    def _start(self) -> None:
        """Start the thread (called with the lock held)."""
        if self._thread is not None and self._thread.is_alive():
            return
        if not self._exit_hook:
            atexit.register(self._at_exit)
            self._exit_hook = True
        self._in_flight = 0
        self._thread = threading.Thread(target=self._run, name="liveeval-signals", daemon=True)
        self._thread.start()

    def _at_exit(self) -> None:
        self.flush(self._exit_timeout)
        self._stop_thread()

    def _run(self) -> None:
        with httpx.Client(transport=self._transport, timeout=self._timeout) as http:
            while True:
                with self._lock:
                    while not self._queue and not self._stop.is_set():
                        self._has_work.wait()
                    if self._stop.is_set():
                        return
                    batch = [
                        self._queue.popleft()
                        for _ in range(min(self._batch_size, len(self._queue)))
                    ]
                    self._in_flight = len(batch)
                try:
                    self._deliver(http, batch)
                except Exception:  # a bug here must not end the thread
                    log.exception("liveeval: failed to send %d signals", len(batch))
                    self._count("failed", len(batch))
                finally:
                    with self._lock:
                        self._in_flight = 0
                        self._idle.notify_all()

    def _deliver(self, http: httpx.Client, batch: list[_Item]) -> None:
        response = self._post(http, self._paths.batch, self._envelope(batch), len(batch))
        if response is None:
            return
        if response.is_success:
            self._count("sent", len(batch))
        elif response.status_code in SPLIT_STATUSES and len(batch) > 1:
            for item in batch:
                self._deliver_one(http, item)
        else:
            self._reject(response, batch)

    def _envelope(self, batch: list[_Item]) -> str:
        return f'{{"{self._paths.field}":[' + ",".join(item.json for item in batch) + "]}"

    def _deliver_one(self, http: httpx.Client, item: _Item) -> None:
        single = self._paths.single
        content = item.json if single else self._envelope([item])
        response = self._post(http, single or self._paths.batch, content, 1)
        if response is None:
            return
        if response.is_success:
            self._count("sent", 1)
        else:
            self._reject(response, [item])

    def _post(
        self, http: httpx.Client, path: str, content: str, size: int
    ) -> httpx.Response | None:
        """The server's final answer, or None after the retries ran out (or on shutdown)."""
        reason = ""
        for attempt in range(self._max_retries + 1):
            config = self._config
            retry_after = None
            try:
                response = http.post(
                    config.endpoint + path, content=content.encode(), headers=config.headers()
                )
            except httpx.TransportError as exc:
                reason = f"{type(exc).__name__}: {exc}"
            else:
                if not should_retry(response.status_code):
                    return response
                reason = f"HTTP {response.status_code}"
                retry_after = response.headers.get("retry-after")
            if attempt == self._max_retries:
                break
            delay = retry_delay(attempt, retry_after, self._backoff, self._max_backoff)
            log.debug("liveeval: signals post failed (%s); retrying in %.2fs", reason, delay)
            if self._stop.wait(delay):
                break
        log.warning(
            "liveeval: gave up sending %d signals to %s (%s)", size, self._config.endpoint, reason
        )
        self._count("failed", size)
        return None

    def _reject(self, response: httpx.Response, items: list[_Item]) -> None:
        log.warning(
            "liveeval: the server refused %d signal(s) (%s) with %d: %s",
            len(items),
            ", ".join(sorted({item.kind for item in items})),
            response.status_code,
            response.text[:500],
        )
        self._count("rejected", len(items))

    def _count(self, name: str, n: int) -> None:
        with self._lock:
            self._counts[name] += n


def _dump(body: Mapping[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


_default: SignalClient | None = None
_default_lock = threading.Lock()


def default_client() -> SignalClient:
    """The client `feedback()` and `signal()` use; configured from the environment until
    `setup()` configures it."""
    global _default
    with _default_lock:
        if _default is None:
            _default = SignalClient()
        return _default
