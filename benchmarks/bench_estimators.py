"""Estimator overhead: a pipeline's fit against the bare scikit-learn fit it amounts to (issue 13).

On a synthetic corpus (default 2,000 utterances), per speaker 5-fold training set, features
extracted and cached first: emoframe's ``Pipeline.fit`` (what the runner times per fold in a
benchmark, i.e. with labels only — no calibration) against the same work written by hand in
scikit-learn, on the same rows and the same features:

- eGeMAPS → sklearn.svc:            StandardScaler → SVC
- TF-IDF → sklearn.logreg:           TfidfVectorizer → StandardScaler(with_mean=False) → LogisticRegression
- TF-IDF → sklearn.svc:              TfidfVectorizer → StandardScaler(with_mean=False) → SVC
- early fusion (eGeMAPS + TF-IDF) → sklearn.svc: each block z-scored and divided by √width, stacked,
  StandardScaler → SVC

Each pair is timed alternately (emoframe, bare, emoframe, bare …) so a drifting machine shifts
both; both sides must predict the same labels on the fold's test rows (checked: same work). The
target is emoframe ≤ 1.3× the bare fit, wall and CPU.

    python benchmarks/bench_estimators.py [--size 2000] [--repeats 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from emoframe.data.manifest import load_manifest
from emoframe.data.synth import generate, shape_for
from emoframe.evaluation.splits import outer_folds
from emoframe.features import FeatureCache
from emoframe.pipeline import FeatureProvider, Pipeline
from emoframe.plugin.registry import get_registry
from emoframe.spec import parse_spec

EGEMAPS = {"extractor": "opensmile.egemaps"}
TFIDF = {"extractor": "sklearn.tfidf"}
PIPELINES: dict[str, dict[str, Any]] = {
    "eGeMAPS → SVC": {"branches": {"audio": {**EGEMAPS, "model": "sklearn.svc"}}},
    "TF-IDF → logreg": {"branches": {"text": {**TFIDF, "model": "sklearn.logreg"}}},
    "TF-IDF → SVC": {"branches": {"text": {**TFIDF, "model": "sklearn.svc"}}},
    "early fusion → SVC": {
        "branches": {"audio": EGEMAPS, "text": TFIDF},
        "fusion": "fusion.early",
        "model": "sklearn.svc",
    },
}


def tfidf() -> Any:
    """sklearn.tfidf's defaults, written out."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, 2), max_features=20000, sublinear_tf=True, lowercase=True)


def decide(model: Any, X: Any) -> np.ndarray:
    """The label an SVC's one-vs-rest decision values pick (sklearn.svc's rule where only labels are
    read: the one-vs-one vote, ties broken by confidence — ``predict`` breaks them by class order)."""
    if not hasattr(model, "decision_function") or "svc" not in model.named_steps:
        return model.predict(X)
    return model.classes_[np.asarray(model.decision_function(X)).argmax(1)]


