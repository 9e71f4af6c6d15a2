"""Every statistic emoframe reports, against a computation that shares none of its code.

Pooled UAR, WA, macro-F1, weighted-F1, recall and the confusion matrix against scikit-learn; the
bootstrap CI against ``scipy.stats.bootstrap`` (percentile method, the same resample stream, so the
bounds agree to 1e-12 — a 50% interval, or any other level, misses by orders of magnitude); the paired
fusion gain and ``compare``'s difference against the plain numpy paired bootstrap of
tests/stats_reference.py; fold mean ± std, gap, n and coverage against counts written out by hand.
"""

from __future__ import annotations

import statistics
import warnings

import numpy as np
import pytest
from scipy import stats as scipy_stats
from sklearn import metrics as skm

from emoframe.errors import DataError
from emoframe.evaluation.metrics import all_metrics, balanced_accuracy, confusion, f1_scores
from emoframe.evaluation.records import FoldResult
from emoframe.evaluation.stats import bootstrap_ci, mean_std, paired_difference, paired_gain
from emoframe.evaluation.summary import robustness_summary, summarise
from emoframe.results.leaderboard import coverage_text, leaderboard
from emoframe.results.store import ResultsStore
from emoframe.spec import parse_spec

from . import stats_reference as ref

CLASSES = ["angry", "happy", "neutral", "sad"]
K = len(CLASSES)
TIGHT = 1e-12  # float noise only: the bounds of a 50% or 90% interval sit more than 1e-3 away


def draw(seed: int, n: int, accuracy: float = 0.6, weights=(0.4, 0.3, 0.2, 0.1)) -> tuple[np.ndarray, np.ndarray]:
    """Truth with unequal class shares and predictions right with probability ``accuracy`` (coded)."""
    rng = np.random.default_rng(seed)
    t = rng.choice(K, n, p=list(weights))
    return t, np.where(rng.random(n) < accuracy, t, rng.integers(0, K, n))


def predict(t: np.ndarray, accuracy: float, seed: int) -> np.ndarray:
    """Predictions of the same truth, right with probability ``accuracy``."""
    rng = np.random.default_rng(seed)
    return np.where(rng.random(len(t)) < accuracy, t, rng.integers(0, K, len(t)))


def names(coded: np.ndarray) -> list[str]:
    return [CLASSES[i] for i in coded]


# -- point metrics against scikit-learn ----------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    ["random", "class never predicted", "class predicted but never true", "class in neither", "one class true"],
)
def test_every_metric_matches_scikit_learn(case):
    t, p = draw(3, 150)
    if case == "class never predicted":
        p = np.where(p == 2, 1, p)
    elif case == "class predicted but never true":
        t = np.where(t == 3, 0, t)
    elif case == "class in neither":
        t, p = np.where(t == 3, 0, t), np.where(p == 3, 0, p)
    elif case == "one class true":
        t = np.zeros_like(t)
    y, yhat = names(t), names(p)
    m = all_metrics(y, yhat, CLASSES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn warns about classes absent from the truth
        assert m["uar"] == pytest.approx(skm.balanced_accuracy_score(y, yhat), abs=TIGHT)
        assert m["wa"] == pytest.approx(skm.accuracy_score(y, yhat), abs=TIGHT)
        assert m["macro_f1"] == pytest.approx(skm.f1_score(y, yhat, average="macro", zero_division=0), abs=TIGHT)
        assert m["weighted_f1"] == pytest.approx(skm.f1_score(y, yhat, average="weighted", zero_division=0), abs=TIGHT)
        recall = skm.recall_score(y, yhat, average=None, labels=CLASSES, zero_division=np.nan)
    assert [np.nan if m["recall"][c] is None else m["recall"][c] for c in CLASSES] == pytest.approx(
        recall.tolist(), nan_ok=True
    )
    assert m["confusion"] == skm.confusion_matrix(y, yhat, labels=CLASSES).tolist()
    assert m["uar"] == pytest.approx(float(ref.uar(t, p, K)), abs=TIGHT)


def test_metrics_of_no_rows_are_unknown_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0/0 is computed on the way
        m = all_metrics([], [], CLASSES)
    assert all(np.isnan(m[k]) for k in ("uar", "wa", "macro_f1", "weighted_f1"))
    assert m["recall"] == dict.fromkeys(CLASSES) and m["confusion"] == [[0] * K] * K


def test_a_class_with_one_true_row_weighs_one_row():
    y = ["angry", "angry", "happy", "happy", "sad"]
    yhat = ["angry", "happy", "happy", "happy", "sad"]
    m = all_metrics(y, yhat, CLASSES)
    assert m["weighted_f1"] == pytest.approx(skm.f1_score(y, yhat, average="weighted"), abs=TIGHT)
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y, yhat, average="macro"), abs=TIGHT)
    f1 = f1_scores(confusion(y, yhat, CLASSES))
    assert np.isnan(f1[2]) and f1[[0, 1, 3]] == pytest.approx([2 / 3, 4 / 5, 1.0])  # neutral: in neither


