"""Routing benchmark: route MT-Bench questions between four sibling models by real scores.

    python bench/routing.py                       # 4 stories x 8 seeds, about 1-2 minutes
    python bench/routing.py --seeds 3 --requests 6000

The environment is real per-model quality: ../shared/datasets/routing/ holds GPT-4
single-answer scores (1-10) of four Mistral-7B ORPO fine-tunes on the 80 MT-Bench
questions x 2 turns, 8 categories (see its README). Each request draws a (question, turn)
uniformly; its context is the question's category; the chosen model's reward is its real
score for that cell / 10 (mistral-orpo has two scores in 99 cells: one is drawn). Regret
is pseudo-regret: the oracle's expected reward (best model per category in expectation,
knowing every change) minus the expected reward of the arm chosen.

Stories (each change happens halfway):
- steady: all four models from the start;
- degrade: mistral-orpo-trl, the best model in coding (5.75 against capybara's 3.95),
  silently loses 4 points (floored at 1) on every coding answer, which leaves it 0.9
  below capybara there (`--degrade-category extraction` tries the category where it
  falls furthest, 2.3 below);
- good canary: orpo, mix and capybara (control) serve; trl arrives as a canary;
- bad canary: trl (control), capybara and mix serve; mistral-orpo arrives as a canary.

Policies: oracle; best single model (the best overall of the arms there at the start);
uniform; epsilon-greedy (0.1, per category, sample means); Thompson sampling per category
with a hard evidence cap (Beta posteriors rescaled to alpha + beta <= 1000 when over it,
no other forgetting: the open-source baseline); ours: `routing.learn.fold` ->
`routing.policy.compute_snapshot` -> `routing.choose.choose`, the snapshot refreshed every
`--refresh` outcomes as the product will, slices ["category"], half-life 2000 outcomes of
an arm in a slice, min_share 0.005, every other setting at its default (change detection
on, prior strength 4, canary cap 0.05 lifted or failed at 95%). The baselines learn
from every outcome at once (a head start over ours, which only sees them at the next
refresh); new arms join the baselines plainly (they have no canary mode).

Cost: the four are the same size (7B), so any price difference is a deployment choice,
not a model property. This benchmark assumes each is served on a different public 7B
endpoint, at list prices for Mistral-7B-class models as recalled from 2024 price pages
(per 1M tokens, input = output; not re-checked in this session, so treat them as a
scenario): trl on Mistral AI's API (open-mistral-7b, $0.25), capybara on Together AI
(7B tier, $0.20), mix and mistral-orpo on Anyscale Endpoints (7B, $0.15). Every request
counts 500 input + 300 output tokens (no answer lengths are published with the scores).
The reward is quality alone (no cost penalty): a lower cost comes from routing categories
to the cheaper model that is as good there.

Prints one table per story (mean over seeds with a 95% t interval), the targets and
whether each is met, choose()'s p50/p99 in microseconds (wall clock per call, measured
inside the runs; the load average is printed with it) and the CPU time of one learn()
over 100,000 outcomes.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from liveeval.model.routing import Outcome
from liveeval.routing.choose import choose
from liveeval.routing.config import TaskConfig, from_mapping
from liveeval.routing.learn import fold, learn, new_evidence
from liveeval.routing.policy import compute_snapshot
from liveeval.stats.means import Moments, t_interval

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "routing"
TRL, CAPY, MIX, ORPO = (
    "mistral-orpo-trl",
    "mistral-orpo-capybara",
    "mistral-orpo-mix",
    "mistral-orpo",
)
PRICE_PER_MTOK = {TRL: 0.25, CAPY: 0.20, MIX: 0.15, ORPO: 0.15}
TOKENS = 500 + 300
DEGRADE_POINTS = 4.0
WINDOW = 50  # requests of the category over which a share is read
START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class World:
    """The scores: per (question, turn) cell its category and each model's scores."""

    cells: list[tuple[str, dict[str, list[float]]]]

    def expected(self, category: str, model: str, degraded: str | None) -> float:
        means = [
            sum(_score(s, model, category, degraded) for s in scores[model]) / len(scores[model])
            for cat, scores in self.cells
            if cat == category
        ]
        return sum(means) / len(means) / 10.0

    @property
    def categories(self) -> list[str]:
        return sorted({cat for cat, _ in self.cells})


def _score(score: float, model: str, category: str, degraded: str | None) -> float:
    if model == TRL and category == degraded:
        return max(1.0, score - DEGRADE_POINTS)
    return score


