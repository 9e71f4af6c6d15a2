"""Registers the torch models (torch is imported only when a model is built)."""

from __future__ import annotations

import emoframe


@emoframe.hookimpl
def register_models(register):
    from .models import CNN, LSTM, WeightedLayers

    register(CNN)
    register(LSTM)
    register(WeightedLayers)
