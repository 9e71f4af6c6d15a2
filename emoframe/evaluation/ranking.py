"""Ranks of pipelines over corpora and whether they differ: Demšar (2006), pure functions.

Each corpus is one block (an independent data set); within it the pipelines are ranked by their score
(1: the best, ties share the average rank). The Friedman test (``scipy.stats.friedmanchisquare``) asks
whether the average ranks differ more than chance would make them; the post-hoc tests say which do:

- **all pairs**: the Nemenyi test (``scikit_posthocs.posthoc_nemenyi_friedman``) and its critical
  difference CD = q_α·sqrt(k(k+1)/(6N)) (q_α: the studentized range quantile over √2), drawn as the
  critical-difference diagram;
- **against the best** (the lowest average rank): Demšar's z = (R_i − R_best)/sqrt(k(k+1)/(6N)) with
  Holm's step-down correction, more powerful than Nemenyi where only comparisons with one pipeline are asked.

Rank tests rather than Wilcoxon signed-rank per pair: with the 3–10 corpora a study has, a signed-rank
test over N corpora cannot go below p = 2/2^N (0.25 at N = 3), so it could never say anything; the rank
tests use every pipeline's rank in every corpus at once. Folds of one corpus are never blocks: they share
speakers, recordings and labels, and a p-value over them would be about that corpus only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

#: fewer independent corpora than this and no test is claimed, whatever the numbers
MIN_BLOCKS = 3
ALPHA = 0.05


@dataclass(frozen=True)
class VersusBest:
    """One pipeline against the best by average rank: Demšar's z, its two-sided p and Holm's adjusted p."""

    pipeline: str
    rank_difference: float
    z: float
    p: float
    p_holm: float
    tied: bool  # not shown worse than the best at ALPHA (Holm)


@dataclass(frozen=True)
class RankTest:
    """Average ranks over corpora and, where the corpora allow one, the tests. ``reason`` says why no test
    is claimed (then every p-value field is None)."""

    pipelines: list[str]
    blocks: list[str]  # the corpora ranked over
    scores: list[list[float]]  # pipeline × corpus
    ranks: list[list[float]]  # pipeline × corpus, 1 = best
    average_ranks: list[float]
    best: str
    alpha: float = ALPHA
    friedman_statistic: float | None = None
    friedman_p: float | None = None
    critical_difference: float | None = None
    nemenyi_p: list[list[float]] | None = None  # pipeline × pipeline
    versus_best: list[VersusBest] = field(default_factory=list)
    reason: str | None = None  # why no test is claimed
    left_out: list[str] = field(default_factory=list)  # corpora without a score for every pipeline

    @property
    def tested(self) -> bool:
        return self.friedman_p is not None

    @property
    def differ(self) -> bool | None:
        """Whether the Friedman test says the pipelines' ranks differ (None: no test)."""
        return None if self.friedman_p is None else self.friedman_p < self.alpha

    @property
    def tied_with_best(self) -> list[str]:
        """The pipelines not shown worse than the best (the best itself first); empty without a test."""
        if not self.tested:
            return []
        if not self.differ:
            return [self.best, *(p for p in self.pipelines if p != self.best)]
        return [self.best, *(v.pipeline for v in self.versus_best if v.tied)]

    def verdict(self) -> str:
        """The plain sentence, like the fusion verdicts: what the ranks say and what the test allows."""
        n, k = len(self.blocks), len(self.pipelines)
        head = f"{self.best} has the best average rank ({min(self.average_ranks):.2f} over {n} corpora)"
        if not self.tested:
            return f"{head}; no test claimed: {self.reason}"
        assert self.friedman_p is not None and self.friedman_statistic is not None
        friedman = f"Friedman χ²={self.friedman_statistic:.2f}, p={self.friedman_p:.3g}"
        if not self.differ:
            return (
                f"{head}, but the {k} pipelines' ranks do not differ beyond chance ({friedman}): all "
                "statistically tied with the best"
            )
        tied = [p for p in self.tied_with_best if p != self.best]
        worse = [v.pipeline for v in self.versus_best if not v.tied]
        tail = f"statistically tied with the best: {', '.join(tied)}" if tied else "no other pipeline is tied with it"
        return (
            f"{head}; the ranks differ ({friedman}); {tail}; worse than the best (Holm): {', '.join(worse) or 'none'}"
        )


def block_ranks(scores: np.ndarray) -> np.ndarray:
    """Ranks within each corpus (column), 1 for the highest score, ties at their average rank."""
    from scipy.stats import rankdata

    return np.column_stack([rankdata(-scores[:, j]) for j in range(scores.shape[1])])


