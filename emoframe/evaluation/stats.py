"""Spread of every figure: fold mean ± std, seeded bootstrap CIs, paired bootstrap for fusion gain."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .metrics import confusion, label_codes, uar, uar_each


def _uar_idx(t: np.ndarray, p: np.ndarray, k: int) -> float:
    cm = np.bincount(t * k + p, minlength=k * k).reshape(k, k)
    return uar(cm)


def _encode(
    y_true: Sequence[Any], preds: Sequence[Sequence[Any]], classes: Sequence[Any]
) -> tuple[np.ndarray, list[np.ndarray]]:
    return label_codes(y_true, classes, "true labels"), [label_codes(p, classes, "predictions") for p in preds]


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
        return (math.nan, math.nan)
    t, (p,) = _encode(y_true, [y_pred], classes)
    k = len(classes)
    cells = t * k + p
    return _interval(np.concatenate([_uar_rows(cells[i], k) for i in _resample_chunks(seed, n, len(t))]), level)


def _uar_rows(cells: np.ndarray, k: int) -> np.ndarray:
    """UAR of each row of a (resamples × rows) array of confusion cells (true · k + predicted), as
    :func:`_uar_idx` gives for one row, from one stack of confusion matrices for the whole chunk."""
    r = cells.shape[0]
    codes = cells + (np.arange(r) * (k * k))[:, None]  # each resample's cells apart from the others'
    return uar_each(np.bincount(codes.ravel(), minlength=r * k * k).reshape(r, k, k))


def _interval(values: Sequence[float] | np.ndarray, level: float) -> tuple[float, float]:
    """The central ``level`` percentile interval of bootstrap values (NaN resamples ignored)."""
    lo, hi = np.nanpercentile(np.asarray(values), [(1 - level) / 2 * 100, (1 + level) / 2 * 100])
    return float(lo), float(hi)


#: bootstrap indices are drawn about this many bytes at a time: it bounds memory and changes no draw
CHUNK_BYTES = 16 << 20  # pragma: no mutate (any size gives the same draws: tests/test_stats_reference.py)


def _resample_chunks(seed: int, n: int, size: int, chunk_bytes: int = CHUNK_BYTES) -> Iterator[np.ndarray]:
    """``n`` bootstrap index vectors of length ``size`` as (rows × size) chunks of bounded memory (the
    same draws, in the same order, as one (n × size) array would give)."""
    rng = np.random.default_rng(seed)
    rows = max(1, chunk_bytes // (8 * max(1, size)))  # pragma: no mutate (as CHUNK_BYTES)
    for start in range(0, n, rows):
        yield rng.integers(size, size=(min(rows, n - start), size))  # from [0, size)


def paired_difference(
    y_true: Sequence[Any],
    pred_a: Sequence[Any],
    pred_b: Sequence[Any],
    classes: Sequence[Any],
    n: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """UAR of A − UAR of B on the same rows, with a paired bootstrap CI: each resample scores both
    on the same indices, so the interval is that of the difference, not of two separate spreads."""
    t, (a, b) = _encode(y_true, [pred_a, pred_b], classes)
    k = len(classes)
    ua, ub = _uar_idx(t, a, k), _uar_idx(t, b, k)
    lo = hi = math.nan
    if n > 0 and len(t):
        cells_a, cells_b = t * k + a, t * k + b
        lo, hi = _interval(
            np.concatenate(
                [_uar_rows(cells_a[i], k) - _uar_rows(cells_b[i], k) for i in _resample_chunks(seed, n, len(t))]
            ),
            level,
        )
    return {"diff": float(ua - ub), "ci": [lo, hi], "uar_a": float(ua), "uar_b": float(ub), "n": int(len(t))}


def comparison_verdict(name_a: str, name_b: str, d: dict[str, Any]) -> str:
    """One plain line for any two pipelines, by the same rule as fusion gain."""
    g, (lo, hi) = d["diff"] * 100, (v * 100 for v in d["ci"])
    span = f"{g:+.1f} UAR points [{lo:+.1f}, {hi:+.1f}] on {d['n']} shared rows"
    outcome = fusion_outcome(*d["ci"])
    if outcome == "helped":
        return f"{name_a} is better than {name_b}: {span}"
    if outcome == "hurt":
        return f"{name_a} is worse than {name_b}: {span}"
    return f"no difference shown between {name_a} and {name_b}: {span} (the interval includes zero)"


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

    The best part is chosen on all pooled predictions; the CI is :func:`paired_difference`'s.
    """
    names = list(parts)
    t, encoded = _encode(y_true, [*[parts[n_] for n_ in names]], classes)
    k = len(classes)
    part_uar = {n_: _uar_idx(t, p, k) for n_, p in zip(names, encoded)}
    best = max(names, key=lambda n_: part_uar[n_])
    d = paired_difference(y_true, fused, parts[best], classes, n=n, seed=seed, level=level)
    lo, hi = d["ci"]
    outcome = fusion_outcome(lo, hi)
    return {
        "gain": d["diff"],
        "ci": [lo, hi],
        "best_part": best,
        "fused_uar": d["uar_a"],
        "part_uar": {n_: float(u) for n_, u in part_uar.items()},
        "helped": outcome == "helped",
        "hurt": outcome == "hurt",
    }


