from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from liveeval.cli.main import cli
from liveeval.ingest.assemble import AssemblyRules
from liveeval.ingest.pipeline import write_spans
from liveeval.model import Signal, SignalKind
from liveeval.store.database import open_store
from liveeval.store.signals import record_signal
from tests.telemetry import T0, genai_attributes, model_span, span_id, trace_id


@pytest.fixture
def db(tmp_path: Path) -> Iterator[str]:
    """A store with three interactions in project `shop` (one with a signal), one elsewhere."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(url)

    def llm(minutes: int, model: str, route: str, status: str = "unset", **extra: Any):  # type: ignore[no-untyped-def]
        attributes = genai_attributes(model=model, served=f"{model}-2024", **extra)
        attributes["liveeval.route"] = route
        attributes["liveeval.prompt.version"] = "v1"
        return model_span(
            attributes,
            trace=trace_id(),
            span=span_id(),
            start=T0 + timedelta(minutes=minutes),
            status=status,
            project="shop",
        )

    spans = [
        llm(0, "gpt-4o", "/a", **{"gen_ai.input.messages": '[{"role": "user", "content": "hi"}]'}),
        llm(1, "gpt-4o", "/b", status="error"),
        llm(2, "gpt-4o-mini", "/a", **{"liveeval.cost.usd": 0.125}),
    ]
    write_spans(store, spans, AssemblyRules(), T0)
    write_spans(store, [model_span(genai_attributes(), trace=trace_id())], AssemblyRules(), T0)
    with store.writing() as conn:
        record_signal(
            conn,
            Signal("shop", SignalKind.THUMBS_DOWN, T0, trace_id=spans[1].trace_id, text="bad"),
            T0,
        )
    write_spans(store, [spans[1]], AssemblyRules(), T0)  # a retry: attaches the signal
    store.close()
    yield url


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def json_lines(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    return [orjson.loads(line) for line in result.output.splitlines()]


def test_list_prints_a_table_newest_first(db: str) -> None:
    result = run("interactions", "list", "--project", "shop", "--db", db)
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header.split() == [
        "id",
        "start",
        "(UTC)",
        "model",
        "prompt",
        "route",
        "status",
        "ms",
        "input",
    ]
    assert len(rows) == 3
    assert rows[0].split()[3:7] == ["gpt-4o-mini-2024", "v1", "/a", "unset"]
    assert rows[1].split()[3:7] == ["gpt-4o-2024", "v1", "/b", "error"]
    assert rows[2].split()[1:3] == ["2026-11-01", "12:00:00"]
    assert rows[2].split()[-1] == "hi"


def test_list_json_is_one_interaction_a_line_with_the_api_fields(db: str) -> None:
    items = json_lines(run("interactions", "list", "--project", "shop", "--json", "--db", db))
    assert [i["route"] for i in items] == ["/a", "/b", "/a"]
    assert items[0]["cost_usd"] == 0.125
    assert items[0]["cost_source"] == "span"
    assert items[2]["input_text"] == "hi"
    assert items[2]["start_at"] == "2026-11-01T12:00:00Z"
    assert set(items[0]) >= {"interaction_id", "trace_id", "model_served", "usage", "status"}


@pytest.mark.parametrize(
    ("options", "routes"),
    [
        (["--model", "gpt-4o"], ["/b", "/a"]),
        (["--model", "gpt-4o-mini-2024"], ["/a"]),
        (["--route", "/b"], ["/b"]),
        (["--status", "error"], ["/b"]),
        (["--has-signal", "thumbs_down"], ["/b"]),
        (["--since", "2026-11-01T12:01:00Z"], ["/a", "/b"]),
        (["--until", "2026-11-01T13:01:00+01:00"], ["/a"]),
        (["--prompt-version", "v2"], []),
        (["--limit", "1"], ["/a"]),
    ],
)
def test_list_filters(db: str, options: list[str], routes: list[str]) -> None:
    items = json_lines(
        run("interactions", "list", "--project", "shop", "--json", *options, "--db", db)
    )
    assert [i["route"] for i in items] == routes


def test_list_defaults_to_the_default_project(db: str) -> None:
    items = json_lines(run("interactions", "list", "--json", "--db", db))
    assert [i["project"] for i in items] == ["default"]


def test_list_says_so_when_nothing_matches(db: str) -> None:
    result = run("interactions", "list", "--project", "nobody", "--db", db)
    assert result.exit_code == 0
    assert result.output == "no interactions match\n"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--since", "2026-11-01T12:00:00"], "has no timezone"),
        (["--since", "yesterday"], "is not an ISO 8601 time"),
        (["--status", "broken"], "'broken' is not one of"),
        (["--limit", "0"], "0 is not in the range"),
    ],
)
def test_list_refuses_bad_options_with_exit_code_2(
    db: str, options: list[str], message: str
) -> None:
    result = run("interactions", "list", *options, "--db", db)
    assert result.exit_code == 2
    assert message in result.output


def test_show_prints_the_interaction_its_spans_and_signals(db: str) -> None:
    [failed] = json_lines(
        run("interactions", "list", "--project", "shop", "--route", "/b", "--json", "--db", db)
    )
    result = run("interactions", "show", str(failed["interaction_id"]), "--db", db)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["interaction_id", str(failed["interaction_id"])]
    assert ["route", "/b"] in [line.split() for line in lines]
    assert ["status", "error"] in [line.split() for line in lines]
    assert ["latency_ms", "250"] in [line.split() for line in lines]
    assert "spans (1):" in lines
    assert "signals (1):" in lines
    signal_line = lines[lines.index("signals (1):") + 1]
    assert signal_line.split() == ["2026-11-01", "12:00:00", "thumbs_down", "bad"]


def test_show_json_has_interaction_spans_and_signals(db: str) -> None:
    [failed] = json_lines(
        run("interactions", "list", "--project", "shop", "--route", "/b", "--json", "--db", db)
    )
    result = run("interactions", "show", str(failed["interaction_id"]), "--json", "--db", db)
    assert result.exit_code == 0
    document = orjson.loads(result.output)
    assert document["interaction"] == failed
    assert [s["span_id"] for s in document["spans"]] == [failed["span_id"]]
    assert [(s["kind"], s["text"]) for s in document["signals"]] == [("thumbs_down", "bad")]


def test_show_of_an_unknown_interaction_exits_1(db: str) -> None:
    result = run("interactions", "show", "9999", "--db", db)
    assert result.exit_code == 1
    assert "interaction 9999 does not exist" in result.output


@pytest.mark.parametrize("interaction_id", ["0", "99999999999999999999", "seven"])
def test_show_refuses_an_id_that_cannot_exist_with_exit_code_2(
    db: str, interaction_id: str
) -> None:
    result = run("interactions", "show", interaction_id, "--db", db)
    assert result.exit_code == 2
    assert "INTERACTION_ID" in result.output


def test_counts_prints_a_table_per_slice(db: str) -> None:
    result = run("interactions", "counts", "--project", "shop", "--by", "route", "--db", db)
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header.split() == ["route", "count", "errors", "mean", "ms", "cost"]
    assert [row.split() for row in rows] == [
        ["/a", "2", "0", "250", "$0.12"],
        ["/b", "1", "1", "250", "-"],
    ]


def test_counts_json(db: str) -> None:
    result = run(
        "interactions",
        "counts",
        "--project",
        "shop",
        "--by",
        "model_served,status",
        "--json",
        "--db",
        db,
    )
    assert result.exit_code == 0
    rows = orjson.loads(result.output)
    by_slice = {(r["model_served"], r["status"]): (r["count"], r["errors"]) for r in rows}
    assert by_slice == {
        ("gpt-4o-2024", "unset"): (1, 0),
        ("gpt-4o-2024", "error"): (1, 1),
        ("gpt-4o-mini-2024", "unset"): (1, 0),
    }


def test_counts_refuses_an_unknown_slice(db: str) -> None:
    result = run("interactions", "counts", "--by", "colour", "--db", db)
    assert result.exit_code == 2
    assert "unknown ['colour']" in result.output


def test_show_writes_cost_as_money_and_unknown_cost_as_a_dash(db: str) -> None:
    [priced] = json_lines(
        run(
            "interactions",
            "list",
            "--project",
            "shop",
            "--model",
            "gpt-4o-mini",
            "--json",
            "--db",
            db,
        )
    )
    shown = run("interactions", "show", str(priced["interaction_id"]), "--db", db)
    assert ["cost_usd", "$0.12"] in [line.split() for line in shown.output.splitlines()]
    [unpriced] = json_lines(
        run("interactions", "list", "--project", "shop", "--route", "/b", "--json", "--db", db)
    )
    shown = run("interactions", "show", str(unpriced["interaction_id"]), "--db", db)
    assert ["cost_usd", "-"] in [line.split() for line in shown.output.splitlines()]
