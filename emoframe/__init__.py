"""emoframe: plugin-based multimodal (speech audio + transcript) emotion recognition.

Everything a plugin author needs is importable from here (and listed in ``__all__``):
the component base classes and ``Params``, ``hookimpl``, the error classes, and the
speaker-aware helpers that first-party plugins use for inner splits and scores.

The workflow of a notebook (``validate``, ``bench``, ``run``, ``runs``, ``open_run``, ``Run``,
``extract``; :mod:`emoframe.api`) is imported on first use, so ``import emoframe`` stays light.
"""

from __future__ import annotations

import functools
import sys
import types
from typing import TYPE_CHECKING, Any

from .api import bench as _api_bench  # light: the API imports its heavy parts when called
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

if TYPE_CHECKING:
    from .api import Run, bench, extract, open_run, run, runs, validate

__version__ = "0.1.0"

#: the notebook API, imported from :mod:`emoframe.api` when first used (pandas, the runner: not at start-up)
_LAZY = ("Run", "bench", "extract", "open_run", "run", "runs", "validate")


class _Bench:
    """``emoframe.bench``: the API's :func:`emoframe.api.bench` when called, and the subpackage
    ``emoframe.bench`` (the orchestration layer) for its attributes (``emoframe.bench.events``, ...): the two
    share a name, and importing the subpackage must not take the function's place."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _api_bench(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.bench"), name)

    def __repr__(self) -> str:
        return "<function emoframe.bench (emoframe.api.bench); the subpackage: emoframe.bench.*>"


class _Facade(types.ModuleType):
    """The package as a module: the import system's record of the subpackage ``emoframe.bench`` as an
    attribute is kept in ``sys.modules`` only, so ``emoframe.bench`` stays the API's function."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "bench" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


_BENCH = functools.update_wrapper(_Bench(), _api_bench)  # its name, signature and docstring


def __getattr__(name: str) -> Any:
    if name == "bench":
        return _BENCH
    if name in _LAZY:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'emoframe' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


sys.modules[__name__].__class__ = _Facade


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
    "Run",
    "SpecError",
    "Transcriber",
    "Transcription",
    "UnknownComponentError",
    "__version__",
    "align_proba",
    "balanced_accuracy",
    "bench",
    "check_feature",
    "check_probabilities",
    "check_probas",
    "extract",
    "get_registry",
    "hookimpl",
    "inner_folds",
    "inner_split",
    "load",
    "open_run",
    "run",
    "runs",
    "validate",
]
