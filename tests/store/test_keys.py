from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from liveeval.model import Role
from liveeval.store.database import Store
from liveeval.store.keys import PREFIX, create_key, find_key, hash_key, list_keys, revoke_key
from liveeval.store.schema import api_keys
from tests.telemetry import T0


def test_a_created_key_is_found_by_its_secret(store: Store) -> None:
    with store.writing() as conn:
        key, secret = create_key(conn, "shop", Role.INGEST, "ci", T0)
    assert secret.startswith(f"{PREFIX}{key.key_id}_")
    with store.reading() as conn:
        found = find_key(conn, secret)
    assert found == key
    assert (found.project, found.role, found.name, found.created_at) == (
        "shop",
        Role.INGEST,
        "ci",
        T0,
    )


def test_only_a_hash_of_the_secret_is_stored(store: Store) -> None:
    with store.writing() as conn:
        _, secret = create_key(conn, "shop", Role.READ, None, T0)
    with store.reading() as conn:
        row = conn.execute(sa.select(api_keys)).mappings().one()
    assert secret not in [str(value) for value in row.values()]
    assert row["key_hash"] == hash_key(secret)


def test_an_unknown_secret_finds_nothing(store: Store) -> None:
    with store.writing() as conn:
        _, secret = create_key(conn, "shop", Role.READ, None, T0)
    with store.reading() as conn:
        assert find_key(conn, secret + "x") is None
        assert find_key(conn, "") is None


def test_a_revoked_key_is_no_longer_found(store: Store) -> None:
    with store.writing() as conn:
        key, secret = create_key(conn, "shop", Role.ADMIN, None, T0)
        other, other_secret = create_key(conn, "shop", Role.ADMIN, None, T0)
    with store.writing() as conn:
        assert revoke_key(conn, key.key_id, T0 + timedelta(hours=1)) is True
    with store.reading() as conn:
        assert find_key(conn, secret) is None
        assert find_key(conn, other_secret) == other
        [listed] = [k for k in list_keys(conn) if k.key_id == key.key_id]
    assert listed.revoked_at == T0 + timedelta(hours=1)


def test_revoking_an_unknown_or_revoked_key_reports_false(store: Store) -> None:
    with store.writing() as conn:
        key, _ = create_key(conn, "shop", Role.ADMIN, None, T0)
        assert revoke_key(conn, key.key_id, T0) is True
        assert revoke_key(conn, key.key_id, T0) is False
        assert revoke_key(conn, "nope", T0) is False


def test_keys_are_listed_oldest_first_and_by_project(store: Store) -> None:
    with store.writing() as conn:
        b, _ = create_key(conn, "b", Role.READ, "second", T0 + timedelta(minutes=1))
        a, _ = create_key(conn, "a", Role.INGEST, "first", T0)
        a2, _ = create_key(conn, "a", Role.READ, "third", T0 + timedelta(minutes=2))
    with store.reading() as conn:
        assert [k.key_id for k in list_keys(conn)] == [a.key_id, b.key_id, a2.key_id]
        assert [k.key_id for k in list_keys(conn, "a")] == [a.key_id, a2.key_id]
        assert list_keys(conn, "c") == []


def test_each_key_gets_a_distinct_id_and_secret(store: Store) -> None:
    with store.writing() as conn:
        made = [create_key(conn, "shop", Role.READ, None, T0) for _ in range(20)]
    assert len({key.key_id for key, _ in made}) == 20
    assert len({secret for _, secret in made}) == 20
