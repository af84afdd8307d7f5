"""Targets: the app under test, called with one case's input and answering with its output.

Three kinds, named by a spec string as given on the command line:

- ``openai:http://localhost:8000/v1`` — an OpenAI-compatible chat endpoint
  (``POST {base}/chat/completions``), with a model, extra headers and an API key
  read from an environment variable. The case's messages are sent, or its text as one
  user message. The case's system messages (the prompt frozen when the case was
  captured) are left out unless `keep_system_prompt` is set: the app under test puts
  its own, current, system prompt first. A case's retrieved context is *not* sent: the
  app under test does its own retrieval, and the context is there for the graders.
- ``python:package.module:function`` — a callable in this process. It gets what its
  first parameter declares: a ``str`` parameter the case's text, or the last user
  message of a chat case; a ``list`` (or ``Sequence``) parameter the messages as a list
  of dicts (a text case as one user message). Without an annotation it gets the text
  when the case has text, else the messages. It returns a str or a dict with "output"
  (and optionally "model"). The current directory is searched for the module too.
- ``cmd:<shell command>`` — a process per case: ``{"text"|"messages", "context"}`` as
  JSON on stdin, the output on stdout.

A failure to get an output is a `TargetError` with a kind and whether another try could
help, so that a run can report infrastructure errors apart from quality failures;
`call_with_retries` retries the transient ones only.
"""

from __future__ import annotations

import asyncio
import collections.abc
import contextlib
import importlib
import inspect
import json
import logging
import os
import random
import signal
import sys
import threading
import time
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, get_args
from urllib.parse import urlsplit

import httpx

from liveeval.judge.retries import retry_after_from_headers
from liveeval.model.case import CaseInput

__all__ = [
    "CommandTarget",
    "OpenAITarget",
    "PythonTarget",
    "Reply",
    "Target",
    "TargetError",
    "TargetErrorKind",
    "call_with_retries",
    "parse_target",
    "target_label",
]

logger = logging.getLogger(__name__)

TargetErrorKind = Literal[
    "timeout", "connection", "server_error", "rate_limited", "client_error", "crash", "bad_reply"
]
TARGET_ERROR_KINDS: tuple[str, ...] = get_args(TargetErrorKind)
TRANSIENT_KINDS = frozenset({"timeout", "connection", "server_error", "rate_limited"})
TARGET_KINDS = ("openai", "python", "cmd")
MAX_RETRY_AFTER_S = 30.0
_STDERR_TAIL = 500
_REAP_S = 5.0


@dataclass(frozen=True, slots=True)
class Reply:
    output: str
    latency_ms: float
    model: str | None = None  # what the target reported (openai: response.model)


class TargetError(Exception):
    """The target gave no output: an infrastructure error, never a quality failure.

    `transient` (timeout, connection, 5xx, 429) says another try could help;
    `retry_after` is the server's requested wait, when it gave one.
    """

    def __init__(
        self, kind: TargetErrorKind, message: str, *, retry_after: float | None = None
    ) -> None:
        if kind not in TARGET_ERROR_KINDS:
            raise ValueError(f"unknown target error kind {kind!r}")
        super().__init__(message)
        self.kind: TargetErrorKind = kind
        self.transient = kind in TRANSIENT_KINDS
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_error, (self.kind, str(self), self.retry_after))


def _rebuild_error(kind: TargetErrorKind, message: str, retry_after: float | None) -> TargetError:
    return TargetError(kind, message, retry_after=retry_after)


class Target(Protocol):
    name: str  # as given on the command line, for reports

    async def __call__(self, case_input: CaseInput) -> Reply: ...

    async def aclose(self) -> None: ...


def chat_messages(case_input: CaseInput) -> list[dict[str, str]]:
    """The case's chat messages, or its text as one user message."""
    if case_input.messages is not None:
        return [{"role": m.role, "content": m.content} for m in case_input.messages]
    return [{"role": "user", "content": case_input.text or ""}]


def question_text(case_input: CaseInput) -> str:
    """The case's text, or the last user message of a chat case (else the last message)."""
    if case_input.text is not None:
        return case_input.text
    messages = case_input.messages or ()
    for message in reversed(messages):
        if message.role == "user":
            return message.content
    return messages[-1].content if messages else ""


ArgumentShape = Literal["text", "messages", "either"]


