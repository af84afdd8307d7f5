"""Plays the story into a running server through the real paths, in simulated time.

Day by day: the day's requests go out as OTLP spans (OpenTelemetry SDK exporter, with
their historical start and end times), the users' signals and feedback through the
REST API, then the player waits until the server stored them and the judge worker
emptied its queue, and ticks the monitor at simulated hours of that day, so rollups,
alerts and the review queue's intake happen when they would have. Near the end a
reviewer promotes a few failures to frozen regression cases and a regression run of
the golden set is stored.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator

from liveeval.demo.reviewer import score_sample
from liveeval.demo.simulated_judge import question_topic_language
from liveeval.demo.story import PROJECT, PROVIDER, ROUTE, Story, Turn, answer_for
from liveeval.flywheel.review import promote, triage, write_expected
from liveeval.gate.graders import GradingContext
from liveeval.gate.runner import run_cases
from liveeval.gate.targets import PythonTarget
from liveeval.model.review import ReviewState
from liveeval.monitor.scheduler import Monitor
from liveeval.store.cases import latest_cases
from liveeval.store.database import Store
from liveeval.store.review import ItemFilter, list_items
from liveeval.store.schema import alerts, interactions, judge_jobs

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
TICK = timedelta(hours=3)  # simulated time between monitor ticks
REVIEWER = "demo-reviewer"
PROMOTED = 6
HUMAN_SCORES = 25  # items the reviewer scores each week


class SeededIds(IdGenerator):
    """Trace and span ids from a seeded generator, so a replay has the same ids."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def generate_span_id(self) -> int:
        return self._rng.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        return self._rng.getrandbits(128) or 1


@dataclass
class Played:
    """What the play did: counts for the summary."""

    interactions: int = 0
    signals: int = 0
    ticks: int = 0
    promoted: list[str] = field(default_factory=list)
    human_scores: int = 0
    run_id: int | None = None
    pass_rate: float | None = None
    seconds: float = 0.0
    phase_s: dict[str, float] = field(default_factory=dict)  # where the time went


def _ns(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000) * 1000


