import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from liveeval.sdk import ClientConfig, SignalClient, feedback, signal
from liveeval.sdk.client import parse_retry_after, retry_delay
from tests.sdk.conftest import BOUND, Answer, SignalServer, dead_endpoint

TRACE = "0af7651916cd43dd8448eb211c80319c"
MakeClient = Callable[..., SignalClient]


def thumbs_up(client: SignalClient, **metadata: object) -> str:
    key = feedback("thumbs_up", trace_id=TRACE, metadata=metadata or None, client=client)
    assert key is not None
    return key


def hold_after_first_post(server: SignalServer, client: SignalClient) -> str:
    """Queue one signal and wait until its post is at the server, which holds it, so the
    next signals pile up in the queue."""
    server.release.clear()
    key = thumbs_up(client)
    assert server.wait_for(lambda: len(server.posts) == 1)
    return key


def test_signals_are_posted_in_batches_with_the_key_and_the_project(
    server: SignalServer, make_client: MakeClient
) -> None:
    client = make_client(server.url, api_key="le_secret", project="support-bot")
    first = hold_after_first_post(server, client)
    keys = [thumbs_up(client) for _ in range(250)]
    server.release.set()
    assert client.flush(BOUND)
    assert server.received_keys() == [first, *keys]
    assert [len(post.body["signals"]) for post in server.posts] == [1, 100, 100, 50]
    for post in server.posts:
        assert post.path == "/api/v1/signals/batch"
        assert post.headers["authorization"] == "Bearer le_secret"
        assert post.headers["x-liveeval-project"] == "support-bot"
        assert post.headers["content-type"] == "application/json"
    assert client.stats().sent == 251


