"""The SDK's Router against a small real HTTP server that publishes a task's policy (the
transport boundary): fallback before a snapshot, ETag revalidation, the last snapshot kept
when the server fails, stickiness, and the route span."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from liveeval.routing.snapshot import SliceDecision, Snapshot
from liveeval.sdk import ArmSpec, Router, llm_call
from liveeval.sdk.router import decision_attributes
from tests.conftest import wait_for
from tests.sdk.conftest import BOUND, dead_endpoint

TASK = "support_answer"
ARMS = ("small", "large")


def snapshot(version: int, large: float, *, sticky: bool = True) -> Snapshot:
    by_language = {"language=de": SliceDecision("language=de", (0.0, 1.0))}
    return Snapshot(
        task=TASK,
        policy_version=version,
        arms=ARMS,
        default="small",
        dimensions=("language",),
        sticky=sticky,
        created_at=datetime(2026, 12, 7, tzinfo=UTC),
        slices={"*": SliceDecision("*", (1.0 - large, large)), **by_language},
    )


class PolicyServer:
    """Publishes `policy` at /api/v1/routing/support_answer/policy with its version as the
    ETag; answers `status` instead while it is set; records each request's headers."""

    def __init__(self, policy: Snapshot) -> None:
        self.policy = policy
        self.status: int | None = None
        self.body = b""
        self.requests: list[tuple[str, dict[str, str], int]] = []
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._http.daemon_threads = True
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if self.status is not None:
            status, extra, body = self.status, {}, self.body
        elif path != f"/api/v1/routing/{TASK}/policy":
            status, extra, body = 404, {}, b'{"detail": "no routing task"}'
        else:
            etag = f'"{self.policy.policy_version}"'
            if headers.get("if-none-match") == etag:
                status, extra, body = 304, {"etag": etag}, b""
            else:
                status, extra, body = 200, {"etag": etag}, self.policy.to_json().encode()
        self.requests.append((path, headers, status))
        return status, extra, body

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(BOUND)


def _handler(server: PolicyServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, extra, body = server.answer(self.path, headers)
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def policy_server() -> Iterator[PolicyServer]:
    server = PolicyServer(snapshot(3, large=1.0))
    yield server
    server.close()


def router(server: str, **options: Any) -> Router:
    options.setdefault("start", False)
    return Router(TASK, default="small", server=server, **options)


def test_before_any_snapshot_the_default_arm_is_served_with_probability_one() -> None:
    routed = router(dead_endpoint())
    assert routed.refresh() is False
    choice = routed.choose({"language": "de"})
    assert (choice.task, choice.arm, choice.probability) == (TASK, "small", 1.0)
    assert (choice.policy_version, choice.slice_key) == (0, "*")
    assert len(choice.decision_id) == 32 and int(choice.decision_id, 16) >= 0
    assert routed.choose({}).decision_id != choice.decision_id


def test_a_fetched_snapshot_decides_by_the_contexts_slice(policy_server: PolicyServer) -> None:
    policy_server.policy = snapshot(3, large=0.0)
    routed = router(policy_server.url)
    assert routed.refresh()
    assert routed.choose({"language": "fr"}).arm == "small"
    german = routed.choose({"language": "de"})
    assert (german.arm, german.probability, german.slice_key) == ("large", 1.0, "language=de")
    assert german.policy_version == 3


def test_a_304_keeps_the_snapshot_and_a_new_version_replaces_it(
    policy_server: PolicyServer,
) -> None:
    routed = router(policy_server.url)
    assert routed.refresh() and routed.refresh()
    first, second = policy_server.requests
    assert "if-none-match" not in first[1] and first[2] == 200
    assert second[1]["if-none-match"] == '"3"' and second[2] == 304
    assert routed.snapshot is not None and routed.snapshot.policy_version == 3
    policy_server.policy = snapshot(4, large=0.0)
    assert routed.refresh()
    assert policy_server.requests[-1][2] == 200
    assert routed.choose({}).arm == "small" and routed.choose({}).policy_version == 4


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, b"boom"), (404, b'{"detail": "no routing task"}'), (200, b'{"format": 99}')],
)
def test_an_error_answer_keeps_the_last_snapshot(
    policy_server: PolicyServer, status: int, body: bytes
) -> None:
    routed = router(policy_server.url)
    assert routed.refresh()
    policy_server.status, policy_server.body = status, body
    assert routed.refresh() is False
    choice = routed.choose({})
    assert (choice.arm, choice.policy_version) == ("large", 3)