class Player:
    def __init__(
        self,
        url: str,
        store: Store,
        monitor: Monitor,
        story: Story,
        *,
        progress: Progress | None = None,
        timeout_s: float = 120.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.store = store
        self.monitor = monitor
        self.story = story
        self.progress = progress or (lambda line: None)
        self.timeout_s = timeout_s
        self.provider = TracerProvider(
            resource=Resource.create({"service.name": PROJECT}),
            id_generator=SeededIds(story.seed),
        )
        exporter = OTLPSpanExporter(endpoint=f"{self.url}/v1/traces", timeout=30)
        self.provider.add_span_processor(
            BatchSpanProcessor(exporter, max_queue_size=20_000, max_export_batch_size=512)
        )
        self.tracer = self.provider.get_tracer("acme-support-demo")
        self.http = httpx.Client(base_url=self.url, timeout=30)
        self.played = Played()
        self.pause_s = 0.0  # real seconds between simulated days (--speed)
        # Wait for each day's judging before ticking the monitor (the simulated judge keeps
        # up); a real local model takes seconds a judgment and works on in the background.
        self.wait_for_judge = True

    def play(self) -> Played:
        started = time.perf_counter()
        try:
            timeline = self.story.timeline
            for day in range(timeline.days):
                self._play_day(day)
                if day == timeline.days - 2:
                    self._promote_failures(self.story.start + timedelta(days=day + 1))
            self._regress()
        finally:
            self.provider.shutdown()
            self.http.close()
        self.played.seconds = time.perf_counter() - started
        return self.played

    # -- one day ------------------------------------------------------------------

    def _play_day(self, day: int) -> None:
        turns = self.story.day_turns(day)
        clock = self._phase("spans")
        trace_ids = [self._send_turn(turn) for turn in turns]
        if not self.provider.force_flush(int(self.timeout_s * 1000)):
            raise RuntimeError("the OTLP exporter could not send the day's spans in time")
        day_start = self.story.start + timedelta(days=day)
        self._wait("interactions stored", lambda: self._stored(day_start) >= len(turns))
        self.played.interactions += len(turns)
        clock = self._phase("signals", clock)
        self._send_signals(turns, trace_ids)
        clock = self._phase("judge", clock)
        if self.wait_for_judge:
            self._wait("judge queue empty", self._judged)
        if (day + 1) % 7 == 0 or day == self.story.timeline.days - 1:  # the weekly review
            at = day_start + timedelta(hours=12)
            self.played.human_scores += score_sample(self.store, REVIEWER, at, HUMAN_SCORES)
        clock = self._phase("monitor", clock)
        at = day_start + TICK
        while at <= day_start + timedelta(days=1):
            self.monitor.tick(now=at)
            self.played.ticks += 1
            at += TICK
        self._phase("", clock)
        self.progress(self._day_line(day, len(turns)))
        if self.pause_s:
            time.sleep(self.pause_s)

    def _phase(self, name: str, previous: tuple[str, float] | None = None) -> tuple[str, float]:
        now = time.perf_counter()
        if previous is not None:
            spent = self.played.phase_s
            spent[previous[0]] = spent.get(previous[0], 0.0) + now - previous[1]
        return name, now

    def _send_turn(self, turn: Turn) -> str:
        start = _ns(turn.at)
        end = _ns(turn.at + timedelta(milliseconds=turn.latency_ms))
        retrieved = _ns(turn.at + timedelta(milliseconds=60))
        root = self.tracer.start_span(
            "acme.support.turn",
            start_time=start,
            attributes={
                "liveeval.prompt.version": turn.prompt_version,
                "liveeval.route": ROUTE,
                "liveeval.segment": turn.segment,
                "user.id": turn.user_id,
            },
        )
        context = trace.set_span_in_context(root)
        documents: dict[str, str | int] = {
            "openinference.span.kind": "RETRIEVER",
            "input.value": turn.question,
        }
        for n, document in enumerate(turn.documents):
            documents[f"retrieval.documents.{n}.document.id"] = document.split(" ", 1)[0]
            documents[f"retrieval.documents.{n}.document.content"] = document
        self.tracer.start_span(
            "retrieve", context=context, start_time=start, attributes=documents
        ).end(end_time=retrieved)
        chat = self.tracer.start_span(
            f"chat {turn.model_requested}",
            context=context,
            kind=trace.SpanKind.CLIENT,
            start_time=retrieved,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": PROVIDER,
                "gen_ai.request.model": turn.model_requested,
                "gen_ai.response.model": turn.model_served,
                "gen_ai.usage.input_tokens": turn.input_tokens,
                "gen_ai.usage.output_tokens": turn.output_tokens,
                "gen_ai.response.finish_reasons": ["stop"],
                "gen_ai.system_instructions": json.dumps(
                    [{"type": "text", "content": _system_prompt(turn.prompt_version)}]
                ),
                "gen_ai.input.messages": json.dumps(
                    [{"role": "user", "parts": [{"type": "text", "content": turn.question}]}]
                ),
                "gen_ai.output.messages": json.dumps(
                    [
                        {
                            "role": "assistant",
                            "finish_reason": "stop",
                            "parts": [{"type": "text", "content": turn.answer}],
                        }
                    ]
                ),
            },
        )
        chat.end(end_time=end)
        root.end(end_time=end)
        return f"{root.get_span_context().trace_id:032x}"

    def _send_signals(self, turns: list[Turn], trace_ids: list[str]) -> None:
        bodies = [
            {
                "kind": sig.kind,
                "trace_id": trace_id,
                "at": sig.at.isoformat(),
                "user_id": turn.user_id,
                "idempotency_key": f"demo-{turn.index}-{sig.kind}",
            }
            for turn, trace_id in zip(turns, trace_ids, strict=True)
            for sig in turn.signals
        ]
        for start in range(0, len(bodies), 500):
            response = self.http.post(
                "/api/v1/signals/batch",
                params={"project": PROJECT},
                json={"signals": bodies[start : start + 500]},
            )
            if response.status_code >= 300:
                raise RuntimeError(f"signals refused: {response.status_code} {response.text[:300]}")
        self.played.signals += len(bodies)

    def _stored(self, day_start: datetime) -> int:
        with self.store.reading() as conn:
            query = sa.select(sa.func.count()).where(
                interactions.c.start_at >= day_start,
                interactions.c.start_at < day_start + timedelta(days=1),
            )
            return int(conn.execute(query).scalar_one())

    def _judged(self) -> bool:
        with self.store.reading() as conn:
            query = sa.select(sa.func.count()).where(judge_jobs.c.state.in_(("queued", "leased")))
            return int(conn.execute(query).scalar_one()) == 0

    def _wait(self, what: str, done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.timeout_s
        while not done():
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for: {what}")
            time.sleep(0.05)

    def _day_line(self, day: int, count: int) -> str:
        with self.store.reading() as conn:
            firing = conn.execute(
                sa.select(sa.func.count()).where(alerts.c.state == "firing")
            ).scalar_one()
        notes = _incident_notes(self.story, day)
        return (
            f"  day {day + 1:2}/{self.story.timeline.days}  {count:4} requests  "
            f"{firing} alert(s) firing{notes}"
        )

    # -- the flywheel ---------------------------------------------------------------

    def _promote_failures(self, at: datetime) -> None:
        """A reviewer confirms a few failures, German ones first (the incident), and
        promotes them as frozen regression cases that expect the knowledge-base citation."""
        with self.store.reading() as conn:
            items = list_items(
                conn, ItemFilter(project=PROJECT, states=(ReviewState.OPEN,), limit=1000)
            )
            ids = [item.interaction_id for item in items]
            questions = dict(
                conn.execute(
                    sa.select(interactions.c.interaction_id, interactions.c.input_text).where(
                        interactions.c.interaction_id.in_(ids)
                    )
                ).all()
            )
        chosen: dict[tuple[str, str], int] = {}  # one case per (topic, language)
        for item in items:
            found = question_topic_language(questions.get(item.interaction_id) or "")
            if found is not None and item.item_id is not None:
                chosen.setdefault(found, item.item_id)
        ranked = sorted(chosen.items(), key=lambda pair: (pair[0][1] != "de", pair[1]))
        promoted: list[str] = []
        for (topic, language), item_id in ranked[:PROMOTED]:
            with self.store.writing() as conn:
                triage(conn, item_id, ReviewState.REAL_FAILURE, REVIEWER, at)
                write_expected(
                    conn,
                    item_id,
                    {"behaviour": answer_for(topic, language)},
                    {"type": "contains", "values": ["[1]"]},
                    REVIEWER,
                    at,
                    tags=(topic, language),
                )
                _, case = promote(conn, item_id, REVIEWER, at)
            promoted.append(case.id)
        self.played.promoted = promoted
        self.progress(f"  review: {len(promoted)} failures promoted to frozen regression cases")

    def _regress(self) -> None:
        with self.store.reading() as conn:
            cases = latest_cases(conn, PROJECT)
        if not cases:
            self.progress("  regression: no golden cases, no run")
            return
        target = PythonTarget("acme-support@v2", _current_assistant, timeout_s=10)
        run = asyncio.run(run_cases(cases, target, GradingContext(), prompt_version="v2"))
        document = {**run.to_json(), "exit_code": 0 if run.pass_rate == 1 else 1, "verdict": []}
        response = self.http.post("/api/v1/runs", params={"project": PROJECT}, json=document)
        if response.status_code != 201:
            raise RuntimeError(f"the run was refused: {response.status_code} {response.text[:300]}")
        self.played.run_id = int(response.json()["run_id"])
        self.played.pass_rate = run.pass_rate
        rate = "-" if run.pass_rate is None else f"{run.pass_rate:.0%}"
        self.progress(f"  regression: run {self.played.run_id}, {len(cases)} cases, {rate} pass")


def _current_assistant(request: str | list[dict[str, str]]) -> str:
    """The assistant as it answers with prompt v2 and the pinned model."""
    if isinstance(request, str):
        question = request
    else:
        question = next((m["content"] for m in reversed(request) if m["role"] == "user"), "")
    found = question_topic_language(question)
    if found is None:
        return "I am sorry, I do not have information about that. Is there anything else?"
    topic, language = found
    return answer_for(topic, language)


def _system_prompt(version: str) -> str:
    if version == "v1":
        return "You are Acme Support. Answer the customer's question politely."
    return (
        "You are Acme Support. Answer in the customer's language, use the retrieved "
        "knowledge-base articles, give the concrete steps, and cite the article as [1]."
    )


def _incident_notes(story: Story, day: int) -> str:
    timeline = story.timeline
    notes = {
        timeline.rollout_day: "prompt v2 rolled out",
        timeline.update_day: "provider silently serves a new model; German answers degrade",
        timeline.drift_day: "Acme Card launched; Spanish traffic grows",
    }
    note = notes.get(day)
    return f"  <- {note}" if note else ""
