"""The resumable benchmark runner: expand the grid, extract once, run pending folds, store each as it finishes.

A run is keyed by what decides its figures: the spec (less its name and execution limits),
the content of the data it read (manifest rows and audio bytes) and the versions of the
components it uses. Edit a transcript, a label or an audio file, or upgrade a plugin, and
the next run is a new run; the old one stays in the store, readable.

The code of each component (:func:`~emoframe.code_digest.code_digest`, the digest the feature
cache keys on) is recorded with the run and with every stored fold. Edit a component without
bumping its version and the run id stays, but the folds of exactly the pipelines that use it
are stale: they run again, and the run says which component changed (:func:`stale_folds`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..code_digest import changed_components
from ..data.digest import manifest_fingerprint
from ..data.manifest import Manifest
from ..data.perturb import PERTURBATION_VERSION
from ..data.source import check_audio_rows, load_data
from ..features import FeatureCache
from ..pipeline import FeatureProvider, Pipeline
from ..plugin.registry import Registry, get_registry
from ..results.store import ResultsStore
from ..spec import BenchmarkSpec, ExecutionSpec, PipelineSpec, cost_warnings, pipelines_of
from ..spec.code import pipeline_code
from ..workdir import workdir as default_workdir
from ..workers import Done, Limits, Started
from .evaluate import Plan, plan
from .events import (
    BenchmarkCancelled,
    EventHandler,
    ExtractionProgress,
    FoldStarted,
    PerturbationStarted,
    PipelineFoldFinished,
    RunFinished,
    RunPlanned,
    ignore,
)
from .executors import run_dask, run_local
from .tasks import FoldOutcome, FoldTask

__all__ = ["BenchmarkCancelled", "BenchmarkOutcome", "run_benchmark", "run_key"]


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
    warnings: list[str] = field(default_factory=list)  # about this call (cache, damaged entries), not the data
    code_changes: list[str] = field(default_factory=list)  # components whose code changed: their folds rerun


def transcripts_for(
    spec: PipelineSpec,
    manifest: Manifest,
    test_manifest: Manifest | None,
    registry: Registry,
    cache: FeatureCache | None,
    limits: Limits,
    emit: EventHandler,
    store: ResultsStore,
    run_id: str,
) -> tuple[Manifest, Manifest | None, str | None]:
    """The manifests with ASR text (cached per recording); the WER and failures stored with the run. Returns
    why the transcriber failed as a whole (its pipelines fail with it), or None. A share of failed rows above
    evaluation.max_failure_share counts as failed too."""
    from ..features.transcripts import add_transcripts

    ref = spec.data.transcriber
    assert ref is not None  # validation: asr needs a transcriber
    label = f"{ref.name} (speech recognition)"
    reports, failed = [], None
    sides: list[Manifest | None] = []
    for m in (manifest, test_manifest):
        if m is None:
            sides.append(None)
            continue
        out, report, error = add_transcripts(
            ref,
            m,
            registry,
            cache,
            limits,
            lambda done, total: emit(ExtractionProgress(label, done, total)),
            spec.evaluation.max_failure_share,
        )
        sides.append(out)
        reports.append(report)
        failed = failed or error
    store.set_asr(run_id, [r.to_dict() | {"line": r.line()} for r in reports])
    return sides[0], sides[1], failed  # type: ignore[return-value]


def prepare_asr_features(
    pipelines: list[PipelineSpec],
    registry: Registry,
    provider: FeatureProvider,
    manifest: Manifest,
    test_manifest: Manifest | None,
) -> None:
    """Extract (and cache) the features of text branches that read ASR text, as plan does for the gold text."""
    for ps in pipelines:
        for key, branch in ps.branches.items():
            if ps.transcripts_of(key) != "asr" or branch.extractor is None:
                continue
            if not provider.extractor(branch.extractor).stateless:
                continue
            for m in (manifest, test_manifest):
                if m is not None:
                    provider.prepare(branch.extractor, m.with_asr_text())


def perturbed_sets(
    spec: BenchmarkSpec | PipelineSpec,
    p: Plan,
    registry: Registry,
    cache: FeatureCache | None,
    jobs: int,
    refs: list[Any],
    emit: EventHandler,
    limits: Limits,
) -> list[tuple[Any, Any]]:
    """The robustness conditions with their perturbed copies of every test row, features extracted
    (cached). Noise is mixed in as the extraction workers read the audio: no audio is written."""
    robustness = getattr(spec, "robustness", None)
    if robustness is None:
        return []
    import pandas as pd

    from ..data.perturb import perturbed_manifest

    tested = Manifest(pd.concat([test.frame for _, test in p.splits], ignore_index=True))
    out = []
    for condition in robustness.conditions():
        emit(PerturbationStarted(condition.name))
        m = perturbed_manifest(tested, condition, robustness.seed)
        FeatureProvider(registry, cache=cache, jobs=jobs, limits=limits).usable(
            [r for r in refs if registry.get(r.name).modality == condition.modality], m
        )
        out.append((condition, m))
    return out


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


def component_versions(pipelines: list[PipelineSpec], registry: Registry) -> dict[str, str]:
    """name → 'version (distribution version)' of every component the pipelines use."""
    out = {}
    for p in pipelines:
        refs = [p.fusion, p.model, p.data.corpus, p.data.transcriber if p.uses_asr else None] + [
            r for b in p.branches.values() for r in (b.extractor, b.model)
        ]
        for ref in refs:
            if ref is not None and ref.name in registry:
                info = registry.get(ref.name)
                out[ref.name] = f"{info.version} ({info.distribution} {info.distribution_version})"
    return dict(sorted(out.items()))


def component_identities(pipelines: list[PipelineSpec], registry: Registry) -> dict[str, str]:
    """label → ``identity()`` of the extractors and the transcriber that define one (pretrained weights'
    sha256): weights replaced on disk under the same name make a new run, never yesterday's figures."""
    from ..plugin.components import FeatureExtractor, Transcriber

    out: dict[str, str] = {}
    for p in pipelines:
        refs = [b.extractor for b in p.branches.values()] + [p.data.transcriber if p.uses_asr else None]
        for ref in refs:
            if ref is None or ref.name not in registry or ref.label() in out:
                continue
            info = registry.get(ref.name)
            if getattr(info.cls, "identity", None) in (None, FeatureExtractor.identity, Transcriber.identity):
                continue
            try:
                component: Any = registry.create(ref.name, ref.params, kind=info.kind)
                out[ref.label()] = str(component.identity())
            except Exception as exc:  # noqa: BLE001 — e.g. not on disk: the run reports it; the key stays stable
                out[ref.label()] = f"unavailable: {exc}"
    return out


