from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from liveeval.store.database import Store
from liveeval.store.decision_reasons import compress_reason, expand_reason
from liveeval.store.sampling import RecordedDecision, decisions_of, record_decisions
from liveeval.store.schema import sampling_decisions
from tests.store.stored import stored_interactions
from tests.telemetry import T0

# As the sampler words it (sampling/decision.py, sampling/policies.py).
NOT_SAMPLED = (
    "not sampled: signal: no trigger signal; stratified: strata at their floors "
    "(model=gpt-4o-mini-2024-07-18 10/5, prompt_version=v2 13/5, route=support 5/5, "
    "language=en 20/5 in this 1d window); uncertainty: confidence unknown; "
    "uniform: hash 0.6837 ≥ rate 0.02"
)


@given(st.text())
def test_a_compressed_reason_expands_to_the_same_text(reason: str) -> None:
    assert expand_reason(compress_reason(reason)) == reason


def test_a_reason_stored_as_text_before_reads_as_it_was() -> None:
    assert expand_reason(NOT_SAMPLED.encode()) == NOT_SAMPLED
    assert expand_reason(b"") == ""


def test_the_sampler_s_usual_reason_is_stored_in_a_third_of_its_bytes() -> None:
    assert len(compress_reason(NOT_SAMPLED)) < len(NOT_SAMPLED.encode()) / 3


def test_a_reason_of_an_unknown_dictionary_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown dictionary 07"):
        expand_reason(b"\x00\x07abc")


def decision(iid: int, trigger: str, reason: str) -> RecordedDecision:
    return RecordedDecision(
        project="shop",
        interaction_id=iid,
        trigger=trigger,
        sampled=False,
        policy=None,
        priority=0,
        reason=reason,
        slice={"model": "gpt-4o-mini-2024-07-18", "language": "en"},
        decided_at=T0,
    )


def test_recorded_reasons_read_back_as_written_old_rows_too(store: Store) -> None:
    [iid] = stored_interactions(store, 1)
    with store.writing() as conn:
        record_decisions(conn, [decision(iid, "ingest", NOT_SAMPLED)])
        record_decisions(conn, [decision(iid, "signal:thumbs_down", "placeholder")])
        # a row written before reasons were compressed: its text's bytes
        conn.execute(
            sampling_decisions.update()
            .where(sampling_decisions.c.trigger == "signal:thumbs_down")
            .values(reason="signal: thumbs_down ✓".encode())
        )
    with store.reading() as conn:
        found = decisions_of(conn, iid)
        stored = conn.execute(sa.select(sampling_decisions.c.reason)).scalars().all()
    assert [(d.trigger, d.reason) for d in found] == [
        ("ingest", NOT_SAMPLED),
        ("signal:thumbs_down", "signal: thumbs_down ✓"),
    ]
    assert found[0].slice == {"model": "gpt-4o-mini-2024-07-18", "language": "en"}
    assert len(stored[0]) < len(NOT_SAMPLED) / 3
