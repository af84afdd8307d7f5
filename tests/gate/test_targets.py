"""Targets against real things: a real HTTP server, a real module on sys.path, real processes.

The OpenAI-compatible endpoint is the scripted API of tests/judge/api.py served by
uvicorn on a loopback port. Retry waits go through a recording sleep, so nothing here
waits for backoff; the timeout tests wait for their (short) timeouts.
"""

from __future__ import annotations

import json
import shlex
import socket
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from liveeval.gate.targets import (
    CommandTarget,
    OpenAITarget,
    PythonTarget,
    Reply,
    Target,
    TargetError,
    call_with_retries,
    parse_target,
)
from liveeval.model.case import CaseInput, ChatMessage
from tests.judge.api import Reply as ScriptedReply
from tests.judge.api import ScriptedAPI, chat_reply, error_reply

pytestmark = pytest.mark.anyio

TEXT = CaseInput(text="Wie lange dauert die Erstattung? 返金", context=("Refunds take 5 days.",))
CHAT = CaseInput(
    messages=(
        ChatMessage(role="system", content="Be brief."),
        ChatMessage(role="user", content="Refund time?"),
    ),
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Sleeps:
    """A sleep that records how long it was asked to wait, and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def openai_target(api: ScriptedAPI, **options: object) -> Target:
    return parse_target(f"openai:{api.url}/v1", model="support-bot", **options)  # type: ignore[arg-type]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- openai ---------------------------------------------------------------------------


async def test_openai_sends_the_text_as_one_user_message_without_the_context(
    api: ScriptedAPI,
) -> None:
    api.script(chat_reply("Fünf Tage. 五日", model="support-bot-2026-01-01"))
    target = openai_target(
        api, headers={"X-Team": "support"}, api_key_env="APP_KEY", environ={"APP_KEY": "sk-1"}
    )
    try:
        reply = await target(TEXT)
    finally:
        await target.aclose()
    assert reply.output == "Fünf Tage. 五日"
    assert reply.model == "support-bot-2026-01-01"
    assert reply.latency_ms > 0
    [sent] = api.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.body == {
        "model": "support-bot",
        "messages": [{"role": "user", "content": TEXT.text}],
    }
    assert "Refunds take 5 days" not in json.dumps(sent.body)
    assert sent.headers["authorization"] == "Bearer sk-1"
    assert sent.headers["x-team"] == "support"
    assert target.name == f"openai:{api.url}/v1"


async def test_openai_sends_the_case_messages_without_the_frozen_system_prompt(
    api: ScriptedAPI,
) -> None:
    api.script(chat_reply("Five days."))
    target = openai_target(api)
    try:
        await target(CHAT)
    finally:
        await target.aclose()
    assert api.requests[0].body["messages"] == [{"role": "user", "content": "Refund time?"}]
    assert "authorization" not in api.requests[0].headers


async def test_openai_keeps_the_system_prompt_when_asked(api: ScriptedAPI) -> None:
    api.script(chat_reply("Five days."))
    target = openai_target(api, keep_system_prompt=True)
    try:
        await target(CHAT)
    finally:
        await target.aclose()
    assert api.requests[0].body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Refund time?"},
    ]


async def test_openai_503_then_200_is_retried(api: ScriptedAPI) -> None:
    api.script(error_reply(503), chat_reply("Five days."))
    sleeps = Sleeps()
    target = openai_target(api)
    try:
        reply = await call_with_retries(target, TEXT, attempts=3, base_delay_s=0.5, sleep=sleeps)
    finally:
        await target.aclose()
    assert reply.output == "Five days."
    assert len(api.requests) == 2
    [wait] = sleeps.waits
    assert 0.25 <= wait <= 0.5  # half of base_delay_s fixed, half jitter


async def test_openai_400_is_a_client_error_and_not_retried(api: ScriptedAPI) -> None:
    api.script(error_reply(400), chat_reply("never sent"))
    sleeps = Sleeps()
    target = openai_target(api)
    try:
        with pytest.raises(TargetError) as caught:
            await call_with_retries(target, TEXT, sleep=sleeps)
    finally:
        await target.aclose()
    assert (caught.value.kind, caught.value.transient) == ("client_error", False)
    assert "HTTP 400" in str(caught.value)
    assert len(api.requests) == 1
    assert sleeps.waits == []


async def test_openai_server_errors_give_up_after_the_attempts(api: ScriptedAPI) -> None:
    api.script(error_reply(500), error_reply(502), error_reply(500))
    target = openai_target(api)
    try:
        with pytest.raises(TargetError) as caught:
            await call_with_retries(target, TEXT, attempts=3, sleep=Sleeps())
    finally:
        await target.aclose()
    assert caught.value.kind == "server_error"
    assert caught.value.transient
    assert "The server had an error" in str(caught.value)
    assert "gave up after 3 tries" in str(caught.value)
    assert len(api.requests) == 3


async def test_openai_429_waits_for_retry_after_capped(api: ScriptedAPI) -> None:
    api.script(
        error_reply(429, {"Retry-After": "2"}),
        error_reply(429, {"Retry-After": "3600"}),
        chat_reply("ok"),
    )
    sleeps = Sleeps()
    target = openai_target(api)
    try:
        reply = await call_with_retries(target, TEXT, attempts=3, max_delay_s=20, sleep=sleeps)
    finally:
        await target.aclose()
    assert reply.output == "ok"
    assert sleeps.waits == [2.0, 20.0]


async def test_openai_timeout_is_a_transient_timeout(api: ScriptedAPI) -> None:
    api.script(ScriptedReply(body=chat_reply("late").body, delay_s=3.0))
    target = openai_target(api, timeout_s=0.3)
    started = time.monotonic()
    try:
        with pytest.raises(TargetError) as caught:
            await target(TEXT)
    finally:
        await target.aclose()
    assert (caught.value.kind, caught.value.transient) == ("timeout", True)
    assert time.monotonic() - started < 2.5


async def test_openai_connection_refused_is_a_transient_connection_error() -> None:
    target = parse_target(f"openai:http://127.0.0.1:{closed_port()}/v1", model="m")
    try:
        with pytest.raises(TargetError) as caught:
            await target(TEXT)
    finally:
        await target.aclose()
    assert (caught.value.kind, caught.value.transient) == ("connection", True)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"choices": []}, "no choices[0].message.content"),
        ({"model": "m"}, "no choices[0].message.content"),
        (
            {"choices": [{"message": {"role": "assistant", "content": None}}]},
            "content is NoneType",
        ),
    ],
)
async def test_openai_200_without_content_is_a_bad_reply_not_retried(
    api: ScriptedAPI, body: dict[str, object], says: str
) -> None:
    api.script(ScriptedReply(body=body), chat_reply("never"))
    target = openai_target(api)
    try:
        with pytest.raises(TargetError) as caught:
            await call_with_retries(target, TEXT, sleep=Sleeps())
    finally:
        await target.aclose()
    assert (caught.value.kind, caught.value.transient) == ("bad_reply", False)
    assert says in str(caught.value)
    assert len(api.requests) == 1


# --- parse_target -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "options", "says"),
    [
        ("http://localhost:8000/v1", {}, "start it with one of openai:, python:, cmd:"),
        ("grpc:localhost", {}, "start it with one of"),
        ("openai:http://localhost:8000/v1", {}, "needs a model"),
        ("openai:localhost:8000/v1", {"model": "m"}, "not an http(s) URL"),
        ("openai:ftp://host/v1", {"model": "m"}, "not an http(s) URL"),
        (
            "openai:http://localhost/v1",
            {"model": "m", "api_key_env": "NOPE", "environ": {}},
            "NOPE is not set",
        ),
        ("python:json", {}, "write python:package.module:function"),
        ("python:no_such_module_xyz:run", {}, "cannot import 'no_such_module_xyz'"),
        ("python:json:no_such_function", {}, "has no attribute 'no_such_function'"),
        ("python:json:__doc__", {}, "is str, not callable"),
        ("cmd:   ", {}, "no command after cmd:"),
        ("cmd:cat", {"model": "m"}, "model applies to openai targets only"),
        ("cmd:cat", {"timeout_s": 0}, "timeout_s must be positive"),
    ],
)
def test_a_bad_spec_is_a_value_error_saying_what_is_wrong(
    spec: str, options: dict[str, object], says: str
) -> None:
    with pytest.raises(ValueError) as caught:
        parse_target(spec, **options)  # type: ignore[arg-type]
    assert says in str(caught.value)
    assert not isinstance(caught.value, TargetError)


def test_specs_build_the_right_kind_of_target() -> None:
    assert isinstance(parse_target("openai:https://api.example.com/v1", model="m"), OpenAITarget)
    assert isinstance(parse_target("python:json:dumps"), PythonTarget)
    command = parse_target("cmd:cat -")
    assert isinstance(command, CommandTarget)
    assert command.command == "cat -"
    assert command.name == "cmd:cat -"


# --- python -----------------------------------------------------------------------------

APP = """
import asyncio
import threading

RELEASE = threading.Event()
calls = []

def answer(request):
    calls.append(request)
    return "echo: " + (request if isinstance(request, str) else request[-1]["content"])

async def answer_async(request):
    await asyncio.sleep(0)
    return {"output": "async: " + request, "model": "local-7b"}

def crash(request):
    calls.append(request)
    raise KeyError("refund_policy")

def hang(request):
    RELEASE.wait(10)
    return "too late"

def wrong_type(request):
    return 42

def no_output(request):
    return {"text": "forgot the key"}

def app_timeout(request):
    raise TimeoutError("the app's own database timed out")

def ask(question: str) -> str:
    calls.append(question)
    return "answer to " + question.lower()

def ask_future(question: "str") -> str:
    calls.append(question)
    return question.lower()

def converse(messages: list[dict[str, str]]) -> str:
    calls.append(messages)
    return str(len(messages))
"""


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A module with app functions on sys.path; its (unique) name."""
    name = f"gate_app_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    module = sys.modules.pop(name, None)
    if module is not None:
        module.RELEASE.set()


async def test_python_module_is_found_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"gate_cwd_app_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text("def answer(text):\n    return text.upper()\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    try:
        reply = await parse_target(f"python:{name}:answer")(CaseInput(text="grüße"))
    finally:
        sys.modules.pop(name, None)
    assert reply.output == "GRÜSSE"
    assert sys.path[0] == str(tmp_path)


async def test_python_sync_function_gets_the_text(app: str) -> None:
    target = parse_target(f"python:{app}:answer")
    reply = await target(TEXT)
    assert reply == Reply(output=f"echo: {TEXT.text}", latency_ms=reply.latency_ms)
    assert sys.modules[app].calls == [TEXT.text]


async def test_python_function_gets_the_messages_as_dicts(app: str) -> None:
    target = parse_target(f"python:{app}:answer")
    reply = await target(CHAT)
    assert reply.output == "echo: Refund time?"
    assert sys.modules[app].calls == [
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Refund time?"}]
    ]


async def test_python_str_parameter_gets_the_last_user_message_of_a_chat_case(app: str) -> None:
    chat = CaseInput(
        messages=(
            ChatMessage(role="system", content="Be brief."),
            ChatMessage(role="user", content="Hi"),
            ChatMessage(role="assistant", content="Hello!"),
            ChatMessage(role="user", content="Refund TIME?"),
        )
    )
    for function in ("ask", "ask_future"):
        reply = await parse_target(f"python:{app}:{function}")(chat)
        assert "refund time?" in reply.output
    assert sys.modules[app].calls == ["Refund TIME?", "Refund TIME?"]


async def test_an_unannotated_function_that_fails_on_messages_is_told_how_to_get_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"gate_lower_app_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text("def answer(question):\n    return question.lower()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(TargetError) as raised:
            await parse_target(f"python:{name}:answer")(CHAT)
    finally:
        sys.modules.pop(name, None)
    assert raised.value.kind == "crash"
    assert "'list' object has no attribute 'lower'" in str(raised.value)
    assert "annotate its first parameter `str`" in str(raised.value)


async def test_python_list_parameter_gets_a_text_case_as_one_user_message(app: str) -> None:
    reply = await parse_target(f"python:{app}:converse")(CaseInput(text="Refund time?"))
    assert reply.output == "1"
    assert sys.modules[app].calls == [[{"role": "user", "content": "Refund time?"}]]


async def test_python_async_function_returning_a_dict(app: str) -> None:
    reply = await parse_target(f"python:{app}:answer_async")(CaseInput(text="héllo"))
    assert (reply.output, reply.model) == ("async: héllo", "local-7b")


async def test_python_exception_is_a_crash_and_not_retried(app: str) -> None:
    target = parse_target(f"python:{app}:crash")
    with pytest.raises(TargetError) as caught:
        await call_with_retries(target, TEXT, sleep=Sleeps())
    assert (caught.value.kind, caught.value.transient) == ("crash", False)
    assert str(caught.value) == "KeyError: 'refund_policy'"
    assert len(sys.modules[app].calls) == 1


async def test_python_timeout_error_raised_by_the_app_is_a_crash(app: str) -> None:
    with pytest.raises(TargetError) as caught:
        await parse_target(f"python:{app}:app_timeout", timeout_s=5)(TEXT)
    assert caught.value.kind == "crash"
    assert "TimeoutError: the app's own database timed out" in str(caught.value)


async def test_python_hanging_sync_function_times_out_and_is_abandoned(app: str) -> None:
    target = parse_target(f"python:{app}:hang", timeout_s=0.2)
    started = time.monotonic()
    with pytest.raises(TargetError) as caught:
        await target(TEXT)
    assert (caught.value.kind, caught.value.transient) == ("timeout", True)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("function", "says"),
    [("wrong_type", "got int"), ("no_output", "needs a str under 'output'")],
)
async def test_python_reply_of_the_wrong_shape_is_a_bad_reply(
    app: str, function: str, says: str
) -> None:
    with pytest.raises(TargetError) as caught:
        await parse_target(f"python:{app}:{function}")(TEXT)
    assert caught.value.kind == "bad_reply"
    assert says in str(caught.value)