def bare_fit(name: str, audio: np.ndarray, texts: list[str], y: np.ndarray) -> Callable[[np.ndarray, list[str]], Any]:
    """Fit the hand-written scikit-learn equivalent; return its predict(audio, texts)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if name == "eGeMAPS → SVC":
        m = make_pipeline(StandardScaler(), SVC(random_state=0)).fit(audio, y)
        return lambda a, t: decide(m, a)
    if name in ("TF-IDF → logreg", "TF-IDF → SVC"):
        est = LogisticRegression(max_iter=2000) if "logreg" in name else SVC(random_state=0)
        m = make_pipeline(tfidf(), StandardScaler(with_mean=False), est).fit(texts, y)
        return lambda a, t: decide(m, t)
    vec = tfidf().fit(texts)

    def blocks(a: np.ndarray, t: list[str]) -> list[np.ndarray]:
        return [a, vec.transform(t).toarray()]

    stats = []
    for B in blocks(audio, texts):
        sd = B.std(0)
        sd[sd < 1e-12] = 1.0
        stats.append((B.mean(0), sd))

    def fused(a: np.ndarray, t: list[str]) -> np.ndarray:
        parts = [(B - mu) / sd / np.sqrt(B.shape[1]) for B, (mu, sd) in zip(blocks(a, t), stats)]
        return np.hstack(parts).astype(np.float32).astype(np.float64)

    m = make_pipeline(StandardScaler(), SVC(random_state=0)).fit(fused(audio, texts), y)
    return lambda a, t: decide(m, fused(a, t))


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - w0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    reg = get_registry()
    with tempfile.TemporaryDirectory() as tmp:
        speakers, per_class = shape_for(args.size)
        generate(Path(tmp) / "corpus", speakers=speakers, per_class=per_class)
        manifest_path = Path(tmp) / "corpus" / "manifest.csv"
        manifest = load_manifest(manifest_path)
        provider = FeatureProvider(reg, cache=FeatureCache(Path(tmp) / "cache"), jobs=2)
        audio_ref = parse_spec({"data": {"manifest": str(manifest_path)}, **PIPELINES["eGeMAPS → SVC"]})
        provider.prepare(audio_ref.branches["audio"].extractor, manifest)  # extracted once, outside the timings
        # float64, as sklearn.svc hands it to scikit-learn (float32 would change the SVC's numerics)
        audio_all = np.vstack(provider.get(audio_ref.branches["audio"].extractor, manifest)).astype(np.float64)
        texts_all = [str(t) for t in manifest.frame["text"]]
        print(f"{len(manifest)} utterances, {speakers} speakers; eGeMAPS extracted", flush=True)
        folds = list(outer_folds("speaker_kfold", manifest.labels, manifest.speakers, None, 5, 0))
        result: dict[str, Any] = {"utterances": len(manifest), "repeats": args.repeats, "pipelines": {}}
        for name, doc in PIPELINES.items():
            spec = parse_spec({"name": name, "data": {"manifest": str(manifest_path)}, **doc})
            sums = {"emoframe_wall": 0.0, "emoframe_cpu": 0.0, "bare_wall": 0.0, "bare_cpu": 0.0}
            differ = 0
            for _ in range(args.repeats):
                for tr, te in folds:
                    train, test = manifest.take(tr), manifest.take(te)
                    pipe, w, c = timed(Pipeline(spec, reg).fit, train, provider, labels_only=True)
                    sums["emoframe_wall"] += w
                    sums["emoframe_cpu"] += c
                    labels = manifest.labels[tr]
                    predict, w, c = timed(bare_fit, name, audio_all[tr], [texts_all[i] for i in tr], labels)
                    sums["bare_wall"] += w
                    sums["bare_cpu"] += c
                    ours = [str(v) for v in pipe.predict(test, provider)]
                    theirs = [str(v) for v in predict(audio_all[te], [texts_all[i] for i in te])]
                    differ += sum(a != b for a, b in zip(ours, theirs))
            row = {k: round(v, 2) for k, v in sums.items()}
            row["wall_ratio"] = round(sums["emoframe_wall"] / sums["bare_wall"], 3)
            row["cpu_ratio"] = round(sums["emoframe_cpu"] / sums["bare_cpu"], 3)
            row["differing_predictions"] = differ
            same = differ == 0
            result["pipelines"][name] = row
            ok = row["wall_ratio"] <= 1.3 and row["cpu_ratio"] <= 1.3 and same
            print(
                f"{name}: emoframe {row['emoframe_wall']:.2f} s wall / {row['emoframe_cpu']:.2f} s CPU, bare "
                f"{row['bare_wall']:.2f} / {row['bare_cpu']:.2f} → {row['wall_ratio']:.2f}× wall, "
                f"{row['cpu_ratio']:.2f}× CPU, predictions differing: {differ} "
                f"(target ≤ 1.3×) {'PASS' if ok else 'FAIL'}",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
