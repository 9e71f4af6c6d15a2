"""Pool a pipeline's folds into its result: metrics, spread, CI, fusion gain, gap, robustness.

Pure: takes records and a spec, touches no data, fits nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..spec import BranchSpec, PipelineSpec
from .metrics import all_metrics, confusion, uar
from .overlap import overlap_warning
from .records import EvaluationResult, FoldResult
from .stats import (
    bootstrap_ci,
    mean_std,
    paired_gain,
    repeated_bootstrap_ci,
    repeated_paired_difference,
    repeated_paired_gain,
    verdict,
)


def part_specs(spec: PipelineSpec) -> dict[str, PipelineSpec]:
    """The unimodal pipelines a fused pipeline is compared with (its own branches, same models)."""
    if spec.fusion is None:
        return {}
    parts = {}
    for key, branch in spec.branches.items():
        model = spec.model if branch.model is None else branch.model
        parts[key] = PipelineSpec(
            data=spec.data,
            evaluation=spec.evaluation,
            branches={key: BranchSpec(**{**branch.model_dump(), "model": model})},
        )
    return parts


def summarise(
    spec: PipelineSpec,
    folds: list[FoldResult],
    classes: list[str],
    warnings: list[str] | None = None,
    failures: list[dict[str, str]] | None = None,
) -> EvaluationResult:
    """Pool the folds: metrics, spread, CI, fusion gain and verdict, gap, overlap warning."""
    ev = spec.evaluation
    folds = sorted(folds, key=lambda f: f.fold)
    y_true = [v for fr in folds for v in fr.y_true]
    y_pred = [v for fr in folds for v in fr.y_pred]
    metrics = all_metrics(y_true, y_pred, classes)
    # each fold's UAR from its own predictions, as the pooled one is: no figure rests on a stored number
    uar_mean, uar_std = mean_std([uar(confusion(fr.y_true, fr.y_pred, classes)) for fr in folds])
    gap_mean, gap_std = mean_std([fr.train_uar - fr.test_uar for fr in folds])
    gain = None
    parts = sorted(folds[0].parts) if folds and folds[0].parts else []
    if parts:
        gain = paired_gain(
            y_true,
            y_pred,
            {k: [v for fr in folds for v in fr.parts[k]] for k in parts},
            classes,
            n=ev.bootstrap,
            seed=ev.seed,
        )
    warnings = list(warnings or [])
    warn = overlap_warning(sum(fr.overlap[0] for fr in folds), sum(fr.overlap[1] for fr in folds))
    if warn:
        warnings.append(warn)
    return EvaluationResult(
        robustness=robustness_summary(folds, classes),
        pipeline=spec.display_name,
        spec=spec.to_dict(),
        protocol=ev.protocol,
        classes=list(classes),
        folds=folds,
        metrics=metrics,
        uar_mean=uar_mean,
        uar_std=uar_std,
        uar_ci=bootstrap_ci(y_true, y_pred, classes, n=ev.bootstrap, seed=ev.seed),
        gap_mean=gap_mean,
        gap_std=gap_std,
        fit_s=sum(fr.fit_s for fr in folds),
        predict_s=sum(fr.predict_s for fr in folds),
        fusion_gain=gain,
        verdict=verdict(gain) if gain else None,
        warnings=warnings,
        failures=list(failures or []),
    )


def shared_rows(folds_by_repeat: Mapping[Any, list[FoldResult]]) -> list[str]:
    """The test rows every repeat scored (each repeat of a complete protocol scores every row once), in a
    fixed order: what the figures over repeats are computed on."""
    sets = [{i for fr in folds for i in fr.test_ids} for folds in folds_by_repeat.values()]
    return sorted(set.intersection(*sets)) if sets else []


def by_row(folds: list[FoldResult], key: str = "y_pred", part: str | None = None) -> dict[str, str]:
    """Row id → its label (``y_true``), prediction (``y_pred``) or a part's prediction, over a repeat's folds."""
    out: dict[str, str] = {}
    for fr in folds:
        values = fr.parts[part] if part is not None else getattr(fr, key)
        out.update(zip(fr.test_ids, values))
    return out


def repeated_difference(
    a: Mapping[int, list[FoldResult]], b: Mapping[int, list[FoldResult]], classes: list[str], n: int, seed: int
) -> dict[str, Any] | None:
    """A against B over every repeat of each (repeat → its folds), on the rows every repeat of both scored
    (:func:`emoframe.evaluation.stats.repeated_paired_difference`); None without such rows. What ``compare``
    and tuned − default say over repeats."""
    rows = shared_rows({**{("a", r): f for r, f in a.items()}, **{("b", r): f for r, f in b.items()}})
    if not rows:
        return None
    truth = by_row(next(iter(a.values())), "y_true")
    return repeated_paired_difference(
        [truth[i] for i in rows],
        [[p[i] for i in rows] for p in (by_row(f) for f in a.values())],
        [[p[i] for i in rows] for p in (by_row(f) for f in b.values())],
        classes,
        n=n,
        seed=seed,
    )


def summarise_repeats(
    spec: PipelineSpec,
    folds_by_repeat: dict[int, list[FoldResult]],
    classes: list[str],
    warnings: list[str] | None = None,
    failures: list[dict[str, str]] | None = None,
) -> EvaluationResult:
    """Pool several repeats of the protocol (``evaluation.repeats``). One repeat: exactly :func:`summarise`.

    On the rows every repeat scored: the metrics pool every repeat's predictions (each row once per repeat,
    so the UAR is the mean of the repeats' UARs); the CI and the fusion gain's CI resample utterances (the
    same draw in every repeat) and average the repeats' figures (:func:`repeated_bootstrap_ci`). The fold
    mean ± std is over every fold of every repeat, the repeat std over the repeats' UARs; fit and predict
    seconds are per repeat (mean over repeats); robustness comes from repeat 0 (the perturbed rows are the
    same in every repeat)."""
    repeats = {r: sorted(f, key=lambda fr: fr.fold) for r, f in sorted(folds_by_repeat.items()) if f}
    if len(repeats) <= 1:
        only = next(iter(repeats.values()), [])
        return summarise(spec, only, classes, warnings, failures)
    ev = spec.evaluation
    rows = shared_rows(repeats)
    truth = by_row(next(iter(repeats.values())), "y_true")
    y_true = [truth[i] for i in rows]
    preds = [[p[i] for i in rows] for p in (by_row(f) for f in repeats.values())]
    every = [fr for f in repeats.values() for fr in f]
    metrics = all_metrics(y_true * len(preds), [p for ps in preds for p in ps], classes)
    per_repeat = [uar(confusion(y_true, p, classes)) for p in preds]
    uar_mean, uar_std = mean_std([uar(confusion(fr.y_true, fr.y_pred, classes)) for fr in every])
    gap_mean, gap_std = mean_std([fr.train_uar - fr.test_uar for fr in every])
    gain = None
    parts = sorted(every[0].parts) if every[0].parts else []
    if parts and rows:
        gain = repeated_paired_gain(
            y_true,
            preds,
            {k: [[p[i] for i in rows] for p in (by_row(f, part=k) for f in repeats.values())] for k in parts},
            classes,
            n=ev.bootstrap,
            seed=ev.seed,
        )
    base = summarise(spec, repeats[min(repeats)], classes, warnings, failures)
    return EvaluationResult(
        robustness=base.robustness,
        pipeline=spec.display_name,
        spec=spec.to_dict(),
        protocol=ev.protocol,
        classes=list(classes),
        folds=every,
        metrics=metrics,
        uar_mean=uar_mean,
        uar_std=uar_std,
        uar_ci=repeated_bootstrap_ci(y_true, preds, classes, n=ev.bootstrap, seed=ev.seed) if rows else base.uar_ci,
        gap_mean=gap_mean,
        gap_std=gap_std,
        fit_s=sum(fr.fit_s for fr in every) / len(repeats),
        predict_s=sum(fr.predict_s for fr in every) / len(repeats),
        fusion_gain=gain,
        verdict=verdict(gain) if gain else None,
        warnings=base.warnings,
        failures=list(failures or []),
        repeats=len(repeats),
        repeat_uars=[float(u) for u in per_repeat],
        uar_repeat_std=mean_std(per_repeat)[1],
    )


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