# --- cmd --------------------------------------------------------------------------------

PYTHON = shlex.quote(sys.executable)


def python_command(code: str) -> str:
    return f"cmd:{PYTHON} -c {shlex.quote(textwrap.dedent(code))}"


async def test_cmd_reads_the_input_json_and_answers_on_stdout() -> None:
    target = parse_target(
        python_command(
            """
            import json, sys
            request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
            sys.stdout.buffer.write((json.dumps(request, ensure_ascii=False) + "\\n").encode())
            """
        )
    )
    reply = await target(TEXT)
    assert json.loads(reply.output) == {"text": TEXT.text, "context": ["Refunds take 5 days."]}
    assert not reply.output.endswith("\n")
    reply = await target(CHAT)
    assert json.loads(reply.output) == {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Refund time?"},
        ],
        "context": [],
    }


async def test_cmd_non_zero_exit_is_a_crash_with_the_stderr_tail() -> None:
    target = parse_target(
        python_command(
            """
            import sys
            sys.stderr.write("loading model\\nKeyError: 'refund_policy'\\n")
            sys.exit(3)
            """
        )
    )
    with pytest.raises(TargetError) as caught:
        await call_with_retries(target, TEXT, sleep=Sleeps())
    assert (caught.value.kind, caught.value.transient) == ("crash", False)
    assert "exited with 3" in str(caught.value)
    assert str(caught.value).endswith("KeyError: 'refund_policy'")


