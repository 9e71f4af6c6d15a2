"""Probability matrices: columns put in a given class order, checked on the way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..plugin.contract import check_probabilities


def align_proba(
    P: Any, model_classes: Sequence[Any] | np.ndarray, classes: Sequence[Any] | np.ndarray, name: str
) -> np.ndarray:
    """Reorder a model's probability columns to ``classes`` (zeros for classes it never saw)."""
    P = check_probabilities(P, len(model_classes), name)
    out = np.zeros((P.shape[0], len(classes)))
    index = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(model_classes):
        if c in index:
            out[:, index[c]] = P[:, j]
    total = out.sum(1, keepdims=True)
    return np.divide(out, total, out=np.full_like(out, 1 / len(classes)), where=total > 0)
