"""Every component of emoframe-torch against emoframe's rules: one test per (component, check)."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from emoframe.plugin.registry import Registry
from emoframe.testing import parametrize_with_checks
from emoframe_torch.models import CNN, LSTM, WeightedLayers

COMPONENTS = [CNN, LSTM, WeightedLayers]
#: small settings so the checks stay fast; behaviour is the same code path
FAST: dict[type, dict] = {
    CNN: {"epochs": 2, "channels": 8, "batch_size": 8},
    LSTM: {"epochs": 2, "hidden": 8, "batch_size": 8},
    WeightedLayers: {"epochs": 3, "hidden": 8, "batch_size": 8},
}


def test_every_registered_component_is_checked():
    registry = Registry.from_entry_points()
    registered = {registry.get(n).cls for kind in ("extractor", "model") for n in registry.names(kind)}
    assert {c for c in registered if c.__module__.startswith("emoframe_torch.")} == set(COMPONENTS)


@parametrize_with_checks(COMPONENTS, FAST)
def test_conformance(component, check):
    check(component)
