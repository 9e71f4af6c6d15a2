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

#: what each spy was fitted on: (the fold being evaluated, the row numbers it saw)
SEEN: dict[str, list[tuple[int | None, set[int]]]] = {"extractor": [], "model": [], "fusion": []}
#: the fold run_fold is evaluating (None outside one), set by the ``fold_marker`` fixture
CURRENT: dict[str, int | None] = {"fold": None}
#: row numbers travel as features offset by MARK, so a spy finds them among other columns
MARK = 100_000


def row_column(X) -> set[int] | None:
    """The rows of a feature matrix that carries spy.rowid's column unscaled, or None (another branch's)."""
    X = np.asarray(X, dtype=float)
    for j in range(X.shape[1]):
        if X[:, j].min() >= MARK:
            return {int(round(v)) - MARK for v in X[:, j]}
    return None


class RowId(toy_plugin.Words):
    """Fitted text extractor whose first feature is MARK + the row number written in the transcript."""

    name = "spy.rowid"

    def fit(self, inputs, y=None):
        SEEN["extractor"].append((CURRENT["fold"], {int(t.split()[0][3:]) for t in inputs}))
        return super().fit(inputs, y)

    def transform(self, inputs):
        X = super().transform(inputs)
        return np.column_stack([[MARK + int(t.split()[0][3:]) for t in inputs], X])


class SpyModel(toy_plugin.Centroid):
    """Records the row numbers it is trained on (when its features carry spy.rowid's column)."""

    name = "spy.model"

    def fit(self, X, y, groups=None):
        rows = row_column(X)
        if rows is not None:
            SEEN["model"].append((CURRENT["fold"], rows))
        return super().fit(X, y)


class SpyConcat(ConcatFusion):
    """Early fusion recording the rows its standardisation statistics come from."""

    name = "spy.concat"

    def fit(self, blocks, y=None):
        SEEN["fusion"].append((CURRENT["fold"], {int(round(v)) - MARK for v in np.asarray(blocks["text"])[:, 0]}))
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
def fold_marker(monkeypatch):
    """Tell the spies which fold is being evaluated, so each fit is checked against its own fold."""
    original = runner.run_fold

    def marked(spec, fold, *args, **kwargs):
        CURRENT["fold"] = fold
        try:
            return original(spec, fold, *args, **kwargs)
        finally:
            CURRENT["fold"] = None

    monkeypatch.setattr(runner, "run_fold", marked)


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


def check_each_fit_against_its_own_fold(result, seen, whole_training_fold: bool = False) -> None:
    """Every fit happened inside a fold and saw none of *that* fold's test rows (avoiding some other
    fold's test rows is not enough); with ``whole_training_fold`` it saw exactly that fold's training rows."""
    every = set(range(48))
    tests = {f.fold: {int(i[1:]) for i in f.test_ids} for f in result.folds}
    assert seen, "the spy saw nothing"
    for fold, fitted in seen:
        assert fold in tests, f"a fit outside any fold, on {len(fitted)} rows"
        leaked = fitted & tests[fold]
        assert not leaked, f"fold {fold}: fitted on its own test rows {sorted(leaked)[:5]}"
        assert fitted <= every - tests[fold]
        if whole_training_fold:
            assert fitted == every - tests[fold], f"fold {fold}: fitted on {len(fitted)} rows, not its training rows"
    assert {fold for fold, _ in seen} == set(tests), f"a fold without a fit: {[fold for fold, _ in seen]}"


def check_inner_fits(result, seen) -> None:
    """Per fold: one fit on exactly its training rows (the branch), the others (inner folds) on parts of them."""
    check_each_fit_against_its_own_fold(result, seen)
    for f in result.folds:
        train = set(range(48)) - {int(i[1:]) for i in f.test_ids}
        fits = sorted((rows for fold, rows in seen if fold == f.fold), key=len)
        assert fits[-1] == train and all(inner < train for inner in fits[:-1]), f"fold {f.fold}"


def test_early_fusion_extractor_scaler_and_model_see_training_rows_only(spy_registry, corpus, fold_marker):
    spec = parse_spec(
        {
            "data": {"corpus": "toy.corpus"},
            "evaluation": {"protocol": "speaker_kfold", "folds": 3},
            "branches": {"audio": {"extractor": "toy.energy"}, "text": {"extractor": "spy.rowid"}},
            # unscaled, so the model's features still carry the row numbers for the spy
            "fusion": {"name": "spy.concat", "params": {"standardise": False, "balance": False}},
            "model": "spy.model",
        }
    )
    result = evaluate(spec, spy_registry, manifest=corpus, provider=FeatureProvider(spy_registry))
    for kind in ("extractor", "fusion", "model"):
        check_each_fit_against_its_own_fold(result, SEEN[kind], whole_training_fold=True)
    assert len(SEEN["fusion"]) == 3 and len(SEEN["model"]) == 3 * 2  # the fused model and the text part's


def test_learned_late_fusion_inner_fits_see_training_rows_only(spy_registry, corpus, fold_marker):
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
    check_inner_fits(result, SEEN["model"])
    check_inner_fits(result, SEEN["extractor"])  # the fitted extractor is refitted inside each inner fold too


def fake_result():
    """Three folds of 16 rows: fold k tests rows k, k + 3, k + 6, …"""
    return types.SimpleNamespace(
        folds=[types.SimpleNamespace(fold=k + 1, test_ids=[f"u{i}" for i in range(k, 48, 3)]) for k in range(3)]
    )


def test_the_spy_would_catch_a_leak(spy_registry, corpus):
    """The check can fail: fitting on everything, on another fold's training rows (which avoid some fold's
    test rows, but not its own), or outside any fold."""
    result = fake_result()
    train = {k + 1: set(range(48)) - set(range(k, 48, 3)) for k in range(3)}
    with pytest.raises(AssertionError, match="fold 1: fitted on its own test rows"):
        check_each_fit_against_its_own_fold(result, [(1, set(range(48)))])
    with pytest.raises(AssertionError, match="fold 2: fitted on its own test rows"):
        check_each_fit_against_its_own_fold(result, [(1, train[1]), (2, train[1]), (3, train[3])])
    with pytest.raises(AssertionError, match="a fit outside any fold"):
        check_each_fit_against_its_own_fold(result, [(None, train[1]), (1, train[1]), (2, train[2]), (3, train[3])])
    with pytest.raises(AssertionError, match="not its training rows"):
        check_each_fit_against_its_own_fold(
            result, [(1, train[1] - {1}), (2, train[2]), (3, train[3])], whole_training_fold=True
        )
    with pytest.raises(AssertionError, match="a fold without a fit"):
        check_each_fit_against_its_own_fold(result, [(1, train[1]), (3, train[3])])
    check_each_fit_against_its_own_fold(result, [(1, train[1]), (2, train[2]), (3, train[3])], True)


def test_a_split_sharing_a_speaker_is_refused(spy_registry, corpus, monkeypatch):
    def leaky(protocol, labels, speakers, splits, folds, seed):
        yield np.arange(0, 30), np.arange(28, 48)  # rows 28, 29 (speaker s3) on both sides

    monkeypatch.setattr(runner, "outer_folds", leaky)
    spec = parse_spec(
        {"data": {"corpus": "toy.corpus"}, "branches": {"audio": {"extractor": "toy.energy", "model": "toy.centroid"}}}
    )
    with pytest.raises(LeakageError, match="s3"):
        evaluate(spec, spy_registry, manifest=corpus, provider=FeatureProvider(spy_registry))
