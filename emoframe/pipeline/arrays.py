"""What a pipeline does to arrays beside fitting: per-speaker normalisation of features (vectors or
sequences), dense matrices, and the size in bytes of a fitted component's state."""

from __future__ import annotations

from typing import Any

import numpy as np


def speaker_normalise(X: Any, speakers: np.ndarray) -> Any:
    """z-normalise each speaker's features (vectors or sequences) by that speaker's own statistics.

    Speakers with a single row keep their values centred on nothing: they are only scaled
    by their own frames (sequences) or left as they are (vectors).
    """
    if isinstance(X, list):  # sequences: statistics over all frames of the speaker
        out = list(X)
        for s in np.unique(speakers):
            idx = np.flatnonzero(speakers == s)
            frames = np.vstack([X[i] for i in idx])
            mu, sd = frames.mean(0), frames.std(0)
            sd[sd < 1e-8] = 1.0
            for i in idx:
                out[i] = ((X[i] - mu) / sd).astype(np.float32)
        return out
    X = dense(X).astype(np.float64)
    for s in np.unique(speakers):
        idx = speakers == s
        if idx.sum() < 2:
            continue
        sd = X[idx].std(0)
        sd[sd < 1e-8] = 1.0
        X[idx] = (X[idx] - X[idx].mean(0)) / sd
    return X


def state_size(value: Any) -> int:
    """Bytes of a component's state: arrays, sparse matrices and tensors by their data, text and bytes by
    length, containers by their contents, anything else (a scikit-learn estimator) by its pickled size —
    pickled only to be measured, never loaded."""
    if value is None or isinstance(value, (bool, int, float, np.generic)):
        return 8
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(value)
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if all(hasattr(value, a) for a in ("data", "indices", "indptr")):  # scipy sparse
        return int(value.data.nbytes + value.indices.nbytes + value.indptr.nbytes)
    if hasattr(value, "element_size") and hasattr(value, "numel"):  # a torch tensor
        return int(value.element_size() * value.numel())
    if isinstance(value, dict):
        return sum(state_size(k) + state_size(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return sum(state_size(v) for v in value)
    import pickle

    return len(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def dense(X: Any) -> np.ndarray:
    """A feature matrix as a dense array (sparse ones, e.g. TF-IDF, made dense)."""
    return X.toarray() if hasattr(X, "toarray") else np.asarray(X)
