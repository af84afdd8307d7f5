"""A small real HTTP server standing in for liveeval's signal endpoints (the transport
boundary): it records every post and answers from a script, so tests can make it fail."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from liveeval.sdk import SignalClient

BOUND = 10.0  # seconds: the longest any test waits for something that should happen


@dataclass
class Post:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    hang_up: bool = False  # close the connection without answering


class SignalServer:
    """Answers the next posts from `script`, then 201; refuses (422) signals `refuse` picks.
    While `release` is clear, a post waits (recorded first) until it is set."""

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self.accepted: list[dict[str, Any]] = []
        self.script: deque[Answer] = deque()
        self.refuse: Callable[[dict[str, Any]], bool] = lambda signal: False
        self.release = threading.Event()
        self.release.set()
        self.changed = threading.Condition()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._http.daemon_threads = True
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self.release.set()
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(BOUND)

    def wait_for(self, condition: Callable[[], bool]) -> bool:
        with self.changed:
            return self.changed.wait_for(condition, BOUND)

    def received_keys(self) -> list[str]:
        return [signal["idempotency_key"] for signal in self.accepted]

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[Answer, Any]:
        if path.startswith("/v1/"):  # OTLP: recorded, answered with an empty success
            with self.changed:
                self.posts.append(Post(path, headers, raw))
            return Answer(200), None
        body = json.loads(raw)
        with self.changed:
            self.posts.append(Post(path, headers, body))
            self.changed.notify_all()
        self.release.wait(BOUND)
        with self.changed:
            answer = self.script.popleft() if self.script else None
            signals = body["signals"] if path.endswith("/batch") else [body]
            if answer is None:
                refused = [s for s in signals if self.refuse(s)]
                answer = Answer(422) if refused else Answer(201)
            if answer.status == 201:
                self.accepted.extend(signals)
            self.changed.notify_all()
        results = [
            {"signal_id": i, "interaction_id": None, "attached": True, "duplicate": False}
            for i, _ in enumerate(signals)
        ]
        payload: Any = results if path.endswith("/batch") else results[0]
        if answer.status != 201:
            payload = {"detail": f"refused with {answer.status}"}
        return answer, payload


def _handler(server: SignalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            answer, payload = server.handle(self.path, headers, raw)
            if answer.hang_up:
                self.close_connection = True
                return
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def server() -> Iterator[SignalServer]:
    server = SignalServer()
    server.start()
    yield server
    server.close()


@pytest.fixture
def make_client() -> Iterator[Callable[..., SignalClient]]:
    """Clients that are shut down after the test; quick retries unless told otherwise."""
    clients: list[SignalClient] = []

    def make(endpoint: str, **options: Any) -> SignalClient:
        options.setdefault("backoff", 0.01)
        options.setdefault("max_backoff", 0.05)
        client = SignalClient(endpoint, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.shutdown(timeout=BOUND)


def dead_endpoint() -> str:
    """A local address where nothing listens."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def sdk_state() -> Iterator[None]:
    """Undo what `setup()` does to the SDK's module state (never to OpenTelemetry's global
    providers: tests call setup with set_global=False)."""
    from liveeval.sdk import client as client_module
    from liveeval.sdk import tracing

    default = client_module.default_client()
    config = default.config
    yield
    default.configure(config)
    for provider in (tracing.get_tracer_provider(), tracing.get_logger_provider()):
        if provider is not None:
            provider.shutdown()
    tracing._current.tracer_provider = None
    tracing._current.logger_provider = None
