"""Confidence-gated fusion: per-sample branch weights from each branch's (calibrated) entropy."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from pydantic import Field

from ..evaluation.metrics import balanced_accuracy
from ..plugin.components import BaseParams, Labels, LateFusion
from ..plugin.contract import check_probabilities
from .late import fitted_probas

TEMPERATURES = np.exp(np.linspace(np.log(0.25), np.log(4.0), 25))
SHARPNESS = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0)


def _temper(P: np.ndarray, t: float) -> np.ndarray:
    logp = np.log(np.clip(P, 1e-9, 1.0)) / t
    logp -= logp.max(1, keepdims=True)
    Q = np.exp(logp)
    return Q / Q.sum(1, keepdims=True)


def _entropy(P: np.ndarray) -> np.ndarray:
    return -(P * np.log(np.clip(P, 1e-12, 1.0))).sum(1) / np.log(P.shape[1])


class GatedFusion(LateFusion):
    """Per-sample weights from branch confidence: an unsure modality does not drag the decision.

    Each branch is first calibrated by temperature scaling (minimum log-loss on out-of-fold
    probabilities of training speakers); then, per sample, branch b gets weight
    ∝ exp(−sharpness · normalised entropy_b). ``sharpness`` is chosen on the same held-out
    probabilities (0 = plain average of calibrated probabilities), unless fixed.
    """

    name = "fusion.gated"
    version = "1"

    class Params(BaseParams):
        sharpness: float | None = Field(None, ge=0, description="fixed gate sharpness; null: learned")
        calibrate: bool = Field(True, description="temperature-scale each branch before gating")

    def fit(self, probas: Mapping[str, np.ndarray], y: Labels, classes: Labels) -> GatedFusion:
        self.classes_ = np.asarray(classes)
        probas = check_probabilities(probas, len(self.classes_), self.name)
        self.order_ = sorted(probas)
        y = np.asarray(y)
        index = {c: i for i, c in enumerate(self.classes_)}
        yi = np.array([index[v] for v in y])
        self.temperature_ = {}
        for k in self.order_:
            if not self.params.calibrate:
                self.temperature_[k] = 1.0
                continue
            losses = [
                -np.mean(np.log(np.clip(_temper(probas[k], t)[np.arange(len(yi)), yi], 1e-12, 1))) for t in TEMPERATURES
            ]
            self.temperature_[k] = float(TEMPERATURES[int(np.argmin(losses))])
        if self.params.sharpness is not None:
            self.sharpness_ = float(self.params.sharpness)
        else:
            scores = [(balanced_accuracy(y, self.classes_[self._combine(probas, s).argmax(1)]), -s) for s in SHARPNESS]
            self.sharpness_ = float(-max(scores)[1])
        return self

    def _combine(self, probas: Mapping[str, np.ndarray], sharpness: float) -> np.ndarray:
        calibrated = [_temper(probas[k], self.temperature_[k]) for k in self.order_]
        gates = np.stack([np.exp(-sharpness * _entropy(P)) for P in calibrated], axis=1)
        gates /= gates.sum(1, keepdims=True)
        P = sum(gates[:, [i]] * calibrated[i] for i in range(len(calibrated)))
        return P / P.sum(1, keepdims=True)

    def predict_proba(self, probas: Mapping[str, np.ndarray]) -> np.ndarray:
        return self._combine(fitted_probas(self, probas), self.sharpness_)

    def branch_weights(self, probas: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        probas = fitted_probas(self, probas)
        calibrated = [_temper(probas[k], self.temperature_[k]) for k in self.order_]
        gates = np.stack([np.exp(-self.sharpness_ * _entropy(P)) for P in calibrated], axis=1)
        gates /= gates.sum(1, keepdims=True)
        return {k: gates[:, i] for i, k in enumerate(self.order_)}
