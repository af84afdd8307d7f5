"""A pytest plugin: each golden-set case a test item, for teams that gate with pytest.

    pytest golden.jsonl --liveeval-target openai:http://localhost:8000/v1 --liveeval-model m

Installed with liveeval (entry point `pytest11`); it does nothing unless
`--liveeval-target` is given. Then every `.jsonl` file named on the command line (or
found under a directory named) is read as a case file, and each active case is an item
named by its id: the app is called in the item's setup (a timeout or a 5xx is an *error*
there, as infrastructure) and graded in its call (a quality failure is a *failure*,
with the grader's reason and the output). `-k regression` picks the frozen regression
cases, since case tags are also pytest keywords.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from liveeval.model.case import Case


def case_tags(case: Case) -> set[str]:
    """The case's tags, and `regression` for a regression case even when untagged."""
    return {*case.tags, "regression"} if case.regression else set(case.tags)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("liveeval", "liveeval golden-set cases")
    group.addoption("--liveeval-target", help="openai:URL, python:module:function or cmd:COMMAND")
    group.addoption("--liveeval-model", help="model for an openai: target")
    group.addoption("--liveeval-api-key-env", help="environment variable with the target's key")
    group.addoption(
        "--liveeval-keep-system-prompt",
        action="store_true",
        help="send an openai: target the cases' own system messages (default: left out)",
    )
    group.addoption("--liveeval-timeout", type=float, default=60.0, help="seconds per call")
    group.addoption("--liveeval-attempts", type=int, default=3, help="tries on transient errors")
    group.addoption("--liveeval-config", help="liveeval.toml with the [judge] for judge graders")


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.File | None:
    if parent.config.getoption("liveeval_target") and file_path.suffix == ".jsonl":
        return CaseFile.from_parent(parent, path=file_path)
    return None


class CaseFile(pytest.File):
    def collect(self) -> Iterator[CaseItem]:
        from liveeval.flywheel.case_file import read_cases

        for case in read_cases(self.path):
            if case.active:
                yield CaseItem.from_parent(self, name=f"{case.id}@v{case.version}", case=case)


class CaseFailed(AssertionError):
    pass


class CaseItem(pytest.Item):
    def __init__(self, *, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.output: str | None = None
        self.extra_keyword_matches.update(case_tags(case))

    def setup(self) -> None:
        """Call the app: a target error here is reported as an error, not a failure."""
        from liveeval.gate.targets import TargetError, call_with_retries, parse_target

        options = self.config.option
        target = parse_target(
            options.liveeval_target,
            model=options.liveeval_model,
            api_key_env=options.liveeval_api_key_env,
            timeout_s=options.liveeval_timeout,
            keep_system_prompt=options.liveeval_keep_system_prompt,
        )

        async def ask() -> str:
            try:
                attempts = options.liveeval_attempts
                reply = await call_with_retries(target, self.case.input, attempts=attempts)
                return reply.output
            finally:
                await target.aclose()

        try:
            self.output = asyncio.run(ask())
        except TargetError as exc:  # infrastructure: an error of the item, said briefly
            pytest.fail(f"{self.case.id}: the target failed: {exc.kind}: {exc}", pytrace=False)

    def runtest(self) -> None:
        from liveeval.config import load_settings
        from liveeval.gate.context import grading_context
        from liveeval.gate.graders import grade

        assert self.output is not None
        settings = load_settings(self.config.option.liveeval_config)
        context = grading_context(settings, [self.case])

        async def check() -> Any:
            try:
                return await grade(self.case, self.output or "", context)
            finally:
                if context.judge is not None:
                    await context.judge.aclose()

        graded = asyncio.run(check())
        if not graded.passed:
            raise CaseFailed(graded.detail)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFailed):
            return f"{self.case.id} v{self.case.version}: {excinfo.value}\noutput: {self.output}"
        return f"{self.case.id} v{self.case.version}: {excinfo.value}"

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"case {self.case.id} v{self.case.version}"
