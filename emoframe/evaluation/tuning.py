"""Nested tuning's figures, pure: a trial's inner score, the trial chosen, and how much the score moves
over the search space ("sensitivity"). Nothing here fits or reads data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .metrics import all_metrics

METRICS = ("uar", "wa", "macro_f1")


def inner_score(metric: str, y_true: Iterable[Any], y_pred: Iterable[Any], classes: Iterable[Any]) -> float:
    """One inner validation fold's score by ``metric`` (uar, wa or macro_f1)."""
    if metric not in METRICS:
        raise ValueError(f"unknown tuning metric {metric!r}; one of {', '.join(METRICS)}")
    return float(all_metrics([str(v) for v in y_true], [str(v) for v in y_pred], [str(c) for c in classes])[metric])


def chosen_trial(trials: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The complete trial with the highest mean inner score; ties go to the lowest ``order`` (a grid's
    point in ParameterGrid order, else the trial number), as GridSearchCV breaks them. None: none completed."""
    done = [t for t in trials if t.get("state") == "complete" and t.get("score") is not None]
    if not done:
        return None
    return min(done, key=lambda t: (-float(t["score"]), int(t.get("order", t["number"]))))


def sensitivity(per_fold: Sequence[Sequence[dict[str, Any]]]) -> dict[str, float] | None:
    """How much a pipeline depends on tuning: per outer fold, the range (best − worst) and the standard
    deviation of the mean inner scores over its completed trials; averaged over the outer folds. None
    when no fold has two completed trials."""
    ranges, stds = [], []
    for trials in per_fold:
        scores = np.array([float(t["score"]) for t in trials if t.get("state") == "complete"], dtype=float)
        if len(scores) < 2:
            continue
        ranges.append(float(scores.max() - scores.min()))
        stds.append(float(scores.std()))
    if not ranges:
        return None
    return {"range": float(np.mean(ranges)), "std": float(np.mean(stds)), "folds": len(ranges)}