def test_the_last_snapshot_is_kept_when_the_server_dies(policy_server: PolicyServer) -> None:
    routed = router(policy_server.url)
    assert routed.refresh()
    policy_server.close()
    assert routed.refresh() is False
    assert routed.choose({}).arm == "large"


def test_past_max_stale_s_without_the_server_the_default_arm_is_served(
    policy_server: PolicyServer,
) -> None:
    now = [100.0]
    routed = router(policy_server.url, refresh_s=1.0, max_stale_s=60.0, clock=lambda: now[0])
    assert routed.refresh()
    policy_server.close()
    now[0] += 59.0
    assert routed.refresh() is False
    assert routed.choose({}).arm == "large"  # the last snapshot, still fresh enough
    now[0] += 2.0
    choice = routed.choose({"language": "de"})
    assert (choice.arm, choice.probability, choice.policy_version) == ("small", 1.0, 0)
    assert routed.snapshot is None


def test_a_confirmation_of_the_snapshot_keeps_it_fresh(policy_server: PolicyServer) -> None:
    now = [0.0]
    routed = router(policy_server.url, refresh_s=1.0, max_stale_s=60.0, clock=lambda: now[0])
    for _ in range(5):  # 304s, each restarting the 60 s
        now[0] += 50.0
        assert routed.refresh()
        assert routed.choose({}).arm == "large"


def test_max_stale_s_below_refresh_s_is_refused() -> None:
    with pytest.raises(ValueError, match="max_stale_s must be at least refresh_s"):
        router(dead_endpoint(), refresh_s=30.0, max_stale_s=10.0)


def test_a_snapshot_naming_an_arm_the_app_lacks_is_refused(policy_server: PolicyServer) -> None:
    routed = router(policy_server.url, arms={"small": ArmSpec("gpt-4o-mini")})
    assert routed.refresh() is False
    assert routed.snapshot is None and routed.choose({}).arm == "small"


def test_a_session_keeps_its_arm_and_sessions_spread_over_the_arms(
    policy_server: PolicyServer,
) -> None:
    policy_server.policy = snapshot(5, large=0.5)
    routed = router(policy_server.url)
    assert routed.refresh()
    for session in ("s-1", "s-2", "s-3"):
        arms = {routed.choose({}, session_id=session).arm for _ in range(50)}
        assert len(arms) == 1
    by_session = {routed.choose({}, session_id=f"s-{i}").arm for i in range(200)}
    assert by_session == set(ARMS)


def test_without_stickiness_a_session_gets_fresh_draws(policy_server: PolicyServer) -> None:
    policy_server.policy = snapshot(5, large=0.5, sticky=False)
    routed = router(policy_server.url)
    assert routed.refresh()
    assert {routed.choose({}, session_id="s-1").arm for _ in range(200)} == set(ARMS)


def test_the_refresh_thread_follows_the_policy_and_stops_on_close(
    policy_server: PolicyServer,
) -> None:
    routed = router(policy_server.url, refresh_s=0.02, start=True)
    try:
        wait_for(lambda: routed.snapshot is not None, BOUND)
        policy_server.policy = snapshot(9, large=0.0)
        wait_for(lambda: routed.choose({}).policy_version == 9, BOUND)
    finally:
        routed.close()
    seen = len(policy_server.requests)
    assert routed.choose({}).arm == "small"
    threading.Event().wait(0.1)
    assert len(policy_server.requests) == seen


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_keeps_the_snapshot_and_refreshes_with_its_own_thread(
    policy_server: PolicyServer,
) -> None:
    script = f"""
import os, sys, threading
from liveeval.sdk import Router
router = Router({TASK!r}, default="small", server={policy_server.url!r}, refresh_s=3600)
while router.snapshot is None:
    threading.Event().wait(0.01)
pid = os.fork()
if pid == 0:
    ok = router.choose({{}}).policy_version == 3
    sys.stdin.read()  # until the test saw the child's own request
    os._exit(0 if ok else 1)
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0
"""
    child = subprocess.Popen(
        [sys.executable, "-W", "error", "-c", script],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: len(policy_server.requests) == 2, BOUND)
    finally:
        _, stderr = child.communicate("", timeout=60)
    assert child.returncode == 0, stderr
    first, second = policy_server.requests
    assert (first[2], second[2], second[1]["if-none-match"]) == (200, 304, '"3"')