def critical_difference(k: int, n: int, alpha: float = ALPHA) -> float:
    """Nemenyi's critical difference of average ranks for k pipelines over n corpora (Demšar 2006, eq. 5)."""
    from scipy.stats import studentized_range

    q = float(studentized_range.ppf(1 - alpha, k, np.inf)) / math.sqrt(2)
    return q * math.sqrt(k * (k + 1) / (6 * n))


def smallest_friedman_p(k: int, n: int) -> float:
    """The smallest p the Friedman test can give for k pipelines over n corpora (every corpus ranking them
    alike: χ² = n(k − 1)): when even that is above α, no outcome could be significant."""
    from scipy.stats import chi2

    return float(chi2.sf(n * (k - 1), k - 1))


def holm(p: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input order."""
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for i, j in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[j]))
        adjusted[j] = running
    return adjusted.tolist()


def no_test_reason(k: int, n: int, alpha: float = ALPHA) -> str | None:
    """Why ranks over ``n`` corpora of ``k`` pipelines allow no test, or None when they do."""
    if n == 1:
        return (
            "one corpus: its folds share speakers, recordings and labels, so they are not independent data sets "
            "and a rank test over them would say nothing about other corpora"
        )
    if k < 3:
        return (
            f"{k} pipeline(s): the Friedman test compares three or more; compare two with `emoframe compare` "
            "on each corpus"
        )
    if n < MIN_BLOCKS:
        return f"{n} corpora: a test over corpora needs at least {MIN_BLOCKS} independent ones"
    p_min = smallest_friedman_p(k, n)
    if p_min >= alpha:
        return (
            f"{n} corpora and {k} pipelines: even if every corpus ranked the pipelines alike the Friedman test "
            f"could not go below p={p_min:.3f} (α={alpha})"
        )
    return None


def rank_pipelines(
    scores: dict[str, dict[str, float]], alpha: float = ALPHA, corpora: list[str] | None = None
) -> RankTest:
    """Average ranks of pipelines (``scores``: pipeline → corpus → score, higher is better) over the corpora
    every pipeline has a score on, with the Friedman test and the post-hoc tests where the corpora allow."""
    pipelines = list(scores)
    if not pipelines:
        raise ValueError("no pipelines to rank")
    every = corpora if corpora is not None else sorted({c for s in scores.values() for c in s})
    blocks = [c for c in every if all(c in scores[p] and scores[p][c] is not None for p in pipelines)]
    left_out = [c for c in every if c not in blocks]
    if not blocks:
        raise ValueError("no corpus has a score for every pipeline: nothing to rank")
    X = np.array([[float(scores[p][c]) for c in blocks] for p in pipelines])
    R = block_ranks(X)
    avg = R.mean(axis=1)
    best_i = int(np.argmin(avg))  # ties: the first listed
    k, n = len(pipelines), len(blocks)
    base = {
        "pipelines": pipelines,
        "blocks": blocks,
        "scores": X.tolist(),
        "ranks": R.tolist(),
        "average_ranks": avg.tolist(),
        "best": pipelines[best_i],
        "alpha": alpha,
        "left_out": left_out,
    }
    reason = no_test_reason(k, n, alpha)
    if reason is not None:
        return RankTest(**base, reason=reason)
    import scikit_posthocs as sp
    from scipy.stats import friedmanchisquare, norm

    if np.all(R == R[0:1, :]):
        stat, p = 0.0, 1.0  # every pipeline tied on every corpus: scipy would divide by zero
    else:
        stat, p = friedmanchisquare(*X)
    nemenyi = sp.posthoc_nemenyi_friedman(X.T).to_numpy().tolist()
    se = math.sqrt(k * (k + 1) / (6 * n))
    others = [i for i in range(k) if i != best_i]
    z = [(avg[i] - avg[best_i]) / se for i in others]
    p_raw = [float(2 * norm.sf(abs(v))) for v in z]
    p_adj = holm(p_raw)
    versus = [
        VersusBest(pipelines[i], float(avg[i] - avg[best_i]), float(zi), pi, pa, pa >= alpha)
        for i, zi, pi, pa in zip(others, z, p_raw, p_adj)
    ]
    return RankTest(
        **base,
        friedman_statistic=float(stat),
        friedman_p=float(p),
        critical_difference=critical_difference(k, n, alpha),
        nemenyi_p=nemenyi,
        versus_best=versus,
    )
