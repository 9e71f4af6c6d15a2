"""Ranks over corpora and their tests (evaluation.ranking) against a hand computation that shares none of
its code: the Friedman statistic from its textbook formula (Demšar 2006, eq. 3), Nemenyi's p-values from the
studentized range, the critical difference from Demšar's table, Holm by hand, and the "too few corpora" cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from emoframe.evaluation.ranking import critical_difference, holm, no_test_reason, rank_pipelines

# 5 pipelines over 6 corpora, no ties within a corpus (UAR)
SCORES = np.array(
    [
        [0.62, 0.71, 0.55, 0.48, 0.66, 0.59],
        [0.60, 0.69, 0.57, 0.45, 0.61, 0.58],
        [0.51, 0.64, 0.50, 0.44, 0.60, 0.52],
        [0.47, 0.58, 0.41, 0.40, 0.52, 0.50],
        [0.58, 0.70, 0.49, 0.46, 0.63, 0.49],
    ]
)
NAMES = ["p1", "p2", "p3", "p4", "p5"]
CORPORA = ["c1", "c2", "c3", "c4", "c5", "c6"]


def as_dict(scores=SCORES, names=NAMES, corpora=CORPORA):
    return {p: dict(zip(corpora, row)) for p, row in zip(names, scores)}


def hand_ranks(scores):
    """Rank 1 = best within each corpus, by sorting (no ties in SCORES)."""
    k, n = scores.shape
    R = np.zeros_like(scores)
    for j in range(n):
        order = sorted(range(k), key=lambda i: -scores[i, j])
        for rank, i in enumerate(order, start=1):
            R[i, j] = rank
    return R


def test_average_ranks_and_friedman_match_the_textbook_formula():
    result = rank_pipelines(as_dict())
    k, n = SCORES.shape
    R = hand_ranks(SCORES)
    avg = R.mean(1)
    assert result.average_ranks == pytest.approx(avg.tolist())
    assert result.best == "p1" and result.blocks == CORPORA
    chi2 = 12 * n / (k * (k + 1)) * (np.sum(avg**2) - k * (k + 1) ** 2 / 4)
    assert result.friedman_statistic == pytest.approx(chi2)
    assert result.friedman_p == pytest.approx(stats.chi2.sf(chi2, k - 1))
    assert result.friedman_p < 0.05 and result.differ


def test_nemenyi_and_the_critical_difference_match_the_studentized_range():
    result = rank_pipelines(as_dict())
    k, n = SCORES.shape
    avg = hand_ranks(SCORES).mean(1)
    se = math.sqrt(k * (k + 1) / (6 * n))
    for i in range(k):
        for j in range(k):
            if i != j:
                q = abs(avg[i] - avg[j]) / se * math.sqrt(2)
                assert result.nemenyi_p[i][j] == pytest.approx(stats.studentized_range.sf(q, k, np.inf), abs=1e-6)
    assert critical_difference(4, 14) == pytest.approx(2.569 * math.sqrt(4 * 5 / (6 * 14)), rel=1e-3)  # Demšar, q0.05
    assert result.critical_difference == pytest.approx(2.728 * se, rel=1e-3)  # q0.05 for k = 5 (Demšar, table 5a)


def test_holm_against_the_best_by_hand():
    result = rank_pipelines(as_dict())
    k, n = SCORES.shape
    avg = hand_ranks(SCORES).mean(1)
    se = math.sqrt(k * (k + 1) / (6 * n))
    p = {NAMES[i]: 2 * (1 - stats.norm.cdf((avg[i] - avg[0]) / se)) for i in range(1, k)}
    ordered = sorted(p, key=p.get)  # Holm: the i-th smallest compared with α / (m − i)
    m, rejected, still = len(ordered), set(), True
    for i, name in enumerate(ordered):
        still = still and p[name] < 0.05 / (m - i)
        if still:
            rejected.add(name)
    got = {v.pipeline: v for v in result.versus_best}
    assert {name: got[name].p for name in p} == pytest.approx(p)
    assert {name for name, v in got.items() if not v.tied} == rejected
    assert result.tied_with_best == ["p1", *(name for name in NAMES[1:] if name not in rejected)]
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_scikit_posthocs_agrees_on_the_data_it_ranks():
    import scikit_posthocs as sp

    result = rank_pipelines(as_dict())
    reference = sp.posthoc_nemenyi_friedman(SCORES.T).to_numpy()
    assert np.allclose(result.nemenyi_p, reference)


def test_too_few_corpora_give_ranks_and_the_reason_never_a_p_value():
    two = rank_pipelines(as_dict(SCORES[:, :2], corpora=CORPORA[:2]))
    assert two.friedman_p is None and two.nemenyi_p is None and not two.tied_with_best
    assert "2 corpora" in (two.reason or "") and "no test claimed" in two.verdict()
    assert two.average_ranks == pytest.approx(hand_ranks(SCORES[:, :2]).mean(1).tolist())
    one = rank_pipelines(as_dict(SCORES[:, :1], corpora=CORPORA[:1]))
    assert one.friedman_p is None and "folds share speakers" in (one.reason or "")
    two_pipelines = rank_pipelines(as_dict(SCORES[:2], NAMES[:2]))
    assert two_pipelines.friedman_p is None and "2 pipeline(s)" in (two_pipelines.reason or "")
    # 3 corpora, 3 pipelines: possible (χ² max = 6, p = 0.0498); 3 corpora, 2… refused above; 4 corpora, 3: fine
    assert no_test_reason(3, 3) is None
    assert no_test_reason(3, 2) is not None


def test_corpora_missing_a_pipeline_are_left_out_and_said():
    scores = as_dict()
    del scores["p3"]["c6"]
    result = rank_pipelines(scores, corpora=CORPORA)
    assert result.blocks == CORPORA[:5] and result.left_out == ["c6"]


def test_tied_scores_share_their_average_rank_and_all_tied_is_no_difference():
    tied = {
        "a": {"x": 0.5, "y": 0.6, "z": 0.7},
        "b": {"x": 0.5, "y": 0.6, "z": 0.7},
        "c": {"x": 0.5, "y": 0.6, "z": 0.7},
    }
    result = rank_pipelines(tied)
    assert result.average_ranks == [2.0, 2.0, 2.0] and result.friedman_p == 1.0
    assert result.tied_with_best == ["a", "b", "c"] and "statistically tied with the best" in result.verdict()
