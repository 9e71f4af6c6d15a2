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
from ..pipeline import FeatureProvider, FoldWork, Pipeline, align_proba
from ..registry import Registry, get_registry
from ..spec import BranchSpec, PipelineSpec
from .metrics import all_metrics, confusion, uar
from .overlap import overlap_warning, transcript_overlap
from .splits import LeakageError, assert_disjoint, outer_folds
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
    overlap: list[int] = field(default_factory=lambda: [0, 0])  # test transcripts seen in training, non-empty ones
    robustness: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # condition → test ids, predictions


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
    robustness: dict[str, dict[str, Any]] = field(default_factory=dict)  # condition → UAR, delta vs clean, rows

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


@dataclass
class Plan:
    """The rows and folds one protocol gives: shared by every pipeline of a benchmark."""

    splits: list[tuple[Manifest, Manifest]]
    classes: list[str]
    warnings: list[str]
    failures: dict[str, str]


def plan(spec: PipelineSpec, registry: Registry, provider: FeatureProvider, refs: list[Any],
         manifest: Manifest | None = None, test_manifest: Manifest | None = None) -> Plan:
    """Load the data, keep the rows every extractor in ``refs`` could process, and cut the folds."""
    ev = spec.evaluation
    manifest = manifest if manifest is not None else load_data(spec.data, registry)
    warnings = list(manifest.warnings)
    if ev.protocol == "cross_corpus":
        test_manifest = test_manifest if test_manifest is not None else load_data(ev.test, registry)  # type: ignore[arg-type]
        warnings += test_manifest.warnings
        common = sorted(set(manifest.labels) & set(test_manifest.labels))
        if len(common) < 2:
            raise DataError(f"cross_corpus: the corpora share {len(common)} label(s) ({', '.join(common)}); "
                            "map both to the common vocabulary or keep shared classes with data.classes")
        manifest, test_manifest = manifest.keep_classes(common), test_manifest.keep_classes(common)
        # two corpora may use the same ids (and features are memoised by id): keep the test side apart
        test_manifest = Manifest(test_manifest.frame.assign(id="test:" + test_manifest.frame["id"].astype(str)),
                                 test_manifest.name, test_manifest.root, test_manifest.warnings)
    usable = provider.usable(refs, manifest)

    def reasons(m: Manifest, kept: Manifest) -> dict[str, str]:
        return {i: "; ".join(f"{r.name}: {provider.failures[r.name][i]}" for r in refs
                             if i in provider.failures.get(r.name, {})) or "not extracted"
                for i in sorted(set(m.ids) - set(kept.ids))}

    failures = reasons(manifest, usable)
    if ev.protocol == "cross_corpus":
        test_usable = provider.usable(refs, test_manifest)  # type: ignore[arg-type]
        failures.update(reasons(test_manifest, test_usable))  # type: ignore[arg-type]
        splits = [(usable, test_usable)]
        classes = np.unique(np.concatenate([usable.labels, test_usable.labels]))
    else:
        split_col = usable.frame["split"].to_numpy() if "split" in usable.frame else None
        splits = [(usable.take(tr), usable.take(te))
                  for tr, te in outer_folds(ev.protocol, usable.labels, usable.speakers, split_col, ev.folds, ev.seed)]
        classes = np.unique(usable.labels)
    if failures:
        warnings.append(f"{len(failures)} utterance(s) left out: no features (see failures)")
    for f, (train, test) in enumerate(splits):
        if ev.protocol in ("speaker_kfold", "loso"):
            assert_disjoint(train.speakers, test.speakers, f"fold {f + 1}")
        if set(train.ids) & set(test.ids):
            raise LeakageError(f"fold {f + 1}: a sample is in both train and test")
    return Plan(splits, [str(c) for c in classes], warnings, failures)


Conditions = dict[str, tuple[str, Manifest, FeatureProvider]]  # name → (modality, perturbed test rows, provider)


def run_fold(spec: PipelineSpec, fold: int, train: Manifest, test: Manifest, classes: list[str], registry: Registry,
             provider: FeatureProvider, work: FoldWork | None = None, progress: Progress | None = None,
             conditions: Conditions | None = None) -> FoldResult:
    """Fit on ``train``, predict ``test`` (and its perturbed copies); with its unimodal parts' predictions when fused."""
    work = work or FoldWork()
    cls = np.asarray(classes)
    pipe = Pipeline(spec, registry).fit(train, provider, progress, work)
    fit_s = pipe.fit_seconds  # standalone cost, even when branches were shared with other pipelines
    t0 = time.perf_counter()
    P = pipe.predict_proba(test, provider)
    predict_s = time.perf_counter() - t0
    y_pred = [str(v) for v in pipe.classes_[P.argmax(1)]]
    train_pred = [str(v) for v in pipe.predict(train, provider)]
    part_preds: dict[str, list[str]] = {}
    parts = part_specs(spec)
    if parts and not pipe.early:  # the fused pipeline's own branches are exactly its unimodal parts
        for k, Pk in pipe.branch_probas(test, provider).items():
            part_preds[k] = [str(v) for v in pipe.classes_[Pk.argmax(1)]]
    elif parts:
        for k, pspec in parts.items():
            part = Pipeline(pspec, registry).fit(train, provider, None, work)
            part_preds[k] = [str(v) for v in part.predict(test, provider)]
    hits = total = 0
    if any(b.modality == "text" for b in pipe.branches.values()):
        hits, total = transcript_overlap(train.texts, test.texts)
    robustness = {}
    modalities = {b.modality for b in pipe.branches.values()}
    for name, (modality, perturbed, cond_provider) in (conditions or {}).items():
        if modality not in modalities:
            continue  # the perturbation does not touch this pipeline's input
        rows = cond_provider.usable(pipe.stateless_refs(), perturbed)
        Pc = pipe.predict_proba(rows, cond_provider)
        robustness[name] = {"ids": [str(i) for i in rows.ids], "y_pred": [str(v) for v in pipe.classes_[Pc.argmax(1)]]}
    return FoldResult(
        fold=fold, test_ids=[str(i) for i in test.ids], y_true=[str(v) for v in test.labels], y_pred=y_pred,
        proba=np.round(align_proba(P, pipe.classes_, cls, spec.display_name), 5).tolist(),
        train_uar=uar(confusion([str(v) for v in train.labels], train_pred, classes)),
        test_uar=uar(confusion([str(v) for v in test.labels], y_pred, classes)),
        fit_s=fit_s, predict_s=predict_s, parts=part_preds, n_train=len(train),
        train_speakers=sorted(set(map(str, train.speakers))), test_speakers=sorted(set(map(str, test.speakers))),
        overlap=[hits, total], robustness=robustness)


