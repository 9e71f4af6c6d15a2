"""emoframe: plugin-based multimodal (speech audio + transcript) emotion recognition.

Everything a plugin author needs is importable from here (and listed in ``__all__``):
the component base classes and ``Params``, ``hookimpl``, the error classes, and the
speaker-aware helpers that first-party plugins use for inner splits and scores.
"""

from __future__ import annotations

from typing import Any

from .errors import (
    BundleError,
    ComponentError,
    DataError,
    EmoframeError,
    NameConflictError,
    ParamsError,
    SpecError,
    UnknownComponentError,
)
from .evaluation.metrics import balanced_accuracy
from .evaluation.proba import align_proba
from .evaluation.splits import inner_folds, inner_split
from .plugin.components import (
    Component,
    Corpus,
    EarlyFusion,
    FeatureExtractor,
    Fusion,
    LateFusion,
    Model,
    Params,
    Transcriber,
    Transcription,
)
from .plugin.contract import PluginCallError, check_feature, check_probabilities, check_probas
from .plugin.hookspecs import hookimpl
from .plugin.registry import Registry, get_registry

__version__ = "0.1.0"


def load(path: str, registry: Registry | None = None, strict: bool = False) -> Any:
    """A trained bundle (``emoframe train``) ready to label recordings: ``.predict`` / ``.predict_proba``.
    Components whose code changed since training are warned about by name; ``strict=True`` refuses them."""
    from .deploy.predictor import load as load_bundle

    return load_bundle(path, registry, strict=strict)


#: the public API of plugin authors; tests/test_public_api.py fails when a name disappears
__all__ = [
    "Component",
    "ComponentError",
    "Corpus",
    "DataError",
    "BundleError",
    "EarlyFusion",
    "EmoframeError",
    "FeatureExtractor",
    "Fusion",
    "LateFusion",
    "Model",
    "NameConflictError",
    "Params",
    "ParamsError",
    "PluginCallError",
    "Registry",
    "SpecError",
    "Transcriber",
    "Transcription",
    "UnknownComponentError",
    "__version__",
    "align_proba",
    "balanced_accuracy",
    "check_feature",
    "check_probabilities",
    "check_probas",
    "get_registry",
    "hookimpl",
    "inner_folds",
    "inner_split",
    "load",
]
