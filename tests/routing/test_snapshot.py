from __future__ import annotations

import json

import pytest

from liveeval.routing.learn import learn
from liveeval.routing.policy import Kills, PolicyInputs
from liveeval.routing.snapshot import Snapshot

from .tasks import START, bernoulli_outcomes, task


def snapshot() -> Snapshot:
    config = task(
        {"a": "control", "b": "canary", "c": "candidate"}, slices=["language"], min_share=0.01
    )
    outcomes = bernoulli_outcomes({"a": 0.5, "b": 0.6, "c": 0.4}, 60, 1, {"language": "en"})
    kills = Kills(cells=frozenset({("c", "language=de")}))
    return learn(outcomes, config, policy_version=7, now=START, inputs=PolicyInputs(kills))


def test_a_snapshot_survives_its_json_form() -> None:
    original = snapshot()
    again = Snapshot.from_json(original.to_json())
    assert again == original
    assert again.cumulative == original.cumulative
    assert again.slices["language=de"].notes[0] == "killed: c"
    evidence = again.slices["language=en"].evidence[0]
    assert (
        evidence.arm == "a"
        and evidence.outcomes == 60
        and evidence.low < evidence.mean < evidence.high
    )


def test_the_json_form_carries_its_format_and_the_evidence() -> None:
    body = json.loads(snapshot().to_json())
    assert body["format"] == 1
    assert body["policy_version"] == 7
    assert set(body["slices"]) == {"*", "language=de", "language=en"}
    assert {"arm", "mean", "low", "high", "weight", "outcomes", "changes"} <= set(
        body["slices"]["*"]["evidence"][0]
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda body: body.update(format=2), "snapshot format 2, this reads 1"),
        (lambda body: body.pop("arms"), "snapshot lacks 'arms'"),
        (lambda body: body["slices"].pop("*"), 'no fallback slice "\\*"'),
        (
            lambda body: body["slices"]["*"].update(probabilities=[0.5, 0.5]),
            "2 probabilities for 3 arms",
        ),
        (lambda body: body["slices"]["*"].update(probabilities=[0.5, 0.6, -0.1]), "outside"),
        (lambda body: body["slices"]["*"].update(probabilities=[0.5, 0.2, 0.2]), "add up to 0.9"),
        (lambda body: body.update(created_at="2026-03-01T00:00:00"), "UTC offset"),
        (lambda body: body["slices"]["*"]["evidence"][0].update(extra=1), "malformed"),
    ],
)
def test_a_bad_snapshot_is_refused_with_the_reason(change, message) -> None:  # type: ignore[no-untyped-def]
    body = json.loads(snapshot().to_json())
    change(body)
    with pytest.raises(ValueError, match=message):
        Snapshot.from_json(json.dumps(body))
