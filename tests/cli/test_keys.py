from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from liveeval.cli.main import cli
from liveeval.model import Role
from liveeval.store.database import open_store
from liveeval.store.keys import find_key, list_keys


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def keys_in(db: str) -> list:
    store = open_store(db)
    try:
        with store.reading() as conn:
            return list_keys(conn)
    finally:
        store.close()


def test_keys_create_prints_a_secret_that_works_once_and_stores_its_key(db: str) -> None:
    result = run(
        "keys", "create", "--project", "shop", "--role", "ingest", "--name", "ci", "--db", db
    )
    assert result.exit_code == 0, result.output
    [key] = keys_in(db)
    secret = next(word for word in result.output.split() if word.startswith("lek_"))
    assert f"key {key.key_id} for project 'shop' (ingest)" in result.output
    assert "cannot show it again" in result.output
    store = open_store(db)
    with store.reading() as conn:
        assert find_key(conn, secret) == key
    store.close()
    assert (key.project, key.role, key.name) == ("shop", Role.INGEST, "ci")


def test_keys_create_json_is_one_object_with_the_secret(db: str) -> None:
    result = run("keys", "create", "--project", "shop", "--role", "read", "--json", "--db", db)
    assert result.exit_code == 0, result.output
    document = orjson.loads(result.output)
    [key] = keys_in(db)
    assert document == {
        "key_id": key.key_id,
        "project": "shop",
        "role": "read",
        "secret": document["secret"],
    }
    assert document["secret"].startswith(f"lek_{key.key_id}_")


def test_keys_create_refuses_an_unknown_role(db: str) -> None:
    result = run("keys", "create", "--project", "shop", "--role", "owner", "--db", db)
    assert result.exit_code == 2
    assert "'owner' is not one of 'ingest', 'read', 'admin'" in result.output
    assert keys_in(db) == []


def test_keys_list_shows_keys_but_never_their_secrets(db: str) -> None:
    created = orjson.loads(
        run("keys", "create", "--project", "shop", "--role", "admin", "--json", "--db", db).output
    )
    run("keys", "create", "--project", "blog", "--role", "read", "--name", "grafana", "--db", db)
    result = run("keys", "list", "--db", db)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == [
        "key",
        "id",
        "project",
        "role",
        "name",
        "created",
        "(UTC)",
        "revoked",
    ]
    assert len(lines) == 3
    assert created["key_id"] in lines[1] and "shop" in lines[1] and "admin" in lines[1]
    assert "blog" in lines[2] and "grafana" in lines[2]
    assert created["secret"] not in result.output
    only_blog = run("keys", "list", "--project", "blog", "--db", db).output.splitlines()
    assert len(only_blog) == 2 and "blog" in only_blog[1]


def test_keys_revoke_revokes_once_and_says_so(db: str) -> None:
    created = orjson.loads(
        run("keys", "create", "--project", "shop", "--role", "admin", "--json", "--db", db).output
    )
    result = run("keys", "revoke", created["key_id"], "--db", db)
    assert result.exit_code == 0
    assert result.output == f"revoked {created['key_id']}\n"
    [key] = keys_in(db)
    assert key.revoked_at is not None
    store = open_store(db)
    with store.reading() as conn:
        assert find_key(conn, created["secret"]) is None
    store.close()
    listed = run("keys", "list", "--db", db).output.splitlines()
    assert listed[1].split()[-2:] == [f"{key.revoked_at:%Y-%m-%d}", f"{key.revoked_at:%H:%M}"]

    again = run("keys", "revoke", created["key_id"], "--db", db)
    assert again.exit_code == 1
    assert f"no live key '{created['key_id']}'" in again.output


def test_keys_create_refuses_a_project_name_the_store_cannot_hold(db: str) -> None:
    result = run("keys", "create", "--project", "p" * 201, "--role", "read", "--db", db)
    assert result.exit_code == 2
    assert "a project name has 1 to 200 characters" in result.output
    assert keys_in(db) == []
