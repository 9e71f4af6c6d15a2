from __future__ import annotations

import numpy as np
import pytest

from emoframe.errors import ComponentError, ParamsError
from emoframe.fusion.early import ConcatFusion
from emoframe.fusion.late import WeightedAverageFusion


def test_early_fusion_balances_blocks_by_width():
    rng = np.random.default_rng(0)
    blocks = {"audio": rng.normal(size=(50, 400)), "text": rng.normal(size=(50, 4))}
    Z = ConcatFusion().fit(blocks).transform(blocks)
    assert Z.shape == (50, 404)
    var_audio, var_text = Z[:, :400].var(0).sum(), Z[:, 400:].var(0).sum()
    assert var_audio == pytest.approx(var_text, rel=1e-3)  # equal total variance per block


def test_early_fusion_statistics_come_from_fit_data_only():
    train = {"a": np.ones((10, 2)) * np.array([1.0, 2.0]) + np.arange(10)[:, None]}
    test = {"a": np.full((3, 2), 1000.0)}
    f = ConcatFusion(balance=False).fit(train)
    np.testing.assert_allclose(f.stats_["a"][0], train["a"].mean(0))
    assert f.transform(test).min() > 100  # not re-standardised on the test rows


def test_early_fusion_pca_and_errors():
    rng = np.random.default_rng(1)
    blocks = {"a": rng.normal(size=(30, 50)), "b": rng.normal(size=(30, 3))}
    f = ConcatFusion(reduce=5).fit(blocks)
    assert f.transform(blocks).shape == (30, 8)
    with pytest.raises(ComponentError, match="block 'a' has 49 dims, fitted on 50"):
        f.transform({"a": blocks["a"][:, :49], "b": blocks["b"]})
    with pytest.raises(ComponentError, match="missing feature block"):
        f.transform({"a": blocks["a"]})
    with pytest.raises(ParamsError, match="params.reduce"):
        ConcatFusion(reduce=0)


def test_late_fusion_equal_fixed_and_learned_weights():
    classes = np.array(["angry", "sad"])
    y = np.array(["angry", "sad"] * 20)
    good = np.where(y[:, None] == classes[None], 0.9, 0.1)
    noise = np.random.default_rng(0).dirichlet([1, 1], size=40)
    probas = {"audio": good, "text": noise}
    eq = WeightedAverageFusion().fit(probas, y, classes)
    assert eq.weights_ == {"audio": 0.5, "text": 0.5}
    np.testing.assert_allclose(eq.predict_proba(probas).sum(1), 1.0)
    fixed = WeightedAverageFusion(weights={"audio": 3, "text": 1}).fit(probas, y, classes)
    assert fixed.weights_ == {"audio": 0.75, "text": 0.25}
    learned = WeightedAverageFusion(weights="learned").fit(probas, y, classes)
    assert learned.weights_["audio"] > learned.weights_["text"]
    assert (learned.predict_proba(probas).argmax(1) == (y == "sad")).all()


def test_late_fusion_rejects_bad_input():
    y, classes = np.array([0, 1]), np.array([0, 1])
    P = np.array([[0.7, 0.3], [0.2, 0.8]])
    with pytest.raises(ComponentError, match="unknown branch"):
        WeightedAverageFusion(weights={"video": 1}).fit({"audio": P}, y, classes)
    with pytest.raises(ComponentError, match="NaN"):
        WeightedAverageFusion().fit({"audio": np.full((2, 2), np.nan)}, y, classes)
    with pytest.raises(ComponentError, match="before fit"):
        WeightedAverageFusion().predict_proba({"audio": P})
