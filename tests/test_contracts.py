"""Every registered model, fusion and extractor goes through the same conformance checks."""

from __future__ import annotations

from typing import Any

import pytest

from emoframe.plugin.registry import Registry
from emoframe.testing import check_extractor, check_fusion, check_model, check_roundtrip

REGISTRY = Registry.from_entry_points()
#: checked by their plugin's own tests (plugins/emoframe-*/tests): opensmile, librosa, sklearn, vader, torch
OWN_TESTS = ("opensmile.", "librosa.", "sklearn.", "vader.", "torch.")

#: small settings so the contract suite stays fast (none needed since the plugins check their own components)
FAST: dict[str, dict[str, Any]] = {}


def _tiny() -> Any:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "emoframe-transformers" / "tests"))
    import tiny

    return tiny


@pytest.fixture(scope="module")
def tiny_wavlm(tmp_path_factory):
    return _tiny().make_tiny_audio(tmp_path_factory.mktemp("wavlm"), "wavlm")


def pretrained(name: str, request: Any) -> dict[str, Any]:
    """Components that load pretrained weights get a tiny random-weight model built here (no download)."""
    if name == "transformers.classifier":
        return {"model": str(request.getfixturevalue("tiny_roberta")), "epochs": 1, "max_length": 16}
    if name == "transformers.audio_encoder":
        return {"model": str(request.getfixturevalue("tiny_wavlm"))}
    if name == "transformers.audio_classifier":
        return {"model": str(request.getfixturevalue("tiny_wavlm")), "epochs": 2, "batch_size": 8}
    return {}


@pytest.fixture(scope="module")
def tiny_roberta(tmp_path_factory):
    make_tiny_roberta = _tiny().make_tiny_roberta

    from emoframe.testing import WORDS

    return make_tiny_roberta(tmp_path_factory.mktemp("roberta"), [" ".join(WORDS.values()) + " today again now"])


def names(*kinds: str) -> list[str]:
    return [n for kind in kinds for n in REGISTRY.names(kind) if not n.startswith(OWN_TESTS)]


@pytest.mark.parametrize("name", names("model"))
def test_model_contract(name, request):
    params = dict(FAST.get(name, {}), **pretrained(name, request))
    check_model(REGISTRY.get(name).cls, params)


@pytest.mark.parametrize("name", names("fusion"))
def test_fusion_contract(name):
    check_fusion(REGISTRY.get(name).cls)


@pytest.mark.parametrize("name", names("extractor"))
def test_extractor_contract(name, request):
    check_extractor(REGISTRY.get(name).cls, pretrained(name, request))


@pytest.mark.parametrize("name", names("model", "fusion"))
def test_round_trip_through_a_bundle(name, request):
    """Every model and fusion: save → load → identical probabilities (≤ 1e-6), safe formats only."""
    params = dict(FAST.get(name, {}), **pretrained(name, request))
    check_roundtrip(REGISTRY.get(name).cls, params)


@pytest.mark.parametrize("name", names("extractor"))
def test_extractor_round_trip(name, request):
    check_roundtrip(REGISTRY.get(name).cls, pretrained(name, request))


def test_every_first_party_plugin_loaded():
    assert not REGISTRY.broken
    assert {"sklearn.svc", "torch.cnn", "torch.lstm", "vader.rules", "transformers.classifier"} <= set(
        REGISTRY.names("model")
    )
