"""Nothing fitted ever sees a test row; no speaker is on both sides. Spies record what they saw."""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest

import emoframe
from emoframe.bench import evaluate as runner
from emoframe.bench.evaluate import evaluate
from emoframe.data.manifest import Manifest
from emoframe.evaluation.splits import LeakageError
from emoframe.fusion.early import ConcatFusion
from emoframe.pipeline import FeatureProvider
from emoframe.spec import parse_spec

from . import toy_plugin
from .audio_files import tone, write_wav

SEEN: dict[str, list[set[int]]] = {"extractor": [], "model": [], "fusion": []}


class RowId(toy_plugin.Words):
    """Fitted text extractor whose first feature is the row number written in the transcript."""

    name = "spy.rowid"

    def fit(self, inputs, y=None):
        SEEN["extractor"].append({int(t.split()[0][3:]) for t in inputs})
        return super().fit(inputs, y)

    def transform(self, inputs):
        X = super().transform(inputs)
        return np.column_stack([[int(t.split()[0][3:]) for t in inputs], X])


class SpyModel(toy_plugin.Centroid):
    """Records the row numbers (column 0) it is trained on."""

    name = "spy.model"

    def fit(self, X, y, groups=None):
        SEEN["model"].append({int(round(v)) for v in np.asarray(X)[:, 0]})
        return super().fit(X, y)


class SpyConcat(ConcatFusion):
    """Early fusion recording the rows its standardisation statistics come from."""

    name = "spy.concat"

    def fit(self, blocks, y=None):
        SEEN["fusion"].append({int(round(v)) for v in np.asarray(blocks["text"])[:, 0]})
        return super().fit(blocks, y)


@pytest.fixture
def spy_registry(registry):
    mod = types.ModuleType("spy")

    @emoframe.hookimpl
    def register_extractors(register):
        register(RowId)

    @emoframe.hookimpl
    def register_models(register):
        register(SpyModel)

    @emoframe.hookimpl
    def register_fusions(register):
        register(SpyConcat)

    mod.register_extractors, mod.register_models, mod.register_fusions = (
        register_extractors,
        register_models,
        register_fusions,
    )
    registry.add_plugin(mod, name="spy")
    for v in SEEN.values():
        v.clear()
    return registry


@pytest.fixture
def corpus(tmp_path):
    rows = []
    classes = ["angry", "happy", "neutral", "sad"]
    for i in range(48):
        label = classes[i % 4]
        path = write_wav(tmp_path / f"u{i}.wav", tone(0.3, freq=150 + 60 * (i % 4), amp=0.1 + 0.05 * (i % 4)))
        rows.append(
            {
                "id": f"u{i}",
                "audio": str(path),
                "text": f"row{i} {label} words",
                "label": label,
                "speaker": f"s{i // 8}",
            }
        )
    return Manifest.from_frame(pd.DataFrame(rows))


def check_no_test_rows(result, seen):
    tests = [{int(i[1:]) for i in f.test_ids} for f in result.folds]
    assert seen, "the spy saw nothing"
    for fitted in seen:
        assert any(not (fitted & t) for t in tests), f"fitted on test rows: {sorted(fitted)[:5]}"


def test_early_fusion_extractor_scaler_and_model_see_training_rows_only(spy_registry, corpus):
    spec = parse_spec(
        {
            "data": {"corpus": "toy.corpus"},
            "evaluation": {"protocol": "speaker_kfold", "folds": 3},
            "branches": {"audio": {"extractor": "toy.energy"}, "text": {"extractor": "spy.rowid"}},
            "fusion": "spy.concat",
            "model": "spy.model",
        }
    )
    result = evaluate(spec, spy_registry, manifest=corpus, provider=FeatureProvider(spy_registry))
    for kind in ("extractor", "fusion", "model"):
        check_no_test_rows(result, SEEN[kind])


def test_learned_late_fusion_inner_fits_see_training_rows_only(spy_registry, corpus):
    spec = parse_spec(
        {
            "data": {"corpus": "toy.corpus"},
            "evaluation": {"protocol": "speaker_kfold", "folds": 3},
            "branches": {
                "audio": {"extractor": "toy.energy", "model": "toy.centroid"},
                "text": {"extractor": "spy.rowid", "model": "spy.model"},
            },
            "fusion": {"name": "fusion.late", "params": {"weights": "learned"}},
        }
    )
    result = evaluate(spec, spy_registry, manifest=corpus, provider=FeatureProvider(spy_registry))
    assert len(SEEN["model"]) == 3 * (1 + 3)  # per fold: the branch fit plus 3 inner out-of-fold fits
    check_no_test_rows(result, SEEN["model"])
    check_no_test_rows(result, SEEN["extractor"])


def test_the_spy_would_catch_a_leak(spy_registry, corpus):
    """Fitting on everything must fail the same check (the test can fail)."""
    result = types.SimpleNamespace(
        folds=[types.SimpleNamespace(test_ids=[f"u{i}" for i in range(k, 48, 3)]) for k in range(3)]
    )
    with pytest.raises(AssertionError, match="fitted on test rows"):
        check_no_test_rows(result, [set(range(48))])


def test_a_split_sharing_a_speaker_is_refused(spy_registry, corpus, monkeypatch):
    def leaky(protocol, labels, speakers, splits, folds, seed):
        yield np.arange(0, 30), np.arange(28, 48)  # rows 28, 29 (speaker s3) on both sides

    monkeypatch.setattr(runner, "outer_folds", leaky)
    spec = parse_spec(
        {"data": {"corpus": "toy.corpus"}, "branches": {"audio": {"extractor": "toy.energy", "model": "toy.centroid"}}}
    )
    with pytest.raises(LeakageError, match="s3"):
        evaluate(spec, spy_registry, manifest=corpus, provider=FeatureProvider(spy_registry))
