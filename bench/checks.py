"""Cheap-checks benchmark: µs per interaction for each default check and the whole set.

    python bench/checks.py                    # 3,000 interactions, best of 5 rounds
    python bench/checks.py --interactions 500 --rounds 3
    python bench/checks.py --cpu-time         # this process's CPU time, not wall time

Interactions are built from real text in ../shared/datasets (see its SOURCES.md):

- 35% chat: multilingual, from `languages/` (16 languages alike, one sentence
  asked, two to four answered; 1 in 20 answered in another language);
- 15% short questions: English user utterances from `intents/` answered with
  an English answer from `pairwise/`;
- 20% instructions: English instruction and answer pairs from `pairwise/`;
- 30% retrieval: summaries from `judge-calibration/` (the article split into
  three retrieved documents, a human reference summary as the answer, with [n]
  citations, 1 in 10 pointing nowhere).

1 in 20 answers is replaced by a refusal; half carry token usage. Prints the
mean per interaction of each default check and of the whole set (best of the
rounds), then the whole set per kind of interaction. The budget is 200 µs per
interaction (mean) for the default set.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from liveeval.evaluators import CheckSuite, run_check
from liveeval.model import Interaction, Message, RetrievedDocument, TokenUsage

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
BUDGET_US = 200.0
REFUSALS = {
    "en": "I'm sorry, but I can't help with that request.",
    "de": "Es tut mir leid, aber dabei kann ich Ihnen nicht helfen.",
    "fr": "Je suis désolé, mais je ne peux pas vous aider avec cette demande.",
    "es": "Lo siento, no puedo ayudarte con eso.",
    "ja": "申し訳ありませんが、そのご要望にはお応えできません。",
    "zh": "抱歉，我无法提供这方面的帮助。",
}
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _interaction(
    rng: random.Random,
    kind: str,
    question: str,
    answer: str,
    docs: tuple[RetrievedDocument, ...] = (),
) -> Interaction:
    usage = TokenUsage(input=len(question) // 4 + 40, output=len(answer) // 4 + 1)
    return Interaction(
        project="bench",
        trace_id=f"{rng.getrandbits(128):032x}",
        span_id=f"{rng.getrandbits(64):016x}",
        parent_span_id=None,
        name="chat",
        convention="genai",
        operation="chat",
        start_at=NOW,
        end_at=NOW,
        latency_ms=800.0,
        status="ok",
        input_messages=(
            Message("system", "You are a helpful assistant."),
            Message("user", question),
        ),
        output_messages=(Message("assistant", answer, finish_reason="stop"),),
        retrieved_context=docs,
        usage=usage if rng.random() < 0.5 else TokenUsage(),
        finish_reasons=("stop",),
        metadata={"kind": kind},
    )


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def build_interactions(count: int, seed: int = 11) -> list[Interaction]:
    rng = random.Random(seed)
    languages = {p.stem: _lines(p) for p in sorted((DATASETS / "languages").glob("*.txt"))}
    pairs = [
        pair
        for path in sorted((DATASETS / "pairwise").glob("*.json"))
        for pair in json.loads(path.read_text(encoding="utf-8"))
    ]
    utterances = [
        text
        for text, _ in json.loads((DATASETS / "intents" / "data_full.json").read_text("utf-8"))[
            "test"
        ]
    ]
    summaries = [
        json.loads(line)
        for line in (DATASETS / "judge-calibration" / "M8_outputs_annotations.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    ]
    out: list[Interaction] = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.35:
            lang = rng.choice(sorted(languages))
            question = rng.choice(languages[lang])
            answer_lang = lang if rng.random() > 0.05 else ("de" if lang == "en" else "en")
            answer = " ".join(rng.sample(languages[answer_lang], rng.randint(2, 4)))
            if rng.random() < 0.05:
                answer = REFUSALS.get(lang, REFUSALS["en"])
            out.append(_interaction(rng, "chat", question, answer))
        elif kind < 0.70:
            pair = rng.choice(pairs)
            short = kind < 0.50
            question = rng.choice(utterances) if short else pair["input"]
            answer = pair["output_1"] if rng.random() < 0.95 else REFUSALS["en"]
            out.append(_interaction(rng, "question" if short else "instruction", question, answer))
        else:
            record = rng.choice(summaries)
            sentences = [s for s in record["text"].replace("\n", " ").split(". ") if s]
            third = max(1, len(sentences) // 3)
            docs = tuple(
                RetrievedDocument(". ".join(sentences[i * third : (i + 1) * third]), id=f"doc-{i}")
                for i in range(3)
            )
            summary = rng.choice(record["references"]).split(". ")
            cited = [f"{s.rstrip('.')} [{rng.randint(1, 3)}]." for s in summary]
            if rng.random() < 0.1:
                cited[-1] = cited[-1].replace("]", "7]")
            question = "Summarize the article: " + " ".join(sentences[0].split()[:12])
            out.append(_interaction(rng, "retrieval", question, " ".join(cited), docs))
    return out


def _mean_us(
    fn: Callable[[Interaction], object],
    items: list[Interaction],
    rounds: int,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = clock()
        for interaction in items:
            fn(interaction)
        best = min(best, (clock() - start) / len(items) * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--cpu-time", action="store_true", help="measure CPU time (process_time), not wall time"
    )
    args = parser.parse_args()
    # On a shared, loaded machine wall time also counts the time other processes held the
    # CPU (it doubled under a load of 4 on 2 cores); the process's CPU time leaves that out.
    clock = time.process_time if args.cpu_time else time.perf_counter
    items = build_interactions(args.interactions)
    suite = CheckSuite.from_config()
    for interaction in items[:50]:
        suite.run(interaction)  # warm up
    with_context = [i for i in items if i.retrieved_context]
    measured = "CPU" if args.cpu_time else "wall"
    print(f"{len(items)} interactions ({len(with_context)} with retrieved context), "
          f"mean {measured} µs per interaction, best of {args.rounds} rounds")  # fmt: skip
    for check in suite.default:
        per_all = _mean_us(lambda i, c=check: run_check(c, i), items, args.rounds, clock)  # type: ignore[misc]
        line = f"  {check.name:<10} {per_all:8.1f}"
        if check.name == "grounding" and with_context:
            on_context = _mean_us(
                lambda i, c=check: run_check(c, i),  # type: ignore[misc]
                with_context,
                args.rounds,
                clock,
            )
            line += f"   ({on_context:.1f} on interactions with context)"
        print(line)
    total = _mean_us(suite.run, items, args.rounds, clock)
    verdict = "within" if total <= BUDGET_US else "OVER"
    print(f"  {'total':<10} {total:8.1f}   budget {BUDGET_US:.0f} µs: {verdict}")
    for kind in ("chat", "question", "instruction", "retrieval"):
        subset = [i for i in items if i.metadata["kind"] == kind]
        print(f"  total on {kind:<11} {_mean_us(suite.run, subset, args.rounds, clock):8.1f}"
              f"   ({len(subset)} interactions)")  # fmt: skip
    failed: dict[str, int] = {}
    for interaction in items:
        for result in suite.run(interaction):
            if not result.passed:
                failed[result.name] = failed.get(result.name, 0) + 1
    print("  failures:", ", ".join(f"{name} {n}" for name, n in sorted(failed.items())))


if __name__ == "__main__":
    main()
