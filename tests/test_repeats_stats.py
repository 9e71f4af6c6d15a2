"""Figures over repeats of a protocol against an independent computation (tests/stats_reference.py)."""

from __future__ import annotations

import numpy as np
import pytest

from emoframe.evaluation.cost import pareto_front
from emoframe.evaluation.repeats import derive_seed
from emoframe.evaluation.stats import (
    bootstrap_ci,
    paired_difference,
    repeated_bootstrap_ci,
    repeated_paired_difference,
    repeated_paired_gain,
    repeated_uar,
)
from emoframe.spec.repeats import fold_partitions

from . import stats_reference as ref

CLASSES = ["angry", "happy", "neutral", "sad"]
K = len(CLASSES)
TIGHT = 1e-12


def draw(seed: int, n: int, accuracy: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = rng.choice(K, size=n, p=[0.4, 0.3, 0.2, 0.1])
    p = np.where(rng.random(n) < accuracy, t, rng.integers(0, K, size=n))
    return t, p


def names(coded: np.ndarray) -> list[str]:
    return [CLASSES[i] for i in coded]


@pytest.mark.parametrize("seed, rows, repeats, level", [(0, 200, 3, 0.95), (3, 120, 2, 0.9), (7, 2500, 4, 0.95)])
def test_the_repeated_paired_bootstrap_is_the_reference(seed, rows, repeats, level):
    t, _ = draw(seed, rows, 0.0)
    a = [draw(seed, rows, 0.65)[1] if r == 0 else np.where(np.random.default_rng(seed + r).random(rows) < 0.6, t, 0)
         for r in range(repeats)]  # fmt: skip
    b = [np.where(np.random.default_rng(seed + 50 + r).random(rows) < 0.5, t, 1) for r in range(repeats)]
    d = repeated_paired_difference(names(t), [names(p) for p in a], [names(p) for p in b], CLASSES, 1000, seed, level)
    diff, (lo, hi) = ref.repeated_paired_bootstrap(t, a, b, K, 1000, seed, level)
    assert d["diff"] == pytest.approx(diff, abs=TIGHT)
    assert d["ci"] == pytest.approx([lo, hi], abs=TIGHT)
    assert d["uar_a"] == pytest.approx(ref.repeated_uar(t, a, K), abs=TIGHT)
    assert d["uar_a_repeats"] == pytest.approx([float(ref.uar(t, p, K)) for p in a], abs=TIGHT)
    # the UAR's own interval: the same resamples, B left out
    ci = repeated_bootstrap_ci(names(t), [names(p) for p in a], CLASSES, 1000, seed, level)
    assert ci == pytest.approx(ref.repeated_paired_bootstrap(t, a, [], K, 1000, seed, level)[1], abs=TIGHT)
    assert repeated_uar(names(t), [names(p) for p in a], CLASSES) == pytest.approx(ref.repeated_uar(t, a, K))


def test_one_repeat_is_todays_statistic_exactly():
    t, a = draw(1, 300, 0.7)
    _, b = draw(2, 300, 0.5)
    one = repeated_paired_difference(names(t), [names(a)], [names(b)], CLASSES, 500, 4)
    today = paired_difference(names(t), names(a), names(b), CLASSES, 500, 4)
    assert one["diff"] == today["diff"] and one["ci"] == today["ci"]
    assert repeated_bootstrap_ci(names(t), [names(a)], CLASSES, 500, 4) == bootstrap_ci(
        names(t), names(a), CLASSES, 500, 4
    )


def test_more_repeats_narrow_the_interval_of_a_noisy_model():
    """Averaging repeats removes seed noise from the statistic: the interval of the mean is narrower."""
    t, _ = draw(5, 400, 0.0)
    noisy = [np.where(np.random.default_rng(r).random(400) < 0.55, t, np.random.default_rng(r + 9).integers(0, K, 400))
             for r in range(8)]  # fmt: skip
    one = repeated_bootstrap_ci(names(t), [names(noisy[0])], CLASSES, 1000, 0)
    eight = repeated_bootstrap_ci(names(t), [names(p) for p in noisy], CLASSES, 1000, 0)
    assert eight[1] - eight[0] < one[1] - one[0]


def test_the_gain_over_repeats_picks_the_best_part_by_its_mean():
    t, _ = draw(8, 200, 0.0)
    fused = [np.where(np.random.default_rng(r).random(200) < 0.8, t, 0) for r in range(3)]
    weak = [np.where(np.random.default_rng(10 + r).random(200) < 0.3, t, 0) for r in range(3)]
    strong = [np.where(np.random.default_rng(20 + r).random(200) < 0.6, t, 0) for r in range(3)]
    g = repeated_paired_gain(
        names(t), [names(p) for p in fused], {"audio": [names(p) for p in weak], "text": [names(p) for p in strong]},
        CLASSES, 500, 1,
    )  # fmt: skip
    assert g["best_part"] == "text" and g["repeats"] == 3
    assert g["gain"] == pytest.approx(ref.repeated_uar(t, fused, K) - ref.repeated_uar(t, strong, K))


def test_repeats_must_predict_the_same_rows():
    with pytest.raises(ValueError, match="same rows"):
        repeated_bootstrap_ci(["sad", "happy"], [["sad"]], CLASSES)


def test_fold_partitions_count_what_listing_them_counts():
    for n in range(1, 7):
        for k in range(1, n + 1):
            assert fold_partitions(n, k) == ref.set_partitions(n, k), (n, k)
    assert fold_partitions(3, 5) == 0


def test_derived_seeds_keep_repeat_zero_and_differ_between_repeats():
    assert derive_seed(7, 0) == 7
    seeds = [derive_seed(7, r) for r in range(1, 50)]
    assert len(set(seeds)) == 49 and all(0 <= s < 2**32 for s in seeds)
    assert derive_seed(7, 3) == derive_seed(7, 3) != derive_seed(8, 3)


def test_the_front_is_what_no_other_point_beats_on_both():
    points = [(0.7, 10.0), (0.6, 1.0), (0.65, 20.0), (0.7, 12.0), (None, 0.1), (0.5, 1.0)]
    assert pareto_front(points) == [True, True, False, False, False, False]
    assert pareto_front([(0.5, 1.0), (0.5, 1.0)]) == [True, True]  # ties beat nobody


def test_a_repeat_draws_its_own_speaker_folds_where_stratified_group_kfold_would_not():
    """Speakers with different class mixes (any real corpus): scikit-learn's StratifiedGroupKFold sorts them
    by that and gives the same folds for every seed; a repeat's folds take them in a seeded random order."""
    from sklearn.model_selection import StratifiedGroupKFold

    from emoframe.evaluation.splits import outer_folds

    rng = np.random.default_rng(0)
    speakers = np.repeat(np.arange(10), 40)
    labels = np.concatenate([rng.choice(4, 40, p=rng.dirichlet(np.ones(4))) for _ in range(10)])

    def cut(folds):
        return frozenset(frozenset(speakers[te].tolist()) for _, te in folds)

    sklearn_cuts = {
        cut(StratifiedGroupKFold(5, shuffle=True, random_state=s).split(labels, labels, speakers)) for s in range(8)
    }
    drawn = [list(outer_folds("speaker_kfold", labels, speakers, None, 5, s, random_order=True)) for s in range(8)]
    assert len(sklearn_cuts) == 1 and len({cut(f) for f in drawn}) >= 6
    for folds in drawn:  # every row tested once, no speaker on both sides, no empty fold
        tested = np.concatenate([te for _, te in folds])
        assert sorted(tested.tolist()) == list(range(400)) and all(len(te) for _, te in folds)
        assert all(not set(speakers[tr]) & set(speakers[te]) for tr, te in folds)
    assert cut(drawn[3]) == cut(  # the same seed, the same folds
        list(outer_folds("speaker_kfold", labels, speakers, None, 5, 3, random_order=True))
    )
