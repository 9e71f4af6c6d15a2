"""pluggy hook specifications: how a plugin hands its components to emoframe.

Each hook receives ``register``, a callable taking a component class. A plugin is a module
with ``@emoframe.hookimpl`` functions, listed under the ``emoframe`` entry-point group of
its distribution; emoframe's own built-ins are registered the same way.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

PROJECT = "emoframe"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Register = Callable[[type], None]


@hookspec
def register_extractors(register: Register) -> None:
    """Register FeatureExtractor subclasses (audio or text; vector, sequence or raw output)."""


@hookspec
def register_models(register: Register) -> None:
    """Register Model subclasses (classifiers with fit / predict_proba / classes_)."""


@hookspec
def register_fusions(register: Register) -> None:
    """Register Fusion subclasses (EarlyFusion or LateFusion)."""


@hookspec
def register_corpora(register: Register) -> None:
    """Register Corpus subclasses (loaders that yield a manifest)."""


@hookspec
def register_transcribers(register: Register) -> None:
    """Register Transcriber subclasses (speech recognition: audio → text for text branches)."""


#: hook name → the component kind it registers.
HOOK_KINDS = {
    "register_extractors": "extractor",
    "register_models": "model",
    "register_fusions": "fusion",
    "register_corpora": "corpus",
    "register_transcribers": "transcriber",
}
