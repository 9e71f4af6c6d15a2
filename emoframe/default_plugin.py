"""emoframe's own components, registered through its own entry point like any plugin."""
from __future__ import annotations

from .hookspecs import hookimpl


@hookimpl
def register_fusions(register):
    from .fusion.early import ConcatFusion
    from .fusion.late import WeightedAverageFusion

    register(ConcatFusion)
    register(WeightedAverageFusion)
