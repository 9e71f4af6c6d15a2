"""A throwaway fusion whose ``explain()`` returns the wrong shape: its pipeline's explanation must fail naming
it, and every other pipeline's must go on (registered by tests/test_explain.py)."""

from __future__ import annotations

import numpy as np

import emoframe
from emoframe.fusion.late import WeightedAverageFusion


class WrongShapeFusion(WeightedAverageFusion):
    """Weighted average whose explain() returns one number per row instead of rows × classes."""

    name = "badexplain.fusion"
    version = "1"

    def explain(self, probas, prior):
        return {k: np.zeros(len(v)) for k, v in probas.items()}


@emoframe.hookimpl
def register_fusions(register):
    register(WrongShapeFusion)
