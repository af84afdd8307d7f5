"""Slices of traffic: the dimensions the rollups keep, and a slice's stored key."""

from __future__ import annotations

import hashlib

# Slice dimensions the rollups keep; a rule slices by one or several ("model_served+language").
DIMENSIONS = ("model_requested", "model_served", "prompt_version", "route", "segment", "language")

SliceValues = tuple[str | None, ...]  # one value per DIMENSIONS entry


def slice_key(values: SliceValues) -> str:
    text = "\x1f".join("\x00" if v is None else v for v in values)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
