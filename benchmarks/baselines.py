"""Single-modality baselines with plain scikit-learn on emoframe's loaders and features.

    python benchmarks/baselines.py demo                       # the synthetic demo corpus
    python benchmarks/baselines.py emodb ../shared/data/emodb # real EmoDB, leave-one-speaker-out

eGeMAPS → standardise → RBF SVC (scikit-learn defaults), with and without per-speaker
z-normalisation; TF-IDF (1–2-grams) → linear SVC on the transcripts. Speaker-independent:
leave-one-speaker-out for ≤ 12 speakers, else 5-fold stratified group k-fold.
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import LeaveOneGroupOut, StratifiedGroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC

from emoframe.features import FeatureCache, extract_features
from emoframe.plugin.registry import get_registry


def speaker_z(X: np.ndarray, speakers: np.ndarray) -> np.ndarray:
    """Each speaker's features standardised by that speaker's own statistics (unsupervised)."""
    out = X.astype(np.float64).copy()
    for s in np.unique(speakers):
        idx = speakers == s
        sd = out[idx].std(0)
        sd[sd == 0] = 1.0
        out[idx] = (out[idx] - out[idx].mean(0)) / sd
    return out


def cross_validate(make, X, y, groups) -> tuple[float, float]:
    """Pooled UAR and the std of per-fold UARs."""
    cv = LeaveOneGroupOut() if len(np.unique(groups)) <= 12 else StratifiedGroupKFold(5, shuffle=True, random_state=0)
    pred = np.empty(len(y), dtype=object)
    folds = []
    for tr, te in cv.split(X, y, groups):
        assert not set(groups[tr]) & set(groups[te])
        pred[te] = make().fit(X[tr], y[tr]).predict(X[te])
        folds.append(balanced_accuracy_score(y[te], pred[te].astype(str)))
    return balanced_accuracy_score(y, pred.astype(str)), float(np.std(folds))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", choices=["demo", "emodb"])
    ap.add_argument("root", nargs="?", default="")
    ap.add_argument("--jobs", type=int, default=None)
    args = ap.parse_args()
    reg = get_registry()
    with tempfile.TemporaryDirectory() as tmp:
        params = {"root": args.root or f"{tmp}/demo"}
        manifest = reg.create(args.corpus, params, kind="corpus").load()
        feats = extract_features(
            reg.create("opensmile.egemaps"), manifest, jobs=args.jobs, cache=FeatureCache(f"{tmp}/cache")
        )
    keep = manifest.frame["id"].isin(feats.ids).to_numpy()
    y, groups = manifest.labels[keep], manifest.speakers[keep]
    X = feats.matrix()
    print(
        f"{manifest.name}: {len(y)} utterances, {len(np.unique(groups))} speakers, "
        f"{len(np.unique(y))} classes (chance UAR {1 / len(np.unique(y)):.3f})"
    )
    svc = lambda: make_pipeline(StandardScaler(), SVC())  # noqa: E731
    for label, data in (("eGeMAPS → SVC", X), ("eGeMAPS → SVC, per-speaker z-norm", speaker_z(X, groups))):
        uar, sd = cross_validate(svc, data, y, groups)
        print(f"  {label:40s} UAR {uar:.3f} (fold std {sd:.3f})")
    texts = np.array(manifest.texts, dtype=object)[keep]
    uar, sd = cross_validate(lambda: make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LinearSVC()), texts, y, groups)
    print(f"  {'TF-IDF → linear SVC (text)':40s} UAR {uar:.3f} (fold std {sd:.3f})")


if __name__ == "__main__":
    main()
