"""The one table of component kinds: adding a kind is one edit here.

Everything that is per kind reads this table: the base classes a registered class must subclass
(``components.BASES``), the pluggy hooks that register them (``hookspecs``), the conformance checks
``emoframe.testing.checks_for`` runs, and the hooks table of docs/plugins.md (``tests/test_docs.py``
holds the page to it).
"""

from __future__ import annotations

from dataclasses import dataclass

from .components import Component, Corpus, FeatureExtractor, Fusion, Model, Transcriber


@dataclass(frozen=True)
class Kind:
    """One kind of component and everything emoframe does per kind."""

    name: str  # what ``Component.kind`` says and specs/registry queries use
    base: type[Component]  # a registered class must subclass it
    hook: str  # the pluggy hook that registers classes of this kind
    registers: str  # what the hook registers: its docstring and its row in docs/plugins.md
    #: the kind's own conformance checks, by name in ``emoframe.testing`` (by name: testing sits above
    #: this floor); every kind also gets ``check_registrable`` and ``check_rebuildable_by_workers``
    checks: tuple[str, ...]


TABLE: tuple[Kind, ...] = (
    Kind(
        "extractor",
        FeatureExtractor,
        "register_extractors",
        "`FeatureExtractor` subclasses (audio or text; vector, sequence, layers or raw output)",
        ("check_extractor", "check_roundtrip"),
    ),
    Kind(
        "model",
        Model,
        "register_models",
        "`Model` subclasses (classifiers with fit / predict_proba / classes_)",
        ("check_model", "check_roundtrip"),
    ),
    Kind(
        "fusion",
        Fusion,
        "register_fusions",
        "`EarlyFusion` / `LateFusion` subclasses",
        ("check_fusion", "check_explain", "check_roundtrip"),
    ),
    Kind(
        "corpus",
        Corpus,
        "register_corpora",
        "`Corpus` subclasses (loaders that yield a manifest)",
        (),  # loading needs the corpus's data, which a conformance run does not have
    ),
    Kind(
        "transcriber",
        Transcriber,
        "register_transcribers",
        "`Transcriber` subclasses (speech recognition: audio → text for text branches)",
        ("check_transcriber",),
    ),
)

BY_NAME: dict[str, Kind] = {k.name: k for k in TABLE}
BY_HOOK: dict[str, Kind] = {k.hook: k for k in TABLE}
KINDS: tuple[str, ...] = tuple(BY_NAME)
BASES: dict[str, type[Component]] = {k.name: k.base for k in TABLE}
#: hook name → the component kind it registers
HOOK_KINDS: dict[str, str] = {k.hook: k.name for k in TABLE}
