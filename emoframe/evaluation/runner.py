"""Evaluate one pipeline under its protocol: folds, metrics with spread, fusion gain, generalisation gap."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..data.manifest import Manifest
from ..data.source import load_data
from ..errors import DataError
from ..pipeline import FeatureProvider, Pipeline
from ..registry import Registry, get_registry
from ..spec import BranchSpec, PipelineSpec
from .metrics import all_metrics, confusion, uar
from .overlap import overlap_warning, transcript_overlap
from .splits import assert_disjoint, outer_folds
from .stats import bootstrap_ci, mean_std, paired_gain, verdict

Progress = Callable[[str], None]


@dataclass
class FoldResult:
    fold: int
    test_ids: list[str]
    y_true: list[str]
    y_pred: list[str]
    proba: list[list[float]]
    train_uar: float
    test_uar: float
    fit_s: float
    predict_s: float
    parts: dict[str, list[str]] = field(default_factory=dict)  # unimodal predictions on the same test rows
    n_train: int = 0
    train_speakers: list[str] = field(default_factory=list)
    test_speakers: list[str] = field(default_factory=list)


@dataclass
class EvaluationResult:
    """Everything a report needs about one pipeline under one protocol."""

    pipeline: str
    spec: dict[str, Any]
    protocol: str
    classes: list[str]
    folds: list[FoldResult]
    metrics: dict[str, Any]
    uar_mean: float
    uar_std: float
    uar_ci: tuple[float, float]
    gap_mean: float
    gap_std: float
    fit_s: float
    predict_s: float
    fusion_gain: dict[str, Any] | None = None
    verdict: str | None = None
    warnings: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        lo, hi = self.uar_ci
        return (f"UAR {self.uar_mean:.3f} ± {self.uar_std:.3f} (95% CI {lo:.3f}–{hi:.3f}), WA {self.metrics['wa']:.3f}, "
                f"macro-F1 {self.metrics['macro_f1']:.3f}, gap {self.gap_mean:+.3f}")


def part_specs(spec: PipelineSpec) -> dict[str, PipelineSpec]:
    """The unimodal pipelines a fused pipeline is compared with (its own branches, same models)."""
    if spec.fusion is None:
        return {}
    parts = {}
    for key, branch in spec.branches.items():
        model = spec.model if branch.model is None else branch.model
        parts[key] = PipelineSpec(data=spec.data, evaluation=spec.evaluation,
                                  branches={key: BranchSpec(**{**branch.model_dump(), "model": model})})
    return parts


def _subset(manifest: Manifest, idx: np.ndarray) -> Manifest:
    mask = np.zeros(len(manifest), dtype=bool)
    mask[idx] = True
    return manifest.subset(mask)


def evaluate(spec: PipelineSpec, registry: Registry | None = None, manifest: Manifest | None = None,
             provider: FeatureProvider | None = None, progress: Progress | None = None,
             test_manifest: Manifest | None = None) -> EvaluationResult:
    """Cross-validate ``spec`` under its protocol; nothing fitted ever sees a test row."""
    registry = registry or get_registry()
    provider = provider or FeatureProvider(registry)
    ev = spec.evaluation
    say = progress or (lambda msg: None)
    manifest = manifest if manifest is not None else load_data(spec.data, registry)
    warnings = list(manifest.warnings)
    probe = Pipeline(spec, registry)
    refs = probe.stateless_refs()
    if ev.protocol == "cross_corpus":
        test_manifest = test_manifest if test_manifest is not None else load_data(ev.test, registry)  # type: ignore[arg-type]
        warnings += test_manifest.warnings
        common = sorted(set(manifest.labels) & set(test_manifest.labels))
        if len(common) < 2:
            raise DataError(f"cross_corpus: the corpora share {len(common)} label(s) ({', '.join(common)}); "
                            "map both to the common vocabulary or keep shared classes with data.classes")
        manifest, test_manifest = manifest.keep_classes(common), test_manifest.keep_classes(common)
    usable = provider.usable(refs, manifest)
    failures = {i: "; ".join(f"{r.name}: {provider.failures[r.name][i]}" for r in refs if i in provider.failures.get(r.name, {}))
                for i in set(manifest.ids) - set(usable.ids)}
    if ev.protocol == "cross_corpus":
        test_usable = provider.usable(refs, test_manifest)  # type: ignore[arg-type]
        failures.update({i: "not extracted" for i in set(test_manifest.ids) - set(test_usable.ids)})  # type: ignore[union-attr]
        splits = [(usable, test_usable)]
        classes = np.unique(np.concatenate([usable.labels, test_usable.labels]))
    else:
        split_col = usable.frame["split"].to_numpy() if "split" in usable.frame else None
        splits = [(_subset(usable, tr), _subset(usable, te))
                  for tr, te in outer_folds(ev.protocol, usable.labels, usable.speakers, split_col, ev.folds, ev.seed)]
        classes = np.unique(usable.labels)
    if failures:
        warnings.append(f"{len(failures)} utterance(s) left out: no features (see failures)")
    has_text = any(b.modality == "text" for b in probe.branches.values())
    parts = part_specs(spec)
    folds: list[FoldResult] = []
    overlap = [0, 0]
    for f, (train, test) in enumerate(splits):
        if ev.protocol in ("speaker_kfold", "loso"):
            assert_disjoint(train.speakers, test.speakers, f"fold {f + 1}")
        assert not set(train.ids) & set(test.ids), "a sample is in both train and test"
        say(f"fold {f + 1}/{len(splits)}: fitting on {len(train)} utterances")
        t0 = time.perf_counter()
        pipe = Pipeline(spec, registry).fit(train, provider, progress)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        P = pipe.predict_proba(test, provider)
        predict_s = time.perf_counter() - t0
        y_pred = [str(v) for v in pipe.classes_[P.argmax(1)]]
        train_pred = pipe.predict(train, provider)
        part_preds: dict[str, list[str]] = {}
        if parts:
            if not pipe.early:  # the fused pipeline's own branches are exactly its unimodal parts
                for k, Pk in pipe.branch_probas(test, provider).items():
                    part_preds[k] = [str(v) for v in pipe.classes_[Pk.argmax(1)]]
            else:
                for k, pspec in parts.items():
                    part = Pipeline(pspec, registry).fit(train, provider)
                    part_preds[k] = [str(v) for v in part.predict(test, provider)]
        if has_text:
            hits, total = transcript_overlap(train.texts, test.texts)
            overlap[0] += hits
            overlap[1] += total
        fold_classes = list(classes)
        folds.append(FoldResult(
            fold=f + 1, test_ids=list(test.ids), y_true=[str(v) for v in test.labels], y_pred=y_pred,
            proba=np.round(align_to(P, pipe.classes_, classes), 5).tolist(),
            train_uar=uar(confusion([str(v) for v in train.labels], [str(v) for v in train_pred], fold_classes)),
            test_uar=uar(confusion([str(v) for v in test.labels], y_pred, fold_classes)),
            fit_s=fit_s, predict_s=predict_s, parts=part_preds, n_train=len(train),
            train_speakers=sorted(set(train.speakers)), test_speakers=sorted(set(test.speakers))))
    y_true = [v for fr in folds for v in fr.y_true]
    y_pred = [v for fr in folds for v in fr.y_pred]
    cls = [str(c) for c in classes]
    metrics = all_metrics(y_true, y_pred, cls)
    uar_mean, uar_std = mean_std([fr.test_uar for fr in folds])
    if len(folds) == 1:
        uar_mean = metrics["uar"]
    gap_mean, gap_std = mean_std([fr.train_uar - fr.test_uar for fr in folds])
    gain = None
    if parts:
        gain = paired_gain(y_true, y_pred, {k: [v for fr in folds for v in fr.parts[k]] for k in parts}, cls,
                           n=ev.bootstrap, seed=ev.seed)
    warn = overlap_warning(*overlap)
    if warn:
        warnings.append(warn)
    return EvaluationResult(
        pipeline=spec.display_name, spec=spec.to_dict(), protocol=ev.protocol, classes=cls, folds=folds,
        metrics=metrics, uar_mean=uar_mean, uar_std=uar_std,
        uar_ci=bootstrap_ci(y_true, y_pred, cls, n=ev.bootstrap, seed=ev.seed), gap_mean=gap_mean, gap_std=gap_std,
        fit_s=sum(fr.fit_s for fr in folds), predict_s=sum(fr.predict_s for fr in folds), fusion_gain=gain,
        verdict=verdict(gain) if gain else None, warnings=warnings, failures=failures)


def align_to(P: np.ndarray, model_classes: np.ndarray, classes: np.ndarray) -> np.ndarray:
    index = {c: i for i, c in enumerate(model_classes)}
    out = np.zeros((P.shape[0], len(classes)))
    for j, c in enumerate(classes):
        if c in index:
            out[:, j] = P[:, index[c]]
    return out
