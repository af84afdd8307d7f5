"""0009: a store with check scores, keyed scores and decisions upgrades with its data."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from liveeval.model import Score, ScoreKind
from liveeval.store.database import MIGRATIONS, open_store
from liveeval.store.interactions import upsert_interactions
from liveeval.store.sampling import decisions_of
from liveeval.store.schema import scores
from liveeval.store.scores import (
    check_key,
    insert_score,
    interaction_ids_by_span,
    scores_of,
    write_scores,
)
from tests.store.stored import chat_interaction
from tests.telemetry import T0

REASON = "not sampled: uniform: hash 0.6837 ≥ rate 0.02"


def store_at_0008(url: str) -> int:
    """A store migrated to 0008 holding one interaction, a check, a judge score and a
    decision as 0008 stored them; the interaction's id."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = sa.create_engine(url)
    interaction = chat_interaction(T0)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0008")
        upsert_interactions(conn, [interaction], T0)
        ids = interaction_ids_by_span(conn, "shop", [interaction.trace_id])
        iid = ids[(interaction.trace_id, interaction.span_id)]
        for name, kind, key in (
            ("refusal", "check", f"check:{iid}:refusal"),
            ("quality", "judge", "judge:7"),
        ):
            conn.execute(
                sa.text(
                    "insert into scores (project, interaction_id, name, kind, value, status, "
                    "details, dedup_key, created_at) values ('shop', :iid, :name, :kind, 1.0, "
                    "'ok', '{\"passed\": true}', :key, :at)"
                ),
                {"iid": iid, "name": name, "kind": kind, "key": key, "at": T0},
            )
        conn.execute(
            sa.text(
                "insert into sampling_decisions (project, interaction_id, trigger, sampled, "
                "priority, reason, slice, decided_at) values ('shop', :iid, 'ingest', :no, 0, "
                ":reason, '{}', :at)"
            ),
            {"iid": iid, "no": False, "reason": REASON, "at": T0},
        )
    engine.dispose()
    return iid


def test_a_0008_store_upgrades_with_its_scores_and_decisions(store_url: str) -> None:
    iid = store_at_0008(store_url)
    store = open_store(store_url)
    try:
        with store.reading() as conn:
            found = scores_of(conn, [iid])
            [decision] = decisions_of(conn, iid)
            keys = conn.execute(sa.select(scores.c.name, scores.c.dedup_key)).all()
        assert [(s.name, s.idempotency_key) for s in found] == [
            ("refusal", f"check:{iid}:refusal"),
            ("quality", "judge:7"),
        ]
        assert sorted(keys) == [("quality", "judge:7"), ("refusal", None)]
        assert decision.reason == REASON
        rerun = Score(
            project="shop",
            interaction_id=iid,
            name="refusal",
            kind=ScoreKind.CHECK,
            value=0.0,
            label="fail",
            details={"passed": False},
            created_at=T0,
        )
        judged_again = Score(
            project="shop", interaction_id=iid, name="quality", kind=ScoreKind.JUDGE, created_at=T0
        )
        with store.writing() as conn:
            write_scores(conn, [rerun], [check_key(iid, "refusal")])
            score_id, created = insert_score(conn, judged_again, "judge:7")
        with store.reading() as conn:
            found = scores_of(conn, [iid])
        assert [(s.name, s.value) for s in found] == [("refusal", 0.0), ("quality", 1.0)]
        assert not created and score_id == found[1].score_id
    finally:
        store.close()


def test_downgrading_to_0008_gives_back_check_keys_and_text_reasons(store_url: str) -> None:
    iid = store_at_0008(store_url)
    open_store(store_url).close()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0008")
    with engine.connect() as conn:
        keys = conn.execute(sa.text("select name, dedup_key from scores order by name")).all()
        reason = conn.execute(sa.text("select reason from sampling_decisions")).scalar_one()
    engine.dispose()
    assert keys == [("quality", "judge:7"), ("refusal", f"check:{iid}:refusal")]
    assert reason == REASON
