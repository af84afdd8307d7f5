"""The demo's moving parts around the server: the judge worker, the monitor and the player.

`DemoSession` owns them; `liveeval demo` and the end-to-end test start the server
themselves and hand its URL here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from liveeval.config import Settings
from liveeval.demo.player import Played, Player, Progress
from liveeval.demo.simulated_judge import SimulatedJudgeProvider
from liveeval.demo.story import Story, build_story
from liveeval.judge.grading import Grader
from liveeval.judge.providers import JudgeProvider, build_provider
from liveeval.judge.rubrics import selected_rubrics
from liveeval.judge.worker import BackgroundWorker, JudgeWorker
from liveeval.monitor.scheduler import Monitor, MonitorThread
from liveeval.store.database import Store, open_store
from liveeval.store.schema import judge_jobs

log = logging.getLogger(__name__)


def story_ending_now(days: int, per_day: int, seed: int, now: datetime | None = None) -> Story:
    """The story placed so that its last day ends at the current hour."""
    end = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    return build_story(end - timedelta(days=days), days=days, per_day=per_day, seed=seed)


@dataclass
class DemoSession:
    settings: Settings
    story: Story
    real_judge: bool = False
    stores: list[Store] = field(default_factory=list)
    judge: BackgroundWorker | None = None
    ticking: MonitorThread | None = None
    played: Played | None = None
    error: BaseException | None = None
    finished: threading.Event = field(default_factory=threading.Event)

    def _store(self) -> Store:
        store = open_store(self.settings.db)
        self.stores.append(store)
        return store

    def start_judge(self) -> None:
        provider: JudgeProvider = (
            build_provider(self.settings.judge)
            if self.real_judge
            else SimulatedJudgeProvider(seed=self.story.seed)
        )
        grader = Grader(provider, self.settings.judge)
        rubrics = {r.name: r for r in selected_rubrics(self.settings.judge)}
        worker = JudgeWorker(
            self._store(),
            grader,
            rubrics,
            self.settings.worker,
            concurrency=self.settings.judge.concurrency,
        )
        self.judge = BackgroundWorker(worker).start()

    def play(self, url: str, progress: Progress, pause_s: float = 0.0) -> Played:
        """Play the whole story (blocking), then keep the monitor ticking in real time."""
        try:
            # the first day's ingest and monitor tick load them: some seconds of silence
            progress("  loading the language and topic models (the first day waits for them)")
            monitor = Monitor(self._store(), self.settings)
            player = Player(url, self._store(), monitor, self.story, progress=progress)
            player.pause_s = pause_s
            player.wait_for_judge = not self.real_judge
            self.played = player.play()
            monitor.release()
            self.ticking = MonitorThread(Monitor(self._store(), self.settings))
            self.ticking.start()
            return self.played
        except BaseException as exc:
            self.error = exc
            raise
        finally:
            self.finished.set()

    def judge_backlog(self) -> int:
        """Judgments still queued or running (the local model works on after the play)."""
        store = self._store()
        with store.reading() as conn:
            query = sa.select(sa.func.count()).where(judge_jobs.c.state.in_(("queued", "leased")))
            return int(conn.execute(query).scalar_one())

    def play_in_thread(
        self, url: str, progress: Progress, done: Callable[[DemoSession], None], pause_s: float
    ) -> threading.Thread:
        def run() -> None:
            try:
                self.play(url, progress, pause_s)
            except Exception:
                log.exception("the demo stopped")
            done(self)

        thread = threading.Thread(target=run, name="liveeval-demo", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        if self.ticking is not None:
            self.ticking.stop()
        if self.judge is not None:
            self.judge.stop()
        for store in self.stores:
            store.close()
