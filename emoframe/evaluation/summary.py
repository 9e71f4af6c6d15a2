"""Pool a pipeline's folds into its result: metrics, spread, CI, fusion gain, gap, robustness.

Pure: takes records and a spec, touches no data, fits nothing.
"""

from __future__ import annotations

from typing import Any

from ..spec import BranchSpec, PipelineSpec
from .metrics import all_metrics, confusion, uar
from .overlap import overlap_warning
from .records import EvaluationResult, FoldResult
from .stats import bootstrap_ci, mean_std, paired_gain, verdict


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
