"""Spread of every figure: fold mean ± std, seeded bootstrap CIs, paired bootstrap for fusion gain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .metrics import confusion, uar


def _uar_idx(t: np.ndarray, p: np.ndarray, k: int) -> float:
    cm = np.bincount(t * k + p, minlength=k * k).reshape(k, k)
    return uar(cm)


def _encode(
    y_true: Sequence[Any], preds: Sequence[Sequence[Any]], classes: Sequence[Any]
) -> tuple[np.ndarray, list[np.ndarray]]:
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[v] for v in y_true]), [np.array([index[v] for v in p]) for p in preds]


def bootstrap_ci(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    classes: Sequence[Any],
    n: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile CI of UAR over resampled pooled predictions."""
    if n <= 0 or len(y_true) == 0:
        return (float("nan"), float("nan"))
    t, (p,) = _encode(y_true, [y_pred], classes)
    rng = np.random.default_rng(seed)
    k = len(classes)
    values = np.array([_uar_idx(t[i], p[i], k) for i in rng.integers(0, len(t), size=(n, len(t)))])
    lo, hi = np.nanpercentile(values, [(1 - level) / 2 * 100, (1 + level) / 2 * 100])
    return float(lo), float(hi)


def paired_gain(
    y_true: Sequence[Any],
    fused: Sequence[Any],
    parts: dict[str, Sequence[Any]],
    classes: Sequence[Any],
    n: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """Fused UAR − best part's UAR on the same samples, with a paired bootstrap CI.

    The best part is chosen on all pooled predictions; each resample scores fused and that
    part on the same indices, so the CI reflects the difference, not two separate spreads.
    """
    names = list(parts)
    t, encoded = _encode(y_true, [fused, *[parts[n_] for n_ in names]], classes)
    k = len(classes)
    full = [_uar_idx(t, p, k) for p in encoded]
    best = int(np.argmax(full[1:])) + 1
    gain = full[0] - full[best]
    lo = hi = float("nan")
    if n > 0:
        rng = np.random.default_rng(seed)
        diffs = np.array(
            [
                _uar_idx(t[i], encoded[0][i], k) - _uar_idx(t[i], encoded[best][i], k)
                for i in rng.integers(0, len(t), size=(n, len(t)))
            ]
        )
        lo, hi = (float(v) for v in np.nanpercentile(diffs, [(1 - level) / 2 * 100, (1 + level) / 2 * 100]))
    return {
        "gain": float(gain),
        "ci": [lo, hi],
        "best_part": names[best - 1],
        "fused_uar": float(full[0]),
        "part_uar": {n_: float(u) for n_, u in zip(names, full[1:])},
        "helped": fusion_outcome(lo, hi) == "helped",
        "hurt": fusion_outcome(lo, hi) == "hurt",
    }


def fusion_outcome(ci_low: float | None, ci_high: float | None) -> str:
    """Did fusion help? 'helped' (the gain's CI is above zero), 'hurt' (below), 'none' (it includes
    zero or is unknown). The one rule every face uses."""
    if ci_low is not None and ci_low == ci_low and ci_low > 0:
        return "helped"
    if ci_high is not None and ci_high == ci_high and ci_high < 0:
        return "hurt"
    return "none"


#: how each face colours an outcome
OUTCOME_STYLE = {"helped": "green", "hurt": "red", "none": "yellow"}


def verdict(gain: dict[str, Any]) -> str:
    """One plain line: did fusion help?"""
    g, (lo, hi) = gain["gain"] * 100, (v * 100 for v in gain["ci"])
    outcome = fusion_outcome(*gain["ci"])
    if outcome == "helped":
        return f"fusion helped: {g:+.1f} UAR points [{lo:+.1f}, {hi:+.1f}] over {gain['best_part']}"
    if outcome == "hurt":
        return f"fusion hurt: {g:+.1f} UAR points [{lo:+.1f}, {hi:+.1f}] against {gain['best_part']} alone"
    return (
        f"fusion did not help: {g:+.1f} UAR points [{lo:+.1f}, {hi:+.1f}] over {gain['best_part']} "
        "(the interval includes zero)"
    )


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    arr = np.asarray([v for v in values if v is not None and not np.isnan(v)], dtype=float)
    if len(arr) == 0:
        return float("nan"), float("nan")
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0


__all__ = ["OUTCOME_STYLE", "bootstrap_ci", "confusion", "fusion_outcome", "mean_std", "paired_gain", "verdict"]
