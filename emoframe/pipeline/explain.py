"""Why a fitted pipeline decided as it did, on rows it was not trained on (docs/evaluation.md, "Why: attribution").

- :func:`attribute`: each modality's contribution to each row's predicted-class probability. Late fusions:
  exact Shapley values over the branches, a missing branch standing at the training fold's class prior, from
  the branch probabilities the pipeline already computed (no re-extraction, no refit), or the fusion's own
  ``explain()`` when it has one (checked: shape and efficiency). Early fusion: exact Shapley values over the
  modalities' blocks of columns, a missing block standing at its training-fold mean.
- :func:`importance`: grouped permutation importance of each vector branch's declared feature groups
  (``FeatureExtractor.feature_groups``), as the drop of the pipeline's UAR on these rows.
- :func:`top_terms`: the largest coefficients of a linear model (``Model.linear_weights``) over named features.

Everything here is computed from the rows passed in: the benchmark passes a fold's test rows only.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..data.manifest import Manifest
from ..errors import ComponentError
from ..evaluation.attribution import at_class, permutation_importance, shapley
from ..evaluation.metrics import confusion, uar
from ..evaluation.proba import align_proba
from ..plugin.contract import check_explanation, guard, origin, predict_proba
from .arrays import dense as _dense
from .fitted import Pipeline
from .provider import FeatureProvider

MODEL_AGNOSTIC = "exact Shapley values over all coalitions of branches (missing branch = training-fold class prior)"
EARLY_METHOD = "exact Shapley values over each modality's block of columns (missing block = training-fold mean)"
IMPORTANCE_REPEATS = 5
TOP_TERMS = 10


def _late_value(
    fusion: Any, probas: Mapping[str, np.ndarray], prior: np.ndarray, keep: frozenset[str], classes: np.ndarray
) -> np.ndarray:
    rows = len(next(iter(probas.values())))
    given = {k: (v if k in keep else np.tile(prior, (rows, 1))) for k, v in probas.items()}
    with guard(fusion, "predict_proba"):
        P = np.asarray(fusion.predict_proba(given), dtype=np.float64)
    return align_proba(P, np.asarray(fusion.classes_), classes, fusion.name)


def late_shapley(
    fusion: Any, probas: Mapping[str, np.ndarray], prior: np.ndarray, classes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], str]:
    """(fused, baseline, branch → contributions, method), every array rows × ``classes``: the fusion's own
    ``explain()`` where it has one (checked), else exact Shapley values from its ``predict_proba``."""
    keys = sorted(probas)
    fused = _late_value(fusion, probas, prior, frozenset(keys), classes)
    with guard(fusion, "explain"):
        own = fusion.explain(probas, prior)
    if own is None:
        baseline, contrib = shapley(keys, lambda keep: _late_value(fusion, probas, prior, keep, classes))
        return fused, baseline, contrib, MODEL_AGNOSTIC
    baseline = _late_value(fusion, probas, prior, frozenset(), classes)
    if list(np.asarray(fusion.classes_)) != list(classes):  # contributions come in the fusion's class order
        own = {k: align_columns(np.asarray(v, dtype=np.float64), fusion.classes_, classes) for k, v in own.items()}
    contrib = check_explanation(fusion, own, keys, fused.shape, fused - baseline)
    return fused, baseline, contrib, f"{fusion.name}.explain() (checked: shapes, contributions sum to fused − baseline)"


def align_columns(M: np.ndarray, have: Any, want: np.ndarray) -> np.ndarray:
    """Columns of ``M`` (in ``have`` order) put in ``want`` order; zeros for a class it lacks."""
    index = {c: j for j, c in enumerate(have)}
    out = np.zeros((M.shape[0], len(want))) if M.ndim == 2 else M
    if M.ndim != 2:
        return M  # the shape check names it
    for j, c in enumerate(want):
        if c in index and index[c] < M.shape[1]:
            out[:, j] = M[:, index[c]]
    return out


def _early_value(pipe: Pipeline, blocks: Mapping[str, np.ndarray], keep: frozenset[str]) -> np.ndarray:
    given = {
        k: (v if k in keep else np.tile(pipe.block_means_[k], (len(v), 1)).astype(v.dtype)) for k, v in blocks.items()
    }
    with guard(pipe.fusion, "transform"):
        Z = pipe.fusion.transform(given)
    assert pipe.model is not None
    return align_proba(predict_proba(pipe.model, Z), np.asarray(pipe.model.classes_), pipe.classes_, origin(pipe.model))


def attribute(pipe: Pipeline, manifest: Manifest, provider: FeatureProvider | None = None) -> dict[str, Any]:
    """Per row of ``manifest``: the predicted class, its fused probability, the baseline (every modality at
    its reference) and each branch's contribution; contributions sum to fused minus baseline.

    A fusion's own ``explain()`` that returns the wrong shape (or contributions that do not add up) is a
    :class:`ComponentError` naming it."""
    provider = provider or FeatureProvider(pipe.registry)
    if pipe.fusion is None:
        raise ComponentError("a unimodal pipeline has no modalities to attribute; feature importance only")
    keys = sorted(pipe.branches)
    branch_proba: dict[str, np.ndarray] = {}
    if pipe.early:
        blocks = {k: _dense(b.inputs(manifest, provider, fit=False)) for k, b in pipe.branches.items()}
        baseline, contrib = shapley(keys, lambda keep: _early_value(pipe, blocks, keep))
        fused = _early_value(pipe, blocks, frozenset(keys))
        method, reference = EARLY_METHOD, None
    else:
        probas = pipe.branch_probas(manifest, provider)  # memoised: what predict_proba already computed
        branch_proba = probas
        fused, baseline, contrib, method = late_shapley(pipe.fusion, probas, pipe.prior_, pipe.classes_)
        reference = pipe.prior_.tolist()
    predicted = fused.argmax(1)
    return {
        "method": method,
        "branches": keys,
        "modalities": {k: pipe.branches[k].modality for k in keys},
        "ids": [str(i) for i in manifest.ids],
        "predicted": [str(pipe.classes_[i]) for i in predicted],
        "fused": np.round(at_class(fused, predicted), 6).tolist(),
        "baseline": np.round(at_class(baseline, predicted), 6).tolist(),
        "contributions": {k: np.round(at_class(contrib[k], predicted), 6).tolist() for k in keys},
        "reference": reference,
        "branch_proba": {k: np.round(v, 5).tolist() for k, v in branch_proba.items()},
    }


def _score(pipe: Pipeline, labels: np.ndarray, classes: list[str], P: np.ndarray) -> float:
    return uar(confusion([str(v) for v in labels], [str(v) for v in pipe.classes_[P.argmax(1)]], classes))


def importance(
    pipe: Pipeline,
    manifest: Manifest,
    provider: FeatureProvider | None = None,
    repeats: int = IMPORTANCE_REPEATS,
    seed: int = 0,
) -> dict[str, dict[str, list[float]]]:
    """branch → feature group → UAR drop per repeat when that group is shuffled across these rows; only
    branches whose extractor declares groups of its vector columns. The rest of the pipeline is as fitted
    (other branches' probabilities are those already computed)."""
    provider = provider or FeatureProvider(pipe.registry)
    labels = np.asarray(manifest.labels)
    classes = sorted({str(c) for c in pipe.classes_} | {str(v) for v in labels})
    out: dict[str, dict[str, list[float]]] = {}
    for key, branch in sorted(pipe.branches.items()):
        ext = branch.extractor
        if ext is None or ext.output != "vector":
            continue
        with guard(ext, "feature_groups"):
            groups = ext.feature_groups()
        if not groups:
            continue
        X = _dense(branch.inputs(manifest, provider, fit=False)).astype(np.float64)
        width = X.shape[1]
        bad = [g for g, cols in groups.items() if any(not 0 <= int(c) < width for c in cols)]
        if bad:
            raise ComponentError(f"{origin(ext)}: feature_groups() names columns outside its {width} for {bad}")
        if pipe.early:
            blocks = {k: _dense(b.inputs(manifest, provider, fit=False)) for k, b in pipe.branches.items()}

            def score(Xp: np.ndarray, branch: Any = branch, key: str = key, blocks: Any = blocks) -> float:
                with guard(pipe.fusion, "transform"):
                    Z = pipe.fusion.transform({**blocks, key: Xp})
                assert pipe.model is not None
                P = align_proba(
                    predict_proba(pipe.model, Z), np.asarray(pipe.model.classes_), pipe.classes_, origin(pipe.model)
                )
                return _score(pipe, labels, classes, P)
        else:
            probas = pipe.branch_probas(manifest, provider)

            def score(Xp: np.ndarray, branch: Any = branch, key: str = key, blocks: Any = probas) -> float:
                model = branch.model
                Pb = align_proba(predict_proba(model, Xp), np.asarray(model.classes_), pipe.classes_, origin(model))
                if pipe.fusion is None:
                    return _score(pipe, labels, classes, Pb)
                with guard(pipe.fusion, "predict_proba"):
                    P = np.asarray(pipe.fusion.predict_proba({**blocks, key: Pb}), dtype=np.float64)
                return _score(pipe, labels, classes, P)

        out[key] = permutation_importance(score, X, groups, repeats, seed)
    return out


def top_terms(pipe: Pipeline, k: int = TOP_TERMS) -> dict[str, dict[str, list[tuple[str, float]]]]:
    """branch → class → its ``k`` terms of largest positive coefficient, for text branches whose model is
    linear (``Model.linear_weights``) over named features (``FeatureExtractor.feature_names``)."""
    out: dict[str, dict[str, list[tuple[str, float]]]] = {}
    for key, branch in sorted(pipe.branches.items()):
        if branch.modality != "text" or branch.extractor is None or branch.model is None or pipe.early:
            continue
        with guard(branch.model, "linear_weights"):
            W = branch.model.linear_weights()
        with guard(branch.extractor, "feature_names"):
            names = branch.extractor.feature_names()
        if W is None or not names:
            continue
        W = np.asarray(W, dtype=np.float64)
        if W.shape != (len(branch.model.classes_), len(names)):
            raise ComponentError(
                f"{origin(branch.model)}: linear_weights() has shape {W.shape}, expected "
                f"({len(branch.model.classes_)} classes × {len(names)} features)"
            )
        out[key] = {
            str(c): [(names[j], round(float(W[i, j]), 6)) for j in np.argsort(-W[i])[:k] if W[i, j] > 0]
            for i, c in enumerate(branch.model.classes_)
        }
    return out


def explain_fold(
    pipe: Pipeline, manifest: Manifest, provider: FeatureProvider, repeats: int = IMPORTANCE_REPEATS, seed: int = 0
) -> dict[str, Any]:
    """Attribution, importance and top terms of a fitted pipeline on ``manifest`` (a fold's test rows), as JSON
    values; a part that fails is recorded under ``errors`` with the component named, the others are kept."""
    out: dict[str, Any] = {"errors": {}, "seconds": {}, "cpu_seconds": {}}
    parts: list[tuple[str, Any]] = [
        ("importance", lambda: importance(pipe, manifest, provider, repeats, seed)),
        ("top_terms", lambda: top_terms(pipe)),
    ]
    if pipe.fusion is not None:
        parts.insert(0, ("attribution", lambda: attribute(pipe, manifest, provider)))
    for name, compute in parts:
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            out[name] = compute()
        except Exception as exc:  # noqa: BLE001 — one failing part does not cost the others or the fold
            out["errors"][name] = str(exc) if isinstance(exc, ComponentError) else f"{type(exc).__name__}: {exc}"
        out["seconds"][name] = round(time.perf_counter() - t0, 5)
        out["cpu_seconds"][name] = round(time.process_time() - c0, 5)
    return out
