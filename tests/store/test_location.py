from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from liveeval.store import location
from liveeval.store.database import open_existing_store, open_store
from liveeval.store.location import StoreUnavailable
from tests.conftest import POSTGRES_URL, postgres_schema_url


def test_a_plain_path_means_a_sqlite_file_there() -> None:
    assert location.store_url("app.db") == "sqlite:///app.db"
    assert location.store_url("./data/app.db") == "sqlite:///data/app.db"
    assert location.store_url("/var/lib/app.db") == "sqlite:////var/lib/app.db"


def test_urls_are_taken_as_they_are() -> None:
    for url in ("sqlite:///x.db", "sqlite:////abs/x.db", "postgresql+psycopg://u@h/db"):
        assert location.store_url(url) == url


def test_an_unparseable_url_is_a_value_error_that_names_it() -> None:
    with pytest.raises(ValueError, match="cannot parse the store URL 'postgresql://u@h:port/db'"):
        location.parse_store_url("postgresql://u@h:port/db")


def test_an_unsupported_backend_is_a_value_error_that_names_it() -> None:
    with pytest.raises(ValueError, match="unsupported database 'mysql'"):
        location.parse_store_url("mysql://u@h/db")


def test_permission_denied_is_one_line() -> None:
    url = sa.make_url("sqlite:////srv/app.db")
    error = PermissionError(13, "Permission denied", "/srv")
    assert location.describe_failure(url, error) == (
        "cannot open the store at sqlite:////srv/app.db: permission denied on /srv"
    )


def test_open_store_creates_a_sqlite_file_from_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    open_store("sub/app.db").close()
    assert (tmp_path / "sub" / "app.db").is_file()
    open_existing_store("sub/app.db").close()


def test_reading_refuses_a_missing_sqlite_file_and_creates_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'x.db'}"
    with pytest.raises(StoreUnavailable, match=r"^no store at .*x\.db \(run `liveeval serve`"):
        open_existing_store(url)
    assert list(tmp_path.iterdir()) == []


def test_reading_refuses_an_older_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    open_store(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("update alembic_version set version_num = '0006'"))
    engine.dispose()
    with pytest.raises(StoreUnavailable, match=r"older schema \(0006; .*liveeval serve --db"):
        open_existing_store(url)


def test_reading_refuses_a_postgres_database_without_the_schema() -> None:
    with postgres_schema_url() as url, pytest.raises(StoreUnavailable, match=r"^no store at"):
        open_existing_store(url)


def test_a_missing_postgres_database_says_how_to_create_it() -> None:
    with postgres_schema_url():  # skips where no PostgreSQL answers
        missing = sa.make_url(POSTGRES_URL).set(database="liveeval_no_such_db")
        for opening in (open_store, open_existing_store):
            with pytest.raises(StoreUnavailable) as caught:
                opening(missing.render_as_string(hide_password=False))
            assert str(caught.value).startswith(
                'PostgreSQL database "liveeval_no_such_db" does not exist on '
            )
            assert "createdb -h" in str(caught.value)


def test_an_unreachable_postgres_server_is_one_line() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/test"
    with pytest.raises(StoreUnavailable, match=r"^cannot reach PostgreSQL at 127\.0\.0\.1:1: "):
        open_store(url)
