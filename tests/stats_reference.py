"""Reference statistics written for the tests, sharing no code with emoframe.evaluation.

Every figure emoframe reports is checked against these (or scikit-learn / scipy): a plain numpy
UAR, the percentile bootstrap as a textbook states it, and the verdict rule as docs/evaluation.md
words it. Nothing here imports emoframe.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

LEVEL = 0.95


def codes(values: Sequence[object], classes: Sequence[object]) -> np.ndarray:
    """Labels as integer positions in ``classes``."""
    where = {c: i for i, c in enumerate(classes)}
    return np.array([where[v] for v in values], dtype=int)


def uar(t: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    """Unweighted average recall over the last axis: for each class with true rows, the share of them
    predicted as that class; the mean over those classes. Leading axes are independent samples."""
    t, p = np.asarray(t), np.asarray(p)
    recalls = []
    for c in range(k):
        is_c = t == c
        support = is_c.sum(-1)
        hits = (is_c & (p == c)).sum(-1)
        recalls.append(np.where(support > 0, hits / np.maximum(support, 1), np.nan))
    return np.nanmean(np.stack(recalls, -1), axis=-1)


def percentile_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The central ``level`` share of bootstrap values (linear interpolation between order statistics)."""
    tail = (1 - level) / 2
    lo, hi = np.quantile(np.asarray(values, dtype=float), [tail, 1 - tail])
    return float(lo), float(hi)


def resample_indices(n_rows: int, resamples: int, seed: int) -> np.ndarray:
    """(resamples × n_rows) row indices drawn with replacement from ``default_rng(seed)``: the stream
    ``scipy.stats.bootstrap`` draws from the same generator."""
    return np.random.default_rng(seed).integers(0, n_rows, size=(resamples, n_rows))


def paired_bootstrap(
    t: np.ndarray, a: np.ndarray, b: np.ndarray, k: int, resamples: int = 1000, seed: int = 0, level: float = LEVEL
) -> tuple[float, tuple[float, float]]:
    """UAR(a) − UAR(b) on the same rows, and the percentile interval of that difference over resamples
    that draw the same rows for both."""
    idx = resample_indices(len(t), resamples, seed)
    diffs = uar(t[idx], a[idx], k) - uar(t[idx], b[idx], k)
    return float(uar(t, a, k) - uar(t, b, k)), percentile_interval(diffs, level)


def rule(low: float, high: float) -> str:
    """docs/evaluation.md's verdict rule: 'helped' only when the whole interval is above zero, 'hurt'
    only when it is wholly below; an interval that touches or contains zero shows nothing."""
    if low > 0:
        return "helped"
    if high < 0:
        return "hurt"
    return "none"


def fusion_sentence(gain: float, low: float, high: float, best: str) -> str:
    """The fusion verdict, worded as docs/evaluation.md gives it (gain and interval in UAR points)."""
    g, lo, hi = gain * 100, low * 100, high * 100
    span = f"{g:+.1f} UAR points [{lo:+.1f}, {hi:+.1f}]"
    return {
        "helped": f"fusion helped: {span} over {best}",
        "hurt": f"fusion hurt: {span} against {best} alone",
        "none": f"fusion did not help: {span} over {best} (the interval includes zero)",
    }[rule(low, high)]


def comparison_sentence(a: str, b: str, diff: float, low: float, high: float, n: int) -> str:
    """`emoframe compare`'s verdict, by the same rule."""
    span = f"{diff * 100:+.1f} UAR points [{low * 100:+.1f}, {high * 100:+.1f}] on {n} shared rows"
    return {
        "helped": f"{a} is better than {b}: {span}",
        "hurt": f"{a} is worse than {b}: {span}",
        "none": f"no difference shown between {a} and {b}: {span} (the interval includes zero)",
    }[rule(low, high)]


def repeated_uar(t: np.ndarray, preds: list[np.ndarray], k: int) -> float:
    """Repeats of a protocol over the same rows: the mean of each repeat's UAR."""
    return float(np.mean([uar(t, p, k) for p in preds]))


def repeated_paired_bootstrap(
    t: np.ndarray,
    a: list[np.ndarray],
    b: list[np.ndarray],
    k: int,
    resamples: int = 1000,
    seed: int = 0,
    level: float = LEVEL,
) -> tuple[float, tuple[float, float]]:
    """docs/evaluation.md's statistic over repeats: mean over A's repeats of UAR − mean over B's, and the
    percentile interval over resamples that draw rows once and score every repeat of both on them."""
    idx = resample_indices(len(t), resamples, seed)
    mean_a = np.mean([uar(t[idx], p[idx], k) for p in a], axis=0)
    mean_b = np.mean([uar(t[idx], p[idx], k) for p in b], axis=0) if b else 0.0
    return repeated_uar(t, a, k) - (repeated_uar(t, b, k) if b else 0.0), percentile_interval(mean_a - mean_b, level)


def set_partitions(n: int, k: int) -> int:
    """How many ways n labelled items split into k non-empty unlabelled groups, by listing them."""
    import itertools

    seen = set()
    for labels in itertools.product(range(k), repeat=n):
        if len(set(labels)) == k:
            groups = frozenset(frozenset(i for i in range(n) if labels[i] == g) for g in range(k))
            seen.add(groups)
    return len(seen)