def argument_shape(function: Callable[..., Any]) -> ArgumentShape:
    """What a python target's first parameter declares: a str, a list of messages, or nothing."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):  # a builtin or C callable without a signature
        return "either"
    if not parameters:
        return "either"
    first = parameters[0]
    annotation: Any = first.annotation
    if isinstance(annotation, str) or annotation is inspect.Parameter.empty:
        # An unresolvable forward reference: read the string itself.
        with contextlib.suppress(Exception):
            annotation = typing.get_type_hints(function).get(first.name, annotation)
    if isinstance(annotation, str):
        head = annotation.replace(" ", "").split("[", 1)[0].rsplit(".", 1)[-1]
        if head == "str":
            return "text"
        if head in ("list", "List", "Sequence", "Iterable"):
            return "messages"
        return "either"
    if annotation is str:
        return "text"
    origin = typing.get_origin(annotation) or annotation
    sequences = (collections.abc.Sequence, collections.abc.Iterable)
    if isinstance(origin, type) and (issubclass(origin, list) or origin in sequences):
        return "messages"
    return "either"


def python_argument(shape: ArgumentShape, case_input: CaseInput) -> Any:
    if shape == "text":
        return question_text(case_input)
    if shape == "messages":
        return chat_messages(case_input)
    return case_input.text if case_input.text is not None else chat_messages(case_input)


class OpenAITarget:
    """An OpenAI-compatible chat endpoint; one httpx client per target, closed by `aclose`.

    Only `model` and `messages` are sent: sampling settings are the app's own. The case's
    retrieved context is not sent (the app under test does its own retrieval).
    """

    def __init__(
        self,
        name: str,
        base_url: str,
        model: str,
        *,
        headers: Mapping[str, str] | None = None,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        keep_system_prompt: bool = False,
    ) -> None:
        self.name = name
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.timeout_s = timeout_s
        self.keep_system_prompt = keep_system_prompt
        sent = dict(headers or {})
        if api_key is not None:
            sent.setdefault("Authorization", f"Bearer {api_key}")
        self._client = httpx.AsyncClient(headers=sent, timeout=httpx.Timeout(timeout_s))

    async def __call__(self, case_input: CaseInput) -> Reply:
        messages = chat_messages(case_input)
        if not self.keep_system_prompt:
            messages = [m for m in messages if m["role"] != "system"]
        body = {"model": self.model, "messages": messages}
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_s):
                response = await self._client.post(self.url, json=body)
        except (httpx.TimeoutException, TimeoutError):
            raise TargetError("timeout", f"no answer within {self.timeout_s:g}s") from None
        except httpx.ConnectError as exc:
            raise TargetError("connection", f"cannot connect to {self.url}: {exc}") from None
        except httpx.TransportError as exc:
            raise TargetError("connection", f"{self.url}: {type(exc).__name__}: {exc}") from None
        latency_ms = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise _status_error(response)
        output, model = _completion(response)
        return Reply(output=output, latency_ms=latency_ms, model=model)

    async def aclose(self) -> None:
        await self._client.aclose()


def target_label(target: Target) -> str:
    """The target as a report shows it: an openai: target's name with its model."""
    if isinstance(target, OpenAITarget):
        return f"{target.name} (model {target.model})"
    return target.name


def _status_error(response: httpx.Response) -> TargetError:
    status = response.status_code
    message = f"HTTP {status} from {response.request.url}: {_error_text(response)}"
    if status == 429:
        retry_after = retry_after_from_headers(response.headers, datetime.now(UTC))
        return TargetError("rate_limited", message, retry_after=retry_after)
    if status >= 500:
        return TargetError("server_error", message)
    if status == 408:
        return TargetError("timeout", message)
    if 400 <= status < 500:
        return TargetError("client_error", message)
    return TargetError("bad_reply", message)  # 1xx/2xx other than 200, 3xx not followed