async def test_cmd_stdout_that_is_not_utf8_is_a_bad_reply() -> None:
    target = parse_target(python_command("import sys; sys.stdout.buffer.write(b'ok \\xff')"))
    with pytest.raises(TargetError) as caught:
        await target(TEXT)
    assert caught.value.kind == "bad_reply"
    assert "not UTF-8 (byte 3)" in str(caught.value)


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        text = status.read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in text


async def test_cmd_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    child = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    # The shell runs the child and then more: the child is a grandchild of ours.
    target = parse_target(f"cmd:{PYTHON} -c {shlex.quote(child)}; echo done", timeout_s=1.0)
    started = time.monotonic()
    with pytest.raises(TargetError) as caught:
        await target(TEXT)
    # Killing only the shell would leave the child holding stdout for its 60 s.
    assert time.monotonic() - started < 30
    assert (caught.value.kind, caught.value.transient) == ("timeout", True)
    assert "killed" in str(caught.value)
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


# --- call_with_retries ------------------------------------------------------------------


class Flaky:
    """A target that fails with the given errors, then answers."""

    name = "flaky"

    def __init__(self, *errors: TargetError) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self, case_input: CaseInput) -> Reply:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return Reply(output="fine", latency_ms=1.0)

    async def aclose(self) -> None:
        return None