def load(data: Path) -> World:
    cells: dict[tuple[int, int], tuple[str, dict[str, list[float]]]] = {}
    with (data / "mtbench_scores.csv").open() as handle:
        for row in csv.DictReader(handle):
            key = (int(row["question_id"]), int(row["turn"]))
            _, scores = cells.setdefault(key, (row["category"], defaultdict(list)))
            scores[row["model"]].append(float(row["score"]))
    return World([cells[key] for key in sorted(cells)])


@dataclass(frozen=True)
class Story:
    name: str
    start: tuple[str, ...]
    control: str
    arrives: str | None = None
    degrade: bool = False
    category: str = "coding"  # where trl degrades


STORIES = (
    Story("steady", (TRL, CAPY, MIX, ORPO), TRL),
    Story("degrade", (TRL, CAPY, MIX, ORPO), TRL, degrade=True),
    Story("good canary", (ORPO, MIX, CAPY), CAPY, arrives=TRL),
    Story("bad canary", (TRL, CAPY, MIX), TRL, arrives=ORPO),
)


class Policy:
    name = ""

    def __init__(self, arms: list[str], rng: random.Random) -> None:
        self.arms = list(arms)
        self.rng = rng

    def arrive(self, arm: str) -> None:
        self.arms.append(arm)

    def pick(self, category: str, truth: Callable[[str], float]) -> str:
        raise NotImplementedError

    def update(self, category: str, arm: str, score: float, cost: float) -> None:
        pass


class Oracle(Policy):
    name = "oracle"

    def pick(self, category: str, truth: Callable[[str], float]) -> str:
        return max(self.arms, key=truth)


class Single(Policy):
    name = "best single"

    def __init__(self, arms: list[str], rng: random.Random, best: str) -> None:
        super().__init__(arms, rng)
        self.best = best

    def pick(self, category: str, truth: Callable[[str], float]) -> str:
        return self.best


class Uniform(Policy):
    name = "uniform"

    def pick(self, category: str, truth: Callable[[str], float]) -> str:
        return self.rng.choice(self.arms)


class EpsilonGreedy(Policy):
    name = "eps-greedy 0.1"
    epsilon = 0.1

    def __init__(self, arms: list[str], rng: random.Random) -> None:
        super().__init__(arms, rng)
        self.sums: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])

    def pick(self, category: str, truth: Callable[[str], float]) -> str:
        unseen = [a for a in self.arms if self.sums[(category, a)][1] == 0]
        if unseen:
            return self.rng.choice(unseen)
        if self.rng.random() < self.epsilon:
            return self.rng.choice(self.arms)
        return max(
            self.arms, key=lambda a: self.sums[(category, a)][0] / self.sums[(category, a)][1]
        )

    def update(self, category: str, arm: str, score: float, cost: float) -> None:
        cell = self.sums[(category, arm)]
        cell[0] += score / 10.0
        cell[1] += 1.0


class CappedThompson(Policy):
    name = "TS capped 1000"
    cap = 1000.0

    def __init__(self, arms: list[str], rng: random.Random) -> None:
        super().__init__(arms, rng)
        self.beta: dict[tuple[str, str], list[float]] = defaultdict(lambda: [1.0, 1.0])

    def pick(self, category: str, truth: Callable[[str], float]) -> str:
        draws = {a: self.rng.betavariate(*self.beta[(category, a)]) for a in self.arms}
        return max(draws, key=draws.__getitem__)

    def update(self, category: str, arm: str, score: float, cost: float) -> None:
        cell = self.beta[(category, arm)]
        r = score / 10.0
        cell[0] += r
        cell[1] += 1.0 - r
        total = cell[0] + cell[1]
        if total > self.cap:
            cell[0] *= self.cap / total
            cell[1] *= self.cap / total


class Ours(Policy):
    name = "liveeval"

    def __init__(
        self, arms: list[str], rng: random.Random, control: str, refresh: int, timings: list[int]
    ) -> None:
        super().__init__(arms, rng)
        self.control = control
        self.refresh = refresh
        self.timings = timings
        self.canary: str | None = None
        self.config = self._config()
        self.evidence = new_evidence(self.config)
        self.pending: list[Outcome] = []
        self.version = 0
        self.seen = 0
        self._snapshot()

    def _config(self) -> TaskConfig:
        arms = [
            {
                "name": arm,
                "model": arm,
                "role": "control"
                if arm == self.control
                else "canary"
                if arm == self.canary
                else "candidate",
            }
            for arm in self.arms
        ]
        return from_mapping(
            "mtbench",
            {
                "arms": arms,
                "default": self.control,
                "reward": {
                    "kind": "score",
                    "success_weight": 0.0,
                    "quality_weight": 1.0,
                    "quality_low": 0.0,
                    "quality_high": 10.0,
                },
                "slices": ["category"],
                "half_life_outcomes": 2000.0,
                "min_share": 0.005,
            },
        )

    def arrive(self, arm: str) -> None:
        super().arrive(arm)
        self.canary = arm
        self.config = self._config()
        self.evidence.arms = self.config.arm_names
        self._snapshot()

    def _snapshot(self) -> None:
        fold(self.evidence, self.pending, self.config)
        self.pending.clear()
        self.version += 1
        self.snapshot = compute_snapshot(
            self.evidence,
            self.config,
            policy_version=self.version,
            now=START,
            seed=self.rng.getrandbits(32),
        )

    def pick(self, category: str, truth: Callable[[str], float]) -> str:
        context = {"category": category}
        u = self.rng.random()
        began = time.perf_counter_ns()
        choice = choose(self.snapshot, context, u=u)
        self.timings.append(time.perf_counter_ns() - began)
        return choice.arm

    def update(self, category: str, arm: str, score: float, cost: float) -> None:
        self.seen += 1
        at = START + timedelta(seconds=self.seen)
        self.pending.append(
            Outcome(str(self.seen), arm, at, {"category": category}, quality=score, cost_usd=cost)
        )
        if len(self.pending) >= self.refresh:
            self._snapshot()