def _error_text(response: httpx.Response) -> str:
    """The server's error message ({"error": {"message": …}}), else the body's start."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or "(empty body)"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        error = error.get("message")
    if isinstance(error, str) and error:
        return error[:300]
    return response.text[:300]


def _completion(response: httpx.Response) -> tuple[str, str | None]:
    try:
        body = response.json()
    except ValueError:
        raise TargetError(
            "bad_reply", f"the 200 response is not JSON: {response.text[:200]!r}"
        ) from None
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise TargetError(
            "bad_reply", "the 200 response has no choices[0].message.content"
        ) from None
    if not isinstance(content, str):
        raise TargetError(
            "bad_reply",
            f"choices[0].message.content is {type(content).__name__}, not text "
            "(a tool call or a refusal?)",
        )
    model = body.get("model")
    return content, model if isinstance(model, str) else None


class PythonTarget:
    """A callable in this process: sync ones run in a thread, async ones are awaited.

    A sync function that hangs cannot be killed: on timeout the call is abandoned and
    its thread (a daemon thread, so it never holds up the exit) runs on. It does not use
    asyncio's default executor, whose shutdown would wait for it.
    """

    def __init__(
        self, name: str, function: Callable[[Any], Any], *, timeout_s: float = 60.0
    ) -> None:
        self.name = name
        self.function = function
        self.timeout_s = timeout_s
        self.shape = argument_shape(function)

    async def __call__(self, case_input: CaseInput) -> Reply:
        argument = python_argument(self.shape, case_input)
        started = time.perf_counter()
        deadline = asyncio.timeout(self.timeout_s)
        try:
            async with deadline:
                result = await self._call(argument)
        except Exception as exc:
            if isinstance(exc, TimeoutError) and deadline.expired():
                raise TargetError(
                    "timeout", f"{self.name} did not return within {self.timeout_s:g}s"
                ) from None
            hint = ""
            if self.shape == "either" and isinstance(argument, list):
                hint = (
                    " (it was given the case's messages as a list; annotate its first "
                    "parameter `str` to get the last user message instead)"
                )
            raise TargetError("crash", f"{type(exc).__name__}: {exc}{hint}") from exc
        latency_ms = (time.perf_counter() - started) * 1000
        return _python_reply(result, latency_ms)

    async def _call(self, argument: Any) -> Any:
        if inspect.iscoroutinefunction(self.function):
            return await self.function(argument)
        result = await _in_daemon_thread(self.function, argument)
        if inspect.isawaitable(result):
            return await result
        return result

    async def aclose(self) -> None:
        return None


async def _in_daemon_thread(function: Callable[[Any], Any], argument: Any) -> Any:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(value: Any, error: BaseException | None) -> None:
        if future.done():
            return  # abandoned (timed out) meanwhile
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def run() -> None:
        try:
            value = function(argument)
        except BaseException as exc:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(settle, None, exc)
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, value, None)

    threading.Thread(target=run, name="liveeval-python-target", daemon=True).start()
    return await future


def _python_reply(result: Any, latency_ms: float) -> Reply:
    if isinstance(result, str):
        return Reply(output=result, latency_ms=latency_ms)
    if isinstance(result, Mapping):
        output = result.get("output")
        if not isinstance(output, str):
            raise TargetError(
                "bad_reply",
                f"the returned dict needs a str under 'output', got {type(output).__name__}",
            )
        model = result.get("model")
        return Reply(output=output, latency_ms=latency_ms, model=model if model else None)
    raise TargetError(
        "bad_reply", f"expected a str or a dict with 'output', got {type(result).__name__}"
    )


class CommandTarget:
    """A shell command per case: the input as JSON on stdin, the output on stdout.

    The command runs in a process group of its own, so a timeout kills it and whatever it
    started. One trailing newline of stdout is dropped. A non-zero exit is a crash,
    reported with the tail of stderr.
    """

    def __init__(self, name: str, command: str, *, timeout_s: float = 60.0) -> None:
        self.name = name
        self.command = command
        self.timeout_s = timeout_s

    async def __call__(self, case_input: CaseInput) -> Reply:
        payload: dict[str, Any] = {"context": list(case_input.context)}
        if case_input.text is not None:
            payload["text"] = case_input.text
        else:
            payload["messages"] = chat_messages(case_input)
        stdin = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        started = time.perf_counter()
        try:
            process = await asyncio.create_subprocess_shell(
                self.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise TargetError("crash", f"cannot start {self.command!r}: {exc}") from None
        try:
            async with asyncio.timeout(self.timeout_s):
                stdout, stderr = await process.communicate(stdin)
        except TimeoutError:
            await _kill_group(process)
            raise TargetError(
                "timeout", f"{self.command!r} did not finish within {self.timeout_s:g}s (killed)"
            ) from None
        except BaseException:
            await _kill_group(process)
            raise
        latency_ms = (time.perf_counter() - started) * 1000
        if process.returncode != 0:
            tail = stderr.decode("utf-8", "replace").strip()[-_STDERR_TAIL:]
            raise TargetError(
                "crash",
                f"{self.command!r} exited with {process.returncode}"
                + (f": {tail}" if tail else " (no stderr)"),
            )
        try:
            output = stdout.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TargetError("bad_reply", f"stdout is not UTF-8 (byte {exc.start})") from None
        return Reply(output=_drop_final_newline(output), latency_ms=latency_ms)

    async def aclose(self) -> None:
        return None


def _drop_final_newline(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    return text.removesuffix("\n")


async def _kill_group(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    # Bounded: a grandchild that left the group may still hold stdout open, and asyncio's
    # wait() also waits for the pipes to close.
    with contextlib.suppress(ProcessLookupError, TimeoutError):
        async with asyncio.timeout(_REAP_S):
            await process.wait()


def parse_target(
    spec: str,
    *,
    model: str | None = None,
    headers: Mapping[str, str] | None = None,
    api_key_env: str | None = None,
    timeout_s: float = 60.0,
    environ: Mapping[str, str] | None = None,
    keep_system_prompt: bool = False,
) -> Target:
    """The target a spec names; a spec that cannot work is a ValueError saying why.

    `model`, `headers`, `api_key_env` and `keep_system_prompt` belong to openai targets
    (`model` is required there); `environ` (default: the process's) is where the API key
    is read. `keep_system_prompt` is ignored by the other kinds, so that one flag can
    apply to both sides of an A/B run.
    """
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be positive, got {timeout_s!r}")
    kind, sep, rest = spec.partition(":")
    if not sep or kind not in TARGET_KINDS:
        raise ValueError(
            f"target {spec!r}: start it with one of {', '.join(k + ':' for k in TARGET_KINDS)} "
            "(e.g. openai:http://localhost:8000/v1, python:app.module:function, "
            "cmd:python app.py)"
        )
    if kind != "openai":
        for option, value in (("model", model), ("headers", headers), ("api_key_env", api_key_env)):
            if value:
                raise ValueError(f"target {spec!r}: {option} applies to openai targets only")
    if kind == "openai":
        target = _openai_target(spec, rest, model, headers or {}, api_key_env, timeout_s, environ)
        target.keep_system_prompt = keep_system_prompt
        return target
    if kind == "python":
        return PythonTarget(spec, _load_callable(spec, rest), timeout_s=timeout_s)
    if not rest.strip():
        raise ValueError(f"target {spec!r}: no command after cmd:")
    return CommandTarget(spec, rest, timeout_s=timeout_s)


def _openai_target(
    spec: str,
    url: str,
    model: str | None,
    headers: Mapping[str, str],
    api_key_env: str | None,
    timeout_s: float,
    environ: Mapping[str, str] | None,
) -> OpenAITarget:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"target {spec!r}: {url!r} is not an http(s) URL (e.g. openai:http://localhost:8000/v1)"
        )
    if not model:
        raise ValueError(f"target {spec!r}: an openai target needs a model")
    api_key = None
    if api_key_env is not None:
        env = os.environ if environ is None else environ
        api_key = env.get(api_key_env)
        if not api_key:
            raise ValueError(
                f"target {spec!r}: the API key variable {api_key_env} is not set or empty"
            )
    return OpenAITarget(spec, url, model, headers=headers, api_key=api_key, timeout_s=timeout_s)


def _load_callable(spec: str, path: str) -> Callable[[Any], Any]:
    module_name, sep, attribute = path.rpartition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"target {spec!r}: write python:package.module:function")
    try:
        module = _import(module_name)
    except ModuleNotFoundError as exc:
        raise ValueError(f"target {spec!r}: cannot import {module_name!r}: {exc}") from None
    except Exception as exc:  # the app's own import-time code failed
        raise ValueError(
            f"target {spec!r}: importing {module_name!r} failed: {type(exc).__name__}: {exc}"
        ) from exc
    value: Any = module
    for part in attribute.split("."):
        if not hasattr(value, part):
            raise ValueError(f"target {spec!r}: {module_name!r} has no attribute {attribute!r}")
        value = getattr(value, part)
    if not callable(value):
        raise ValueError(f"target {spec!r}: {attribute!r} is {type(value).__name__}, not callable")
    return value  # type: ignore[no-any-return]


def _import(module_name: str) -> Any:
    """The module; like uvicorn, look in the current directory too when it is not on the path.

    A console script's path starts at the script's folder, not at the directory it runs
    in, where `python:app:answer` usually lives.
    """
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        here = os.getcwd()
        if exc.name != module_name.partition(".")[0] or here in sys.path or "" in sys.path:
            raise
    sys.path.insert(0, here)
    return importlib.import_module(module_name)


Sleep = Callable[[float], Awaitable[None]]


async def call_with_retries(
    target: Target,
    case_input: CaseInput,
    *,
    attempts: int = 3,
    base_delay_s: float = 0.5,
    max_delay_s: float = MAX_RETRY_AFTER_S,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
) -> Reply:
    """The target's reply, trying again after transient TargetErrors only.

    Waits base·2^(n-1) with equal jitter between tries, or the server's Retry-After
    (both capped at `max_delay_s`). The last error is raised when the tries run out;
    its message says how many there were.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    chance = rng or random.Random()
    for attempt in range(1, attempts + 1):
        try:
            return await target(case_input)
        except TargetError as error:
            if not error.transient:
                raise
            if attempt == attempts:
                if attempts > 1:
                    raise TargetError(
                        error.kind,
                        f"{error} (gave up after {attempts} tries)",
                        retry_after=error.retry_after,
                    ) from error
                raise
            if error.retry_after is not None:
                delay = min(error.retry_after, max_delay_s)
            else:
                delay = min(max_delay_s, base_delay_s * 2 ** (attempt - 1))
                delay = delay / 2 + chance.uniform(0, delay / 2)
            logger.info(
                "target %s failed (%s: %s); try %d in %.2fs",
                target.name,
                error.kind,
                error,
                attempt + 1,
                delay,
            )
            await sleep(delay)
    raise AssertionError("unreachable: attempts >= 1")
