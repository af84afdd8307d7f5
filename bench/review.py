"""Review-intake benchmark: how long a monitor tick takes to file new failures.

    python bench/review.py                      # 2,000 failures among 20,000 interactions
    python bench/review.py --failures 5000 --ner off

A SQLite store gets `--interactions` interactions with realistic support questions
(CLINC150 utterances from ../shared/datasets/intents, with a name and an email mixed in
as PII), of which `--failures` get a thumbs-down, a low judge score or a failed check.
Then one intake run (flywheel.intake.collect, as each monitor tick runs it) files them:
the figures are the whole run, the share spent scrubbing PII (Presidio, with spaCy NER
unless `--ner off`), the items and groups made, and items per second. A second run with
nothing new shows the idle cost. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from liveeval.config.privacy import PrivacyConfig
from liveeval.config.review import ReviewConfig
from liveeval.features.encoder import load_encoder_or_fallback
from liveeval.flywheel.intake import collect
from liveeval.model import Interaction, Score, ScoreKind, Signal, SignalKind
from liveeval.privacy.scrubber import Scrubber
from liveeval.store.database import open_store
from liveeval.store.interactions import upsert_interactions
from liveeval.store.scores import interaction_ids_by_span, write_scores
from liveeval.store.signals import record_signal

INTENTS = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "intents"
NAMES = ["Maria Garcia", "John Smith", "Wei Zhang", "Aisha Khan", "Lars Nilsson"]
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def questions(count: int, rng: random.Random) -> list[str]:
    rows = json.loads((INTENTS / "data_full.json").read_text())["train"]
    out = []
    for _ in range(count):
        text, _intent = rng.choice(rows)
        if rng.random() < 0.3:
            name = rng.choice(NAMES)
            text = f"Hi, I'm {name} ({name.split()[0].lower()}@example.com). {text}"
        out.append(text)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=20_000)
    parser.add_argument("--failures", type=int, default=2_000)
    parser.add_argument("--ner", choices=["auto", "off"], default="auto")
    args = parser.parse_args()
    rng = random.Random(7)
    folder = tempfile.mkdtemp(prefix="liveeval-bench-review-")
    store = open_store(f"sqlite:///{folder}/review.db")
    texts = questions(args.interactions, rng)
    batch = [
        Interaction(
            project="shop",
            trace_id=f"{k:032x}",
            span_id=f"{k:016x}",
            parent_span_id=None,
            name="chat",
            convention="genai",
            operation="chat",
            start_at=T0 + timedelta(seconds=k),
            end_at=T0 + timedelta(seconds=k + 1),
            latency_ms=1000,
            status="ok",
            input_text=text,
            output_text="I am sorry, I cannot help with that.",
        )
        for k, text in enumerate(texts)
    ]
    with store.writing() as conn:
        upsert_interactions(conn, batch, T0)
        ids = interaction_ids_by_span(conn, "shop", sorted({i.trace_id for i in batch}))
        iids = [ids[(i.trace_id, i.span_id)] for i in batch]
        failing = rng.sample(iids, args.failures)
        scores, keys = [], []
        for n, iid in enumerate(failing):
            if n % 3 == 0:
                record_signal(
                    conn, Signal("shop", SignalKind.THUMBS_DOWN, T0, interaction_id=iid), T0
                )
            elif n % 3 == 1:
                scores.append(
                    Score("shop", iid, "quality", ScoreKind.JUDGE, value=1.0, created_at=T0)
                )
                keys.append(f"j{iid}")
            else:
                scores.append(
                    Score(
                        "shop",
                        iid,
                        "length",
                        ScoreKind.CHECK,
                        value=0.0,
                        details={"passed": False},
                        created_at=T0,
                    )
                )
                keys.append(f"c{iid}")
        write_scores(conn, scores, keys)

    started = time.perf_counter()
    scrubber = Scrubber.from_config(PrivacyConfig(ner=args.ner))
    encoder = load_encoder_or_fallback("static")
    loaded = time.perf_counter() - started
    scrub_time = 0.0

    def scrub(text: str) -> tuple[str, list[str]]:
        nonlocal scrub_time
        began = time.perf_counter()
        done = scrubber.scrub(text)
        scrub_time += time.perf_counter() - began
        return done.text, [f.entity for f in done.entities]

    config = ReviewConfig(max_new_items_per_tick=args.failures)
    began = time.perf_counter()
    intake = collect(store, config, scrub, encoder, T0 + timedelta(days=1))
    took = time.perf_counter() - began
    began = time.perf_counter()
    collect(store, config, scrub, encoder, T0 + timedelta(days=1))
    idle = time.perf_counter() - began
    print(f"scrubber ({scrubber.ner_in_use} NER) and encoder loaded in {loaded:.2f} s")
    print(
        f"intake of {args.failures} failures among {args.interactions} interactions: "
        f"{took:.2f} s ({intake.new_items / took:.0f} items/s), scrubbing {scrub_time:.2f} s "
        f"({100 * scrub_time / took:.0f}%)"
    )
    print(f"  {intake.new_items} items in {intake.groups} groups")
    print(f"an idle tick (nothing new): {1000 * idle:.1f} ms")
    store.close()


if __name__ == "__main__":
    main()
