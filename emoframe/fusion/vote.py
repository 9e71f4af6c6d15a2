"""Hard majority vote of the branches' decisions."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..plugin.components import Labels, LateFusion
from .late import fitted_probas


class MajorityVote(LateFusion):
    """Hard majority vote of branch decisions; ties go to the class with the highest mean probability.

    Returned probabilities are vote shares (with the mean probability as a tie-breaking
    hundredth), so with two branches that disagree the vote is decided by confidence.
    """

    name = "fusion.vote"
    version = "1"

    @property
    def needs_heldout(self) -> bool:
        return False

    def fit(self, probas: Mapping[str, np.ndarray], y: Labels, classes: Labels) -> MajorityVote:
        self.classes_ = np.asarray(classes)
        self.order_ = sorted(probas)
        return self

    def predict_proba(self, probas: Mapping[str, np.ndarray]) -> np.ndarray:
        probas = fitted_probas(self, probas)
        stack = np.stack([probas[k] for k in self.order_])  # branches × n × classes
        votes = np.zeros(stack.shape[1:])
        winners = stack.argmax(2)
        for b in range(stack.shape[0]):
            votes[np.arange(stack.shape[1]), winners[b]] += 1
        score = votes + 0.01 * stack.mean(0)
        return score / score.sum(1, keepdims=True)
