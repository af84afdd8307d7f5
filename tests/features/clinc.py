"""CLINC150 (shared/datasets/intents): user utterances labelled with 150 intents in 10 domains."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from functools import cache

from tests.conftest import DATASETS


@cache
def split(name: str) -> tuple[tuple[str, str], ...]:
    """(text, intent) pairs of a split: train, val, test, oos_train, oos_val, oos_test."""
    data = json.loads((DATASETS / "intents" / "data_full.json").read_text())
    return tuple((text, intent) for text, intent in data[name])


@cache
def domain_of() -> dict[str, str]:
    """Intent -> domain."""
    domains = json.loads((DATASETS / "intents" / "domains.json").read_text())
    return {intent: domain for domain, intents in domains.items() for intent in intents}


def texts(name: str, domains: Iterable[str], count: int, seed: int = 0) -> list[str]:
    """`count` texts of a split from the given domains, shuffled with `seed`."""
    wanted = set(domains)
    chosen = [text for text, intent in split(name) if domain_of().get(intent) in wanted]
    random.Random(seed).shuffle(chosen)
    return chosen[:count]