def stale_folds(
    stored: dict[tuple[str, int], dict[str, str] | None],
    current: dict[str, dict[str, str]],
    versions: dict[str, str],
    run_id: str,
) -> tuple[set[tuple[str, int]], list[str]]:
    """The stored (pipeline, fold)s computed by code other than today's, and one line per changed component
    saying so: "sklearn.svc's code changed since run … was stored (version 2 unchanged): rerunning …"."""
    stale: set[tuple[str, int]] = set()
    by_component: dict[str, set[tuple[str, int]]] = {}
    unrecorded: set[tuple[str, int]] = set()
    for (pid, fold), was in stored.items():
        now = current.get(pid)
        if now is None:
            continue
        if was is None:
            unrecorded.add((pid, fold))
            continue
        for name in changed_components(was, now):
            by_component.setdefault(name, set()).add((pid, fold))
    lines = []
    for name, folds in sorted(by_component.items()):
        stale |= folds
        version = f"version {versions[name]} unchanged" if name in versions else "same version"
        lines.append(
            f"{name}'s code changed since run {run_id[:12]} was stored ({version}): rerunning "
            f"{len(folds)} pipeline-fold(s) of {len({p for p, _ in folds})} pipeline(s)"
        )
    if unrecorded:
        stale |= unrecorded
        lines.append(
            f"{len(unrecorded)} pipeline-fold(s) of {len({p for p, _ in unrecorded})} pipeline(s) of run "
            f"{run_id[:12]} were stored before emoframe recorded the code that computed them: rerunning them"
        )
    return stale, lines


