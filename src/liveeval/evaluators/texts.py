"""The texts checks read from an interaction: the user's input and the model's output."""

from __future__ import annotations

from liveeval.model import Interaction

USER_ROLES = frozenset({"user", "human"})
NOT_OUTPUT_ROLES = frozenset({"user", "human", "system", "developer", "tool", "function"})


def user_input(interaction: Interaction) -> str:
    """The user's latest message: the last user message, else `input_text`, else ""."""
    for message in reversed(interaction.input_messages):
        if message.role in USER_ROLES and message.content:
            return message.content
    return interaction.input_text or ""


def full_input(interaction: Interaction) -> str:
    """Everything sent to the model: all input messages' text, else `input_text`."""
    parts = [m.content for m in interaction.input_messages if m.content]
    return "\n".join(parts) if parts else interaction.input_text or ""


def model_output(interaction: Interaction) -> str:
    """The model's answer: `output_text`, else the assistant messages' text joined, else ""."""
    if interaction.output_text is not None:
        return interaction.output_text
    parts = [
        m.content
        for m in interaction.output_messages
        if m.content and m.role not in NOT_OUTPUT_ROLES
    ]
    return "\n".join(parts)


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate: UTF-8 bytes / 4, rounded up.

    About 4 characters a token for Latin scripts and ~0.75 tokens a character for
    Chinese and Japanese, close to what BPE tokenizers give on average.
    """
    return -(-len(text.encode("utf-8", "surrogatepass")) // 4)
