"""A deterministic draw in [0, 1) per interaction and policy.

Every replica computes the same number for the same trace id and policy name,
so they agree without talking to each other; and because a policy compares
the same draw against its rate, a lower rate selects a subset of what a
higher rate selects (1% ⊂ 5%), whatever the process or Python version.
"""

from __future__ import annotations

import hashlib

_SCALE = 2.0**53


def unit_hash(trace_id: str, policy: str) -> float:
    """SHA-256 of `policy`, a NUL byte and `trace_id` (UTF-8); top 53 bits over 2**53.

    The trace id is hashed as given (OTLP trace ids are lower-case hex).
    """
    digest = hashlib.sha256(policy.encode() + b"\x00" + trace_id.encode()).digest()
    return (int.from_bytes(digest[:8], "big") >> 11) / _SCALE
