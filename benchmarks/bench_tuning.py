"""Nested tuning's cost: emoframe's search against scikit-learn's GridSearchCV run by hand (issue 28).

On a synthetic corpus (default 1,000 utterances), eGeMAPS extracted and cached first, for each of the
5 speaker-independent outer folds: emoframe tunes ``sklearn.svc`` over a 5-point C grid on 3
speaker-grouped inner folds of the outer training fold and refits the chosen C on the whole fold
(``Pipeline.fit`` of a spec with ``search: {C: [...]}``, as a benchmark fold runs it), against
``GridSearchCV(StandardScaler → SVC, {C: [...]}, cv=<the same inner folds>, scoring=balanced_accuracy)``
on the same feature matrix. GridSearchCV gets emoframe's inner folds (speaker-grouped and stratified:
``evaluation.splits.tuning_folds``) so that both score the same splits; its SVC has ``break_ties=True``,
the label rule of emoframe's label-only SVC. Both must choose the same C in every outer fold.

Optuna's import (once per process, about half a second) is outside the timings, like the extraction.
The two are timed alternately (emoframe, GridSearchCV, …), the whole protocol ``--repeats`` times (2:
"run twice, in one run"); wall and CPU seconds are summed per repeat. Target: ≤ 1.2× GridSearchCV.

    python benchmarks/bench_tuning.py [--size 1000] [--repeats 2] [--json out.json]
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
from emoframe.evaluation.splits import outer_folds, tuning_folds
from emoframe.features import FeatureCache
from emoframe.pipeline import FeatureProvider, Pipeline
from emoframe.plugin.registry import get_registry
from emoframe.spec import parse_spec

GRID = [0.01, 0.1, 1.0, 10.0, 100.0]
INNER = 3
SEED = 0


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - w0, time.process_time() - c0


def grid_search(X: np.ndarray, y: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]]) -> Any:
    """GridSearchCV as a user writes it: scaler + SVC, the C grid, the given inner folds, refit on all rows."""
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    model = make_pipeline(StandardScaler(), SVC(random_state=0, break_ties=True))
    return GridSearchCV(model, {"svc__C": GRID}, cv=folds, scoring="balanced_accuracy").fit(X, y)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    reg = get_registry()
    with tempfile.TemporaryDirectory() as tmp:
        speakers, per_class = shape_for(args.size)
        generate(Path(tmp) / "corpus", speakers=speakers, per_class=per_class)
        manifest_path = Path(tmp) / "corpus" / "manifest.csv"
        manifest = load_manifest(manifest_path)
        spec = parse_spec(
            {
                "data": {"manifest": str(manifest_path)},
                "branches": {
                    "audio": {"extractor": "opensmile.egemaps", "model": {"name": "sklearn.svc", "search": {"C": GRID}}}
                },
                "tuning": {"inner_folds": INNER, "seed": SEED},
            }
        )
        ref = spec.branches["audio"].extractor
        assert ref is not None
        provider = FeatureProvider(reg, cache=FeatureCache(Path(tmp) / "cache"), jobs=2)
        provider.prepare(ref, manifest)  # extracted once, outside the timings
        import optuna  # noqa: F401  # imported once per worker process (~0.5 s), outside the timings

        X_all = np.vstack(provider.get(ref, manifest)).astype(np.float64)
        print(f"{len(manifest)} utterances, {speakers} speakers; eGeMAPS extracted", flush=True)
        folds = list(outer_folds("speaker_kfold", manifest.labels, manifest.speakers, None, 5, 0))
        result: dict[str, Any] = {"utterances": len(manifest), "grid": GRID, "inner_folds": INNER, "repeats": []}
        for repeat in range(args.repeats):
            sums = {"emoframe_wall": 0.0, "emoframe_cpu": 0.0, "sklearn_wall": 0.0, "sklearn_cpu": 0.0}
            chosen = []
            for tr, _ in folds:
                train = manifest.take(tr)
                pipe, w, c = timed(Pipeline(spec, reg).fit, train, provider, labels_only=True)
                sums["emoframe_wall"] += w
                sums["emoframe_cpu"] += c
                inner = tuning_folds(train.labels, train.speakers, INNER, SEED)
                search, w, c = timed(grid_search, X_all[tr], manifest.labels[tr], inner)
                sums["sklearn_wall"] += w
                sums["sklearn_cpu"] += c
                assert pipe.tuning_ is not None
                chosen.append((pipe.tuning_.chosen["branches.audio.model.C"], search.best_params_["svc__C"]))
            row: dict[str, Any] = {k: round(v, 3) for k, v in sums.items()}
            row["wall_ratio"] = round(sums["emoframe_wall"] / sums["sklearn_wall"], 3)
            row["cpu_ratio"] = round(sums["emoframe_cpu"] / sums["sklearn_cpu"], 3)
            row["chosen_emoframe"] = [a for a, _ in chosen]
            row["chosen_sklearn"] = [b for _, b in chosen]
            same = all(a == b for a, b in chosen)
            row["same_choices"] = same
            result["repeats"].append(row)
            ok = row["wall_ratio"] <= 1.2 and row["cpu_ratio"] <= 1.2 and same
            print(
                f"repeat {repeat + 1}: emoframe {row['emoframe_wall']:.2f} s wall / {row['emoframe_cpu']:.2f} s CPU, "
                f"GridSearchCV {row['sklearn_wall']:.2f} / {row['sklearn_cpu']:.2f} → {row['wall_ratio']:.2f}× wall, "
                f"{row['cpu_ratio']:.2f}× CPU; C chosen per outer fold {row['chosen_emoframe']} vs "
                f"{row['chosen_sklearn']} (target ≤ 1.2×, same choices) {'PASS' if ok else 'FAIL'}",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