@dataclass
class Run:
    regret: float = 0.0
    reward: float = 0.0
    cost: float = 0.0
    n: int = 0
    # the arms chosen in the degraded category after the change
    watch: list[str] = field(default_factory=list)
    canary: int = 0  # requests the arriving arm served after it arrived
    after: int = 0


def simulate(
    world: World,
    story: Story,
    make: Callable[[list[str], random.Random], Policy],
    requests: int,
    seed: int,
) -> Run:
    watched = story.category if story.degrade else None
    env = random.Random(seed)
    policy = make(list(story.start), random.Random(seed * 7919 + 1))
    run = Run()
    half = requests // 2
    expected = {
        (cat, m, d): world.expected(cat, m, d)
        for cat in world.categories
        for m in PRICE_PER_MTOK
        for d in (None, watched)
    }
    for step in range(requests):
        changed = step >= half
        if step == half and story.arrives:
            policy.arrive(story.arrives)
        degraded = watched if changed else None
        category, scores = world.cells[env.randrange(len(world.cells))]
        arms = list(policy.arms)
        best = max(expected[(category, a, degraded)] for a in arms)
        arm = policy.pick(category, lambda a, c=category, d=degraded: expected[(c, a, d)])
        score = _score(env.choice(scores[arm]), arm, category, degraded)
        cost = PRICE_PER_MTOK[arm] * TOKENS / 1e6
        policy.update(category, arm, score, cost)
        run.regret += best - expected[(category, arm, degraded)]
        run.reward += score / 10.0
        run.cost += cost
        run.n += 1
        if changed and category == watched:
            run.watch.append(arm)
        if changed and story.arrives:
            run.after += 1
            run.canary += arm == story.arrives
    return run


def outcomes_to_move(watch: list[str]) -> float:
    """Requests of the category after the change until the degraded model's share of the
    next WINDOW requests there is at most 10% (inf: never)."""
    for start in range(0, max(0, len(watch) - WINDOW) + 1):
        window = watch[start : start + WINDOW]
        if len(window) == WINDOW and sum(a == TRL for a in window) <= 0.1 * WINDOW:
            return float(start)
    return math.inf


