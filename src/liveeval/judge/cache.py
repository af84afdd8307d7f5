"""The key of a judge question: what the judge sees and who answers, nothing else."""

from __future__ import annotations

import hashlib

import orjson

from liveeval.model import Interaction
from liveeval.store.interactions import document_json, message_json


def cache_key(interaction: Interaction, judge_version: str) -> str:
    """sha256 of (input, output, context, judge version); the judge version pins the
    provider, model, rubric name, rubric version and rubric text."""
    question = {
        "input_text": interaction.input_text,
        "input_messages": [message_json(m) for m in interaction.input_messages],
        "output_text": interaction.output_text,
        "output_messages": [message_json(m) for m in interaction.output_messages],
        "context": [document_json(d) for d in interaction.retrieved_context],
        "judge": judge_version,
    }
    return hashlib.sha256(orjson.dumps(question, option=orjson.OPT_SORT_KEYS)).hexdigest()
