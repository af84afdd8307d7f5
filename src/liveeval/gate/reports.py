"""A regression run written for people and for CI: a console summary with the failures
first, JUnit XML, Markdown for a pull-request comment, JSON.

Outputs are the app's text, so they are escaped for the format they go into (XML by
ElementTree, Markdown table cells by `_cell`).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from liveeval.gate.results import CaseResult, Run, Verdict

PREVIEW = 160


def _preview(text: str | None, limit: int = PREVIEW) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _counts(run: Run) -> str:
    rate = run.pass_rate
    shown = "n/a" if rate is None else f"{rate:.1%}"
    return (
        f"{len(run.results)} cases: {run.count('passed')} passed, {run.count('failed')} failed, "
        f"{run.count('error')} errors; pass rate {shown}"
    )


def console(run: Run, verdict: Verdict) -> str:
    lines = [f"liveeval regress: {run.target}  (set {run.snapshot[:19]}…)"]
    failed = [r for r in run.results if r.status == "failed"]
    errors = [r for r in run.results if r.status == "error"]
    if failed:
        lines.append("")
        lines.append(f"FAILED ({len(failed)})")
        for r in failed:
            tags = f" [{', '.join(r.tags)}]" if r.tags else ""
            lines.append(f"  ✗ {r.case_id} v{r.version}{tags}: {r.detail}")
            lines.append(f"      output: {_preview(r.output)}")
    if errors:
        lines.append("")
        lines.append(f"ERRORS ({len(errors)}) — infrastructure, counted apart")
        for r in errors:
            lines.append(f"  ! {r.case_id} v{r.version}: {r.detail}")
    lines.append("")
    lines.append(_counts(run))
    word = {0: "PASSED", 1: "GATE FAILED", 2: "ERROR"}[verdict.exit_code]
    lines.append(f"{word}: " + "; ".join(verdict.reasons))
    return "\n".join(lines)


def junit(run: Run, verdict: Verdict) -> str:
    suite = ET.Element(
        "testsuite",
        name="liveeval regress",
        tests=str(len(run.results)),
        failures=str(run.count("failed")),
        errors=str(run.count("error")),
        skipped="0",
        time=f"{(run.finished_at - run.started_at).total_seconds():.3f}",
        timestamp=run.started_at.isoformat(),
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("target", run.target),
        ("snapshot", run.snapshot),
        ("git_commit", run.git_commit or ""),
        ("verdict", "; ".join(verdict.reasons)),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    for r in run.results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname="liveeval." + (r.tags[0] if r.tags else "golden"),
            name=f"{r.case_id} v{r.version}",
            time=f"{(r.latency_ms or 0) / 1000:.3f}",
        )
        if r.status == "failed":
            failure = ET.SubElement(case, "failure", message=r.detail, type="quality")
            failure.text = f"output: {r.output or ''}"
        elif r.status == "error":
            ET.SubElement(case, "error", message=r.detail, type=r.error_kind or "error")
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: no pipes, no newlines, no HTML."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("|", "\\|").replace("\n", " ").replace("`", "'")


def markdown(run: Run, verdict: Verdict) -> str:
    icon = {0: "✅", 1: "❌", 2: "⚠️"}[verdict.exit_code]
    lines = [
        f"### {icon} liveeval regress — {_cell('; '.join(verdict.reasons))}",
        "",
        f"{_counts(run)} · set `{run.snapshot[:19]}` · target `{_cell(run.target)}`"
        + (f" · commit `{run.git_commit[:12]}`" if run.git_commit else ""),
    ]
    shown: list[CaseResult] = [r for r in run.results if r.status != "passed"]
    if shown:
        lines += ["", "| case | result | why | output |", "| --- | --- | --- | --- |"]
        for r in shown[:50]:
            lines.append(
                f"| {_cell(r.case_id)} v{r.version} | {r.status} | {_cell(r.detail)} "
                f"| {_cell(_preview(r.output, 100))} |"
            )
        if len(shown) > 50:
            lines.append(f"| … | {len(shown) - 50} more | | |")
    return "\n".join(lines) + "\n"


def as_json(run: Run, verdict: Verdict) -> str:
    document = {**run.to_json(), "exit_code": verdict.exit_code, "verdict": list(verdict.reasons)}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
