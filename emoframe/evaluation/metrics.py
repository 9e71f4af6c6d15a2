"""Classification metrics, in numpy so bootstrap resampling stays fast (checked against scikit-learn)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import DataError


def label_codes(values: Sequence[Any], classes: Sequence[Any], what: str) -> np.ndarray:
    """Each label's position in ``classes``. A label outside them is an error naming it: dropping its row
    would score the rest as if it had not been there (a miss that raises recall)."""
    index = {c: i for i, c in enumerate(classes)}
    try:
        return np.array([index[v] for v in values], dtype=np.int64)
    except KeyError:
        unknown = sorted({str(v) for v in values if v not in index})
        raise DataError(
            f"{what}: label(s) {', '.join(unknown[:5])} not among the classes {', '.join(map(str, classes))}; "
            "every true and predicted label must be one of the run's classes"
        ) from None


def confusion(y_true: Sequence[Any], y_pred: Sequence[Any], classes: Sequence[Any]) -> np.ndarray:
    """Counts: rows are true classes, columns predicted, in the order of ``classes``."""
    t, p = label_codes(y_true, classes, "true labels"), label_codes(y_pred, classes, "predictions")
    k = len(classes)
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


def recalls(cm: np.ndarray) -> np.ndarray:
    """Recall of each class (NaN for a class without true rows); ``cm`` may be a stack (… × k × k)."""
    support = cm.sum(-1)
    return np.where(support > 0, np.diagonal(cm, axis1=-2, axis2=-1) / np.maximum(support, 1), np.nan)


def uar_each(cms: np.ndarray) -> np.ndarray:
    """UAR of each confusion matrix of a stack (… × k × k): mean recall over the classes present in it,
    NaN where none is; the bootstrap scores its resamples a chunk at a time with this."""
    r = recalls(cms)
    present = (~np.isnan(r)).sum(-1)
    return np.where(present > 0, np.nansum(r, axis=-1) / np.maximum(present, 1), np.nan)


def uar(cm: np.ndarray) -> float:
    """Unweighted average recall (balanced accuracy) over the classes present."""
    return float(uar_each(cm))


def balanced_accuracy(y_true: Sequence[Any] | np.ndarray, y_pred: Sequence[Any] | np.ndarray) -> float:
    """UAR straight from label arrays: mean recall over the classes present in ``y_true``."""
    t, p = np.asarray(y_true), np.asarray(y_pred)
    return float(np.mean([np.mean(p[t == c] == c) for c in np.unique(t)]))


def wa(cm: np.ndarray) -> float:
    """Weighted accuracy, i.e. plain accuracy."""
    total = cm.sum()
    return float(np.trace(cm) / total) if total else math.nan


def f1_scores(cm: np.ndarray) -> np.ndarray:
    """F1 of each class; NaN for a class in neither truth nor prediction (it has no F1)."""
    tp = np.diag(cm)
    denom = 2 * tp + (cm.sum(0) - tp) + (cm.sum(1) - tp)  # 2·TP + FP + FN
    f1 = np.full(len(tp), math.nan)
    seen = denom != 0
    f1[seen] = 2 * tp[seen] / denom[seen]
    return f1


def macro_f1(cm: np.ndarray) -> float:
    """Mean F1 over classes that occur in truth or prediction (as scikit-learn's labels=None)."""
    f1 = f1_scores(cm)
    seen = ~np.isnan(f1)
    return float(f1[seen].mean()) if seen.any() else math.nan


def weighted_f1(cm: np.ndarray) -> float:
    """F1 averaged with each class weighted by its true rows."""
    support = cm.sum(1)
    true = support > 0
    return float((f1_scores(cm)[true] * support[true]).sum() / support.sum()) if true.any() else math.nan


def all_metrics(y_true: Sequence[Any], y_pred: Sequence[Any], classes: Sequence[Any]) -> dict[str, Any]:
    cm = confusion(y_true, y_pred, classes)
    return {
        "uar": uar(cm),
        "wa": wa(cm),
        "macro_f1": macro_f1(cm),
        "weighted_f1": weighted_f1(cm),
        "recall": {str(c): (None if np.isnan(r) else float(r)) for c, r in zip(classes, recalls(cm))},
        "confusion": cm.tolist(),
    }
