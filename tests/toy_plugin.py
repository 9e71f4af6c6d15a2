"""A throwaway plugin with tiny but real components, registered by tests (llm's conftest style)."""

from __future__ import annotations

import numpy as np
from pydantic import Field

import emoframe
from emoframe import FeatureExtractor, Model, Params


class Energy(FeatureExtractor):
    """Frame-energy statistics of the signal (mean, std, max, zero-crossing rate)."""

    name = "toy.energy"
    version = "1"
    modality = "audio"
    output = "vector"

    class Params(Params):
        frame: int = Field(400, ge=16, description="frame length in samples")

    def extract(self, x):
        x = np.asarray(x, dtype=np.float32)
        n = max(1, len(x) // self.params.frame)
        frames = x[: n * self.params.frame].reshape(n, -1) if len(x) >= self.params.frame else x.reshape(1, -1)
        e = np.sqrt((frames**2).mean(axis=1))
        zcr = np.mean(np.abs(np.diff(np.sign(x)))) / 2 if len(x) > 1 else 0.0
        return np.array([e.mean(), e.std(), e.max(), zcr], dtype=np.float32)


class Frames(FeatureExtractor):
    """Per-frame log energy as a (frames × 1) sequence."""

    name = "toy.frames"
    version = "1"
    modality = "audio"
    output = "sequence"

    def extract(self, x):
        x = np.asarray(x, dtype=np.float32)
        n = max(1, len(x) // 400)
        frames = x[: n * 400].reshape(n, -1) if len(x) >= 400 else x.reshape(1, -1)
        return np.log1p((frames**2).mean(axis=1, keepdims=True))


class Words(FeatureExtractor):
    """Counts of the training fold's vocabulary (fitted: learns its vocabulary)."""

    name = "toy.words"
    version = "1"
    modality = "text"
    output = "vector"
    stateless = False

    class Params(Params):
        lowercase: bool = True

    def fit(self, inputs, y=None):
        words = sorted({w for t in inputs for w in self._split(t)})
        self.vocab_ = {w: i for i, w in enumerate(words)}
        return self

    def _split(self, text):
        return (text.lower() if self.params.lowercase else text).split()

    def transform(self, inputs):
        X = np.zeros((len(inputs), max(1, len(self.vocab_))), dtype=np.float32)
        for i, t in enumerate(inputs):
            for w in self._split(t):
                if w in self.vocab_:
                    X[i, self.vocab_[w]] += 1
        return X


class Centroid(Model):
    """Nearest class centroid on standardised vectors, softmax of negative distances."""

    name = "toy.centroid"
    version = "1"
    accepts = frozenset({"vector"})

    class Params(Params):
        temperature: float = Field(1.0, gt=0)

    def fit(self, X, y, groups=None):
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        if len(np.unique(y)) < 2:
            raise emoframe.ComponentError(f"{self.name}: needs at least two classes")
        self.classes_ = np.unique(y)
        self.mu_, self.sd_ = X.mean(0), X.std(0) + 1e-9
        Z = (X - self.mu_) / self.sd_
        self.centroids_ = np.vstack([Z[y == c].mean(0) for c in self.classes_])
        return self

    def predict_proba(self, X):
        if not hasattr(self, "mu_"):
            raise emoframe.ComponentError(f"{self.name}: predict_proba called before fit")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.mu_):
            raise emoframe.ComponentError(f"{self.name}: fitted on {len(self.mu_)} features, got shape {X.shape}")
        Z = (X - self.mu_) / self.sd_
        d = ((Z[:, None, :] - self.centroids_[None]) ** 2).sum(-1)
        logits = -d / self.params.temperature
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(1, keepdims=True)


class SeqMean(Centroid):
    """Centroid model over the time-average of sequence features."""

    name = "toy.seqmean"
    accepts = frozenset({"sequence"})

    def fit(self, X, y, groups=None):
        return super().fit(np.vstack([np.asarray(s).mean(0) for s in X]), y)

    def predict_proba(self, X):
        return super().predict_proba(np.vstack([np.asarray(s).mean(0) for s in X]))


class Prior(Model):
    """Predicts the training class frequencies for any raw input (a floor to beat)."""

    name = "toy.prior"
    version = "1"
    accepts = frozenset({"raw"})

    def fit(self, X, y, groups=None):
        self.classes_, counts = np.unique(np.asarray(y), return_counts=True)
        self.p_ = counts / counts.sum()
        return self

    def predict_proba(self, X):
        return np.tile(self.p_, (len(X), 1))


class ToyCorpus(emoframe.Corpus):
    """A handful of in-memory rows, for spec validation tests."""

    name = "toy.corpus"
    version = "1"


@emoframe.hookimpl
def register_extractors(register):
    register(Energy)
    register(Frames)
    register(Words)


@emoframe.hookimpl
def register_models(register):
    register(Centroid)
    register(SeqMean)
    register(Prior)


@emoframe.hookimpl
def register_corpora(register):
    register(ToyCorpus)