def test_without_key_or_project_no_such_headers_are_sent(
    server: SignalServer, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LIVEEVAL_API_KEY", raising=False)
    monkeypatch.delenv("LIVEEVAL_PROJECT", raising=False)
    client = make_client(server.url)
    thumbs_up(client)
    assert client.flush(BOUND)
    (post,) = server.posts
    assert "authorization" not in post.headers
    assert "x-liveeval-project" not in post.headers


def test_a_503_is_retried_with_the_same_idempotency_key_until_it_succeeds(
    server: SignalServer, make_client: MakeClient
) -> None:
    server.script.extend([Answer(503), Answer(503)])
    client = make_client(server.url)
    key = thumbs_up(client)
    assert client.flush(BOUND)
    assert len(server.posts) == 3
    assert all(post.body == server.posts[0].body for post in server.posts)
    assert server.received_keys() == [key]
    assert client.stats().sent == 1


def test_a_dropped_connection_is_retried(server: SignalServer, make_client: MakeClient) -> None:
    server.script.append(Answer(0, hang_up=True))
    client = make_client(server.url)
    key = thumbs_up(client)
    assert client.flush(BOUND)
    assert len(server.posts) == 2
    assert server.received_keys() == [key]


def test_retry_after_wins_over_the_backoff(server: SignalServer, make_client: MakeClient) -> None:
    # With this backoff the retry would come after 30 s or more; Retry-After says now.
    server.script.append(Answer(429, {"Retry-After": "0"}))
    client = make_client(server.url, backoff=60.0, max_backoff=60.0)
    key = thumbs_up(client)
    assert client.flush(BOUND)
    assert server.received_keys() == [key]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
def test_a_4xx_is_not_retried(
    server: SignalServer, make_client: MakeClient, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    server.script.append(Answer(status))
    client = make_client(server.url)
    thumbs_up(client)
    assert client.flush(BOUND)
    assert len(server.posts) == 1
    assert client.stats().rejected == 1
    assert f"with {status}" in caplog.text


def test_a_refused_batch_is_resent_one_by_one_and_only_the_bad_signal_is_dropped(
    server: SignalServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    server.refuse = lambda s: bool(s.get("metadata", {}).get("bad"))
    client = make_client(server.url)
    first = hold_after_first_post(server, client)
    good = [thumbs_up(client), thumbs_up(client, bad=True), thumbs_up(client)]
    server.release.set()
    assert client.flush(BOUND)
    assert [post.path for post in server.posts] == [
        "/api/v1/signals/batch",
        "/api/v1/signals/batch",
        "/api/v1/signals",
        "/api/v1/signals",
        "/api/v1/signals",
    ]
    assert server.received_keys() == [first, good[0], good[2]]
    assert [post.body["idempotency_key"] for post in server.posts[2:]] == good
    stats = client.stats()
    assert (stats.sent, stats.rejected) == (3, 1)
    assert "refused 1 signal(s) (thumbs_up) with 422" in caplog.text


def test_a_full_queue_drops_the_oldest_signal_and_counts_it(
    server: SignalServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(server.url, max_queue=2)
    first = hold_after_first_post(server, client)
    oldest, *kept = [thumbs_up(client) for _ in range(3)]
    server.release.set()
    assert client.flush(BOUND)
    assert server.received_keys() == [first, *kept]
    assert oldest not in server.received_keys()
    assert client.stats().dropped == 1
    assert "queue full" in caplog.text


def test_queuing_returns_while_the_server_still_holds_the_post(
    server: SignalServer, make_client: MakeClient
) -> None:
    client = make_client(server.url)
    hold_after_first_post(server, client)
    for _ in range(10):
        thumbs_up(client)
    assert not server.accepted  # nothing was answered: queuing did not wait on the network
    assert not client.flush(0.05)
    server.release.set()
    assert client.flush(BOUND)
    assert len(server.accepted) == 11


def test_a_dead_endpoint_is_retried_then_given_up_without_raising(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(dead_endpoint(), max_retries=2)
    assert thumbs_up(client)
    assert client.flush(BOUND)
    assert client.stats().failed == 1
    assert "gave up sending 1 signals" in caplog.text


def test_configure_points_later_posts_at_a_new_endpoint(
    server: SignalServer, make_client: MakeClient
) -> None:
    client = make_client(dead_endpoint(), max_retries=0)
    client.configure(ClientConfig(endpoint=server.url, api_key="k2", project="p2"))
    key = thumbs_up(client)
    assert client.flush(BOUND)
    assert server.received_keys() == [key]
    assert server.posts[0].headers["authorization"] == "Bearer k2"


def test_after_shutdown_signals_are_dropped(
    server: SignalServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(server.url)
    thumbs_up(client)
    client.shutdown(BOUND)
    assert len(server.accepted) == 1
    assert signal("abandoned", trace_id=TRACE, client=client) is None
    assert "shut down" in caplog.text
    assert client.flush(0.01)


def test_a_signal_queued_just_before_exit_is_sent(server: SignalServer) -> None:
    script = (
        "import liveeval.sdk as le\n"
        f"assert le.signal('outcome', trace_id={TRACE!r}, success=True)\n"
    )
    env = {**os.environ, "LIVEEVAL_ENDPOINT": server.url, "LIVEEVAL_PROJECT": "exit-test"}
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert [s["kind"] for s in server.accepted] == ["outcome"]
    assert server.posts[0].headers["x-liveeval-project"] == "exit-test"


def test_retry_delays_grow_exponentially_up_to_the_cap() -> None:
    delays = [retry_delay(n, None, 0.5, 4.0, jitter=lambda: 1.0) for n in range(6)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert retry_delay(1, None, 0.5, 4.0, jitter=lambda: 0.0) == 0.5


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    now = datetime(2026, 1, 31, 12, 0, tzinfo=UTC).timestamp()
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Sat, 31 Jan 2026 12:00:07 GMT", now=lambda: now) == 7.0
    assert parse_retry_after("Sat, 31 Jan 2026 11:00:00 GMT", now=lambda: now) == 0.0
    assert parse_retry_after("soon") is None
    assert retry_delay(0, "2", 0.5, 30.0) == 2.0
    assert retry_delay(0, "86400", 0.5, 30.0) == 60.0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_sends_with_its_own_thread(server: SignalServer) -> None:
    script = f"""
import os
from liveeval.sdk import SignalClient, feedback
client = SignalClient({server.url!r})
assert feedback("thumbs_up", trace_id={TRACE!r}, metadata={{"from": "parent"}}, client=client)
assert client.flush(10)
pid = os.fork()
if pid == 0:
    feedback("thumbs_up", trace_id={TRACE!r}, metadata={{"from": "child"}}, client=client)
    os._exit(0 if client.flush(10) else 1)
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0
"""
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert [s["metadata"]["from"] for s in server.accepted] == ["parent", "child"]
