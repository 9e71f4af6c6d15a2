"""A spy model for the nested-tuning tests: a real nearest-centroid classifier that records every row it
is fitted on or asked about (by a fingerprint of its features) and whether a search was running, and
that raises on demand (``explode``) so that failing trials can be planted."""

from __future__ import annotations

import hashlib

import numpy as np
from pydantic import Field

import emoframe
from emoframe import Params

from .toy_plugin import Centroid

#: (phase: fit | predict, in_search, row fingerprints, speakers or None) of every call, in order
CALLS: list[tuple[str, bool, list[str], list[str] | None]] = []
SEARCHING = [False]


def fingerprint(row: np.ndarray) -> str:
    return hashlib.sha1(np.asarray(row, dtype=np.float64).round(6).tobytes()).hexdigest()[:16]


class Spy(Centroid):
    """Nearest class centroid that remembers what it saw."""

    name = "spy.centroid"
    version = "1"

    class Params(Params):
        temperature: float = Field(1.0, gt=0, le=100)
        shrink: int = Field(0, ge=0, le=10, description="tenths by which the centroids shrink to the origin")
        explode: bool = Field(False, description="raise in fit (a planted failing trial)")

    def fit(self, X, y, groups=None):
        if self.params.explode:
            raise RuntimeError("planted failure: explode is true")
        X = np.asarray(X, dtype=np.float64)
        CALLS.append(("fit", SEARCHING[0], [fingerprint(r) for r in X], None if groups is None else list(groups)))
        super().fit(X, y, groups)
        self.centroids_ = self.centroids_ * (1 - self.params.shrink / 10)  # 10: every class alike (chance)
        return self

    def predict_proba(self, X):
        X = np.asarray(X, dtype=np.float64)
        CALLS.append(("predict", SEARCHING[0], [fingerprint(r) for r in X], None))
        return super().predict_proba(X)


@emoframe.hookimpl
def register_models(register):
    register(Spy)
