import os
import subprocess
import sys

import pytest

import liveeval.sdk as le
from liveeval.sdk import ClientConfig
from tests.sdk.conftest import BOUND, SignalServer

DEAD = "http://127.0.0.1:9"


def service_name(provider: object) -> object:
    return provider.resource.attributes["service.name"]  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def no_liveeval_env(monkeypatch: pytest.MonkeyPatch, sdk_state: None) -> None:
    for name in ("LIVEEVAL_ENDPOINT", "LIVEEVAL_API_KEY", "LIVEEVAL_PROJECT", "OTEL_SERVICE_NAME"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("arguments", "env", "expected"),
    [
        ({"project": "bot", "service_name": "svc"}, {"OTEL_SERVICE_NAME": "env"}, "bot"),
        ({"service_name": "svc"}, {"OTEL_SERVICE_NAME": "env"}, "svc"),
        ({"resource_attributes": {"service.name": "attr"}}, {"OTEL_SERVICE_NAME": "env"}, "attr"),
        ({}, {"OTEL_SERVICE_NAME": "env"}, "env"),
        ({}, {"LIVEEVAL_PROJECT": "from-env"}, "from-env"),
        ({}, {}, "default"),
    ],
)
def test_the_service_name_is_the_project_first(
    arguments: dict[str, object],
    env: dict[str, str],
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    provider = le.setup(DEAD, set_global=False, **arguments)  # type: ignore[arg-type]
    assert service_name(provider) == expected


def test_resource_attributes_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    provider = le.setup(
        DEAD, set_global=False, resource_attributes={"deployment.environment": "prod"}
    )
    assert provider.resource.attributes["deployment.environment"] == "prod"


def test_setup_points_the_signal_client_at_the_same_server() -> None:
    le.setup("http://liveeval.internal:7318/", project="bot", api_key="k", set_global=False)
    assert le.default_client().config == ClientConfig(
        endpoint="http://liveeval.internal:7318", api_key="k", project="bot"
    )


def test_setup_falls_back_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEEVAL_ENDPOINT", "http://from-env:1")
    monkeypatch.setenv("LIVEEVAL_API_KEY", "env-key")
    monkeypatch.setenv("LIVEEVAL_PROJECT", "env-project")
    le.setup(set_global=False)
    assert le.default_client().config == ClientConfig(
        endpoint="http://from-env:1", api_key="env-key", project="env-project"
    )


def test_a_second_setup_replaces_the_providers_llm_call_uses(server: SignalServer) -> None:
    first = le.setup(DEAD, project="first", set_global=False)
    second = le.setup(server.url, project="second", set_global=False)
    assert le.get_tracer_provider() is second is not first
    with le.llm_call("m") as call:
        pass
    assert service_name(call.span) == "second"
    assert le.flush(BOUND)
    assert [post.path for post in server.posts] == ["/v1/traces"]
    assert server.posts[0].headers["content-type"] == "application/x-protobuf"


GLOBALS_TWICE = """
import logging
from opentelemetry import _logs, trace
import liveeval.sdk as le

logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
first = le.setup("http://127.0.0.1:9", project="first")
assert trace.get_tracer_provider() is first
assert _logs.get_logger_provider() is le.get_logger_provider()
second = le.setup("http://127.0.0.1:9", project="second")
assert trace.get_tracer_provider() is first
assert le.get_tracer_provider() is second
assert le.default_client().config.project == "second"
print("ok")
"""


def test_a_second_global_setup_warns_and_keeps_the_first_global_provider() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEEVAL_", "OTEL_"))}
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", GLOBALS_TWICE],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert "liveeval.sdk.tracing: liveeval: a global OpenTelemetry TracerProvider" in done.stderr
    assert "LoggerProvider was already set" in done.stderr
