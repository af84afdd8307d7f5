"""Reading from a running liveeval's REST API instead of a store (`--server URL`).

A command that reads can then run from any folder: it needs the server's address and,
where the server requires keys, a read key (`--api-key`, env LIVEEVAL_API_KEY).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import click
import httpx

F = Callable[..., Any]


def server_options(command: F) -> F:
    """--server and --api-key: read over the REST API instead of opening a store."""
    command = click.option(
        "--api-key",
        envvar="LIVEEVAL_API_KEY",
        help="With --server: a read key (env LIVEEVAL_API_KEY).",
    )(command)
    return click.option(
        "--server",
        help="A liveeval server's URL (http://127.0.0.1:7318): read over its REST API "
        "instead of opening a store.",
    )(command)


def get_items(
    server: str, path: str, filters: Mapping[str, Any], api_key: str | None, limit: int
) -> list[Any]:
    """Up to `limit` items of a paged list (`items`, `next_cursor`), 500 a request.

    `filters` are the query (None: not given; times as ISO 8601).
    """
    params: dict[str, str | int] = {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in filters.items()
        if value is not None
    }
    items: list[Any] = []
    while len(items) < limit:
        params["limit"] = min(limit - len(items), 500)
        page = get_json(server, path, params, api_key)
        items += page["items"]
        if not page.get("next_cursor"):
            break
        params["cursor"] = page["next_cursor"]
    return items


def get_json(
    server: str,
    path: str,
    params: Mapping[str, str | int],
    api_key: str | None,
    transport: httpx.BaseTransport | None = None,
) -> Any:
    """GET `server` + `path`; the JSON body, or a one-line ClickException."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    url = server.rstrip("/") + path
    try:
        with httpx.Client(timeout=30, transport=transport) as client:
            response = client.get(url, params=dict(params), headers=headers)
    except httpx.InvalidURL as exc:
        raise click.UsageError(f"--server {server}: {exc}") from None
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot reach liveeval at {server}: {exc}") from None
    if response.status_code == 401:
        raise click.ClickException(
            f"{server} wants an API key: pass --api-key or set LIVEEVAL_API_KEY "
            "(make one with `liveeval keys create --role read` where the store is)"
        )
    if response.status_code != 200:
        raise click.ClickException(f"{server} answered {response.status_code}: {_reason(response)}")
    return response.json()


def _reason(response: httpx.Response) -> str:
    """The API's `detail` where it gave one as text, else the start of the body."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    text = detail if isinstance(detail, str) else response.text[:300]
    return " ".join(text.split())
