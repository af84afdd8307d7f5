"""Every dashboard page under random query values, on SQLite and PostgreSQL: a page or a
4xx, never a 5xx. The pages are not in the OpenAPI schema, so their parameters are
listed here from the routes themselves."""

from __future__ import annotations

from collections.abc import Iterator

import hypothesis
import hypothesis.strategies as st
import orjson
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from liveeval.config import Settings
from liveeval.dashboard.pages import router
from liveeval.server import create_app
from liveeval.store.database import Store
from tests.conftest import Clock
from tests.fuzzing import fuzz_settings
from tests.telemetry import chat_attributes, json_span, json_traces, span_id, trace_id

PAGES = sorted(
    (route.path, tuple(param.alias for param in route.dependant.query_params))
    for route in router.routes
    if isinstance(route, APIRoute) and "GET" in route.methods and "{" not in route.path
)
VALUES = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["", "0", "-1", "1e308", "nan", "default", "shop", "open", "language"]),
)


@pytest.fixture
def http(store: Store) -> Iterator[TestClient]:
    app = create_app(Settings(db=str(store.engine.url), evaluation="off"), store, clock=Clock())
    with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as client:
        spans = [
            json_span(chat_attributes(f"q {n}", f"a {n}"), trace=trace_id(), span=span_id())
            for n in range(3)
        ]
        client.post(
            "/v1/traces",
            content=orjson.dumps(json_traces(*spans, service="shop")),
            headers={"content-type": "application/json"},
        )
        yield client
    app.state.drift_reports.close()  # its connection ends before the store is disposed


@pytest.mark.parametrize(("path", "names"), PAGES, ids=[path for path, _ in PAGES])
def test_no_page_answers_5xx_to_any_query(
    http: TestClient, path: str, names: tuple[str, ...]
) -> None:
    @fuzz_settings()
    @hypothesis.given(query=st.fixed_dictionaries({}, optional={name: VALUES for name in names}))
    def page_answers(query: dict[str, str]) -> None:
        response = http.get(path, params=query, follow_redirects=False)
        assert response.status_code < 500, (query, response.text[:300])

    page_answers()


@pytest.mark.parametrize("path", ["/ui/interactions/{}", "/ui/review/{}"])
@pytest.mark.parametrize("ident", ["1", "2", "0", "-1", str(2**63), str(2**70), "x"])
def test_item_pages_answer_an_id_of_any_size_without_5xx(
    http: TestClient, path: str, ident: str
) -> None:
    response = http.get(path.format(ident), follow_redirects=False)
    assert response.status_code < 500, response.text[:300]
