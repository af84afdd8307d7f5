"""Sampling-decision reasons as stored: UTF-8, deflated with a preset dictionary.

A reason is read only to show one interaction's decisions, and nearly every one is the
same sentence with other counts ("not sampled: signal: no trigger signal; stratified:
strata at their floors (model=… 10/5, …)"): 250-odd bytes a row, the largest part of a
decision. The preset dictionary holds the sampling policies' phrases, so a reason
stores in about 50 bytes. A stored reason that starts with a 0 byte is compressed (its
second byte names the dictionary); any other is the UTF-8 text as it was stored before
(no reason starts with NUL), so stores written before keep being read as they are.
"""

from __future__ import annotations

import zlib

COMPRESSED = 0
# Never change a dictionary once reasons were written with it: add one with a new number.
DICTIONARY_1 = 1

# Deflate finds the end of a dictionary cheapest: the commonest strings come last.
_DICTIONARIES = {
    DICTIONARY_1: (
        b"budget: daily limit of judgments reached ( used) may fill of the daily "
        b"; over budget, triggers exempt (; wanted by also no slice values to stratify on "
        b"failed check(s)) \xe2\x89\xa5 threshold < threshold but hash confidence 0. "
        b"signal: thumbs_down regeneration escalation schema_invalid edit "
        b"gpt-4o-mini gpt-4o gpt-4.1 claude-sonnet-4 claude-3-5-sonnet gemini "
        b"segment=None segment= user_segment= language= 0/5, 1/5, /5, "
        b"stratified: under floor model= in this 1d window "
        b"uniform: hash  < rate 0.0 uniform: hash 0. \xe2\x89\xa5 rate 0.0"
        b"not sampled: signal: no trigger signal; stratified: strata at their floors (model="
        b", prompt_version= route= language= in this 1d window); uncertainty: "
        b"confidence unknown; uniform: hash 0."
    ),
}


def compress_reason(reason: str) -> bytes:
    """The bytes to store for a decision's reason."""
    deflate = zlib.compressobj(
        9, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY, _DICTIONARIES[DICTIONARY_1]
    )
    return bytes((COMPRESSED, DICTIONARY_1)) + deflate.compress(reason.encode()) + deflate.flush()


def expand_reason(stored: bytes) -> str:
    """The reason, from bytes `compress_reason` made or the UTF-8 text of an older row."""
    if not stored or stored[0] != COMPRESSED:
        return stored.decode()
    if len(stored) < 2 or stored[1] not in _DICTIONARIES:
        raise ValueError(f"stored reason: unknown dictionary {stored[1:2].hex() or 'none'}")
    inflate = zlib.decompressobj(-15, _DICTIONARIES[stored[1]])
    return (inflate.decompress(stored[2:]) + inflate.flush()).decode()
