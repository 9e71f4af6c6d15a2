"""VADER (Hutto & Gilbert 2014): lexicon and rule-based sentiment of a transcript."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field, model_validator

from emoframe import ComponentError, FeatureExtractor, Model, Params

POSITIVE = ("happy", "surprised", "calm")
NEUTRAL = ("neutral",)


class VaderScores(FeatureExtractor):
    """VADER sentiment of the transcript: neg, neu, pos, compound (4 dims). Empty text → neutral."""

    name = "vader.scores"
    version = "1"
    modality = "text"
    output = "vector"

    def analyzer(self) -> Any:
        if getattr(self, "_analyzer", None) is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            self._analyzer = SentimentIntensityAnalyzer()
        return self._analyzer

    def warmup(self) -> None:
        self.analyzer()

    def extract(self, x: str) -> np.ndarray:
        s = self.analyzer().polarity_scores(str(x or ""))
        return np.array([s["neg"], s["neu"], s["pos"], s["compound"]], dtype=np.float32)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_analyzer", None)
        return state


class ValenceRules(Model):
    """Rules on VADER's compound valence: positive → positive classes, negative → negative, else neutral.

    Limits, by design: valence is one dimension, so it cannot split angry from sad from
    fearful (all negative) — probability is shared equally among the classes of a valence
    band. That is exactly what audio arousal adds in fusion. Nothing is learned except which
    classes exist; positive classes are happy/surprised/calm, neutral is neutral, every other
    class is negative.
    """

    name = "vader.rules"
    version = "1"
    accepts = frozenset({"vector"})
    requires = ("vader.scores",)

    class Params(Params):
        positive: float = Field(0.05, description="compound ≥ this is positive (VADER's own threshold)")
        negative: float = Field(-0.05, description="compound ≤ this is negative")
        confidence: float = Field(0.8, gt=0, le=1, description="probability mass given to the matching band")

        @model_validator(mode="after")
        def _order(self) -> Any:
            if self.negative >= self.positive:
                raise ValueError("negative threshold must be below the positive one")
            return self

    def fit(self, X: Any, y: Any, groups: Any = None) -> ValenceRules:
        X = self._check(X)
        self.classes_ = np.unique(np.asarray(y))
        if len(self.classes_) < 2:
            raise ComponentError(f"{self.name}: needs at least two classes, got {self.classes_.tolist()}")
        bands = {"pos": [c for c in self.classes_ if c in POSITIVE], "neu": [c for c in self.classes_ if c in NEUTRAL]}
        bands["neg"] = [c for c in self.classes_ if c not in POSITIVE and c not in NEUTRAL]
        self.bands_ = {k: v for k, v in bands.items()}
        return self

    def _check(self, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != 4:
            raise ComponentError(f"{self.name}: expects vader.scores features (samples × 4), got shape {X.shape}")
        return X

    def predict_proba(self, X: Any) -> np.ndarray:
        if not hasattr(self, "bands_"):
            raise ComponentError(f"{self.name}: predict_proba called before fit")
        compound = self._check(X)[:, 3]
        p = self.params
        band = np.where(compound >= p.positive, "pos", np.where(compound <= p.negative, "neg", "neu"))
        k = len(self.classes_)
        index = {c: i for i, c in enumerate(self.classes_)}
        P = np.full((len(compound), k), (1 - p.confidence) / k)
        for b, members in self.bands_.items():
            rows = band == b
            targets = members or list(self.classes_)
            for c in targets:
                P[rows, index[c]] += p.confidence / len(targets)
        return P / P.sum(1, keepdims=True)
