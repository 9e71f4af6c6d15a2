"""emoframe's own components, registered through its own entry point like any plugin."""

from __future__ import annotations

from .plugin.hookspecs import hookimpl


@hookimpl
def register_fusions(register):
    from .fusion.early import ConcatFusion
    from .fusion.gated import GatedFusion
    from .fusion.late import WeightedAverageFusion
    from .fusion.stacking import Stacking
    from .fusion.vote import MajorityVote

    for fusion in (ConcatFusion, WeightedAverageFusion, MajorityVote, Stacking, GatedFusion):
        register(fusion)


@hookimpl
def register_corpora(register):
    from .data.corpora.cremad import CremaD
    from .data.corpora.demo import DemoCorpus
    from .data.corpora.emodb import EmoDB
    from .data.corpora.generic import ManifestCorpus
    from .data.corpora.meld import Meld
    from .data.corpora.ravdess import Ravdess
    from .data.corpora.tess import Tess

    for corpus in (DemoCorpus, ManifestCorpus, EmoDB, Ravdess, CremaD, Tess, Meld):
        register(corpus)
