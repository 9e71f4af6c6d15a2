"""emoframe: plugin-based multimodal (speech audio + transcript) emotion recognition."""
from __future__ import annotations

from .components import (Component, Corpus, EarlyFusion, FeatureExtractor, Fusion, LateFusion, Model,
                         Params)
from .errors import EmoframeError
from .hookspecs import hookimpl
from .registry import Registry, get_registry

__version__ = "0.1.0"
__all__ = [
    "Component", "Corpus", "EarlyFusion", "EmoframeError", "FeatureExtractor", "Fusion", "LateFusion",
    "Model", "Params", "Registry", "get_registry", "hookimpl", "__version__",
]
