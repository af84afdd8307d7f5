"""The evaluation queue: what waits for the evaluator, taken in order and removed once done."""

from __future__ import annotations

from datetime import timedelta

from liveeval.model import Signal, SignalKind
from liveeval.store import evaluation_queue
from liveeval.store.database import Store
from liveeval.store.signals import record_signal
from tests.store.stored import stored_interactions
from tests.telemetry import T0


def test_signal_kinds_gathers_the_kinds_each_interaction_drew(store: Store) -> None:
    first, second, quiet = stored_interactions(store, 3)
    kinds = [
        (first, SignalKind.THUMBS_DOWN),
        (first, SignalKind.REGENERATED),
        (first, SignalKind.THUMBS_DOWN),
        (second, SignalKind.ESCALATED),
    ]
    with store.writing() as conn:
        for iid, kind in kinds:
            record_signal(conn, Signal("shop", kind, T0, interaction_id=iid), T0)
        found = evaluation_queue.signal_kinds(conn, [first, second, quiet, quiet + 100])
    assert found == {first: {"thumbs_down", "regenerated"}, second: {"escalated"}}


def test_done_removes_what_was_taken_unless_it_was_queued_again(store: Store) -> None:
    ids = stored_interactions(store, 3)
    with store.writing() as conn:
        evaluation_queue.enqueue(conn, "shop", ids, T0)
        taken = evaluation_queue.pending(conn, 10)
        evaluation_queue.enqueue(conn, "shop", ids[1:2], T0 + timedelta(seconds=1))
        evaluation_queue.done(conn, taken)
        left = evaluation_queue.pending(conn, 10)
    assert [iid for iid, _ in taken] == ids
    assert left == [(ids[1], T0 + timedelta(seconds=1))]
