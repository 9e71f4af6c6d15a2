"""On the real EmoDB copy: emoframe gives the figures a bare scikit-learn script gives (within one point)."""

from __future__ import annotations

import numpy as np
import pytest

from emoframe.bench.evaluate import evaluate
from emoframe.features import FeatureCache
from emoframe.pipeline import FeatureProvider
from emoframe.plugin.registry import Registry
from emoframe.spec import parse_spec

from .conftest import SHARED_DATA

EMODB = SHARED_DATA / "emodb"
pytestmark = [
    pytest.mark.realdata,
    pytest.mark.slow,
    pytest.mark.skipif(not (EMODB / "wav").is_dir(), reason="../shared/data/emodb absent"),
]


def bare_sklearn_uar(X, y, speakers, speaker_norm):
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import LeaveOneGroupOut
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    X = X.astype(float).copy()
    if speaker_norm:
        for s in np.unique(speakers):
            i = speakers == s
            X[i] = (X[i] - X[i].mean(0)) / np.where(X[i].std(0) == 0, 1, X[i].std(0))
    pred = np.empty(len(y), dtype=object)
    for tr, te in LeaveOneGroupOut().split(X, y, speakers):
        pred[te] = make_pipeline(StandardScaler(), SVC()).fit(X[tr], y[tr]).predict(X[te])
    return balanced_accuracy_score(y, pred.astype(str))


@pytest.mark.parametrize("normalise", ["none", "speaker"])
def test_emoframe_matches_a_bare_script_on_emodb(tmp_path, normalise):
    registry = Registry.from_entry_points()
    provider = FeatureProvider(registry, cache=FeatureCache(tmp_path), jobs=2)
    spec = parse_spec(
        {
            "data": {"corpus": {"name": "emodb", "params": {"root": str(EMODB)}}},
            "branches": {"audio": {"extractor": "opensmile.egemaps", "model": "sklearn.svc", "normalise": normalise}},
            "evaluation": {"protocol": "loso", "bootstrap": 200},
        }
    )
    result = evaluate(spec, registry, provider=provider)
    assert len(result.folds) == 10 and not result.failures
    manifest = registry.create("emodb", {"root": str(EMODB)}, kind="corpus").load()
    from emoframe.spec import ComponentRef

    X = np.vstack(provider.get(ComponentRef(name="opensmile.egemaps"), manifest))
    bare = bare_sklearn_uar(X, manifest.labels, manifest.speakers, normalise == "speaker")
    assert abs(result.metrics["uar"] - bare) <= 0.01, (result.metrics["uar"], bare)
    if normalise == "speaker":
        assert 0.68 <= result.metrics["uar"] <= 0.82  # the published LOSO range for 7 classes
    # text carries no emotion on EmoDB: every test sentence occurs in training
    assert result.protocol == "loso"
