"""Evaluate one pipeline under its protocol: cut the folds, fit and predict each, pool the folds.

The orchestration of pipelines over folds lives here, above the pipeline layer; the pure
pieces it uses (splits, metrics, statistics, pooling) live in ``emoframe.evaluation``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..data.manifest import Manifest
from ..data.source import check_audio_rows, load_data, transcript_warnings
from ..errors import ComponentError, DataError
from ..evaluation.failures import group_failures
from ..evaluation.metrics import confusion, uar
from ..evaluation.overlap import transcript_overlap
from ..evaluation.proba import align_proba
from ..evaluation.records import EvaluationResult, FoldResult
from ..evaluation.repeats import derive_seed
from ..evaluation.splits import LeakageError, assert_disjoint, outer_folds
from ..evaluation.summary import part_specs, summarise_repeats
from ..pipeline import FeatureProvider, FoldWork, Pipeline
from ..pipeline.explain import explain_fold
from ..plugin.registry import Registry, get_registry
from ..spec import ComponentRef, PipelineSpec

Progress = Callable[[str], None]


@dataclass
class Plan:
    """The rows and folds one protocol gives: shared by every pipeline of a benchmark."""

    splits: list[tuple[Manifest, Manifest]]
    classes: list[str]
    warnings: list[str]
    failures: list[dict[str, str]]  # rows left out: id, component, reason
    failed_components: dict[str, str] = field(default_factory=dict)  # ComponentRef.key() → why it failed
    eligible: int = 0  # rows the protocol would evaluate if nothing failed
    rows: Manifest | None = None  # the usable training-side rows the folds were cut from (repeats cut them again)


def component_failures(
    provider: FeatureProvider, refs: list[ComponentRef], sides: list[Manifest], limit: float
) -> dict[str, str]:
    """The extractors that failed on more than ``limit`` of the rows: a failed component, not an odd
    bad file. Their pipelines fail with this message; their failures remove no row from anyone else."""
    for m in sides:  # extractors that can share a pass over each sample share it
        provider.prepare_all(refs, m)
    out = {}
    for ref in refs:
        failed = [record for m in sides for record in provider.left_out(ref, m)]
        total = sum(len(m) for m in sides)
        if total and len(failed) / total > limit:
            reasons = "; ".join(f"{g.reason} ×{g.count}" for g in group_failures(failed)[:3])
            out[ref.key()] = (
                f"{ref.label()} failed on {len(failed)} of {total} rows ({len(failed) / total:.1%}, more than "
                f"evaluation.max_failure_share {limit:.0%}): {reasons}"
            )
    return out


def plan(
    spec: PipelineSpec,
    registry: Registry,
    provider: FeatureProvider,
    refs: list[Any],
    manifest: Manifest | None = None,
    test_manifest: Manifest | None = None,
    pipelines: list[PipelineSpec] | None = None,
) -> Plan:
    """Load the data, keep the rows every extractor in ``refs`` could process, and cut the folds.
    ``pipelines``: every pipeline that will read these rows (a benchmark's), for the data warnings; [spec]."""
    ev = spec.evaluation
    manifest = manifest if manifest is not None else load_data(spec.data, registry)
    warnings = list(manifest.warnings)
    if ev.protocol == "cross_corpus":
        test_manifest = test_manifest if test_manifest is not None else load_data(ev.test, registry)  # type: ignore[arg-type]
        warnings += test_manifest.warnings
        common = sorted(set(manifest.labels) & set(test_manifest.labels))
        if len(common) < 2:
            raise DataError(
                f"cross_corpus: the corpora share {len(common)} label(s) ({', '.join(common)}); "
                "map both to the common vocabulary or keep shared classes with data.classes"
            )
        manifest, test_manifest = manifest.keep_classes(common), test_manifest.keep_classes(common)
        # two corpora may use the same ids (and features are memoised by id): keep the test side apart
        test_manifest = Manifest(
            test_manifest.frame.assign(id="test:" + test_manifest.frame["id"].astype(str)),
            test_manifest.name,
            test_manifest.root,
            test_manifest.warnings,
        )
    sides = [manifest] + ([test_manifest] if test_manifest is not None else [])
    for side in sides:
        check_audio_rows([spec], side)
        warnings += transcript_warnings(pipelines or [spec], side)
    failed_components = component_failures(provider, refs, sides, ev.max_failure_share)
    healthy = [r for r in refs if r.key() not in failed_components]
    usable = provider.usable(healthy, manifest)
    present = np.unique(usable.labels)
    if len(present) < 2:
        raise DataError(
            f"{manifest.name}: the usable rows hold {len(present)} class(es) "
            f"({', '.join(map(str, present))}); emotion recognition needs at least two — check the "
            "labels, data.classes, or why rows were left out"
        )
    # the rows left out, each with every healthy component's reason
    failures = [record for m in sides for r in healthy for record in provider.left_out(r, m)]
    if ev.protocol == "cross_corpus":
        test_usable = provider.usable(healthy, test_manifest)  # type: ignore[arg-type]
        splits = [(usable, test_usable)]
        classes = np.unique(np.concatenate([usable.labels, test_usable.labels]))
        eligible = len(test_manifest)  # type: ignore[arg-type]
    else:
        splits = cut_folds(spec, usable, ev.seed)
        classes = np.unique(usable.labels)
        eligible = (
            int((manifest.frame["split"].astype(str).str.strip().str.lower() == "test").sum())
            if ev.protocol == "predefined" and "split" in manifest.frame
            else len(manifest)
        )
    left_out = len({f["id"] for f in failures})
    if left_out:
        warnings.append(
            f"{left_out} utterance(s) left out of every pipeline: a component could not process them "
            "(`emoframe failures` lists them)"
        )
    check_folds(spec, splits)
    return Plan(splits, [str(c) for c in classes], warnings, failures, failed_components, eligible, usable)


def cut_folds(spec: PipelineSpec, usable: Manifest, seed: int, repeat: int = 0) -> list[tuple[Manifest, Manifest]]:
    """The (train, test) rows of each fold of a single-corpus protocol, its random assignment drawn with
    ``seed`` (the spec's own, or a repeat's: :func:`emoframe.evaluation.repeats.derive_seed`). Repeats after
    the first take the speakers in a seeded random order (:func:`~emoframe.evaluation.splits.random_order_folds`)
    so that each draws its own folds."""
    ev = spec.evaluation
    split_col = usable.frame["split"].to_numpy() if "split" in usable.frame else None
    drawn = {"random_order": True} if repeat > 0 else {}  # repeat 0: the protocol's folds, as without repeats
    return [
        (usable.take(tr), usable.take(te))
        for tr, te in outer_folds(ev.protocol, usable.labels, usable.speakers, split_col, ev.folds, seed, **drawn)
    ]


def check_folds(spec: PipelineSpec, splits: list[tuple[Manifest, Manifest]], what: str = "fold") -> None:
    """No speaker (speaker-independent protocols) and no sample on both sides of any fold: a bug, never a result."""
    for f, (train, test) in enumerate(splits):
        if spec.evaluation.protocol in ("speaker_kfold", "loso"):
            assert_disjoint(train.speakers, test.speakers, f"{what} {f + 1}")
        if set(train.ids) & set(test.ids):
            raise LeakageError(f"{what} {f + 1}: a sample is in both train and test")


Conditions = dict[str, tuple[str, Manifest, FeatureProvider]]  # name → (modality, perturbed test rows, provider)


def run_fold(
    spec: PipelineSpec,
    fold: int,
    train: Manifest,
    test: Manifest,
    classes: list[str],
    registry: Registry,
    provider: FeatureProvider,
    work: FoldWork | None = None,
    progress: Progress | None = None,
    conditions: Conditions | None = None,
) -> FoldResult:
    """Fit on ``train``, predict ``test`` (and its perturbed copies); with its unimodal parts' predictions
    when fused."""
    work = work or FoldWork()
    cls = np.asarray(classes)
    pipe = Pipeline(spec, registry).fit(train, provider, progress, work, labels_only=True)
    fit_s = pipe.fit_seconds  # standalone cost, even when branches were shared with other pipelines
    work.proba_log.clear()
    t0 = time.perf_counter()
    P = pipe.predict_proba(test, provider)
    predict_s = time.perf_counter() - t0
    # standalone too: the branch predictions another pipeline of the fold computed are added back
    alone_s = predict_s + sum(s for s, fresh in work.proba_log if not fresh)
    y_pred = [str(v) for v in pipe.classes_[P.argmax(1)]]
    train_pred = [str(v) for v in pipe.predict(train, provider)]
    part_preds: dict[str, list[str]] = {}
    parts = part_specs(spec)
    if parts and not pipe.early:  # the fused pipeline's own branches are exactly its unimodal parts
        for k, Pk in pipe.branch_probas(test, provider).items():
            part_preds[k] = [str(v) for v in pipe.classes_[Pk.argmax(1)]]
    elif parts:  # early fusion's parts run with the parameters its tuning chose (pipe.spec), none searched
        for k, pspec in part_specs(pipe.spec).items():
            part = Pipeline(pspec, registry).fit(train, provider, None, work, labels_only=True)
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
    explanation = explain_fold(pipe, test, provider, seed=spec.evaluation.seed)  # test rows only
    return FoldResult(
        fold=fold,
        test_ids=[str(i) for i in test.ids],
        y_true=[str(v) for v in test.labels],
        y_pred=y_pred,
        proba=np.round(align_proba(P, pipe.classes_, cls, spec.display_name), 5).tolist(),
        train_uar=uar(confusion([str(v) for v in train.labels], train_pred, classes)),
        test_uar=uar(confusion([str(v) for v in test.labels], y_pred, classes)),
        fit_s=fit_s,
        predict_s=predict_s,
        parts=part_preds,
        n_train=len(train),
        train_speakers=sorted(set(map(str, train.speakers))),
        test_speakers=sorted(set(map(str, test.speakers))),
        overlap=[hits, total],
        robustness=robustness,
        learned=pipe.learned(),
        tuning=pipe.tuning_.to_dict() if pipe.tuning_ is not None else None,
        fit_cpu_s=pipe.fit_cpu_seconds,
        predict_ms=1000 * alone_s / max(1, len(test)),
        state_bytes=pipe.state_bytes(),
        curves=pipe.curves(),
        explanation=explanation,
    )


def repeat_spec(spec: PipelineSpec, repeat: int, registry: Registry) -> PipelineSpec:
    """The pipeline as repeat ``repeat`` runs it: the evaluation seed (inner folds) and every component's own
    ``seed`` parameter (model initialisation, shuffling, calibration; never a cached extractor's) derived for
    the repeat; repeat 0 is the spec itself. The pipeline keeps its id: a repeat is the same pipeline again."""
    if repeat == 0:
        return spec

    def reseed(ref: Any) -> Any:
        if ref is None or ref.name not in registry:
            return ref
        if getattr(registry.get(ref.name).cls, "stateless", False):  # cached features are never drawn again
            return ref
        fields = getattr(registry.get(ref.name).params_model, "model_fields", {})
        if "seed" not in fields:
            return ref
        base = int(ref.params.get("seed", fields["seed"].default or 0))
        return ref.model_copy(update={"params": {**ref.params, "seed": derive_seed(base, repeat)}})

    branches = {
        k: b.model_copy(update={"extractor": reseed(b.extractor), "model": reseed(b.model)})
        for k, b in spec.branches.items()
    }
    evaluation = spec.evaluation.model_copy(update={"seed": derive_seed(spec.evaluation.seed, repeat)})
    update: dict[str, Any] = {"branches": branches, "model": reseed(spec.model), "fusion": reseed(spec.fusion)}
    if spec.tuning is not None:  # nested tuning's inner folds and sampler are drawn again too
        update["tuning"] = spec.tuning.model_copy(update={"seed": derive_seed(spec.tuning.seed, repeat)})
    return spec.model_copy(update={**update, "evaluation": evaluation})


def evaluate(
    spec: PipelineSpec,
    registry: Registry | None = None,
    manifest: Manifest | None = None,
    provider: FeatureProvider | None = None,
    progress: Progress | None = None,
    test_manifest: Manifest | None = None,
) -> EvaluationResult:
    """Cross-validate ``spec`` under its protocol; nothing fitted ever sees a test row."""
    registry = registry or get_registry()
    provider = provider or FeatureProvider(registry)
    say = progress or (lambda msg: None)
    if spec.uses_asr:
        from ..features.transcripts import add_transcripts

        manifest = manifest if manifest is not None else load_data(spec.data, registry)
        assert spec.data.transcriber is not None  # validation: asr needs a transcriber
        manifest, report, failed = add_transcripts(
            spec.data.transcriber,
            manifest,
            registry,
            provider.cache,
            max_failure_share=spec.evaluation.max_failure_share,
        )
        if failed is not None:
            raise ComponentError(f"ASR transcripts: {failed}")
        say(report.line())
    p = plan(spec, registry, provider, Pipeline(spec, registry).stateless_refs(), manifest, test_manifest)
    if p.failed_components:
        raise ComponentError("; ".join(p.failed_components.values()))
    by_repeat: dict[int, list[FoldResult]] = {}
    for r in range(spec.evaluation.n_repeats):  # evaluation.repeats: the folds cut again, seeds derived
        splits = p.splits if r == 0 else cut_folds(spec, p.rows, derive_seed(spec.evaluation.seed, r), r)  # type: ignore[arg-type]
        spec_r = repeat_spec(spec, r, registry)
        for f, (train, test) in enumerate(splits):
            say(f"{f'repeat {r + 1}, ' if r else ''}fold {f + 1}/{len(splits)}: fitting on {len(train)} utterances")
            fr = run_fold(spec_r, f + 1, train, test, p.classes, registry, provider, progress=progress)
            fr.repeat = r
            by_repeat.setdefault(r, []).append(fr)
    return summarise_repeats(spec, by_repeat, p.classes, p.warnings, p.failures)
