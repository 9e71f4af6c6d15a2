"""Components that break the contract in one way each, as a plugin author might by accident."""

from __future__ import annotations

import numpy as np

import emoframe
from emoframe import FeatureExtractor, Model

from .toy_plugin import Centroid


class SklearnStyle(Model):
    """Written from scikit-learn habits: fit(X, y), no groups; dense input only (it centres)."""

    name = "contract.sklearn_style"
    version = "1"

    def fit(self, X, y):
        X = np.asarray(X)
        if not isinstance(X, np.ndarray) or X.dtype == object:
            raise TypeError("Cannot center sparse matrices")
        self.mu_ = X.mean(0)
        self.classes_ = np.unique(y)
        self.centroids_ = np.vstack([(X[np.asarray(y) == c] - self.mu_).mean(0) for c in self.classes_])
        return self

    def predict_proba(self, X):
        d = (((np.asarray(X) - self.mu_)[:, None, :] - self.centroids_[None]) ** 2).sum(-1)
        e = np.exp(-(d - d.min(1, keepdims=True)))
        return e / e.sum(1, keepdims=True)


class Matrix(FeatureExtractor):
    """Declares 'vector' but returns a 3×2 matrix."""

    name = "contract.matrix"
    version = "1"
    modality = "text"
    output = "vector"

    def extract(self, x):
        return np.ones((3, 2)) * len(x)


class Wobbly(FeatureExtractor):
    """Its width changes with the transcript: 2 numbers, or 3 for long ones."""

    name = "contract.wobbly"
    version = "1"
    modality = "text"
    output = "vector"

    def extract(self, x):
        return np.arange(3 if len(x) > 60 else 2, dtype=np.float32) + len(x)


class Overconfident(Centroid):
    """Probabilities times two: outside [0, 1], rows summing to 2."""

    name = "contract.overconfident"
    version = "1"

    def predict_proba(self, X):
        return 2 * super().predict_proba(X)


class Raising(Centroid):
    name = "contract.raising"
    version = "1"

    def fit(self, X, y, groups=None):
        raise RuntimeError("licence server unreachable")


@emoframe.hookimpl
def register_extractors(register):
    register(Matrix)
    register(Wobbly)


@emoframe.hookimpl
def register_models(register):
    register(SklearnStyle)
    register(Overconfident)
    register(Raising)
