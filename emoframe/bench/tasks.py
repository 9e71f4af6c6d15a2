"""One fold of every pending pipeline of a share group: the unit of work an executor runs.

All pipelines of a fold task share one FoldWork, so each branch model and each fitted
extractor is trained once per fold however many fusions use it. A pipeline that raises is
reported with its error; the others in the fold still run. A task carries everything it
needs, the registry included (pickled as its recipe), so it runs the same in this process,
a forked or spawned worker, or on a Dask worker.
"""

from __future__ import annotations

import sys
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
    repeat: int = 0  # the repeat of the protocol this fold belongs to (its specs carry that repeat's seeds)


@dataclass
class FoldOutcome:
    fold: int
    results: list[tuple[str, FoldResult]]
    errors: list[tuple[str, int, str]]
    shared_hits: int


def reset_peak_memory() -> bool:
    """Start measuring this process's peak resident memory afresh (Linux: /proc/self/clear_refs); False where
    it cannot be reset, and :func:`peak_memory_mb` then reads the peak since the process started."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_memory_mb() -> float:
    """This process's peak resident memory in MB since :func:`reset_peak_memory` (or since it started)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1e3
    except (OSError, ValueError, IndexError):
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak / 1e3


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
        note(f"running {label} in fold {task.fold}" + (f" of repeat {task.repeat + 1}" if task.repeat else ""))
        reset_peak_memory()  # each pipeline's own peak, as far as the platform lets it be measured
        try:
            fr = run_fold(spec, task.fold, train, test, task.classes, registry, provider, work, conditions=conditions)
            fr.repeat, fr.peak_mb = task.repeat, round(peak_memory_mb(), 1)
            results.append((pid, fr))
        except Exception as exc:  # noqa: BLE001 — a failing pipeline is recorded, the rest goes on
            errors.append((pid, task.fold, describe_exception(exc)))
    return FoldOutcome(task.fold, results, errors, work.hits)


def pipeline_id(spec: PipelineSpec) -> str:
    return spec.digest()


def branch_keys(spec: PipelineSpec) -> set[str]:
    """The fitted branches a pipeline trains (early fusion: its parts, extractor → the fusion's model)."""
    keys = set()
    for key, b in spec.branches.items():
        model = b.model if b.model is not None else spec.model
        keys.add(
            f"{key}|{b.extractor.model_dump_json() if b.extractor else ''}|{b.normalise}|"
            f"{model.model_dump_json() if model else ''}"
        )
    return keys


def share_groups(specs: list[PipelineSpec]) -> list[set[str]]:
    """Pipelines that share a fitted branch, grouped (union-find): each group is one task per fold,
    so sharing is kept inside a task and independent groups run in parallel."""
    parent = list(range(len(specs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, s in enumerate(specs):
        for k in branch_keys(s):
            if k in owner:
                parent[find(i)] = find(owner[k])
            else:
                owner[k] = i
    groups: dict[int, set[str]] = {}
    for i, s in enumerate(specs):
        groups.setdefault(find(i), set()).add(pipeline_id(s))
    return list(groups.values())
