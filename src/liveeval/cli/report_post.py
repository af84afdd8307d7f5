"""Posting a report (a regression run, an A/B run) to a liveeval server from the CLI."""

from __future__ import annotations

from typing import Any

import httpx


class PostError(Exception):
    """The server could not be reached or refused the report; the message says which."""


def post_report(
    server: str, path: str, document: dict[str, Any], project: str | None, api_key: str | None
) -> int:
    """POST `document` to `server` + `path` (ingest key as a bearer token); the stored id."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    params = {"project": project} if project else {}
    try:
        response = httpx.post(
            server.rstrip("/") + path, json=document, params=params, headers=headers, timeout=30
        )
    except httpx.HTTPError as exc:
        raise PostError(f"could not store the run at {server}: {exc}") from None
    if response.status_code != 201:
        raise PostError(f"{server} refused the run: {response.status_code} {response.text[:300]}")
    return int(response.json()["run_id"])
