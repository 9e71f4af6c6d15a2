"""One fold of every pending pipeline: the unit of work an executor runs.

All pipelines of a fold share one FoldWork, so each branch model and each fitted extractor
is trained once per fold however many fusions use it. A pipeline that raises is reported
with its error; the others in the fold still run.
"""
from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..data.manifest import Manifest
from ..evaluation.records import FoldResult
from .evaluate import run_fold
from ..features import FeatureCache
from ..pipeline import FeatureProvider, FoldWork
from ..registry import Registry, get_registry
from ..spec import PipelineSpec

#: the registry fold tasks use when run in this process or a forked child (tests add plugins to it)
_REGISTRY: Registry | None = None


def use_registry(registry: Registry | None) -> None:
    global _REGISTRY
    _REGISTRY = registry


@dataclass
class FoldTask:
    fold: int
    pipelines: list[tuple[str, dict[str, Any]]]  # (pipeline id, spec)
    train: list[dict[str, Any]]
    test: list[dict[str, Any]]
    classes: list[str]
    cache_root: str | None
    conditions: list[tuple[str, str, list[dict[str, Any]]]] = None  # type: ignore[assignment]  # name, modality, rows


@dataclass
class FoldOutcome:
    fold: int
    results: list[tuple[str, FoldResult]]
    errors: list[tuple[str, int, str]]
    shared_hits: int


def run_task(task: FoldTask, progress: Any = None) -> FoldOutcome:
    if "torch" in sys.modules and progress is None:  # workers: one intra-op thread each, no oversubscription
        sys.modules["torch"].set_num_threads(1)
    registry = _REGISTRY or get_registry()
    provider = FeatureProvider(registry, cache=FeatureCache(task.cache_root) if task.cache_root else None, jobs=1)
    train = Manifest.from_frame(pd.DataFrame(task.train), require_audio=False)
    test = Manifest.from_frame(pd.DataFrame(task.test), require_audio=False)
    work = FoldWork()
    conditions = {
        name: (modality, Manifest.from_frame(pd.DataFrame(rows), require_audio=False),
               FeatureProvider(registry, cache=provider.cache, jobs=1))
        for name, modality, rows in (task.conditions or [])}
    results, errors = [], []
    for pid, spec_dict in task.pipelines:
        spec = PipelineSpec.model_validate(spec_dict)
        if progress is not None:
            progress("pipeline_start", pid, task.fold)
        try:
            results.append((pid, run_fold(spec, task.fold, train, test, task.classes, registry, provider, work,
                                          conditions=conditions)))
        except Exception as exc:  # noqa: BLE001 — a failing pipeline is recorded, the rest goes on
            frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            where = f" (at {frame.filename.rsplit('/', 1)[-1]}:{frame.lineno})" if frame else ""
            errors.append((pid, task.fold, f"{type(exc).__name__}: {exc}{where}"))
        if progress is not None:
            progress("pipeline_done", pid, task.fold)
    return FoldOutcome(task.fold, results, errors, work.hits)
