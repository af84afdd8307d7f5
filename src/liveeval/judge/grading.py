"""Grading one interaction by one rubric: request, retries, limits, parsing, accounting.

`Grader.grade` never raises for what can be expected of a remote model: a timeout,
a refusal, an answer that cannot be parsed, a 4xx, retries that run out. Each becomes
a `Judgment` with status "error" and the reason. What produced a judgment is on it:
the provider, the pinned model and the one the provider reported, the rubric's name,
version and text hash.
"""

from __future__ import annotations

import logging
import random
import re
import time
from dataclasses import dataclass, field
from typing import Literal

import anyio

from liveeval.config.judge import JudgeConfig
from liveeval.judge.limits import Clock, Sleep, WindowLimiter
from liveeval.judge.prompt import build_messages, build_repair_messages
from liveeval.judge.providers import build_provider
from liveeval.judge.providers.base import Completion, JudgeProvider, JudgeRequest, ProviderError
from liveeval.judge.retries import backoff_delay
from liveeval.judge.rubrics import Rubric
from liveeval.judge.verdict import ParseFailure, Verdict, parse_verdict
from liveeval.model import Interaction, Score, ScoreKind, ScoreStatus

__all__ = ["Grader", "Judgment", "build_provider", "judge_version", "same_model"]

logger = logging.getLogger(__name__)

_DATED_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8})")
_TRUNCATED = ("length", "max_tokens")


def same_model(pinned: str, reported: str) -> bool:
    """Whether `reported` is the pinned model: the same id or the id with a date appended.

    gpt-4o-mini-2024-07-18 is gpt-4o-mini; gpt-4o-mini-audio or gpt-4o is not.
    """
    if reported == pinned:
        return True
    return reported.startswith(pinned) and bool(_DATED_SUFFIX.fullmatch(reported[len(pinned) :]))


def judge_version(config: JudgeConfig, rubric: Rubric) -> str:
    """The pinned identity of a judge: provider/model_pinned/rubric@version#hash."""
    return (
        f"{config.provider}/{config.pinned_model}/{rubric.name}@{rubric.version}#{rubric.text_hash}"
    )


# Limits are per minute; the limiter counts over a second more, so that a provider
# counting 60 s by arrival at its end (after connection set-up and network jitter)
# never sees more than the limit. bench/judge.py measures it at the server.
RATE_WINDOW_S = 61.0


@dataclass
class Judgment:
    status: Literal["ok", "error"]
    value: float | None
    label: str | None
    explanation: str | None
    error: str | None
    provider: str
    model_pinned: str
    model_reported: str | None
    rubric: str
    rubric_version: str
    rubric_hash: str
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None
    latency_ms: float
    attempts: int
    # An error where asking later may succeed: the provider was unreachable, rate-limited
    # or failing (retries ran out), or asked for a longer wait than max_backoff_s.
    transient: bool = False
    scale: str | None = None  # the rubric's: "1-5", "binary" or "labels"

    @property
    def evaluator_version(self) -> str:
        """provider/model_reported/rubric@version#hash (the pinned model when none reported)."""
        model = self.model_reported or self.model_pinned
        return f"{self.provider}/{model}/{self.rubric}@{self.rubric_version}#{self.rubric_hash}"

    @property
    def model_mismatch(self) -> bool:
        """The provider answered with another model than the pinned one: a silent update."""
        if self.model_reported is None:
            return False
        return not same_model(self.model_pinned, self.model_reported)

    def to_score(self, project: str, interaction_id: int) -> Score:
        """This judgment as a stored score (kind judge), named after the rubric."""
        return Score(
            project=project,
            interaction_id=interaction_id,
            name=self.rubric,
            kind=ScoreKind.JUDGE,
            value=self.value,
            label=self.label,
            explanation=self.explanation,
            status=ScoreStatus(self.status),
            error=self.error,
            evaluator_version=self.evaluator_version,
            details={
                "provider": self.provider,
                "model_pinned": self.model_pinned,
                "model_reported": self.model_reported,
                "model_mismatch": self.model_mismatch,
                "rubric_version": self.rubric_version,
                "rubric_hash": self.rubric_hash,
                "scale": self.scale,  # the rollups count a binary 0 as bad, a 1-5 score <= 2
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens,
                "attempts": self.attempts,
            },
            cost_usd=self.cost_usd,
            latency_ms=self.latency_ms,
        )


