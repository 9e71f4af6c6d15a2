"""On the real EmoDB copy: emoframe's nested tuning gives what nested GridSearchCV written by hand gives."""

from __future__ import annotations

import numpy as np
import pytest

from emoframe.bench.evaluate import evaluate
from emoframe.evaluation.splits import tuning_folds
from emoframe.features import FeatureCache
from emoframe.pipeline import FeatureProvider
from emoframe.plugin.registry import Registry
from emoframe.spec import ComponentRef, parse_spec

from .conftest import SHARED_DATA

EMODB = SHARED_DATA / "emodb"
pytestmark = [
    pytest.mark.realdata,
    pytest.mark.slow,
    pytest.mark.skipif(not (EMODB / "wav").is_dir(), reason="../shared/data/emodb absent"),
]
GRID = {"C": [1.0, 10.0], "gamma": ["scale", 0.001]}


def nested_grid_search(X, y, speakers):
    """Per LOSO fold: GridSearchCV on the same speaker-grouped inner folds, refit, predict the held-out speaker."""
    from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    X = X.astype(float).copy()
    for s in np.unique(speakers):  # per-speaker z-normalisation, as normalise: speaker does
        i = speakers == s
        X[i] = (X[i] - X[i].mean(0)) / np.where(X[i].std(0) == 0, 1, X[i].std(0))
    pred, chosen = np.empty(len(y), dtype=object), []
    for tr, te in LeaveOneGroupOut().split(X, y, speakers):
        search = GridSearchCV(
            make_pipeline(StandardScaler(), SVC(random_state=0, break_ties=True)),
            {f"svc__{k}": v for k, v in GRID.items()},
            cv=tuning_folds(y[tr], speakers[tr], 3, 0),
            scoring="balanced_accuracy",
        ).fit(X[tr], y[tr])
        pred[te] = search.predict(X[te])
        chosen.append({k.removeprefix("svc__"): v for k, v in search.best_params_.items()})
    return pred.astype(str), chosen


def test_nested_tuning_matches_nested_gridsearchcv_on_emodb(tmp_path):
    from sklearn.metrics import balanced_accuracy_score

    registry = Registry.from_entry_points()
    provider = FeatureProvider(registry, cache=FeatureCache(tmp_path), jobs=2)
    spec = parse_spec(
        {
            "data": {"corpus": {"name": "emodb", "params": {"root": str(EMODB)}}},
            "branches": {
                "audio": {
                    "extractor": "opensmile.egemaps",
                    "normalise": "speaker",
                    "model": {"name": "sklearn.svc", "search": GRID},
                }
            },
            "evaluation": {"protocol": "loso", "bootstrap": 200},
            "tuning": {"inner_folds": 3, "seed": 0},
        }
    )
    result = evaluate(spec, registry, provider=provider)
    assert len(result.folds) == 10 and not result.failures
    manifest = registry.create("emodb", {"root": str(EMODB)}, kind="corpus").load()
    X = np.vstack(provider.get(ComponentRef(name="opensmile.egemaps"), manifest))
    pred, chosen = nested_grid_search(X, manifest.labels, manifest.speakers)
    ours = [{k.rsplit(".", 1)[-1]: v for k, v in fr.tuning["chosen"].items()} for fr in result.folds]
    assert ours == chosen
    bare = balanced_accuracy_score(manifest.labels.astype(str), pred)
    assert abs(result.metrics["uar"] - bare) <= 0.01, (result.metrics["uar"], bare)