def test_a_class_without_true_rows_has_no_recall_and_a_class_seen_once_counts():
    """Recall of a class absent from the truth is None (not 0, not NaN); a class on one row only, predicted
    wrongly, still enters macro-F1 with F1 = 0 (as in scikit-learn)."""
    y = ["angry"] * 3 + ["happy"] * 3 + ["sad"]
    yhat = ["angry", "angry", "happy", "happy", "happy", "angry", "happy"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = all_metrics(y, yhat, CLASSES)
    assert m["recall"] == {"angry": pytest.approx(2 / 3), "happy": pytest.approx(2 / 3), "neutral": None, "sad": 0.0}
    f1 = {"angry": 2 * 2 / (2 * 2 + 1 + 1), "happy": 2 * 2 / (2 * 2 + 2 + 1), "sad": 0.0}  # 2·TP / (2·TP + FP + FN)
    assert m["macro_f1"] == pytest.approx(sum(f1.values()) / 3, abs=TIGHT)
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y, yhat, average="macro"), abs=TIGHT)
    assert m["weighted_f1"] == pytest.approx((3 * f1["angry"] + 3 * f1["happy"]) / 7, abs=TIGHT)


@pytest.mark.parametrize("kind", ["strings", "integer codes", "predicted class never true"])
def test_balanced_accuracy_matches_scikit_learn(kind):
    """The torch and transformers plugins select their epochs with it (on integer codes)."""
    t, p = draw(11, 90)
    if kind == "strings":
        y, yhat = np.array(names(t)), np.array(names(p))
    elif kind == "integer codes":
        y, yhat = t, p
    else:
        y, yhat = np.where(t == 3, 0, t), p
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = skm.balanced_accuracy_score(y, yhat)
    assert balanced_accuracy(y, yhat) == pytest.approx(expected, abs=TIGHT)
    assert balanced_accuracy(y, y) == 1.0


def test_a_label_outside_the_classes_is_an_error_not_a_dropped_row():
    """A prediction outside ``classes`` used to leave its row out of the confusion matrix (UAR 1.0 where
    scikit-learn says 0.75): now it is refused, naming the label, here and in the bootstrap."""
    y, yhat = ["a", "a", "b", "b"], ["a", "x", "b", "b"]
    for call in (
        lambda: confusion(y, yhat, ["a", "b"]),
        lambda: bootstrap_ci(y, yhat, ["a", "b"], n=10),
        lambda: paired_difference(y, yhat, y, ["a", "b"], n=10),
    ):
        with pytest.raises(DataError, match="predictions: label\\(s\\) x not among the classes a, b"):
            call()
    with pytest.raises(DataError, match="true labels: label\\(s\\) z"):
        confusion(["z"], ["a"], ["a", "b"])
    many = [f"u{i}" for i in range(7)]
    with pytest.raises(DataError) as e:
        confusion(["a"] * 7, many, ["a", "b"])
    assert str(e.value) == (
        "predictions: label(s) u0, u1, u2, u3, u4 not among the classes a, b; every true and predicted label "
        "must be one of the run's classes"
    )