@dataclass
class _Tally:
    """What the requests of one grading added up to."""

    attempts: int = 0
    completions: list[Completion] = field(default_factory=list)

    @property
    def model_reported(self) -> str | None:
        return self.completions[-1].model if self.completions else None

    def tokens(self) -> tuple[int | None, int | None]:
        """Tokens of all completions; None when there was none or one did not say."""
        if not self.completions:
            return None, None
        inputs = [c.input_tokens for c in self.completions]
        outputs = [c.output_tokens for c in self.completions]
        return (
            None if None in inputs else sum(i for i in inputs if i is not None),
            None if None in outputs else sum(o for o in outputs if o is not None),
        )


class Grader:
    """Grades interactions with one provider, within the config's concurrency and rates.

    Owns the concurrency semaphore, the requests-per-minute and tokens-per-minute
    limiters, and a pause that a 429's Retry-After sets for every request. `clock`
    and `sleep` drive the limiters, backoff and latency, so tests can replace time.
    """

    def __init__(
        self,
        provider: JudgeProvider,
        config: JudgeConfig,
        clock: Clock = time.monotonic,
        *,
        sleep: Sleep = anyio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.provider = provider
        self.config = config
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._semaphore = anyio.Semaphore(config.concurrency)
        window = RATE_WINDOW_S
        self._rpm = WindowLimiter(config.rpm, window, clock, sleep) if config.rpm else None
        self._tpm = WindowLimiter(config.tpm, window, clock, sleep) if config.tpm else None
        self._paused_until = float("-inf")
        self._started = False
        self._start_lock = anyio.Lock()
        self._warned_models: set[str] = set()

    async def grade(self, rubric: Rubric, interaction: Interaction) -> Judgment:
        started = self._clock()
        tally = _Tally()

        def error(reason: str, transient: bool = False) -> Judgment:
            judgment = self._judgment(rubric, tally, started, None, reason)
            judgment.transient = transient
            return judgment

        try:
            await self._start_provider()
        except ProviderError as exc:
            return error(f"the judge could not start: {exc.reason}", exc.transient)
        messages = build_messages(rubric, interaction, self.config.max_block_chars)
        schema = rubric.output_schema()
        first = await self._complete(messages, schema, tally)
        if isinstance(first, ProviderError):
            return error(first.reason, first.transient)
        if first.refusal:
            return error(f"the judge refused: {first.refusal}")
        verdict = parse_verdict(first.text, rubric.scale)
        if isinstance(verdict, Verdict):
            return self._judgment(rubric, tally, started, verdict, None)
        if first.finish_reason in _TRUNCATED:
            return error(
                f"the answer was cut off at max_tokens = {self.config.max_tokens}: {verdict.reason}"
            )
        repair = build_repair_messages(messages, first.text, verdict.reason)
        second = await self._complete(repair, schema, tally)
        if isinstance(second, ProviderError):
            return error(
                f"unusable answer ({verdict.reason}); asking again failed: {second.reason}",
                second.transient,
            )
        if second.refusal:
            return error(f"the judge refused: {second.refusal}")
        retried = parse_verdict(second.text, rubric.scale)
        if isinstance(retried, ParseFailure):
            return error(f"unusable answer, also when asked again: {retried.reason}")
        return self._judgment(rubric, tally, started, retried, None)

    async def ask(
        self, messages: list[dict[str, str]], schema: dict[str, object]
    ) -> Completion | ProviderError:
        """One completion for messages built elsewhere (pairwise comparison), with the
        grader's retries, rate limits and set-up."""
        try:
            await self._start_provider()
        except ProviderError as exc:
            return exc
        return await self._complete(messages, schema, _Tally())

    async def aclose(self) -> None:
        """Close the provider (and stop the local server, if it is one)."""
        await self.provider.aclose()

    async def _start_provider(self) -> None:
        """Let a provider that needs set-up (the local server) do it, outside any timeout."""
        if self._started:
            return
        async with self._start_lock:
            start = getattr(self.provider, "start", None)
            if start is not None:
                await start()
            self._started = True

    async def _complete(
        self, messages: list[dict[str, str]], schema: dict[str, object], tally: _Tally
    ) -> Completion | ProviderError:
        """One completion, retried on transient failures; the last failure if none came."""
        config = self.config
        request = JudgeRequest(messages, dict(schema), config.max_tokens, config.timeout_s)
        estimate = estimate_tokens(messages) + config.max_tokens
        for attempt in range(1, config.max_attempts + 1):
            tally.attempts += 1
            outcome = await self._attempt(request, estimate)
            if isinstance(outcome, Completion):
                tally.completions.append(outcome)
                self._check_model(outcome.model)
                return outcome
            if not outcome.transient:
                return outcome
            if attempt == config.max_attempts:
                return _with_reason(outcome, f"{outcome.reason} (gave up after {attempt} tries)")
            delay = outcome.retry_after
            if delay is None:
                delay = backoff_delay(attempt, config.backoff_s, config.max_backoff_s, self._rng)
            elif delay > config.max_backoff_s:
                return _with_reason(
                    outcome,
                    f"{outcome.reason} (Retry-After {delay:g}s is longer than "
                    f"max_backoff_s = {config.max_backoff_s:g})",
                )
            elif outcome.status == 429:
                self._paused_until = max(self._paused_until, self._clock() + delay)
            logger.info(
                "judge request failed (%s); try %d in %.2fs", outcome.reason, attempt + 1, delay
            )
            await self._sleep(delay)
        raise AssertionError("unreachable: max_attempts >= 1")

    async def _attempt(self, request: JudgeRequest, estimate: int) -> Completion | ProviderError:
        async with self._semaphore:
            while (wait := self._paused_until - self._clock()) > 0:
                await self._sleep(wait)
            if self._rpm is not None:
                await self._rpm.acquire(1)
            grant = await self._tpm.acquire(estimate) if self._tpm is not None else None
            try:
                with anyio.fail_after(request.timeout_s):
                    completion = await self.provider.complete(request)
            except TimeoutError:
                return ProviderError(f"timed out after {request.timeout_s:g}s", transient=True)
            except ProviderError as exc:
                if grant is not None and self._tpm is not None and exc.status is not None:
                    self._tpm.settle(grant, 0)  # refused by the server: nothing was used
                return exc
            used = (completion.input_tokens, completion.output_tokens)
            if grant is not None and self._tpm is not None and None not in used:
                self._tpm.settle(grant, sum(n for n in used if n is not None))
            return completion

    def _check_model(self, reported: str) -> None:
        pinned = self.provider.model
        if not same_model(pinned, reported) and reported not in self._warned_models:
            self._warned_models.add(reported)
            logger.warning("judge model %r answered as %r: not the pinned model", pinned, reported)

    def _judgment(
        self,
        rubric: Rubric,
        tally: _Tally,
        started: float,
        verdict: Verdict | None,
        error: str | None,
    ) -> Judgment:
        input_tokens, output_tokens = tally.tokens()
        return Judgment(
            status="ok" if verdict is not None else "error",
            value=verdict.value if verdict else None,
            label=verdict.label if verdict else None,
            explanation=verdict.explanation if verdict else None,
            error=error,
            provider=self.provider.name,
            model_pinned=self.provider.model,
            model_reported=tally.model_reported,
            rubric=rubric.name,
            rubric_version=rubric.version,
            rubric_hash=rubric.text_hash,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd=self._cost(input_tokens, output_tokens),
            latency_ms=(self._clock() - started) * 1000,
            attempts=tally.attempts,
            scale=rubric.scale.kind,
        )

    def _cost(self, input_tokens: int | None, output_tokens: int | None) -> float | None:
        """USD of the tokens used; None when the price or a token count is unknown, never 0."""
        price = self.config.price
        if price is None or input_tokens is None or output_tokens is None:
            return None
        return (
            input_tokens * price.input_per_mtok + output_tokens * price.output_per_mtok
        ) / 1_000_000


def estimate_tokens(messages: list[dict[str, str]]) -> int:
    """A rough count for reserving tokens-per-minute before the real count is known."""
    return sum(len(message["content"]) for message in messages) // 4 + 4 * len(messages)


def _with_reason(error: ProviderError, reason: str) -> ProviderError:
    return ProviderError(
        reason, transient=error.transient, status=error.status, retry_after=error.retry_after
    )
