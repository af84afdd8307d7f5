"""The judge's messages: the rubric as system prompt, the material in delimited blocks.

Everything that comes from the app (its input, its output, retrieved documents) is
untrusted. It goes inside tagged blocks that the rubric's preamble declares to be
data, and a tag inside the data is neutralised (its `<` becomes `&lt;`), so the data
cannot close its block and speak outside it.
"""

from __future__ import annotations

import re

from liveeval.judge.material import Turn, context_documents, conversation, response_text
from liveeval.judge.rubrics import Rubric
from liveeval.model import Interaction

BLOCK_TAGS = ("conversation", "message", "context", "document", "response")
_TAG = re.compile(r"<(?=\s*/?\s*(?:" + "|".join(BLOCK_TAGS) + r")\b)", re.IGNORECASE)
_ROLE = re.compile(r"[A-Za-z_-]{1,32}")


def neutralise(text: str) -> str:
    """Data with every opening or closing block tag defused, so it stays inside its block."""
    return _TAG.sub("&lt;", text)


def build_messages(
    rubric: Rubric, interaction: Interaction, max_block_chars: int
) -> list[dict[str, str]]:
    """The chat messages that ask the judge to grade `interaction` by `rubric`."""
    blocks = [conversation_block(conversation(interaction), max_block_chars)]
    documents = context_documents(interaction)
    if documents:
        blocks.append(_context_block(documents, max_block_chars))
    blocks.append(
        "<response>\n"
        + neutralise(cut(response_text(interaction), max_block_chars))
        + "\n</response>"
    )
    blocks.append(
        f"Grade the response by the rubric {rubric.name!r}. Reply with only the JSON object."
    )
    return [
        {"role": "system", "content": rubric.instructions},
        {"role": "user", "content": "\n\n".join(blocks)},
    ]


def build_repair_messages(
    messages: list[dict[str, str]], reply: str, problem: str
) -> list[dict[str, str]]:
    """The same request once more, showing the judge its unusable reply and why."""
    return [
        *messages,
        {"role": "assistant", "content": cut(reply, 2_000) or "(empty)"},
        {
            "role": "user",
            "content": f"That reply could not be used: {problem}. Reply again with only the "
            "JSON object described in the instructions, and nothing else.",
        },
    ]


def cut(text: str, limit: int) -> str:
    """`text`, or its first `limit` characters and a marker saying how much was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[… {len(text) - limit} more characters cut]"


def conversation_block(turns: list[Turn], limit: int) -> str:
    """System turns always, then the latest turns that fit in `limit` characters."""
    kept: list[Turn] = []
    budget = limit
    for index in range(len(turns) - 1, -1, -1):
        turn = turns[index]
        if turn.role != "system" and budget <= 0 and kept:
            continue
        text = cut(turn.text, limit)
        budget -= len(text)
        kept.append(Turn(turn.role, text))
    kept.reverse()
    omitted = len(turns) - len(kept)
    lines = ["<conversation>"]
    for turn in kept:
        if omitted and turn.role != "system":
            lines.append(f"[… {omitted} earlier messages omitted]")
            omitted = 0
        role = turn.role if _ROLE.fullmatch(turn.role) else "unknown"
        lines.append(f'<message role="{role}">\n{neutralise(turn.text)}\n</message>')
    lines.append("</conversation>")
    return "\n".join(lines)


def _context_block(documents: list[str], limit: int) -> str:
    lines = ["<context>"]
    budget = limit
    for index, document in enumerate(documents, start=1):
        if budget <= 0:
            lines.append(f"[… {len(documents) - index + 1} more documents omitted]")
            break
        text = cut(document, max(budget, 256))
        budget -= len(text)
        lines.append(f'<document index="{index}">\n{neutralise(text)}\n</document>')
    lines.append("</context>")
    return "\n".join(lines)