def test_the_policy_request_carries_the_key_and_the_project(policy_server: PolicyServer) -> None:
    routed = router(policy_server.url, api_key="le_secret", project="support-bot")
    assert routed.refresh()
    headers = policy_server.requests[0][1]
    assert headers["authorization"] == "Bearer le_secret"
    assert headers["x-liveeval-project"] == "support-bot"


def test_a_context_must_map_str_to_str() -> None:
    routed = router(dead_endpoint())
    with pytest.raises(ValueError, match="str to str"):
        routed.choose({"language": 3})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="mapping"):
        routed.choose(["de"])  # type: ignore[arg-type]


@pytest.mark.parametrize("ids", [{"goal_id": ""}, {"session_id": "s" * 201}, {"goal_id": 7}])
def test_route_refuses_ids_the_server_could_not_record(ids: dict[str, Any]) -> None:
    routed = router(dead_endpoint())
    with pytest.raises(ValueError, match="1 to 200 characters"), routed.route({}, **ids):
        pass


def test_a_default_outside_the_arms_is_refused() -> None:
    with pytest.raises(ValueError, match="default 'tiny'"):
        Router(TASK, default="tiny", arms={"small": ArmSpec("gpt-4o-mini")}, start=False)


def test_route_records_the_decision_on_a_span_around_the_llm_call(
    policy_server: PolicyServer,
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    arms = {"small": ArmSpec("gpt-4o-mini"), "large": ArmSpec("gpt-4o", params={"t": 0})}
    routed = router(policy_server.url, arms=arms, tracer_provider=provider)
    assert routed.refresh()
    context = {"language": "de", "segment": "pro"}
    with routed.route(context, session_id="s-1", goal_id="g-1") as choice:
        model = routed.arm(choice).model
        with llm_call(model, tracer_provider=provider):
            pass
    llm, route = exporter.get_finished_spans()
    provider.shutdown()
    assert (route.name, route.kind) == (f"route {TASK}", SpanKind.INTERNAL)
    assert dict(route.attributes or {}) == {
        "liveeval.routing.task": TASK,
        "liveeval.routing.arm": "large",
        "liveeval.routing.probability": 1.0,
        "liveeval.routing.policy_version": 3,
        "liveeval.routing.decision_id": choice.decision_id,
        "liveeval.routing.slice": "language=de",
        "liveeval.routing.session_id": "s-1",
        "liveeval.routing.goal_id": "g-1",
        "liveeval.routing.context.language": "de",
        "liveeval.routing.context.segment": "pro",
    }
    assert llm.parent is not None and route.context is not None
    assert llm.parent.span_id == route.context.span_id
    assert llm.context is not None and llm.context.trace_id == route.context.trace_id
    assert dict(llm.attributes or {})["gen_ai.request.model"] == "gpt-4o"


def test_the_sdk_routes_without_the_servers_learning_stack() -> None:
    script = (
        "import sys, liveeval.sdk\n"
        "heavy = ('numpy', 'scipy', 'pydantic', 'liveeval.routing.policy', 'liveeval.stats')\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith(heavy))))"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_route_without_tracing_says_once_that_decisions_are_not_recorded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from opentelemetry.trace import NoOpTracerProvider

    routed = router(dead_endpoint(), tracer_provider=NoOpTracerProvider())
    for _ in range(3):
        with routed.route({}) as choice:
            assert choice.arm == "small"
    warnings = [r.getMessage() for r in caplog.records if "not recorded" in r.getMessage()]
    assert warnings == [
        "liveeval: routing decisions of 'support_answer' are not recorded: no tracer "
        "provider (call setup() or pass tracer_provider)"
    ]


def test_decision_attributes_leave_out_what_was_not_given() -> None:
    choice = router(dead_endpoint()).choose({})
    attributes = decision_attributes(choice, {})
    assert sorted(attributes) == sorted(
        f"liveeval.routing.{name}"
        for name in ("task", "arm", "probability", "policy_version", "decision_id", "slice")
    )
    assert json.dumps(attributes)