def summarise(spec: PipelineSpec, folds: list[FoldResult], classes: list[str], warnings: list[str] | None = None,
              failures: dict[str, str] | None = None) -> EvaluationResult:
    """Pool the folds: metrics, spread, CI, fusion gain and verdict, gap, overlap warning."""
    ev = spec.evaluation
    folds = sorted(folds, key=lambda f: f.fold)
    y_true = [v for fr in folds for v in fr.y_true]
    y_pred = [v for fr in folds for v in fr.y_pred]
    metrics = all_metrics(y_true, y_pred, classes)
    uar_mean, uar_std = mean_std([fr.test_uar for fr in folds])
    if len(folds) == 1:
        uar_mean = metrics["uar"]
    gap_mean, gap_std = mean_std([fr.train_uar - fr.test_uar for fr in folds])
    gain = None
    parts = sorted(folds[0].parts) if folds and folds[0].parts else []
    if parts:
        gain = paired_gain(y_true, y_pred, {k: [v for fr in folds for v in fr.parts[k]] for k in parts}, classes,
                           n=ev.bootstrap, seed=ev.seed)
    warnings = list(warnings or [])
    warn = overlap_warning(sum(fr.overlap[0] for fr in folds), sum(fr.overlap[1] for fr in folds))
    if warn:
        warnings.append(warn)
    return EvaluationResult(
        robustness=robustness_summary(folds, classes),
        pipeline=spec.display_name, spec=spec.to_dict(), protocol=ev.protocol, classes=list(classes), folds=folds,
        metrics=metrics, uar_mean=uar_mean, uar_std=uar_std,
        uar_ci=bootstrap_ci(y_true, y_pred, classes, n=ev.bootstrap, seed=ev.seed), gap_mean=gap_mean,
        gap_std=gap_std, fit_s=sum(fr.fit_s for fr in folds), predict_s=sum(fr.predict_s for fr in folds),
        fusion_gain=gain, verdict=verdict(gain) if gain else None, warnings=warnings, failures=dict(failures or {}))


def robustness_summary(folds: list[FoldResult], classes: list[str]) -> dict[str, dict[str, Any]]:
    """Per condition: UAR on the perturbed test rows and its change from clean UAR on the same rows."""
    truth = {i: t for fr in folds for i, t in zip(fr.test_ids, fr.y_true)}
    clean = {i: p for fr in folds for i, p in zip(fr.test_ids, fr.y_pred)}
    out: dict[str, dict[str, Any]] = {}
    for name in sorted({n for fr in folds for n in fr.robustness}):
        ids = [i for fr in folds for i in fr.robustness.get(name, {}).get("ids", [])]
        preds = [p for fr in folds for p in fr.robustness.get(name, {}).get("y_pred", [])]
        if not ids:
            continue
        y = [truth[i] for i in ids]
        perturbed = uar(confusion(y, preds, classes))
        reference = uar(confusion(y, [clean[i] for i in ids], classes))
        out[name] = {"uar": perturbed, "clean_uar": reference, "delta": perturbed - reference, "rows": len(ids)}
    return out


def evaluate(spec: PipelineSpec, registry: Registry | None = None, manifest: Manifest | None = None,
             provider: FeatureProvider | None = None, progress: Progress | None = None,
             test_manifest: Manifest | None = None) -> EvaluationResult:
    """Cross-validate ``spec`` under its protocol; nothing fitted ever sees a test row."""
    registry = registry or get_registry()
    provider = provider or FeatureProvider(registry)
    say = progress or (lambda msg: None)
    p = plan(spec, registry, provider, Pipeline(spec, registry).stateless_refs(), manifest, test_manifest)
    folds = []
    for f, (train, test) in enumerate(p.splits):
        say(f"fold {f + 1}/{len(p.splits)}: fitting on {len(train)} utterances")
        folds.append(run_fold(spec, f + 1, train, test, p.classes, registry, provider, progress=progress))
    return summarise(spec, folds, p.classes, p.warnings, p.failures)
