"""Drift features per interaction: written, replaced with a new id, filtered on."""

from __future__ import annotations

import sqlalchemy as sa

from liveeval.store.database import Store
from liveeval.store.features import Features, features_of, write_features
from liveeval.store.interactions import InteractionFilter, list_interactions
from liveeval.store.schema import interaction_features
from tests.store.stored import stored_interactions
from tests.telemetry import T0


def feature_ids(store: Store) -> dict[int, int]:
    with store.reading() as conn:
        rows = conn.execute(
            sa.select(interaction_features.c.interaction_id, interaction_features.c.feature_id)
        )
        return {iid: fid for iid, fid in rows}


def test_rewritten_features_replace_the_old_ones_under_a_new_id(store: Store) -> None:
    first, second = stored_interactions(store, 2)
    with store.writing() as conn:
        write_features(
            conn,
            [Features(first, "shop", T0, 10, 20, "en"), Features(second, "shop", T0, 5, 6, "de")],
        )
    before = feature_ids(store)
    with store.writing() as conn:
        write_features(conn, [Features(second, "shop", T0, 7, 8, "fr", "refund")])
        replaced = features_of(conn, second)
    after = feature_ids(store)
    assert replaced == Features(second, "shop", T0, 7, 8, "fr", "refund")
    assert after[first] == before[first]
    assert after[second] > max(before.values())  # the rollup job finds it by its new id


def test_one_write_inserts_new_features_and_replaces_old_ones_the_first_of_a_repeat_winning(
    store: Store,
) -> None:
    first, second, third = stored_interactions(store, 3)
    with store.writing() as conn:
        write_features(conn, [Features(first, "shop", T0, 1, 2, "en")])
    before = feature_ids(store)
    with store.writing() as conn:
        write_features(
            conn,
            [
                Features(second, "shop", T0, 3, 4, "de"),
                Features(first, "shop", T0, 5, 6, None, "refund"),
                Features(third, "shop", T0, 7, 8, "ja"),
                Features(second, "shop", T0, 9, 9, "xx"),
            ],
        )
        written = [features_of(conn, iid) for iid in (first, second, third)]
    after = feature_ids(store)
    assert written == [
        Features(first, "shop", T0, 5, 6, None, "refund"),
        Features(second, "shop", T0, 3, 4, "de"),
        Features(third, "shop", T0, 7, 8, "ja"),
    ]
    assert after[first] > before[first]
    assert len(set(after.values())) == 3


def test_interactions_filter_on_the_input_language(store: Store) -> None:
    ids = stored_interactions(store, 3)
    with store.writing() as conn:
        write_features(
            conn,
            [
                Features(iid, "shop", T0, 1, 1, lang)
                for iid, lang in zip(ids, ["de", "en", "de"], strict=True)
            ],
        )
        found = list_interactions(conn, InteractionFilter(project="shop", language="de"), limit=10)
        none = list_interactions(conn, InteractionFilter(project="shop", language="ja"), limit=10)
    assert sorted(i.interaction_id for i in found) == [ids[0], ids[2]]
    assert none == []