def summary(values: list[float]) -> str:
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) < len(values):
        others = f", else mean {mean(finite):.0f}" if finite else ""
        return f"never in {len(values) - len(finite)}/{len(values)}{others}"
    moments = Moments.of_values(finite)
    low, high = t_interval(moments) if len(finite) > 1 else (moments.mean, moments.mean)
    return f"{moments.mean:8.3f} [{low:.3f}, {high:.3f}]"


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def learn_time(world: World, n: int) -> tuple[float, int]:
    """CPU seconds of learn() over n outcomes of uniformly chosen arms (the server's
    refresh from stored outcomes, as against folding in only the new ones)."""
    rng = random.Random(0)
    config = Ours([TRL, CAPY, MIX, ORPO], random.Random(0), TRL, 100, []).config
    outcomes = []
    for i in range(n):
        category, scores = world.cells[rng.randrange(len(world.cells))]
        arm = rng.choice(config.arm_names)
        at = START + timedelta(seconds=i)
        quality = rng.choice(scores[arm])
        outcomes.append(Outcome(str(i), arm, at, {"category": category}, quality=quality))
    began = time.process_time()
    learn(outcomes, config, policy_version=1, now=START)
    return time.process_time() - began, n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--requests", type=int, default=12_000)
    parser.add_argument("--refresh", type=int, default=100, help="outcomes per snapshot")
    parser.add_argument(
        "--degrade-category", default="coding", help="where trl degrades in 'degrade'"
    )
    args = parser.parse_args(argv)
    world = load(args.data)
    timings: list[int] = []
    overall = {
        m: mean([world.expected(c, m, None) for c in world.categories]) for m in PRICE_PER_MTOK
    }
    print(f"load before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    cpu = time.process_time()
    verdicts: list[tuple[str, bool, str]] = []
    stories = [
        replace(story, category=args.degrade_category) if story.degrade else story
        for story in STORIES
    ]
    for story in stories:
        single = max(story.start, key=overall.__getitem__)
        makers: dict[str, Callable[[list[str], random.Random], Policy]] = {
            "oracle": Oracle,
            f"single ({single})": lambda arms, rng, s=single: Single(arms, rng, s),
            "uniform": Uniform,
            "eps-greedy 0.1": EpsilonGreedy,
            "TS capped 1000": CappedThompson,
            "liveeval": lambda arms, rng, c=story.control: Ours(
                arms, rng, c, args.refresh, timings
            ),
        }
        results = {
            name: [simulate(world, story, make, args.requests, seed) for seed in range(args.seeds)]
            for name, make in makers.items()
        }
        where = f", trl degrades in {story.category}" if story.degrade else ""
        print(f"\n## {story.name} ({args.requests} requests, {args.seeds} seeds{where})")
        extra = (
            "degraded: to 90% off" if story.degrade else "arrival share" if story.arrives else ""
        )
        print(f"{'policy':32} {'cum. regret':>26} {'reward/1k':>26} {'USD/1k':>26} {extra:>26}")
        for name, runs in results.items():
            row = [
                summary([r.regret for r in runs]),
                summary([1000 * r.reward / r.n for r in runs]),
                summary([1000 * r.cost / r.n for r in runs]),
            ]
            if story.degrade:
                row.append(summary([outcomes_to_move(r.watch) for r in runs]))
            elif story.arrives:
                row.append(summary([r.canary / r.after for r in runs]))
            print(f"{name:32} " + " ".join(f"{cell:>26}" for cell in row))
        ours = results["liveeval"]
        if story.name == "steady":
            eps = mean([r.regret for r in results["eps-greedy 0.1"]])
            got = mean([r.regret for r in ours])
            verdicts.append(
                ("regret <= half of eps-greedy's", got <= eps / 2, f"{got:.1f} vs {eps:.1f}")
            )
            best = results[f"single ({single})"]
            reward_ok = mean([r.reward / r.n for r in ours]) >= mean([r.reward / r.n for r in best])
            cost_ok = mean([r.cost / r.n for r in ours]) < mean([r.cost / r.n for r in best])
            verdicts.append(
                (
                    "at equal (or better) quality, lower cost than the best single model",
                    reward_ok and cost_ok,
                    f"reward/1k {1000 * mean([r.reward / r.n for r in ours]):.1f} vs "
                    f"{1000 * mean([r.reward / r.n for r in best]):.1f}, USD/1k "
                    f"{1000 * mean([r.cost / r.n for r in ours]):.4f} vs "
                    f"{1000 * mean([r.cost / r.n for r in best]):.4f}",
                )
            )
        if story.degrade:
            moves = [outcomes_to_move(r.watch) for r in ours]
            verdicts.append(
                (
                    "90% off a degraded model within 300 outcomes (of its category)",
                    max(moves) <= 300,
                    f"worst seed {max(moves):g}, mean {mean(moves):.0f}",
                )
            )
        if story.name == "bad canary":
            shares = [r.canary / r.after for r in ours]
            verdicts.append(
                (
                    "bad canary <= 1% of traffic after it arrived (mean over seeds)",
                    mean(shares) <= 0.01,
                    f"mean {100 * mean(shares):.2f}%, worst seed {100 * max(shares):.2f}%",
                )
            )
    learn_cpu, learned = learn_time(world, 100_000)
    print(f"\nlearn(): {learned} outcomes, 8 category slices, {learn_cpu:.2f} s CPU")
    timings.sort()
    p50, p99 = (timings[int(q * (len(timings) - 1))] / 1000 for q in (0.5, 0.99))
    verdicts.append(("choose() p99 <= 50 us", p99 <= 50, f"p50 {p50:.1f} us, p99 {p99:.1f} us"))
    print(f"\nchoose(): {len(timings)} calls, p50 {p50:.1f} us, p99 {p99:.1f} us (wall)")
    print(
        f"CPU time {time.process_time() - cpu:.1f} s; load after: "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    print("\n## targets")
    for what, ok, figures in verdicts:
        print(f"{'MET ' if ok else 'MISS'} {what}: {figures}")
    return 0 if all(ok for _, ok, _ in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
