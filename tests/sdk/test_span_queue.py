import threading
from collections.abc import Sequence

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

import liveeval.sdk as le
from liveeval.sdk import SpanQueue, tracing
from tests.sdk.conftest import BOUND, SignalServer


class HeldExporter(SpanExporter):
    """Exports nothing until `release` is set; remembers the batches it was given."""

    def __init__(self, result: SpanExportResult = SpanExportResult.SUCCESS) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.batches: list[int] = []
        self.result = result

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.started.set()
        self.release.wait(BOUND)
        self.batches.append(len(spans))
        return self.result


def provider_with(queue: SpanQueue) -> TracerProvider:
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(queue)
    return provider


def spans_received(server: SignalServer) -> int:
    total = 0
    for post in server.posts:
        if post.path == "/v1/traces":
            request = ExportTraceServiceRequest.FromString(post.body)
            total += sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
    return total


def test_a_burst_through_the_real_exporter_arrives_whole(server: SignalServer) -> None:
    exporter = OTLPSpanExporter(endpoint=f"{server.url}/v1/traces")
    queue = SpanQueue(exporter, max_queue=100, batch_size=50)
    provider = provider_with(queue)
    for n in range(5000):
        with le.llm_call("m", input_messages=f"question {n}", tracer_provider=provider) as call:
            call.set_output(f"answer {n}", input_tokens=3, output_tokens=2)
    assert queue.force_flush()
    provider.shutdown()
    stats = queue.stats()
    assert spans_received(server) == 5000
    assert (stats.queued, stats.exported, stats.dropped, stats.failed) == (5000, 5000, 0, 0)
    assert stats.waits > 0  # a queue of 100 forced the app to wait for the exporter


def test_a_stalled_export_makes_the_app_wait_once_then_drops_the_oldest() -> None:
    exporter = HeldExporter()
    queue = SpanQueue(exporter, max_queue=4, batch_size=2, max_block=0.05)
    tracer = provider_with(queue).get_tracer("test")
    for _ in range(2):
        tracer.start_span("first").end()
    assert exporter.started.wait(BOUND)  # the worker holds the first batch of 2
    for _ in range(10):
        tracer.start_span("more").end()
    stats = queue.stats()
    assert stats.waits == 1
    assert stats.waited_s >= 0.05
    assert stats.dropped == 6  # 10 more into a queue of 4, without waiting again
    exporter.release.set()
    assert queue.force_flush()
    assert exporter.batches == [2, 2, 2]
    assert queue.stats().exported == 6
    queue.shutdown()


def test_a_failed_export_stops_the_waiting_until_one_succeeds() -> None:
    exporter = HeldExporter(SpanExportResult.FAILURE)
    exporter.release.set()
    queue = SpanQueue(exporter, max_queue=2, batch_size=2, max_block=BOUND)
    tracer = provider_with(queue).get_tracer("test")
    for _ in range(2):
        tracer.start_span("lost").end()
    assert queue.force_flush()
    assert queue.stats().failed == 2
    exporter.release.clear()
    exporter.started.clear()
    for _ in range(2):
        tracer.start_span("held").end()
    assert exporter.started.wait(BOUND)
    for _ in range(3):  # a full queue after a failure: dropped at once, no wait of BOUND s
        tracer.start_span("more").end()
    assert queue.stats().waits == 0
    assert queue.stats().dropped == 1
    exporter.release.set()
    queue.shutdown()


def test_flush_exports_a_partial_batch_and_shutdown_drops_later_spans() -> None:
    exporter = HeldExporter()
    exporter.release.set()
    queue = SpanQueue(exporter, batch_size=512, schedule_delay=60)
    tracer = provider_with(queue).get_tracer("test")
    for _ in range(3):
        tracer.start_span("s").end()
    assert queue.force_flush(timeout_millis=int(BOUND * 1000))
    assert exporter.batches == [3]
    queue.shutdown()
    tracer.start_span("late").end()
    assert queue.stats().dropped == 1


def test_setup_batches_spans_in_a_span_queue_of_the_size_asked(
    server: SignalServer, sdk_state: None
) -> None:
    provider = le.setup(server.url, set_global=False, max_queue=10, max_block=1.0)
    for _ in range(30):
        with le.llm_call("m", tracer_provider=provider):
            pass
    assert le.flush(BOUND)
    stats = le.span_stats()
    assert stats is not None
    assert (stats.queued, stats.exported, stats.dropped) == (30, 30, 0)
    assert spans_received(server) == 30
    assert tracing._current.span_queue is not None