def _repeat_cells(
    y_true: Sequence[Any], preds_by_repeat: Sequence[Sequence[Sequence[Any]]], classes: Sequence[Any]
) -> tuple[np.ndarray, list[list[np.ndarray]], int]:
    """The true codes and, per prediction set, each repeat's confusion cells (true · k + predicted)."""
    k = len(classes)
    t = label_codes(y_true, classes, "true labels")
    for repeats in preds_by_repeat:
        if not repeats or any(len(p) != len(t) for p in repeats):
            raise ValueError("every repeat must predict the same rows, in the same order, as y_true")
    cells = [[t * k + label_codes(p, classes, "predictions") for p in repeats] for repeats in preds_by_repeat]
    return t, cells, k


def repeated_uar(y_true: Sequence[Any], preds_by_repeat: Sequence[Sequence[Any]], classes: Sequence[Any]) -> float:
    """The mean over repeats of each repeat's UAR on the same rows (every repeat predicts every row once)."""
    _, (cells,), k = _repeat_cells(y_true, [preds_by_repeat], classes)
    return float(np.mean([_uar_rows(c[None, :], k)[0] for c in cells]))


def repeated_bootstrap_ci(
    y_true: Sequence[Any],
    preds_by_repeat: Sequence[Sequence[Any]],
    classes: Sequence[Any],
    n: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile CI of :func:`repeated_uar`: each resample draws utterances (the same draw for every
    repeat, as the utterances are the unit that varies between corpora) and averages the repeats' UAR on it.
    One repeat gives :func:`bootstrap_ci` of that repeat."""
    if n <= 0 or len(y_true) == 0:
        return (math.nan, math.nan)
    t, (cells,), k = _repeat_cells(y_true, [preds_by_repeat], classes)
    values = [np.mean([_uar_rows(c[i], k) for c in cells], axis=0) for i in _resample_chunks(seed, n, len(t))]
    return _interval(np.concatenate(values), level)


def repeated_paired_difference(
    y_true: Sequence[Any],
    a_by_repeat: Sequence[Sequence[Any]],
    b_by_repeat: Sequence[Sequence[Any]],
    classes: Sequence[Any],
    n: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """Mean over repeats of UAR(A) − UAR(B) on the same rows, with a paired bootstrap CI: each resample
    draws utterances once, scores A and B on them in every repeat and averages the repeats' differences.
    A and B may have different numbers of repeats (each side's UAR is its own repeats' mean). One repeat
    each gives :func:`paired_difference`."""
    t, (ca, cb), k = _repeat_cells(y_true, [a_by_repeat, b_by_repeat], classes)
    ua = [float(_uar_rows(c[None, :], k)[0]) for c in ca]
    ub = [float(_uar_rows(c[None, :], k)[0]) for c in cb]
    lo = hi = math.nan
    if n > 0 and len(t):
        values = [
            np.mean([_uar_rows(c[i], k) for c in ca], axis=0) - np.mean([_uar_rows(c[i], k) for c in cb], axis=0)
            for i in _resample_chunks(seed, n, len(t))
        ]
        lo, hi = _interval(np.concatenate(values), level)
    mean_a, mean_b = float(np.mean(ua)), float(np.mean(ub))
    return {
        "diff": mean_a - mean_b,
        "ci": [lo, hi],
        "uar_a": mean_a,
        "uar_b": mean_b,
        "n": int(len(t)),
        "repeats": [len(ca), len(cb)],
        "uar_a_repeats": ua,
        "uar_b_repeats": ub,
    }


def repeated_paired_gain(
    y_true: Sequence[Any],
    fused_by_repeat: Sequence[Sequence[Any]],
    parts_by_repeat: dict[str, Sequence[Sequence[Any]]],
    classes: Sequence[Any],
    n: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """:func:`paired_gain` over repeats: the best part by its mean UAR over repeats, the gain and its CI by
    :func:`repeated_paired_difference`."""
    part_uar = {name: repeated_uar(y_true, preds, classes) for name, preds in parts_by_repeat.items()}
    best = max(part_uar, key=lambda name: part_uar[name])
    d = repeated_paired_difference(y_true, fused_by_repeat, parts_by_repeat[best], classes, n, seed, level)
    outcome = fusion_outcome(*d["ci"])
    return {
        "gain": d["diff"],
        "ci": d["ci"],
        "best_part": best,
        "fused_uar": d["uar_a"],
        "part_uar": part_uar,
        "helped": outcome == "helped",
        "hurt": outcome == "hurt",
        "repeats": len(fused_by_repeat),
    }


def fusion_outcome(ci_low: float | None, ci_high: float | None) -> str:
    """Did fusion help? 'helped' (the gain's CI is above zero), 'hurt' (below), 'none' (it includes
    zero or is unknown). The one rule every face uses."""
    if ci_low is not None and ci_low == ci_low and ci_low > 0:
        return "helped"
    if ci_high is not None and ci_high == ci_high and ci_high < 0:
        return "hurt"
    return "none"


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
    arr = np.asarray([v for v in values if v is not None and not np.isnan(v)])
    if len(arr) == 0:
        return math.nan, math.nan
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0


__all__ = [
    "bootstrap_ci",
    "comparison_verdict",
    "confusion",
    "fusion_outcome",
    "mean_std",
    "paired_difference",
    "paired_gain",
    "repeated_bootstrap_ci",
    "repeated_paired_difference",
    "repeated_paired_gain",
    "repeated_uar",
    "verdict",
]
