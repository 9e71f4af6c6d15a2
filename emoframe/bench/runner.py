"""The resumable benchmark runner: expand the grid, extract once, run pending folds, store each as it finishes."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..data.source import load_data
from .evaluate import plan
from ..features import FeatureCache
from ..pipeline import FeatureProvider, Pipeline
from ..registry import Registry, get_registry
from ..results.store import ResultsStore
from ..spec import BenchmarkSpec, PipelineSpec, pipelines_of
from ..workdir import workdir as default_workdir
from .executors import run_dask, run_local
from .tasks import FoldTask, use_registry

Event = Callable[..., None]


class BenchmarkCancelled(Exception):
    """Raised from an events callback to stop a run; every finished fold is already stored."""


@dataclass
class BenchmarkOutcome:
    run_id: str
    name: str
    pipelines: list[tuple[str, PipelineSpec]]
    n_folds: int
    ran: int = 0
    skipped: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    shared_hits: int = 0


def perturbed_sets(spec: BenchmarkSpec | PipelineSpec, p: Any, registry: Registry, cache: FeatureCache, jobs: int,
                   wd: Path, refs: list[Any], emit: Event) -> list[tuple[Any, Any]]:
    """The robustness conditions with their perturbed copies of every test row, features extracted (cached)."""
    robustness = getattr(spec, "robustness", None)
    if robustness is None:
        return []
    import pandas as pd

    from ..data.manifest import Manifest
    from ..evaluation.perturb import perturbed_manifest

    tested = Manifest(pd.concat([test.frame for _, test in p.splits], ignore_index=True))
    out = []
    for condition in robustness.conditions():
        emit("perturb", condition=condition.name)
        m = perturbed_manifest(tested, condition, wd / "perturbed", robustness.seed)
        FeatureProvider(registry, cache=cache, jobs=jobs).usable(
            [r for r in refs if registry.get(r.name).modality == condition.modality], m)
        out.append((condition, m))
    return out


def pipeline_id(spec: PipelineSpec) -> str:
    return spec.digest()


def branch_keys(spec: PipelineSpec) -> set[str]:
    """The fitted branches a pipeline trains (early fusion: its parts, extractor → the fusion's model)."""
    keys = set()
    for key, b in spec.branches.items():
        model = b.model if b.model is not None else spec.model
        keys.add(f"{key}|{b.extractor.model_dump_json() if b.extractor else ''}|{b.normalise}|"
                 f"{model.model_dump_json() if model else ''}")
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


def run_benchmark(spec: BenchmarkSpec | PipelineSpec, registry: Registry | None = None,
                  workdir: str | Path | None = None, jobs: int | None = None,
                  executor: Literal["local", "dask"] = "local", scheduler: str | None = None, fresh: bool = False,
                  base_dir: str | Path | None = None, events: Event | None = None) -> BenchmarkOutcome:
    """Run (or resume) a benchmark; results go to ``<workdir>/results.db``, one transaction per fold.

    ``events(kind, **info)`` reports progress: plan, fold_done, pipeline_start/done (in-process runs).
    """
    registry = registry or get_registry()
    wd = Path(workdir) if workdir is not None else default_workdir()
    jobs = max(1, jobs or os.cpu_count() or 1)
    emit = events or (lambda kind, **info: None)
    pipelines = [(pipeline_id(p), p) for p in pipelines_of(spec, registry)]
    run_id = spec.digest()
    name = spec.name or (pipelines[0][1].display_name if len(pipelines) == 1 else f"benchmark {run_id[:8]}")
    store = ResultsStore(wd / "results.db")
    try:
        store.begin_run(run_id, name, spec.to_dict(), [(pid, p.display_name, p.to_dict(), p.is_fused)
                                                       for pid, p in pipelines], fresh=fresh)
        cache = FeatureCache(wd / "cache")
        provider = FeatureProvider(registry, cache=cache, jobs=jobs,
                                   progress=lambda done, total: emit("extract", done=done, total=total))
        refs = {r.model_dump_json(): r for _, p in pipelines for r in Pipeline(p, registry).stateless_refs()}
        first = pipelines[0][1]
        manifest = load_data(first.data, registry, base_dir)
        test_manifest = (load_data(first.evaluation.test, registry, base_dir)
                         if first.evaluation.protocol == "cross_corpus" else None)
        p = plan(first, registry, provider, list(refs.values()), manifest, test_manifest)
        store.set_plan(run_id, p.classes, p.warnings, p.failures, len(p.splits))
        conditions = perturbed_sets(spec, p, registry, cache, jobs, wd, list(refs.values()), emit)
        done = set() if fresh else store.finished(run_id)
        tasks = []
        outcome = BenchmarkOutcome(run_id, name, pipelines, len(p.splits))
        groups = share_groups([ps for _, ps in pipelines])
        for f, (train, test) in enumerate(p.splits, start=1):
            pending = [(pid, ps.to_dict()) for pid, ps in pipelines if (pid, f) not in done]
            outcome.skipped += len(pipelines) - len(pending)
            for group in groups:
                members = [(pid, d) for pid, d in pending if pid in group]
                if members:
                    test_ids = set(test.ids)
                    cond = [(c.name, c.modality, m.frame[m.frame["id"].isin(test_ids)].to_dict("records"))
                            for c, m in conditions]
                    tasks.append(FoldTask(f, members, train.frame.to_dict("records"), test.frame.to_dict("records"),
                                          p.classes, str(cache.root), cond))
        emit("plan", run_id=run_id, pipelines=len(pipelines), folds=len(p.splits),
             pending=sum(len(t.pipelines) for t in tasks), skipped=outcome.skipped,
             names={pid: ps.display_name for pid, ps in pipelines},
             done={pid: sum((pid, f) in done for f in range(1, len(p.splits) + 1)) for pid, _ in pipelines})
        use_registry(registry)
        live = (lambda kind, pid, fold: emit(kind, pipeline=pid, fold=fold))
        stream = (run_dask(tasks, scheduler, jobs) if executor == "dask"
                  else run_local(tasks, jobs, live if jobs <= 1 else None))
        for result in stream:
            store.save_fold(run_id, result.results, result.errors)
            outcome.ran += len(result.results)
            outcome.shared_hits += result.shared_hits
            emit("fold_done", fold=result.fold, finished=[pid for pid, _ in result.results],
                 failed=[pid for pid, _, _ in result.errors])
        outcome.errors = store.errors(run_id)
        return outcome
    finally:
        use_registry(None)
        store.close()
