"""Protocols end to end: cross_corpus between two corpora, predefined on MELD's real splits (text-only)."""

from __future__ import annotations

import pytest

from emoframe.bench.evaluate import evaluate
from emoframe.features import FeatureCache
from emoframe.pipeline import FeatureProvider
from emoframe.plugin.registry import Registry
from emoframe.spec import parse_spec

from .conftest import SHARED_DATA


@pytest.mark.slow
def test_cross_corpus_trains_on_one_corpus_and_tests_on_the_other(tmp_path):
    from emoframe.data.synth import generate

    generate(tmp_path / "a", seed=5, speakers=4, per_class=3)
    generate(tmp_path / "b", seed=6, speakers=4, per_class=3)
    registry = Registry.from_entry_points()
    spec = parse_spec(
        {
            "data": {"manifest": str(tmp_path / "a" / "manifest.csv")},
            "evaluation": {
                "protocol": "cross_corpus",
                "bootstrap": 100,
                "test": {"manifest": str(tmp_path / "b" / "manifest.csv"), "classes": ["angry", "sad"]},
            },
            "branches": {"text": {"extractor": "sklearn.tfidf", "model": "sklearn.logreg"}},
        }
    )
    result = evaluate(spec, registry, provider=FeatureProvider(registry, cache=FeatureCache(tmp_path / "c")))
    (fold,) = result.folds
    assert result.classes == ["angry", "sad"]  # only the labels both sides share
    assert len(fold.test_ids) == 4 * 3 * 2 and fold.n_train == 4 * 3 * 2
    assert all(i.startswith("test:") for i in fold.test_ids)  # the corpora share ids; the test side is namespaced
    assert 0 <= result.uar_mean <= 1


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.skipif(not (SHARED_DATA / "meld-text").is_dir(), reason="../shared/data/meld-text absent")
def test_meld_text_only_predefined_split(tmp_path):
    registry = Registry.from_entry_points()
    spec = parse_spec(
        {
            "data": {"corpus": {"name": "meld", "params": {"root": str(SHARED_DATA / "meld-text")}}},
            "evaluation": {"protocol": "predefined", "bootstrap": 100},
            "branches": {
                "text": {
                    "extractor": "sklearn.tfidf",
                    "model": {"name": "sklearn.logreg", "params": {"class_weight": "balanced"}},
                }
            },
        }
    )
    result = evaluate(spec, registry, provider=FeatureProvider(registry))
    (fold,) = result.folds
    assert len(fold.test_ids) == 2610 and fold.n_train == 9989 + 1109
    assert result.metrics["uar"] > 1 / 7 + 0.1  # real conversational text carries emotion
    assert not result.failures
