"""The pytest plugin: an inner pytest (pytester) collects a golden.jsonl as test items
when `--liveeval-target` names the app, and reports target errors as errors and grader
failures as failures."""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from tests.gate.test_runner import PROMISE, case_doc
from tests.judge.api import chat_reply, run_api

pytest_plugins = ["pytester"]

APP = """
calls = []

def echo(text):
    calls.append(text)
    if text.startswith("crash"):
        raise KeyError("refund_policy")
    return text
"""


@pytest.fixture
def target(pytester: pytest.Pytester) -> Iterator[str]:
    """`python:<module>:echo` for an app module in the inner run's directory."""
    name = f"plugin_app_{uuid.uuid4().hex}"
    pytester.makepyfile(**{name: textwrap.dedent(APP)})
    pytester.syspathinsert()
    yield f"python:{name}:echo"
    sys.modules.pop(name, None)


def golden(pytester: pytest.Pytester, *documents: dict[str, Any], name: str = "golden") -> None:
    lines = b"".join(orjson.dumps(d) + b"\n" for d in documents)
    (pytester.path / f"{name}.jsonl").write_bytes(lines)


def inner(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """An inner pytest run, without the plugins that only cost time here."""
    return pytester.runpytest(*args, "-p", "no:cacheprovider", "-p", "no:hypothesispytest")


GOOD = case_doc("refund", f"Refunds take {PROMISE}.")
VAGUE = case_doc("vague", "Refunds take a while.")
CRASH = case_doc("crash", "crash now")
PROMOTED = case_doc("promoted-7", f"It takes {PROMISE}.", tags=("regression",), regression=True)
RETIRED = case_doc("old", "whatever", retired=True)


def test_each_case_is_an_item_with_the_right_outcome(
    pytester: pytest.Pytester, target: str
) -> None:
    golden(pytester, GOOD, VAGUE, CRASH, PROMOTED, RETIRED)
    result = inner(pytester, "golden.jsonl", "--liveeval-target", target)
    result.assert_outcomes(passed=2, failed=1, errors=1)
    output = result.stdout.str()
    # the grader's reason and the output on a failure
    assert f"vague v1: missing '{PROMISE}'" in output
    assert "output: Refunds take a while." in output
    result.stdout.fnmatch_lines(
        ["*FAILED golden.jsonl::vague@v1*", "*ERROR golden.jsonl::crash@v1*"]
    )
    # the target's crash is an error in setup (infrastructure), with its reason
    result.stdout.fnmatch_lines(["*ERROR at setup of case crash v1*"])
    assert "the target failed: crash: KeyError: 'refund_policy'" in output
    assert "old@v1" not in output  # retired: not an item
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_items_are_named_by_case_id_and_version(pytester: pytest.Pytester, target: str) -> None:
    golden(pytester, GOOD, {**GOOD, "version": 2, "input": {"text": "no"}})
    result = inner(pytester, "golden.jsonl", "--liveeval-target", target, "--collect-only", "-q")
    result.stdout.fnmatch_lines(["golden.jsonl::refund@v1", "golden.jsonl::refund@v2"])


def test_k_regression_selects_the_tagged_cases(pytester: pytest.Pytester, target: str) -> None:
    tagged = case_doc("refund-policy", f"{PROMISE}.", tags=("billing", "regression"))
    golden(pytester, GOOD, tagged, VAGUE)
    result = inner(pytester, "golden.jsonl", "--liveeval-target", target, "-k", "regression")
    result.assert_outcomes(passed=1, deselected=2)


def test_k_selects_by_case_id(pytester: pytest.Pytester, target: str) -> None:
    golden(pytester, GOOD, VAGUE, CRASH)
    result = inner(pytester, "golden.jsonl", "--liveeval-target", target, "-k", "refund or vague")
    result.assert_outcomes(passed=1, failed=1, deselected=1)


def test_a_directory_collects_its_case_files_beside_ordinary_tests(
    pytester: pytest.Pytester, target: str
) -> None:
    golden(pytester, GOOD, name="cases_a")
    golden(pytester, VAGUE, name="cases_b")
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result = inner(pytester, "--liveeval-target", target)
    result.assert_outcomes(passed=2, failed=1)


def test_without_a_target_a_jsonl_file_is_not_collected(
    pytester: pytest.Pytester, target: str
) -> None:
    golden(pytester, GOOD, VAGUE)
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result = inner(pytester)
    result.assert_outcomes(passed=1)
    named = inner(pytester, "golden.jsonl")
    assert named.ret == pytest.ExitCode.USAGE_ERROR  # pytest: found no collectors
    assert sys.modules.get(target.split(":")[1]) is None  # the app was never called


def test_a_malformed_case_file_is_a_collection_error_naming_the_line(
    pytester: pytest.Pytester, target: str
) -> None:
    golden(pytester, GOOD)
    path = pytester.path / "golden.jsonl"
    path.write_bytes(path.read_bytes() + b'{"id": "x"}\n')
    result = inner(pytester, "golden.jsonl", "--liveeval-target", target)
    result.assert_outcomes(errors=1)
    assert f"{path}:2: input: Field required" in result.stdout.str()


def test_an_openai_target_gets_the_frozen_system_prompt_only_when_asked(
    pytester: pytest.Pytester,
) -> None:
    chat = case_doc(
        "chat",
        "",
        input={
            "messages": [
                {"role": "system", "content": "You are the 2024 bot."},
                {"role": "user", "content": "Refund time?"},
            ]
        },
    )
    golden(pytester, chat)
    with run_api() as api:
        api.script(chat_reply(f"Refunds take {PROMISE}."), chat_reply(f"It is {PROMISE}."))
        target = ["--liveeval-target", f"openai:{api.url}/v1", "--liveeval-model", "bot"]
        inner(pytester, *target).assert_outcomes(passed=1)
        inner(pytester, *target, "--liveeval-keep-system-prompt").assert_outcomes(passed=1)
        sent = [[m["role"] for m in r.body["messages"]] for r in api.requests]
    assert sent == [["user"], ["system", "user"]]
