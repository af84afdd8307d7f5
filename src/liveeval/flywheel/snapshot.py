"""The scrubbed copy of an interaction that a review item and a golden case keep.

Production samples are user data: every string that reaches the review queue goes
through the scrubber first, and what it replaced is counted by entity type.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from liveeval.judge.material import context_documents, message_text, response_text
from liveeval.model import Interaction

# Returns the scrubbed text and the entity types it replaced (one entry per entity).
ScrubText = Callable[[str], tuple[str, list[str]]]
CHAT_ROLES = ("system", "user", "assistant", "tool")


def keep_text(text: str) -> tuple[str, list[str]]:
    """The scrubber for a config that asks for none."""
    return text, []


@dataclass(frozen=True, slots=True)
class Snapshot:
    input: dict[str, Any]  # {"text": …} or {"messages": […]}, plus "context": […]
    output_text: str | None
    pii: dict[str, int]

    @property
    def input_text(self) -> str:
        """The request as one text: the user's turns (what grouping compares)."""
        if "text" in self.input:
            return str(self.input["text"])
        turns = [m["content"] for m in self.input["messages"] if m["role"] == "user"]
        return "\n".join(turns) or "\n".join(m["content"] for m in self.input["messages"])


def snapshot(interaction: Interaction, scrub: ScrubText) -> Snapshot:
    found: Counter[str] = Counter()

    def clean(text: str) -> str:
        scrubbed, entities = scrub(text)
        found.update(entities)
        return scrubbed

    messages = [
        {"role": m.role, "content": clean(text)}
        for m in interaction.input_messages
        if m.role in CHAT_ROLES and (text := message_text(m))
    ]
    data: dict[str, Any] = (
        {"messages": messages} if messages else {"text": clean(interaction.input_text or "")}
    )
    data["context"] = [clean(doc) for doc in context_documents(interaction)]
    answer = response_text(interaction)
    output = clean(answer) if answer else None
    return Snapshot(data, output, dict(sorted(found.items())))
