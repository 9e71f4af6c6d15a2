"""emoframe plugin example: one component of each kind asked for; replace their insides."""

import numpy as np
from pydantic import Field

import emoframe


class Level(emoframe.FeatureExtractor):
    """Peak and RMS level of the utterance (replace with your features)."""

    name = "example.level"
    version = "1"
    modality = "audio"
    output = "vector"

    class Params(emoframe.Params):
        db: bool = Field(True, description="report decibels")

    def extract(self, signal):
        peak, rms = np.abs(signal).max(), np.sqrt(np.mean(signal**2))
        out = np.array([peak, rms])
        return 20 * np.log10(out + 1e-9) if self.params.db else out


class NearestMean(emoframe.Model):
    """Nearest class mean on standardised vectors (replace with your classifier)."""

    name = "example.nearest_mean"
    version = "1"
    accepts = frozenset({"vector"})

    class Params(emoframe.Params):
        temperature: float = Field(1.0, gt=0, description="softmax temperature of the distances")

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=float), np.asarray(y)
        if len(np.unique(y)) < 2:
            raise emoframe.ComponentError(f"{self.name}: needs at least two classes")
        self.mu_, self.sd_ = X.mean(0), X.std(0) + 1e-9
        Z = (X - self.mu_) / self.sd_
        self.classes_ = np.unique(y)
        self.means_ = np.vstack([Z[y == c].mean(0) for c in self.classes_])
        return self

    def predict_proba(self, X):
        if not hasattr(self, "means_"):
            raise emoframe.ComponentError(f"{self.name}: predict_proba called before fit")
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.means_.shape[1]:
            raise emoframe.ComponentError(f"{self.name}: expected {self.means_.shape[1]} features, got {X.shape}")
        d = ((((X - self.mu_) / self.sd_)[:, None, :] - self.means_[None]) ** 2).sum(-1) / self.params.temperature
        e = np.exp(-(d - d.min(1, keepdims=True)))
        return e / e.sum(1, keepdims=True)


class ProductOfExperts(emoframe.LateFusion):
    """Multiply the branches' probabilities and renormalise (replace with your fusion)."""

    name = "example.product"
    version = "1"

    def fit(self, probas, y, classes):
        self.classes_ = np.asarray(classes)
        self.branches_ = sorted(probas)
        return self

    def predict_proba(self, probas):
        if not hasattr(self, "branches_"):
            raise emoframe.ComponentError(f"{self.name}: predict_proba called before fit")
        probas = emoframe.check_probabilities(probas, len(self.classes_), self.name)
        if sorted(probas) != self.branches_:
            got = sorted(probas)
            raise emoframe.ComponentError(f"{self.name}: fitted on branches {self.branches_}, got {got}")
        P = np.prod([np.clip(probas[k], 1e-9, 1) for k in self.branches_], axis=0)
        return P / P.sum(1, keepdims=True)


@emoframe.hookimpl
def register_extractors(register):
    register(Level)


@emoframe.hookimpl
def register_models(register):
    register(NearestMean)


@emoframe.hookimpl
def register_fusions(register):
    register(ProductOfExperts)
