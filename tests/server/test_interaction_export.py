"""Exporting interactions as JSON lines or CSV: the API, the CLI and the dashboard's link
write the same rows for the same filters, every match and not one page."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from liveeval.cli.main import cli
from liveeval.server import interaction_export
from liveeval.store.database import Store
from tests.flywheel.test_review_flow import store_interactions
from tests.server.asgi import client

pytestmark = pytest.mark.anyio
TEXTS = [
    ("When is my refund due?", "Refunds take 5 days."),
    ('=HYPERLINK("http://evil")', 'Multi\nline, "quoted" answer'),
    ("Where is my parcel?", "On its way."),
    ("Can I pay by card?", "Yes."),
]


async def test_the_api_exports_every_match_as_jsonl_and_csv(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = store_interactions(store, TEXTS)
    monkeypatch.setattr(interaction_export, "BATCH", 3)  # two batches for four rows
    async with client(store) as http:
        jsonl = await http.get("/api/v1/interactions/export", params={"project": "shop"})
        table = await http.get(
            "/api/v1/interactions/export", params={"project": "shop", "format": "csv"}
        )
        two = await http.get("/api/v1/interactions/export", params={"project": "shop", "limit": 2})
        bad = await http.get("/api/v1/interactions/export", params={"format": "xml"})
    assert jsonl.status_code == 200, jsonl.text[:300]
    assert jsonl.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in jsonl.text.splitlines()]
    assert [line["interaction_id"] for line in lines] == sorted(ids, reverse=True)
    assert lines[-1]["input_text"] == "When is my refund due?"
    assert 'filename="interactions-shop.csv"' in table.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [int(r["interaction_id"]) for r in rows] == sorted(ids, reverse=True)
    by_id = {int(r["interaction_id"]): r for r in rows}
    assert by_id[ids[1]]["input_text"] == '\'=HYPERLINK("http://evil")'  # not a formula
    assert by_id[ids[1]]["output_text"] == 'Multi\nline, "quoted" answer'
    assert len(two.text.splitlines()) == 2
    assert bad.status_code == 422


def test_the_cli_exports_with_the_list_filters(store: Store, tmp_path: Path) -> None:
    store_interactions(store, TEXTS)
    url = str(store.engine.url.render_as_string(hide_password=False))
    out = tmp_path / "shop.csv"
    args = ["interactions", "export", "--db", url, "--project", "shop"]
    done = CliRunner().invoke(cli, [*args, "--format", "csv", "-o", str(out)])
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 4 and rows[0]["project"] == "shop"
    lines = CliRunner().invoke(cli, [*args, "--status", "error"])
    assert lines.exit_code == 0 and lines.output == ""
    jsonl = CliRunner().invoke(cli, [*args, "--limit", "3"])
    assert [json.loads(line)["project"] for line in jsonl.output.splitlines()] == ["shop"] * 3


async def test_the_interactions_page_links_an_export_of_its_filters(store: Store) -> None:
    store_interactions(store, TEXTS)
    async with client(store) as http:
        listing = await http.get(
            "/ui/interactions", params={"project": "shop", "q": "refund", "hours": 2160}
        )
        export = await http.get(
            "/ui/interactions/export",
            params={"project": "shop", "q": "refund", "hours": 2160, "format": "csv"},
        )
    assert "/ui/interactions/export?project=shop&amp;q=refund" in listing.text
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [r["input_text"] for r in rows] == ["When is my refund due?"]
