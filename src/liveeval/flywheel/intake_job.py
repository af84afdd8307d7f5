"""The review intake as the monitor runs it: the scrubber and the encoder are loaded
once, on first use (a spaCy model takes a second or two), then reused every tick."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from liveeval.config import Settings
from liveeval.features.encoder import TextEncoder, load_encoder_or_fallback
from liveeval.flywheel.intake import Intake, collect
from liveeval.flywheel.snapshot import ScrubText
from liveeval.judge.rubrics import rubrics_from_config
from liveeval.store.database import Store


def presidio_scrub(settings: Settings) -> ScrubText:
    """The configured PII scrubber as a text → (text, entities) function."""
    from liveeval.privacy.scrubber import Scrubber  # loads Presidio: only when used

    scrubber = Scrubber.from_config(settings.privacy)

    def scrub(text: str) -> tuple[str, list[str]]:
        done = scrubber.scrub(text)
        return done.text, [found.entity for found in done.entities]

    return scrub


class ReviewIntake:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._scrub: ScrubText | None = None
        self._encoder: TextEncoder | None = None
        self.binary_rubrics = frozenset(
            name
            for name, rubric in rubrics_from_config(settings.judge).items()
            if rubric.scale.kind == "binary"
        )

    def run(self, now: datetime) -> Intake:
        return collect(
            self.store, self.settings.review, self._scrub_text, self, now, self.binary_rubrics
        )

    def _scrub_text(self, text: str) -> tuple[str, list[str]]:
        if self._scrub is None:  # loaded on the first item, not on ticks with none
            self._scrub = presidio_scrub(self.settings)
        return self._scrub(text)

    # the TextEncoder protocol, loading the encoder on first use
    @property
    def name(self) -> str:
        return self.encoder.name

    @property
    def dimensions(self) -> int:
        return self.encoder.dimensions

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode(texts)

    @property
    def encoder(self) -> TextEncoder:
        if self._encoder is None:
            self._encoder = load_encoder_or_fallback(self.settings.review.encoder)
        return self._encoder
