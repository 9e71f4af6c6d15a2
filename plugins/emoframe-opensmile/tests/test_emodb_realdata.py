"""eGeMAPS + SVC on the real EmoDB copy under leave-one-speaker-out (skipped when absent)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

EMODB = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "emodb"


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.skipif(not (EMODB / "wav").is_dir(), reason="../shared/data/emodb absent")
def test_egemaps_svc_loso_on_emodb_is_in_the_published_range(tmp_path):
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import LeaveOneGroupOut
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from emoframe.features import FeatureCache, extract_features
    from emoframe.registry import get_registry

    reg = get_registry()
    manifest = reg.create("emodb", {"root": str(EMODB)}, kind="corpus").load()
    feats = extract_features(reg.create("opensmile.egemaps"), manifest, jobs=2, cache=FeatureCache(tmp_path))
    assert len(feats.ids) == 535 and not feats.failures
    X, y, spk = feats.matrix().astype(float), manifest.labels, manifest.speakers
    for s in np.unique(spk):  # per-speaker z-normalisation, as in the literature's LOSO figures
        i = spk == s
        X[i] = (X[i] - X[i].mean(0)) / np.where(X[i].std(0) == 0, 1, X[i].std(0))
    pred = np.empty(len(y), dtype=object)
    for tr, te in LeaveOneGroupOut().split(X, y, spk):
        pred[te] = make_pipeline(StandardScaler(), SVC()).fit(X[tr], y[tr]).predict(X[te])
    uar = balanced_accuracy_score(y, pred.astype(str))
    assert 0.68 <= uar <= 0.82, uar  # published: 70s to ~80% (../shared/data/README.md)
