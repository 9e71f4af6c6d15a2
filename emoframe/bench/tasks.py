"""One fold of every pending pipeline of a share group: the unit of work an executor runs.

All pipelines of a fold task share one FoldWork, so each branch model and each fitted
extractor is trained once per fold however many fusions use it. A pipeline that raises is
reported with its error; the others in the fold still run. A task carries everything it
needs, the registry included (pickled as its recipe), so it runs the same in this process,
a forked or spawned worker, or on a Dask worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..data.manifest import Manifest
from ..errors import describe_exception
from ..evaluation.records import FoldResult
from ..features import FeatureCache
from ..pipeline import FeatureProvider, FoldWork
from ..plugin.registry import Registry
from ..spec import PipelineSpec
from ..workers import note
from .evaluate import run_fold


@dataclass
class FoldTask:
    fold: int
    pipelines: list[tuple[str, dict[str, Any]]]  # (pipeline id, spec)
    train: list[dict[str, Any]]
    test: list[dict[str, Any]]
    classes: list[str]
    cache_root: str | None
    registry: Registry
    conditions: list[tuple[str, str, list[dict[str, Any]]]] = field(default_factory=list)  # name, modality, rows
    names: dict[str, str] = field(default_factory=dict)  # pipeline id → label, for messages


@dataclass
class FoldOutcome:
    fold: int
    results: list[tuple[str, FoldResult]]
    errors: list[tuple[str, int, str]]
    shared_hits: int


def run_task(task: FoldTask) -> FoldOutcome:
    registry = task.registry
    provider = FeatureProvider(registry, cache=FeatureCache(task.cache_root) if task.cache_root else None, jobs=1)
    train = Manifest.from_frame(pd.DataFrame(task.train), require_audio=False)
    test = Manifest.from_frame(pd.DataFrame(task.test), require_audio=False)
    work = FoldWork()
    conditions = {
        name: (
            modality,
            Manifest.from_frame(pd.DataFrame(rows), require_audio=False),
            FeatureProvider(registry, cache=provider.cache, jobs=1),
        )
        for name, modality, rows in task.conditions
    }
    results, errors = [], []
    for pid, spec_dict in task.pipelines:
        spec = PipelineSpec.model_validate(spec_dict)
        label = task.names.get(pid, spec.display_name)
        note(f"running {label} in fold {task.fold}")
        try:
            results.append(
                (
                    pid,
                    run_fold(
                        spec, task.fold, train, test, task.classes, registry, provider, work, conditions=conditions
                    ),
                )
            )
        except Exception as exc:  # noqa: BLE001 — a failing pipeline is recorded, the rest goes on
            errors.append((pid, task.fold, describe_exception(exc)))
    return FoldOutcome(task.fold, results, errors, work.hits)
