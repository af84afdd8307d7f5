from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from liveeval.sampling import unit_hash

TRACE_IDS = [hashlib.md5(str(i).encode()).hexdigest() for i in range(20_000)]


def reference_hash(trace_id: str, policy: str) -> float:
    digest = hashlib.sha256(f"{policy}\x00{trace_id}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") >> 11) / 2**53


def test_unit_hash_is_sha256_of_policy_and_trace_id() -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    assert unit_hash(trace_id, "uniform") == reference_hash(trace_id, "uniform")


@given(st.text(), st.text())
def test_unit_hash_is_in_the_unit_interval_and_repeatable(trace_id: str, policy: str) -> None:
    value = unit_hash(trace_id, policy)
    assert 0.0 <= value < 1.0
    assert value == unit_hash(trace_id, policy)
    assert value == reference_hash(trace_id, policy)


def test_policy_names_give_independent_draws() -> None:
    uniform = {t for t in TRACE_IDS if unit_hash(t, "uniform") < 0.1}
    uncertainty = {t for t in TRACE_IDS if unit_hash(t, "uncertainty") < 0.1}
    # Independent 10% draws overlap on about 1% of ids (200 of 20,000), not 10%.
    assert 100 < len(uniform & uncertainty) < 300


def test_a_lower_rate_selects_a_subset_of_a_higher_rate() -> None:
    one = {t for t in TRACE_IDS if unit_hash(t, "uniform") < 0.01}
    five = {t for t in TRACE_IDS if unit_hash(t, "uniform") < 0.05}
    assert one < five
    assert 100 < len(one) < 300
