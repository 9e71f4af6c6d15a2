"""Stacking: a meta-learner on the branches' out-of-fold probabilities."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from pydantic import Field

from ..errors import ComponentError
from ..evaluation.proba import align_proba
from ..plugin.components import BaseParams, Labels, LateFusion
from ..plugin.contract import check_probabilities
from .late import fitted_probas


class Stacking(LateFusion):
    """Multinomial logistic regression on the branches' log-probabilities (out-of-fold).

    The meta-learner sees probabilities that each branch gave on training speakers it was
    not trained on, so it learns how much to trust each branch, not how well it memorised.
    """

    name = "fusion.stacking"
    version = "1"

    class Params(BaseParams):
        C: float = Field(1.0, gt=0, description="inverse regularisation of the meta-learner")
        class_weight: str | None = Field("balanced", description="'balanced' or null")

    def fit(self, probas: Mapping[str, np.ndarray], y: Labels, classes: Labels) -> Stacking:
        from sklearn.linear_model import LogisticRegression

        self.classes_ = np.asarray(classes)
        probas = check_probabilities(probas, len(self.classes_), self.name)
        self.order_ = sorted(probas)
        y = np.asarray(y)
        if len(np.unique(y)) < 2:
            raise ComponentError(f"{self.name}: needs at least two classes in its training probabilities")
        self.meta_ = LogisticRegression(C=self.params.C, class_weight=self.params.class_weight, max_iter=2000)
        self.meta_.fit(self._features(probas), y)
        return self

    def _features(self, probas: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.hstack([np.log(np.clip(probas[k], 1e-6, 1.0)) for k in self.order_])

    def predict_proba(self, probas: Mapping[str, np.ndarray]) -> np.ndarray:
        probas = fitted_probas(self, probas)
        P = self.meta_.predict_proba(self._features(probas))
        return align_proba(P, self.meta_.classes_, self.classes_, self.name)
