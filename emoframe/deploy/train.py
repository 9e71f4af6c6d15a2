"""Fit one pipeline on all the rows of its corpus (or of one split) and write it as a bundle.

The rows an extractor cannot process are left out and reported, as in a benchmark. Trained
from a stored run, the bundle carries that run's figures for this pipeline (UAR with its
interval, fusion gain, protocol), so it says how good it is and on what.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.digest import manifest_fingerprint
from ..data.source import check_audio_rows, load_data, transcript_warnings
from ..errors import ComponentError, DataError, StaleResultsError
from ..evaluation.failures import group_failures
from ..features import FeatureCache
from ..pipeline import FeatureProvider, Pipeline
from ..plugin.registry import Registry, get_registry
from ..results.leaderboard import LeaderboardRow
from ..spec import PipelineSpec
from ..workers import Limits
from .bundle import feature_widths, write_bundle


@dataclass
class TrainOutcome:
    """Where the bundle went, how many rows it learned from, and the rows left out (id, reason)."""

    path: Path
    rows: int
    seconds: float
    left_out: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class StoredPipeline:
    """A pipeline chosen from a stored run: its spec, its evaluation figures, its leaderboard row."""

    spec: PipelineSpec
    figures: dict[str, Any]
    row: LeaderboardRow


def stored_pipeline(
    store: Any, run_id: str | None, pipeline: str, registry: Registry | None = None
) -> tuple[PipelineSpec, dict[str, Any]]:
    """A stored run's pipeline and its evaluation figures (``base_dir`` in them: where the run's spec file
    was, against which its relative manifest paths resolve). References: :mod:`emoframe.results.resolve`."""
    chosen = choose_stored_pipeline(store, run_id, pipeline, registry)
    return chosen.spec, chosen.figures


def choose_stored_pipeline(
    store: Any, run_id: str | None, pipeline: str, registry: Registry | None = None
) -> StoredPipeline:
    """The pipeline ``pipeline`` names (a rank, an id prefix, a label) in the run ``run_id`` names (None:
    the latest run), with its figures and leaderboard row, by the one resolver every face uses.

    With ``registry``, a run whose stored figures were computed by code that changed since is refused
    (:class:`StaleResultsError`): its figures, and so its ranks, are not those of the code a bundle would
    be trained with today."""
    from ..results.code_check import changed_since_stored, describe_changes
    from ..results.leaderboard import resolve_pipeline

    run_id, row = resolve_pipeline(store, run_id, pipeline)
    changed = changed_since_stored(store, run_id, registry) if registry is not None else {}
    if changed:
        raise StaleResultsError(
            "; ".join(describe_changes(changed, run_id))
            + ". A bundle would be trained with today's code but carry the older code's figures and rank: "
            "rerun the benchmark first, then train"
        )
    run = store.run(run_id)
    p = next(p for p in store.pipelines(run_id) if p["id"] == row.id)
    spec = PipelineSpec.model_validate(p["spec"])
    ev = spec.evaluation
    figures = {
        "run": run["id"],
        "run_name": run["name"],
        "pipeline_id": p["id"],
        "rank": row.rank,
        "protocol": ev.protocol,
        "folds": run["n_folds"],
        "rows": row.n,
        "classes": run["classes"],
        "status": row.status,
        "base_dir": run.get("base_dir"),
    }
    for k in ("uar", "uar_ci_low", "uar_ci_high", "uar_fold_std", "wa", "macro_f1", "gap"):
        value = getattr(row, k)
        if value is not None:
            figures[k] = float(value)
    if row.gain_pts is not None:
        figures["fusion_gain_pts"] = row.gain_pts
        figures["fusion_gain_ci_pts"] = [row.gain_ci_low_pts, row.gain_ci_high_pts]
        figures["verdict"] = row.verdict
    return StoredPipeline(spec, figures, row)


def train_bundle(
    spec: PipelineSpec,
    out: str | Path,
    registry: Registry | None = None,
    workdir: str | Path | None = None,
    base_dir: str | Path | None = None,
    split: str | None = None,
    jobs: int | None = None,
    evaluation: dict[str, Any] | None = None,
    use_cache: bool = True,
    force: bool = False,
    progress: bool | Callable[[str, int, int], None] = False,
    limits: Limits | None = None,
) -> TrainOutcome:
    """Fit ``spec`` on its data (only rows whose ``split`` is ``split`` when given) and bundle it."""
    registry = registry or get_registry()
    t0 = time.perf_counter()
    wd = Path(workdir) if workdir is not None else None
    manifest = load_data(spec.data, registry, base_dir, workdir=wd)
    if split is not None:
        if "split" not in manifest.frame:
            raise DataError(f"{manifest.name}: --split {split} given but the manifest has no 'split' column")
        keep = manifest.frame["split"].astype(str).str.strip().str.lower() == split.lower()
        if not keep.any():
            found = sorted(set(manifest.frame["split"].astype(str)))
            raise DataError(f"{manifest.name}: no row has split '{split}' (the splits are {', '.join(found)})")
        manifest = manifest.subset(keep.to_numpy())
    check_audio_rows([spec], manifest)
    data_warnings = transcript_warnings([spec], manifest)
    cache = FeatureCache(wd / "cache") if (use_cache and wd is not None) else None
    provider = FeatureProvider(registry, cache=cache, jobs=jobs, progress=progress, limits=limits)
    pipeline = Pipeline(spec, registry)
    asr = None
    if spec.uses_asr:
        from ..features.transcripts import add_transcripts

        assert spec.data.transcriber is not None  # validation: asr needs a transcriber
        manifest, asr, failed = add_transcripts(
            spec.data.transcriber,
            manifest,
            registry,
            cache,
            limits,
            max_failure_share=spec.evaluation.max_failure_share,
        )
        if failed is not None:
            raise ComponentError(f"ASR transcripts: {failed}")
    refs = pipeline.stateless_refs()
    usable = provider.usable(refs, manifest)
    left_out = [record for r in refs for record in provider.left_out(r, manifest)]
    if len(np.unique(usable.labels)) < 2:
        why = "".join(f"\n  left out {g.line()}" for g in group_failures(left_out))  # raised: nothing printed them
        raise DataError(
            f"{manifest.name}: {len(usable)} usable row(s) hold fewer than two classes; nothing to train "
            f"({len(left_out)} row(s) left out{':' if why else ''}){why}"
        )
    pipeline.fit(usable, provider)
    training = {
        "corpus": manifest.name,
        "manifest_digest": manifest_fingerprint(manifest),
        "rows": len(usable),
        "left_out": len(manifest) - len(usable),
        "split": split,
        "labels": {str(k): int(v) for k, v in zip(*np.unique(usable.labels, return_counts=True))},
        "speakers": int(len(np.unique(usable.speakers))),
        "fit_seconds": round(time.perf_counter() - t0, 2),
    }
    if asr is not None:
        training["asr"] = {k: v for k, v in asr.to_dict().items() if k != "failures"}
    if pipeline.tuning_ is not None:  # nested tuning on all training rows: the bundle holds the refit it chose
        tuned = pipeline.tuning_
        training["tuning"] = {
            "chosen": tuned.chosen,
            "score": tuned.score,
            "metric": tuned.metric,
            "trials": tuned.budget,
        }
    widths = feature_widths(pipeline, usable, provider)  # an extractor whose output changes is named at predict
    path = write_bundle(pipeline, out, training, evaluation, registry, force=force, widths=widths)
    return TrainOutcome(path, len(usable), time.perf_counter() - t0, left_out, data_warnings + provider.warnings())
