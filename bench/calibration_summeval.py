"""SummEval through `liveeval judge calibrate`: the experts' median as the judge, the
crowd's five ratings as the humans, for each of the four dimensions (n = 1,200).

    python bench/calibration_summeval.py                  # the table in docs/calibration.md
    python bench/calibration_summeval.py --write sets/    # also keep the calibration files

SummEval (Fabbri et al., 2021) has 100 CNN/DailyMail articles summarized by 16 systems;
12 systems' outputs are in ../shared/datasets/judge-calibration/, each rated 1-5 on
coherence, consistency, fluency and relevance by 3 experts and 5 crowd workers. Here
the experts stand in for the judge: it shows what the report says when two groups of
people, not a model, disagree. Each dimension becomes a calibration set (JSONL, the
format of docs/calibration.md) and runs through the `calibrate` command with --json;
the figures are read back from its output. Nothing is timed: it runs in seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from liveeval.cli.judge import judge
from liveeval.stats.agreement import krippendorff_alpha

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "judge-calibration"
DIMENSIONS = ("coherence", "consistency", "fluency", "relevance")


def load(data: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted(data.glob("M*_outputs_annotations.jsonl")):
        with path.open(encoding="utf-8") as handle:
            rows += [json.loads(line) for line in handle if line.strip()]
    if not rows:
        raise SystemExit(f"no SummEval annotations under {data}")
    return rows


def calibration_set(rows: list[dict[str, Any]], dimension: str) -> list[dict[str, Any]]:
    """One item per summary: the source article as input, the summary as output."""
    return [
        {
            "id": f"{row['model_id']}/{row['id']}",
            "input": row["text"],
            "output": row["decoded"],
            "judge_score": statistics.median(a[dimension] for a in row["expert_annotations"]),
            "human_scores": [a[dimension] for a in row["turker_annotations"]],
            "metadata": {"dimension": dimension, "system": row["model_id"]},
        }
        for row in rows
    ]


def calibrate(path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(judge, ["calibrate", "--set", str(path), "--json"])
    if result.exit_code not in (0, 1):
        raise SystemExit(f"calibrate failed ({result.exit_code}): {result.output}")
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def experts_alpha(rows: list[dict[str, Any]], dimension: str) -> float:
    """Krippendorff's alpha (ordinal) among the three experts, for comparison."""
    matrix = [[row["expert_annotations"][i][dimension] for row in rows] for i in range(3)]
    return krippendorff_alpha(matrix, "ordinal").value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--write", type=Path, help="Keep the calibration sets in this folder.")
    args = parser.parse_args()
    rows = load(args.data)
    folder = args.write or Path(tempfile.mkdtemp(prefix="summeval-"))
    folder.mkdir(parents=True, exist_ok=True)
    header = (
        "| dimension | n | exact | within one | kappa (quadratic) | Spearman rho | "
        "alpha judge+crowd | alpha crowd | alpha experts |"
    )
    print(header)
    print("|" + " --- |" * 9)
    for dimension in DIMENSIONS:
        path = folder / f"summeval-{dimension}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for item in calibration_set(rows, dimension):
                handle.write(json.dumps(item) + "\n")
        got = calibrate(path)
        print(
            f"| {dimension} | {got['n']:,} | {got['exact_agreement']['value']:.3f} | "
            f"{got['within_one_agreement']['value']:.3f} | "
            f"{got['kappa_quadratic']['value']:.3f} | {got['spearman']['rho']:.3f} | "
            f"{got['krippendorff_alpha_ordinal']['value']:.3f} | "
            f"{got['krippendorff_alpha_ordinal_humans']['value']:.3f} | "
            f"{experts_alpha(rows, dimension):.3f} |"
        )
    if args.write:
        print(
            f"\ncalibration sets in {folder}/; e.g. liveeval judge calibrate --set "
            f"{folder}/summeval-relevance.jsonl"
        )


if __name__ == "__main__":
    main()