def run_key(
    spec: BenchmarkSpec | PipelineSpec, manifests: list[Manifest], pipelines: list[PipelineSpec], registry: Registry
) -> str:
    """The run id: spec content + data content + component versions and identities (16 hex characters)."""
    parts = {
        "spec": spec.digest(),
        "data": [manifest_fingerprint(m) for m in manifests],
        "components": component_versions(pipelines, registry),
        # how test-time noise is made decides the robustness figures as much as a component does
        "perturbation": PERTURBATION_VERSION if getattr(spec, "robustness", None) is not None else None,
    }
    identities = component_identities(pipelines, registry)
    if identities:  # only where a component has one: every other run keeps the key it had
        parts["identities"] = identities
    blob = json.dumps(parts, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def limits_of(execution: ExecutionSpec) -> Limits:
    """The worker limits a spec's ``execution`` block sets."""
    return Limits(
        timeout=execution.timeout, max_tasks=execution.worker_max_tasks, max_memory_mb=execution.worker_max_memory_mb
    )


def run_benchmark(
    spec: BenchmarkSpec | PipelineSpec,
    registry: Registry | None = None,
    workdir: str | Path | None = None,
    jobs: int | None = None,
    executor: Literal["local", "dask"] = "local",
    scheduler: str | None = None,
    fresh: bool = False,
    base_dir: str | Path | None = None,
    events: EventHandler | None = None,
    limits: Limits | None = None,
    use_cache: bool = True,
) -> BenchmarkOutcome:
    """Run (or resume) a benchmark; results go to ``<workdir>/results.db``, one transaction per fold.

    ``events`` receives the typed events of :mod:`emoframe.bench.events`. ``limits`` (default:
    the spec's ``execution`` block) bound each task's time and each worker's life.
    """
    registry = registry or get_registry()
    wd = Path(workdir) if workdir is not None else default_workdir()
    jobs = max(1, jobs or os.cpu_count() or 1)
    emit = events or ignore
    limits = limits or limits_of(spec.execution)
    pipelines = [(pipeline_id(p), p) for p in pipelines_of(spec, registry)]
    first = pipelines[0][1]
    manifest = load_data(first.data, registry, base_dir, workdir=wd)
    test_manifest = (
        load_data(first.evaluation.test, registry, base_dir, workdir=wd)  # type: ignore[arg-type]
        if first.evaluation.protocol == "cross_corpus"
        else None
    )
    for m in (manifest, test_manifest):
        if m is not None:
            check_audio_rows([p for _, p in pipelines], m)
    run_id = run_key(spec, [m for m in (manifest, test_manifest) if m is not None], [p for _, p in pipelines], registry)
    name = spec.name or (pipelines[0][1].display_name if len(pipelines) == 1 else f"benchmark {run_id[:8]}")
    names = {pid: ps.display_name for pid, ps in pipelines}
    code = {pid: pipeline_code(ps, registry) for pid, ps in pipelines}
    store = ResultsStore(wd / "results.db")
    try:
        stale, code_changes = (
            (set(), [])
            if fresh
            else stale_folds(
                store.fold_code(run_id),
                code,
                {n: registry.get(n).version for c in code.values() for n in c},
                run_id,
            )
        )
        store.begin_run(
            run_id,
            name,
            spec.to_dict(),
            [(pid, p.display_name, p.to_dict(), p.is_fused) for pid, p in pipelines],
            fresh=fresh,
            base_dir=str(Path(base_dir).resolve()) if base_dir is not None else None,
            code={n: d for c in code.values() for n, d in c.items()},
        )
        cache = FeatureCache(wd / "cache") if use_cache else None
        provider = FeatureProvider(
            registry,
            cache=cache,
            jobs=jobs,
            limits=limits,
            progress=lambda name_, done, total: emit(ExtractionProgress(name_, done, total)),
        )
        asr_failed = None
        uses_asr = any(ps.uses_asr for _, ps in pipelines)
        if uses_asr:
            manifest, test_manifest, asr_failed = transcripts_for(
                first, manifest, test_manifest, registry, cache, limits, emit, store, run_id
            )
        refs = {r.model_dump_json(): r for _, p in pipelines for r in Pipeline(p, registry).stateless_refs()}
        p = plan(first, registry, provider, list(refs.values()), manifest, test_manifest, [ps for _, ps in pipelines])
        store.set_plan(run_id, p.classes, p.warnings, p.failures, len(p.splits), p.eligible)
        if uses_asr and asr_failed is None:
            prepare_asr_features([ps for _, ps in pipelines], registry, provider, manifest, test_manifest)
        blocked = {  # pipelines that use a failed component: one message each, no rows taken from others
            pid: "; ".join(
                msg
                for k, msg in p.failed_components.items()
                if k in {r.key() for r in Pipeline(ps, registry).stateless_refs()}
            )
            + (f"ASR transcripts: {asr_failed}" if asr_failed is not None and ps.uses_asr else "")
            for pid, ps in pipelines
        }
        blocked = {pid: msg for pid, msg in blocked.items() if msg}
        conditions = perturbed_sets(spec, p, registry, cache, jobs, list(refs.values()), emit, limits)
        done = set() if fresh else store.finished(run_id) - stale
        tasks = []
        outcome = BenchmarkOutcome(
            run_id,
            name,
            pipelines,
            len(p.splits),
            warnings=cost_warnings([ps for _, ps in pipelines], registry, len(manifest)) + provider.warnings(),
            code_changes=code_changes,
        )
        groups = share_groups([ps for _, ps in pipelines])
        for f, (train, test) in enumerate(p.splits, start=1):
            pending = [(pid, ps.to_dict()) for pid, ps in pipelines if (pid, f) not in done and pid not in blocked]
            outcome.skipped += len(pipelines) - len(pending)
            for group in groups:
                members = [(pid, d) for pid, d in pending if pid in group]
                if members:
                    test_ids = set(test.ids)
                    cond = [
                        (c.name, c.modality, m.frame[m.frame["id"].isin(test_ids)].to_dict("records"))
                        for c, m in conditions
                    ]
                    tasks.append(
                        FoldTask(
                            f,
                            members,
                            train.frame.to_dict("records"),
                            test.frame.to_dict("records"),
                            p.classes,
                            str(cache.root) if cache is not None else None,
                            registry,
                            cond,
                            {pid: names[pid] for pid, _ in members},
                        )
                    )
        blocked_folds = [(pid, f) for pid in blocked for f in range(1, len(p.splits) + 1) if (pid, f) not in done]
        outcome.skipped -= len(blocked_folds)
        emit(
            RunPlanned(
                run_id,
                name,
                len(pipelines),
                len(p.splits),
                sum(len(t.pipelines) for t in tasks) + len(blocked_folds),
                outcome.skipped,
                names,
                {pid: sum((pid, f) in done for f in range(1, len(p.splits) + 1)) for pid, _ in pipelines},
                tuple(code_changes),
            )
        )
        if blocked_folds:
            store.save_fold(run_id, [], [(pid, f, blocked[pid]) for pid, f in blocked_folds])
            for pid, f in blocked_folds:
                emit(PipelineFoldFinished(pid, names[pid], f, False, blocked[pid]))
        stream = run_dask(tasks, scheduler, jobs, limits) if executor == "dask" else run_local(tasks, jobs, limits)
        try:
            for report in stream:
                task = tasks[report.index]
                if isinstance(report, Started):
                    emit(FoldStarted(task.fold, tuple(pid for pid, _ in task.pipelines)))
                    continue
                result = (
                    report.value
                    if isinstance(report, Done)
                    else FoldOutcome(task.fold, [], [(pid, task.fold, report.message) for pid, _ in task.pipelines], 0)
                )
                store.save_fold(run_id, result.results, result.errors, code)
                outcome.ran += len(result.results)
                outcome.shared_hits += result.shared_hits
                for pid, _ in result.results:
                    emit(PipelineFoldFinished(pid, names[pid], task.fold, True))
                for pid, fold, message in result.errors:
                    emit(PipelineFoldFinished(pid, names[pid], fold, False, message))
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # stops every worker at once (Ctrl-C, a cancelling handler)
        outcome.errors = store.errors(run_id)
        emit(RunFinished(run_id, outcome.ran, outcome.skipped, len(outcome.errors)))
        return outcome
    finally:
        store.close()
