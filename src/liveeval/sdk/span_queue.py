"""`SpanQueue`: a batching span processor that slows the app down rather than drop spans.

OpenTelemetry's `BatchSpanProcessor` drops a span when its queue is full, and an app
that records LLM calls in a burst fills it: the export thread (protobuf encoding and a
POST per batch) shares the GIL with the app and cannot keep up. `SpanQueue` batches the
same way, but when the queue is full the thread ending a span waits, at most
`max_block` seconds, for the export thread to take a batch off. It waits only while the
exporter is getting spans out: once an export fails or a wait runs out, the queue is
"stalled" and drops the oldest span instead (counted, logged) until an export succeeds
again, so an unreachable server costs the app one wait, not one per span.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass

from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, attach, set_value
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

log = logging.getLogger(__name__)

DEFAULT_MAX_QUEUE = 2048
DEFAULT_BATCH_SIZE = 512
DEFAULT_SCHEDULE_DELAY = 1.0
DEFAULT_MAX_BLOCK = 5.0


@dataclass(frozen=True, slots=True)
class SpanQueueStats:
    """Counts since the queue started. `exported`: handed to an exporter that succeeded;
    `failed`: to one that failed; `dropped`: pushed out of a full stalled queue or ended
    after shutdown; `waits`: times the app waited for room, `waited_s` how long in all."""

    queued: int
    exported: int
    failed: int
    dropped: int
    waits: int
    waited_s: float


class SpanQueue(SpanProcessor):
    """Ended spans wait in a queue of at most `max_queue`; a daemon thread exports them in
    batches of `batch_size`, as soon as a batch is full or `schedule_delay` seconds after
    the last export. A full queue makes `on_end` wait up to `max_block` seconds for room."""

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        max_queue: int = DEFAULT_MAX_QUEUE,
        batch_size: int = DEFAULT_BATCH_SIZE,
        schedule_delay: float = DEFAULT_SCHEDULE_DELAY,
        max_block: float = DEFAULT_MAX_BLOCK,
    ) -> None:
        self._exporter = exporter
        self._max_queue = max(1, max_queue)
        self._batch_size = max(1, min(batch_size, self._max_queue))
        self._schedule_delay = max(0.0, schedule_delay)
        self._max_block = max(0.0, max_block)
        self._queue: deque[ReadableSpan] = deque()
        self._counts = {"queued": 0, "exported": 0, "failed": 0, "dropped": 0, "waits": 0}
        self._waited = 0.0
        self._stopping = False
        self._stalled = False
        self._start_worker()
        alive = weakref.WeakMethod(self._after_fork)
        os.register_at_fork(after_in_child=lambda: (method := alive()) and method())

    def _start_worker(self) -> None:
        self._lock = threading.Lock()
        self._has_work = threading.Condition(self._lock)  # the worker waits on it
        self._has_room = threading.Condition(self._lock)  # a full queue's producers
        self._idle = threading.Condition(self._lock)  # flushes
        self._flushes = 0
        self._exporting = False
        self._worker = threading.Thread(target=self._run, name="liveeval-spans", daemon=True)
        self._worker.start()

    def _after_fork(self) -> None:
        """In a forked child: an empty queue and a worker of its own."""
        self._queue.clear()
        if not self._stopping:
            self._start_worker()

    def stats(self) -> SpanQueueStats:
        with self._lock:
            return SpanQueueStats(**self._counts, waited_s=self._waited)

    def on_end(self, span: ReadableSpan) -> None:
        context = span.context
        if context is None or not context.trace_flags.sampled:
            return
        queue = self._queue
        with self._lock:
            if self._stopping:
                self._counts["dropped"] += 1
                return
            if len(queue) >= self._max_queue:
                self._make_room()
            queue.append(span)
            self._counts["queued"] += 1
            if len(queue) == self._batch_size:
                self._has_work.notify()

    def _make_room(self) -> None:
        """With the lock held and the queue full: wait for the worker, else drop the oldest."""
        if not self._stalled and self._max_block > 0:
            self._has_work.notify()
            self._counts["waits"] += 1
            started = time.monotonic()
            room = self._has_room.wait_for(
                lambda: len(self._queue) < self._max_queue or self._stopping, self._max_block
            )
            self._waited += time.monotonic() - started
            if not room:
                self._stalled = True
                log.warning(
                    "liveeval: span export is stalled (the queue of %d stayed full for %.1f s); "
                    "dropping the oldest spans until an export succeeds",
                    self._max_queue,
                    self._max_block,
                )
        if len(self._queue) >= self._max_queue:
            self._queue.popleft()
            self._counts["dropped"] += 1

    def _run(self) -> None:
        attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))  # the export's HTTP call
        while True:
            with self._lock:
                self._has_work.wait_for(self._batch_ready, self._schedule_delay)
                if self._stopping and not self._queue:
                    self._idle.notify_all()
                    return
                count = min(len(self._queue), self._batch_size)
                batch = [self._queue.popleft() for _ in range(count)]
                self._exporting = bool(batch)
                if batch:
                    self._has_room.notify_all()
                else:
                    self._idle.notify_all()
            if batch:
                self._export(batch)

    def _batch_ready(self) -> bool:
        queued = len(self._queue)
        return queued >= self._batch_size or self._stopping or (self._flushes > 0 and queued > 0)

    def _export(self, batch: list[ReadableSpan]) -> None:
        try:
            ok = self._exporter.export(batch) is SpanExportResult.SUCCESS
        except Exception:
            log.exception("liveeval: exporting %d spans failed", len(batch))
            ok = False
        with self._lock:
            self._counts["exported" if ok else "failed"] += len(batch)
            self._stalled = not ok
            self._exporting = False
            if not self._queue:
                self._idle.notify_all()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Wait until every span queued so far is exported; False on timeout."""
        with self._lock:
            if self._stopping or not self._worker.is_alive():
                return not self._queue
            self._flushes += 1
            try:
                self._has_work.notify()
                return self._idle.wait_for(
                    lambda: not self._queue and not self._exporting, timeout_millis / 1000
                )
            finally:
                self._flushes -= 1

    def shutdown(self) -> None:
        """Export what is queued (up to 30 s), stop the worker and the exporter."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            self._has_work.notify_all()
            self._has_room.notify_all()
        self._worker.join(30)
        self._exporter.shutdown()