# -- the bootstrap interval against scipy ------------------------------------------------------------------


def scipy_percentile_interval(t, p, resamples, seed, level):
    result = scipy_stats.bootstrap(
        (t, p),
        lambda tt, pp, axis=-1: ref.uar(tt, pp, K),
        paired=True,
        vectorized=True,
        n_resamples=resamples,
        confidence_level=level,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    return result.confidence_interval.low, result.confidence_interval.high, result.standard_error


@pytest.mark.parametrize(
    "seed, rows, resamples, level",
    [(0, 300, 1000, 0.95), (5, 120, 1000, 0.95), (9, 300, 500, 0.9), (2, 3000, 1000, 0.95)],  # 3000: two chunks
)
def test_bootstrap_ci_is_scipys_percentile_interval(seed, rows, resamples, level):
    t, p = draw(seed + 100, rows)
    lo, hi = bootstrap_ci(names(t), names(p), CLASSES, n=resamples, seed=seed, level=level)
    s_lo, s_hi, se = scipy_percentile_interval(t, p, resamples, seed, level)
    assert (lo, hi) == pytest.approx((s_lo, s_hi), abs=TIGHT)
    # the same interval by the textbook: quantiles of the resampled UARs
    idx = ref.resample_indices(rows, resamples, seed)
    assert (lo, hi) == pytest.approx(ref.percentile_interval(ref.uar(t[idx], p[idx], K), level), abs=TIGHT)
    # and its width is that of a 95% (90%) normal interval of the bootstrap's own spread, not of a 50% one
    z = scipy_stats.norm.ppf((1 + level) / 2)
    assert 0.85 < (hi - lo) / (2 * z * se) < 1.15
    half_lo, half_hi, _ = scipy_percentile_interval(t, p, resamples, seed, 0.5)
    assert (hi - lo) / (half_hi - half_lo) > 2


def test_bootstrap_ci_of_nothing_is_unknown_and_of_one_resample_is_that_resample():
    assert all(np.isnan(bootstrap_ci([], [], CLASSES)))
    assert all(np.isnan(bootstrap_ci(["sad"], ["sad"], CLASSES, n=0)))
    t, p = draw(4, 50)
    (idx,) = ref.resample_indices(50, 1, 6)
    one = float(ref.uar(t[idx], p[idx], K))
    assert bootstrap_ci(names(t), names(p), CLASSES, n=1, seed=6) == pytest.approx((one, one), abs=TIGHT)


def test_drawing_the_resamples_in_chunks_changes_no_draw():
    """Chunks bound the memory (stats.CHUNK_BYTES); the indices are those of one (resamples × rows) draw."""
    from emoframe.evaluation.stats import _resample_chunks

    whole = ref.resample_indices(37, 100, 5)
    for chunk_bytes in (1, 8 * 37 * 3, 8 * 37 * 100, 1 << 30):
        np.testing.assert_array_equal(np.concatenate(list(_resample_chunks(5, 100, 37, chunk_bytes))), whole)


# -- paired difference and fusion gain against a plain paired bootstrap ------------------------------------


@pytest.mark.parametrize("seed, rows, level", [(0, 200, 0.95), (4, 400, 0.95), (8, 150, 0.9), (1, 3000, 0.95)])
def test_paired_difference_matches_a_plain_paired_bootstrap(seed, rows, level):
    t, b = draw(seed, rows, accuracy=0.55)
    a = predict(t, 0.7, seed + 50)
    a = np.where(np.random.default_rng(seed).random(rows) < 0.5, b, a)  # correlated, as two pipelines are
    d = paired_difference(names(t), names(a), names(b), CLASSES, n=1000, seed=seed, level=level)
    diff, (lo, hi) = ref.paired_bootstrap(t, a, b, K, 1000, seed, level)
    assert d["diff"] == pytest.approx(diff, abs=TIGHT)
    assert d["ci"] == pytest.approx([lo, hi], abs=TIGHT)
    assert d["uar_a"] == pytest.approx(skm.balanced_accuracy_score(t, a), abs=TIGHT)
    assert d["uar_b"] == pytest.approx(skm.balanced_accuracy_score(t, b), abs=TIGHT)
    assert d["n"] == rows
    # unpaired intervals (each pipeline resampled on its own draw) would be another interval altogether
    ia, ib = ref.resample_indices(rows, 1000, seed), ref.resample_indices(rows, 1000, seed + 1)
    unpaired = ref.percentile_interval(ref.uar(t[ia], a[ia], K) - ref.uar(t[ib], b[ib], K), level)
    assert abs(unpaired[0] - lo) > 1e-3


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paired_gain_matches_a_plain_paired_bootstrap_against_the_best_part(seed):
    t, audio = draw(seed, 240, accuracy=0.45)
    text, noise = predict(t, 0.7, seed + 1), predict(t, 0.3, seed + 2)
    fused = np.where(np.random.default_rng(seed + 3).random(240) < 0.6, text, predict(t, 0.8, seed + 4))
    parts = {"audio": audio, "text": text, "noise": noise}
    g = paired_gain(names(t), names(fused), {k: names(v) for k, v in parts.items()}, CLASSES, n=1000, seed=seed)
    part_uar = {k: skm.balanced_accuracy_score(t, v) for k, v in parts.items()}
    best = max(part_uar, key=part_uar.__getitem__)
    gain, (lo, hi) = ref.paired_bootstrap(t, fused, parts[best], K, 1000, seed)
    assert g["best_part"] == best == "text"
    assert g["part_uar"] == pytest.approx(part_uar, abs=TIGHT)
    assert g["fused_uar"] == pytest.approx(skm.balanced_accuracy_score(t, fused), abs=TIGHT)
    assert g["gain"] == pytest.approx(gain, abs=TIGHT) and g["ci"] == pytest.approx([lo, hi], abs=TIGHT)
    assert (g["helped"], g["hurt"]) == (ref.rule(lo, hi) == "helped", ref.rule(lo, hi) == "hurt")


# -- fold figures, n and coverage against hand counts ------------------------------------------------------

#: three folds of a two-class run, small enough to count by hand (see the comments)
HAND = [
    # truth, predictions, train UAR stored by the runner
    (["a", "a", "b", "b"], ["a", "b", "b", "b"], 0.9),  # recall a 1/2, b 2/2 → UAR 3/4; 3 of 4 right
    (["a", "a", "a", "b"], ["a", "a", "b", "a"], 0.8),  # recall a 2/3, b 0/1 → UAR 1/3; 2 of 4 right
    (["a", "b"], ["a", "b"], 1.0),  # UAR 1; 2 of 2 right
]
FOLD_UARS = [3 / 4, 1 / 3, 1.0]
POOLED_UAR = (4 / 6 + 3 / 4) / 2  # a: 1 + 2 + 1 of 2 + 3 + 1 true; b: 2 + 0 + 1 of 2 + 1 + 1 true
POOLED_WA = 7 / 10


def hand_folds(stored_test_uar: float | None = None) -> list[FoldResult]:
    return [
        FoldResult(
            fold=f,
            test_ids=[f"f{f}r{i}" for i in range(len(t))],
            y_true=t,
            y_pred=p,
            proba=[[0.5, 0.5]] * len(t),
            train_uar=train,
            test_uar=FOLD_UARS[f - 1] if stored_test_uar is None else stored_test_uar,
            fit_s=1.0,
            predict_s=0.5,
        )
        for f, (t, p, train) in enumerate(HAND, start=1)
    ]


SPEC = parse_spec(
    {
        "data": {"corpus": "demo"},
        "evaluation": {"bootstrap": 400, "seed": 3},
        "branches": {"text": {"extractor": "toy.words", "model": "toy.centroid"}},
    }
)


def test_fold_mean_std_gap_and_pooled_figures_are_the_hand_counts():
    r = summarise(SPEC, hand_folds(), ["a", "b"])
    assert r.metrics["uar"] == pytest.approx(POOLED_UAR, abs=TIGHT)
    assert r.metrics["wa"] == pytest.approx(POOLED_WA, abs=TIGHT)
    assert r.metrics["confusion"] == [[4, 2], [1, 3]]
    assert r.uar_mean == pytest.approx(statistics.mean(FOLD_UARS), abs=TIGHT)
    assert r.uar_std == pytest.approx(statistics.stdev(FOLD_UARS), abs=TIGHT)  # sample std (n − 1)
    gaps = [0.9 - 3 / 4, 0.8 - 1 / 3, 1.0 - 1.0]
    assert (r.gap_mean, r.gap_std) == pytest.approx((statistics.mean(gaps), statistics.stdev(gaps)), abs=TIGHT)
    assert (r.fit_s, r.predict_s) == (3.0, 1.5)
    t = ref.codes([v for tt, _, _ in HAND for v in tt], ["a", "b"])
    p = ref.codes([v for _, pp, _ in HAND for v in pp], ["a", "b"])
    idx = ref.resample_indices(len(t), 400, 3)
    assert r.uar_ci == pytest.approx(ref.percentile_interval(ref.uar(t[idx], p[idx], 2)), abs=TIGHT)


def test_the_fold_mean_comes_from_each_folds_predictions_not_a_stored_number():
    r = summarise(SPEC, hand_folds(stored_test_uar=0.0), ["a", "b"])
    assert r.uar_mean == pytest.approx(statistics.mean(FOLD_UARS), abs=TIGHT)


def test_mean_std_leaves_out_missing_folds():
    assert mean_std([0.5, None, float("nan"), 0.7]) == pytest.approx((0.6, statistics.stdev([0.5, 0.7])))
    assert mean_std([0.4]) == (0.4, 0.0)
    assert all(np.isnan(mean_std([])))


def test_n_and_coverage_on_the_leaderboard_are_the_hand_counts(tmp_path):
    """10 rows evaluated of 12 the protocol would evaluate (2 left out): n 10, coverage 10/12."""
    store = ResultsStore(tmp_path / "results.db")
    store.begin_run("hand", "hand", SPEC.to_dict(), [("p1", "by hand", SPEC.to_dict(), False)])
    store.set_plan("hand", ["a", "b"], [], [], n_folds=3, n_rows=12)
    for fr in hand_folds():
        store.save_fold("hand", [("p1", fr)], [])
    (row,) = leaderboard(store, "hand")
    store.close()
    assert row.n == 10 and row.coverage == pytest.approx(10 / 12, abs=TIGHT)
    assert row.folds == "3/3" and row.status == "done" and row.rank == 1
    assert row.uar == pytest.approx(POOLED_UAR, abs=TIGHT) and row.wa == pytest.approx(POOLED_WA, abs=TIGHT)
    assert row.uar_fold_mean == pytest.approx(statistics.mean(FOLD_UARS), abs=TIGHT)
    assert row.uar_fold_std == pytest.approx(statistics.stdev(FOLD_UARS), abs=TIGHT)
    assert coverage_text(row) == "10 (83%)"
    assert row.macro_f1 == pytest.approx(
        skm.f1_score([v for t, _, _ in HAND for v in t], [v for _, p, _ in HAND for v in p], average="macro"),
        abs=TIGHT,
    )


def test_robustness_is_the_change_of_uar_on_the_same_rows():
    folds = hand_folds()
    # fold 1 under noise: every row predicted 'a' (recall a 2/2, b 0/2 → UAR 1/2; clean on those rows: 3/4)
    folds[0].robustness = {"noise": {"ids": folds[0].test_ids, "y_pred": ["a"] * 4}}
    out = robustness_summary(folds, ["a", "b"])
    assert out == {"noise": pytest.approx({"uar": 1 / 2, "clean_uar": 3 / 4, "delta": 1 / 2 - 3 / 4, "rows": 4})}


def test_the_defaults_are_1000_resamples_seed_0_and_95_percent():
    t, p = draw(21, 120)
    q = predict(t, 0.5, 22)
    idx = ref.resample_indices(120, 1000, 0)
    assert bootstrap_ci(names(t), names(p), CLASSES) == pytest.approx(
        ref.percentile_interval(ref.uar(t[idx], p[idx], K), 0.95), abs=TIGHT
    )
    d = paired_difference(names(t), names(p), names(q), CLASSES)
    assert d["ci"] == pytest.approx(list(ref.paired_bootstrap(t, p, q, K, 1000, 0, 0.95)[1]), abs=TIGHT)
    g = paired_gain(names(t), names(p), {"a": names(q)}, CLASSES)
    assert g["ci"] == d["ci"]


def test_the_gain_passes_its_resamples_seed_and_level_on():
    t, part = draw(31, 150)
    fused = predict(t, 0.8, 32)
    g = paired_gain(names(t), names(fused), {"a": names(part)}, CLASSES, n=300, seed=9, level=0.8)
    assert g["ci"] == pytest.approx(list(ref.paired_bootstrap(t, fused, part, K, 300, 9, 0.8)[1]), abs=TIGHT)


def test_a_class_without_rows_changes_no_statistic():
    """The run's class list may hold a class no row has (the last one here): every figure is unchanged."""
    t, p = draw(41, 100)
    q = predict(t, 0.5, 42)
    more = CLASSES + ["zz-unused"]
    y, yp, yq = names(t), names(p), names(q)
    assert bootstrap_ci(y, yp, more, n=200) == bootstrap_ci(y, yp, CLASSES, n=200)
    assert paired_difference(y, yp, yq, more, n=200) == paired_difference(y, yp, yq, CLASSES, n=200)
    assert paired_gain(y, yp, {"q": yq}, more, n=200) == paired_gain(y, yp, {"q": yq}, CLASSES, n=200)


def test_one_row_has_a_degenerate_interval_not_an_unknown_one():
    assert bootstrap_ci(["sad"], ["sad"], CLASSES) == (1.0, 1.0)
    d = paired_difference(["sad"], ["sad"], ["angry"], CLASSES)
    assert (d["diff"], d["ci"], d["n"]) == (1.0, [1.0, 1.0], 1)


def test_a_paired_difference_without_resamples_or_rows_has_an_unknown_interval():
    t, p = draw(51, 30)
    q = predict(t, 0.5, 52)
    d = paired_difference(names(t), names(p), names(q), CLASSES, n=0)
    assert np.isnan(d["ci"]).all() and d["diff"] == pytest.approx(float(ref.uar(t, p, K) - ref.uar(t, q, K)))
    none = paired_difference([], [], [], CLASSES)
    assert np.isnan(none["ci"]).all() and none["n"] == 0
    (idx,) = ref.resample_indices(30, 1, 4)
    one = float(ref.uar(t[idx], p[idx], K) - ref.uar(t[idx], q[idx], K))
    assert paired_difference(names(t), names(p), names(q), CLASSES, n=1, seed=4)["ci"] == pytest.approx([one, one])
    with pytest.raises(DataError, match="^true labels: label\\(s\\) zz not among the classes"):
        bootstrap_ci(["zz"], ["sad"], CLASSES)


def fused_fold(fold: int, n: int = 40, seed: int = 0) -> FoldResult:
    t, audio = draw(seed, n, accuracy=0.5)
    text, fused = predict(t, 0.6, seed + 1), predict(t, 0.8, seed + 2)
    return FoldResult(
        fold=fold,
        test_ids=[f"f{fold}r{i}" for i in range(n)],
        y_true=names(t),
        y_pred=names(fused),
        proba=[[0.25] * K] * n,
        train_uar=0.9,
        test_uar=0.0,
        fit_s=1.0,
        predict_s=0.5,
        parts={"text": names(text), "audio": names(audio)},
        overlap=[fold, 10],
    )


FUSED_SPEC = parse_spec(
    {
        "name": "fused by hand",
        "data": {"corpus": "demo"},
        "evaluation": {"protocol": "loso", "bootstrap": 300, "seed": 5},
        "branches": {
            "audio": {"extractor": "toy.energy", "model": "toy.centroid"},
            "text": {"extractor": "toy.words", "model": "toy.centroid"},
        },
        "fusion": "fusion.late",
    }
)


def test_one_fused_fold_is_summarised_like_many():
    (fold,) = folds = [fused_fold(1)]
    r = summarise(FUSED_SPEC, folds, CLASSES)
    t, fused, audio, text = (
        ref.codes(v, CLASSES) for v in (fold.y_true, fold.y_pred, fold.parts["audio"], fold.parts["text"])
    )
    best = "text" if ref.uar(t, text, K) > ref.uar(t, audio, K) else "audio"
    gain, (lo, hi) = ref.paired_bootstrap(t, fused, text if best == "text" else audio, K, 300, 5)
    assert r.fusion_gain["best_part"] == best and r.fusion_gain["ci"] == pytest.approx([lo, hi], abs=TIGHT)
    assert r.verdict == ref.fusion_sentence(gain, lo, hi, best)
    assert r.uar_mean == r.metrics["uar"] and r.uar_std == 0.0
    idx = ref.resample_indices(40, 300, 5)
    assert r.uar_ci == pytest.approx(ref.percentile_interval(ref.uar(t[idx], fused[idx], K)), abs=TIGHT)


def test_the_result_carries_what_it_was_given_and_the_overlap_warning():
    folds = [fused_fold(1, seed=0), fused_fold(2, seed=10)]  # 1 + 2 of 20 test transcripts seen in training
    given = ["a warning from the plan"]
    failures = [{"id": "x", "component": "c", "reason": "r"}]
    r = summarise(FUSED_SPEC, folds, CLASSES, given, failures)
    assert (r.pipeline, r.protocol, r.classes, r.spec) == (
        FUSED_SPEC.display_name,
        "loso",
        CLASSES,
        FUSED_SPEC.to_dict(),
    )
    assert r.warnings[0] == "a warning from the plan" and r.warnings[1].startswith("transcript overlap: 3 of 20 ")
    assert len(r.warnings) == 2 and given == ["a warning from the plan"]  # the caller's list is not changed
    assert r.failures == failures and r.failures is not failures
    assert [f.fold for f in r.folds] == [1, 2] and r.fit_s == 2.0 and r.predict_s == 1.0
    unimodal = summarise(SPEC, hand_folds(), ["a", "b"])
    assert unimodal.fusion_gain is None and unimodal.verdict is None and unimodal.warnings == []
    assert unimodal.failures == [] and unimodal.robustness == {}


def test_no_folds_yet_is_a_result_of_unknowns():
    r = summarise(FUSED_SPEC, [], CLASSES)
    assert np.isnan(r.metrics["uar"]) and np.isnan(r.uar_mean) and all(np.isnan(r.uar_ci))
    assert r.fusion_gain is None and r.verdict is None and r.folds == []


def test_robustness_skips_a_condition_without_rows_and_goes_on():
    folds = hand_folds()
    folds[0].robustness = {
        "a-empty": {"ids": [], "y_pred": []},
        "b-noise": {"ids": folds[0].test_ids, "y_pred": ["a"] * 4},
    }
    assert list(robustness_summary(folds, ["a", "b"])) == ["b-noise"]
    assert summarise(SPEC, folds, ["a", "b"]).robustness == robustness_summary(folds, ["a", "b"])
