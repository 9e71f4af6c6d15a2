"""Attribution facts: exact Shapley values over a few players, modality reliance, complementarity,
grouped permutation importance (docs/evaluation.md, "Why: attribution").

Pure functions over arrays and label lists: which model is asked, on which rows, is decided above
(``pipeline`` computes the coalition values of a fitted pipeline on test rows only).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .metrics import confusion, uar

MAX_PLAYERS = 6  # 2^6 coalitions: exact enumeration stays cheap; branches are 2-4 in practice


def coalitions(players: Sequence[str]) -> list[frozenset[str]]:
    """Every subset of ``players`` (the empty one and the full one included)."""
    return [frozenset(c) for r in range(len(players) + 1) for c in itertools.combinations(players, r)]


def shapley(
    players: Sequence[str], value: Callable[[frozenset[str]], np.ndarray]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Exact Shapley values: (value of the empty coalition, player → contribution), every array of the
    shape ``value`` returns. Efficiency holds by construction: baseline + Σ contributions = value(all)."""
    players = list(players)
    if not 1 <= len(players) <= MAX_PLAYERS:
        raise ValueError(f"exact Shapley values need 1 to {MAX_PLAYERS} players, got {len(players)}")
    values = {s: np.asarray(value(s), dtype=np.float64) for s in coalitions(players)}
    n = len(players)
    out = {}
    for p in players:
        total = np.zeros_like(values[frozenset()])
        for s, v in values.items():
            if p in s:
                continue
            weight = math.factorial(len(s)) * math.factorial(n - len(s) - 1) / math.factorial(n)
            total = total + weight * (values[s | {p}] - v)
        out[p] = total
    return values[frozenset()], out


def at_class(matrix: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Row i's entry in column ``index[i]``: a contribution to each row's predicted class."""
    matrix = np.asarray(matrix)
    return matrix[np.arange(len(index)), np.asarray(index, dtype=int)]


def reliance(contributions: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """Mean absolute contribution per player (one fold's rows)."""
    return {k: float(np.mean(np.abs(np.asarray(v, dtype=float)))) if len(v) else 0.0 for k, v in contributions.items()}


def shares(values: Mapping[str, float]) -> dict[str, float]:
    """Each value over their sum (0 each when they sum to 0): reliance as a share of the total."""
    total = sum(values.values())
    return {k: (v / total if total > 0 else 0.0) for k, v in values.items()}


def spread(per_fold: Sequence[Mapping[str, float]]) -> dict[str, tuple[float, float]]:
    """key → (mean, standard deviation over folds; 0 for one fold)."""
    keys = sorted({k for d in per_fold for k in d})
    out = {}
    for k in keys:
        vals = np.asarray([d[k] for d in per_fold if k in d], dtype=float)
        out[k] = (float(vals.mean()), float(vals.std(ddof=1)) if len(vals) > 1 else 0.0)
    return out


def complementarity(
    y_true: Sequence[str], parts: Mapping[str, Sequence[str]], fused: Sequence[str], classes: Sequence[str]
) -> dict[str, float | int]:
    """How the branches' decisions relate, on the same rows.

    ``exactly_one_right``: share of rows where exactly one branch is right; ``any_right``: at least
    one; ``oracle_uar``: the UAR of a chooser that always picks a right branch when there is one
    (UAR only counts hits of the true class, so which wrong branch it picks does not matter);
    ``disagree``: share of rows where the branches' labels differ; ``follows_right``: among rows where
    they differ and at least one is right, the share the fused decision gets right (``nan``: no such row).
    """
    y = np.asarray(y_true, dtype=object)
    n = len(y)
    keys = sorted(parts)
    if n == 0 or not keys:
        nan = float("nan")
        return {
            "rows": n,
            "exactly_one_right": nan,
            "any_right": nan,
            "oracle_uar": nan,
            "disagree": nan,
            "follows_right": nan,
            "contested": 0,
        }
    preds = np.stack([np.asarray(parts[k], dtype=object) for k in keys])  # branches × rows
    right = preds == y
    n_right = right.sum(0)
    any_right = n_right > 0
    disagree = (preds != preds[0]).any(0)
    contested = disagree & any_right
    f = np.asarray(fused, dtype=object)
    oracle = np.where(any_right, y, preds[0])
    return {
        "rows": n,
        "exactly_one_right": float(np.mean(n_right == 1)),
        "any_right": float(np.mean(any_right)),
        "oracle_uar": uar(confusion([str(v) for v in y], [str(v) for v in oracle], list(classes))),
        "disagree": float(np.mean(disagree)),
        "follows_right": float(np.mean(f[contested] == y[contested])) if contested.any() else float("nan"),
        "contested": int(contested.sum()),
    }


def permutation_importance(
    score: Callable[[np.ndarray], float],
    X: np.ndarray,
    groups: Mapping[str, Sequence[int]],
    repeats: int = 5,
    seed: int = 0,
) -> dict[str, list[float]]:
    """Grouped permutation importance: group → the drop of ``score`` (one per repeat) when that group's
    columns are shuffled together across rows (rows keep their other columns; the group's columns move
    as one, so correlated features inside a group are not counted as separately unimportant)."""
    rng = np.random.default_rng(seed)
    X = np.asarray(X)
    base = score(X)
    out: dict[str, list[float]] = {}
    for name, members in groups.items():
        cols = np.asarray(list(members), dtype=int)
        drops = []
        for _ in range(repeats):
            shuffled = X.copy()
            shuffled[:, cols] = X[rng.permutation(len(X))][:, cols]
            drops.append(float(base - score(shuffled)))
        out[name] = drops
    return out
