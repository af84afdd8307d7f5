"""How often the language check gives no language, or a wrong one, on real text.

    python bench/language.py [DATASETS]    (default ../shared/datasets, else tests/data)

CLINC150's 23,700 English queries (short: "can i reactivate a card") and the 16-language
sentences, at the default params; "model" counts what py3langid decides alone, "with
guesses" adds the short-text guesses (evaluators/short_text.py).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from liveeval.evaluators.language import LanguageParams, detect

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / ".." / "shared" / "datasets"


def tally(texts: list[tuple[str, str]], params: LanguageParams) -> dict[str, list[int]]:
    """Per way of deciding: [undecided, right, wrong]."""
    counts = {"model": [0, 0, 0], "with guesses": [0, 0, 0]}
    for text, truth in texts:
        code, _, why = detect(text, params)
        for way, found in (("model", code if why is None else None), ("with guesses", code)):
            slot = 0 if found is None else 1 if params.same_language(found, truth) else 2
            counts[way][slot] += 1
    return counts


def report(name: str, counts: dict[str, list[int]]) -> None:
    for way, (undecided, right, wrong) in counts.items():
        total = undecided + right + wrong
        print(
            f"{name:24} {way:13} no language {undecided:6} ({undecided / total:6.2%})   "
            f"right {right:6} ({right / total:6.2%})   wrong {wrong:4} ({wrong / total:.2%})"
        )


def main() -> None:
    datasets = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not datasets.is_dir():
        datasets = ROOT / "tests" / "data" / "datasets"
    params = LanguageParams()
    began = time.perf_counter()
    clinc = json.loads((datasets / "intents" / "data_full.json").read_text(encoding="utf-8"))
    queries = [(text, "en") for split in clinc.values() for text, _ in split]
    report("CLINC150 (English)", tally(queries, params))
    sentences = [
        (line, path.stem)
        for path in sorted((datasets / "languages").glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    report("16 languages", tally(sentences, params))
    print(f"{len(queries) + len(sentences)} texts in {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