async def test_retries_back_off_exponentially_on_transient_errors() -> None:
    flaky = Flaky(TargetError("timeout", "t"), TargetError("connection", "c"))
    sleeps = Sleeps()
    reply = await call_with_retries(flaky, TEXT, attempts=3, base_delay_s=1.0, sleep=sleeps)
    assert reply.output == "fine"
    assert flaky.calls == 3
    first, second = sleeps.waits
    assert 0.5 <= first <= 1.0
    assert 1.0 <= second <= 2.0


async def test_one_attempt_raises_the_error_as_it_came() -> None:
    error = TargetError("timeout", "slow")
    with pytest.raises(TargetError) as caught:
        await call_with_retries(Flaky(error), TEXT, attempts=1, sleep=Sleeps())
    assert caught.value is error


def test_transient_follows_the_kind() -> None:
    transient = {
        kind: TargetError(kind, "x").transient
        for kind in (
            "timeout",
            "connection",
            "server_error",
            "rate_limited",
            "client_error",
            "crash",
            "bad_reply",
        )
    }
    assert [kind for kind, is_transient in transient.items() if is_transient] == [
        "timeout",
        "connection",
        "server_error",
        "rate_limited",
    ]
    with pytest.raises(ValueError, match="unknown target error kind"):
        TargetError("oops", "x")  # type: ignore[arg-type]
