from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from emoframe.evaluation.metrics import all_metrics, confusion
from emoframe.evaluation.stats import bootstrap_ci, mean_std, paired_gain, verdict

CLASSES = ["angry", "happy", "neutral", "sad"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_match_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    y_true = rng.choice(CLASSES, 200, p=[0.4, 0.3, 0.2, 0.1])
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.choice(CLASSES, 200))
    m = all_metrics(y_true, y_pred, CLASSES)
    assert m["uar"] == pytest.approx(skm.balanced_accuracy_score(y_true, y_pred))
    assert m["wa"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="macro"))
    assert m["weighted_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="weighted"))
    recall = skm.recall_score(y_true, y_pred, average=None, labels=CLASSES)
    assert [m["recall"][c] for c in CLASSES] == pytest.approx(recall.tolist())
    assert m["confusion"] == skm.confusion_matrix(y_true, y_pred, labels=CLASSES).tolist()


def test_known_small_case():
    cm = confusion(["a", "a", "b", "b"], ["a", "b", "b", "b"], ["a", "b"])
    assert cm.tolist() == [[1, 1], [0, 2]]
    m = all_metrics(["a", "a", "b", "b"], ["a", "b", "b", "b"], ["a", "b"])
    assert m["uar"] == pytest.approx(0.75) and m["wa"] == pytest.approx(0.75)


def test_bootstrap_ci_is_seeded_and_covers_the_estimate():
    rng = np.random.default_rng(0)
    y = rng.choice(CLASSES, 300)
    p = np.where(rng.random(300) < 0.7, y, rng.choice(CLASSES, 300))
    lo, hi = bootstrap_ci(y, p, CLASSES, n=300, seed=5)
    assert (lo, hi) == bootstrap_ci(y, p, CLASSES, n=300, seed=5)
    assert lo < skm.balanced_accuracy_score(y, p) < hi and hi - lo < 0.2


def test_paired_gain_says_helped_did_not_help_and_hurt():
    rng = np.random.default_rng(1)
    y = rng.choice(CLASSES, 400)
    weak = np.where(rng.random(400) < 0.5, y, rng.choice(CLASSES, 400))
    strong = np.where(rng.random(400) < 0.9, y, rng.choice(CLASSES, 400))
    helped = paired_gain(y, strong, {"audio": weak, "text": weak}, CLASSES, n=300)
    assert helped["helped"] and helped["gain"] > 0.2 and verdict(helped).startswith("fusion helped: +")
    same = paired_gain(y, weak, {"audio": weak, "text": strong}, CLASSES, n=300)
    assert same["hurt"] and same["best_part"] == "text" and verdict(same).startswith("fusion hurt")
    tie = paired_gain(y, strong, {"audio": strong, "text": weak}, CLASSES, n=300)
    assert tie["gain"] == 0 and not tie["helped"] and "did not help" in verdict(tie)


def test_mean_std():
    assert mean_std([0.5, 0.7]) == pytest.approx((0.6, np.std([0.5, 0.7], ddof=1)))
    assert mean_std([0.4]) == (0.4, 0.0)


def test_uar_of_a_stack_equals_uar_of_each_matrix():
    """The bootstrap scores resamples a chunk at a time (metrics.uar_each): the same values, bit for bit,
    as metrics.uar on each resample's confusion matrix, including a resample with one class present."""
    from emoframe.evaluation.metrics import uar, uar_each

    rng = np.random.default_rng(0)
    cms = rng.integers(0, 20, size=(50, 4, 4))
    cms[0, 1:] = 0  # only the first class has true rows
    cms[1] = 0  # no rows at all
    each = uar_each(cms)
    assert np.isnan(each[1]) and np.isnan(uar(cms[1]))
    np.testing.assert_array_equal(each, [uar(cm) for cm in cms])
