"""Every registered model, fusion and extractor goes through the same conformance checks."""

from __future__ import annotations

import pytest

from emoframe.registry import Registry
from emoframe.testing import check_extractor, check_fusion, check_model, check_roundtrip

REGISTRY = Registry.from_entry_points()

#: small settings so the contract suite stays fast; behaviour is the same code path
FAST = {
    "torch.cnn": {"epochs": 2, "channels": 8, "batch_size": 8},
    "torch.lstm": {"epochs": 2, "hidden": 8, "batch_size": 8},
    "sklearn.random_forest": {"n_estimators": 20},
    "sklearn.mlp": {"max_iter": 50},
}


@pytest.fixture(scope="module")
def tiny_roberta(tmp_path_factory):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "emoframe-transformers" / "tests"))
    from tiny import make_tiny_roberta

    from emoframe.testing import WORDS

    return make_tiny_roberta(tmp_path_factory.mktemp("roberta"), [" ".join(WORDS.values()) + " today again now"])


@pytest.mark.parametrize("name", REGISTRY.names("model"))
def test_model_contract(name, request):
    params = dict(FAST.get(name, {}))
    if name == "transformers.classifier":
        params.update(model=str(request.getfixturevalue("tiny_roberta")), epochs=1, max_length=16)
    check_model(REGISTRY.get(name).cls, params)


@pytest.mark.parametrize("name", REGISTRY.names("fusion"))
def test_fusion_contract(name):
    check_fusion(REGISTRY.get(name).cls)


@pytest.mark.parametrize(
    "name", [n for n in REGISTRY.names("extractor") if not n.startswith(("opensmile.", "librosa."))]
)  # those: plugin tests
def test_text_extractor_contract(name):
    check_extractor(REGISTRY.get(name).cls)


@pytest.mark.parametrize("name", REGISTRY.names("model") + REGISTRY.names("fusion"))
def test_round_trip_through_a_bundle(name, request):
    """Every model and fusion: save → load → identical probabilities (≤ 1e-6), safe formats only."""
    params = dict(FAST.get(name, {}))
    if name == "transformers.classifier":
        params.update(model=str(request.getfixturevalue("tiny_roberta")), epochs=1, max_length=16)
    check_roundtrip(REGISTRY.get(name).cls, params)


@pytest.mark.parametrize(
    "name", [n for n in REGISTRY.names("extractor") if not n.startswith(("opensmile.", "librosa."))]
)
def test_extractor_round_trip(name):
    check_roundtrip(REGISTRY.get(name).cls)


def test_every_first_party_plugin_loaded():
    assert not REGISTRY.broken
    assert {"sklearn.svc", "torch.cnn", "torch.lstm", "vader.rules", "transformers.classifier"} <= set(
        REGISTRY.names("model")
    )
