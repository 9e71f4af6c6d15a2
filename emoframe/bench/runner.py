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
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..data.digest import manifest_fingerprint
from ..data.manifest import Manifest
from ..data.perturb import PERTURBATION_VERSION
from ..data.source import check_audio_rows, load_data
from ..errors import EmoframeError, SpecError
from ..features import FeatureCache
from ..pipeline import FeatureProvider, Pipeline
from ..plugin.registry import Registry, get_registry
from ..results.store import ResultsStore
from ..spec import BenchmarkSpec, ExecutionSpec, PipelineSpec, cost_warnings, pipelines_of, repeat_problems
from ..spec.code import pipeline_code
from ..spec.search import budget_warnings
from ..workdir import workdir as default_workdir
from ..workers import Done, Limits, Report, Started
from .evaluate import Plan, plan
from .events import (
    BenchmarkCancelled,
    EventHandler,
    ExtractionProgress,
    FoldStarted,
    PipelineFoldFinished,
    RunFinished,
    RunPlanned,
    ignore,
)
from .executors import run_dask, run_local
from .inputs import perturbed_sets, prepare_asr_features, transcripts_for
from .pending import RepeatTodo, plan_repeats, repeat_spec, same_folds, stale_folds
from .tasks import FoldOutcome, FoldTask, pipeline_id, share_groups

__all__ = [
    "BenchmarkCancelled",
    "BenchmarkOutcome",
    "PreparedRun",
    "RunPlan",
    "begin_run",
    "fold_tasks",
    "plan_run",
    "prepare_run",
    "run_benchmark",
    "run_key",
    "stream_to_store",
]


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


@dataclass
class PreparedRun:
    """A run before anything is stored: its pipelines, the data it reads and the id both decide."""

    run_id: str
    name: str
    pipelines: list[tuple[str, PipelineSpec]]
    manifest: Manifest
    test_manifest: Manifest | None
    code: dict[str, dict[str, str]]  # pipeline id → component name → code digest

    @property
    def specs(self) -> list[PipelineSpec]:
        return [ps for _, ps in self.pipelines]

    @property
    def names(self) -> dict[str, str]:
        return {pid: ps.display_name for pid, ps in self.pipelines}


@dataclass
class RunPlan:
    """What the store and the data say a prepared run still has to do: its splits, the folds stored
    already, the pipelines that cannot run (each with why) and the robustness conditions."""

    plan: Plan
    manifest: Manifest  # with ASR text where the run transcribes
    done: set[tuple[str, int]]
    blocked: dict[str, str]
    conditions: list[tuple[Any, Any]]
    repeats: list[RepeatTodo] = field(default_factory=list)  # repeats 1, 2, … of evaluation.repeats

    def each_repeat(self) -> list[RepeatTodo]:
        """Every repeat's folds and stored folds, repeat 0 (the plan's own folds) first."""
        return [RepeatTodo(0, -1, self.plan.splits, self.done), *self.repeats]


def prepare_run(
    spec: BenchmarkSpec | PipelineSpec, registry: Registry, workdir: Path, base_dir: str | Path | None
) -> PreparedRun:
    """Expand the spec, load (and check) its data and key the run; nothing is written to the store."""
    if spec.is_multi_corpus:
        raise EmoframeError("this spec lists several data sources: run it with emoframe.bench.study.run_study")
    pipelines = [(pipeline_id(p), p) for p in pipelines_of(spec, registry)]
    first = pipelines[0][1]
    manifest = load_data(first.data, registry, base_dir, workdir=workdir)
    test_manifest = (
        load_data(first.evaluation.test, registry, base_dir, workdir=workdir)  # type: ignore[arg-type]
        if first.evaluation.protocol == "cross_corpus"
        else None
    )
    for m in (manifest, test_manifest):
        if m is not None:
            check_audio_rows([p for _, p in pipelines], m)
    if first.evaluation.n_repeats > 1:  # the speakers decide whether the repeats can differ: before extracting
        problems = list(repeat_problems(first.evaluation, int(manifest.frame["speaker"].nunique())))
        if problems:
            raise SpecError(problems)
    run_id = run_key(spec, [m for m in (manifest, test_manifest) if m is not None], [p for _, p in pipelines], registry)
    name = spec.name or (first.display_name if len(pipelines) == 1 else f"benchmark {run_id[:8]}")
    code = {pid: pipeline_code(ps, registry) for pid, ps in pipelines}
    return PreparedRun(run_id, name, pipelines, manifest, test_manifest, code)


def begin_run(
    run: PreparedRun,
    spec: BenchmarkSpec | PipelineSpec,
    registry: Registry,
    store: ResultsStore,
    fresh: bool,
    base_dir: str | Path | None,
) -> tuple[set[tuple[str, int]], list[str]]:
    """Record the run in the store (``fresh``: forgetting its stored folds); returns the stored folds whose
    code changed since (:func:`stale_folds`) and one line per changed component."""
    stale, code_changes = (
        (set(), [])
        if fresh
        else stale_folds(
            store.fold_code(run.run_id),
            run.code,
            {n: registry.get(n).version for c in run.code.values() for n in c},
            run.run_id,
        )
    )
    store.begin_run(
        run.run_id,
        run.name,
        spec.to_dict(),
        [(pid, p.display_name, p.to_dict(), p.is_fused) for pid, p in run.pipelines],
        fresh=fresh,
        base_dir=str(Path(base_dir).resolve()) if base_dir is not None else None,
        code={n: d for c in run.code.values() for n, d in c.items()},
    )
    return stale, code_changes


def plan_run(
    run: PreparedRun,
    spec: BenchmarkSpec | PipelineSpec,
    registry: Registry,
    store: ResultsStore,
    provider: FeatureProvider,
    emit: EventHandler,
    limits: Limits,
    jobs: int,
    finished: set[tuple[str, int]],
) -> RunPlan:
    """Transcribe (where asked), extract the stateless features, split into folds and store the plan; a
    pipeline that uses a failed component is blocked with one message, never fed rows taken from others.
    ``finished``: the stored folds that count as done (none on a fresh run, stale ones left out)."""
    first = run.pipelines[0][1]
    manifest, test_manifest, asr_failed = run.manifest, run.test_manifest, None
    uses_asr = any(ps.uses_asr for ps in run.specs)
    if uses_asr:
        manifest, test_manifest, asr_failed = transcripts_for(
            first, manifest, test_manifest, registry, provider.cache, limits, emit, store, run.run_id
        )
    refs = {r.model_dump_json(): r for p in run.specs for r in Pipeline(p, registry).stateless_refs()}
    p = plan(first, registry, provider, list(refs.values()), manifest, test_manifest, run.specs)
    store.set_plan(run.run_id, p.classes, p.warnings, p.failures, len(p.splits), p.eligible)
    if uses_asr and asr_failed is None:
        prepare_asr_features(run.specs, registry, provider, manifest, test_manifest)
    blocked = {
        pid: "; ".join(
            msg
            for k, msg in p.failed_components.items()
            if k in {r.key() for r in Pipeline(ps, registry).stateless_refs()}
        )
        + (f"ASR transcripts: {asr_failed}" if asr_failed is not None and ps.uses_asr else "")
        for pid, ps in run.pipelines
    }
    blocked = {pid: msg for pid, msg in blocked.items() if msg}
    conditions = perturbed_sets(spec, p, registry, provider.cache, jobs, list(refs.values()), emit, limits)
    return RunPlan(p, manifest, finished, blocked, conditions)


def fold_tasks(
    run: PreparedRun, todo: RunPlan, registry: Registry, cache_root: str | None
) -> tuple[list[FoldTask], int]:
    """One task per fold and share group of the pending, unblocked pipelines; with the number of
    pipeline-folds stored already (skipped)."""
    tasks, skipped = [], 0
    groups = share_groups(run.specs)
    names = run.names
    for rep in todo.each_repeat():
        specs = {pid: repeat_spec(ps, rep.repeat, registry).to_dict() for pid, ps in run.pipelines}
        for f, (train, test) in enumerate(rep.splits, start=1):
            pending = [
                (pid, specs[pid]) for pid, _ in run.pipelines if (pid, f) not in rep.done and pid not in todo.blocked
            ]
            skipped += len(run.pipelines) - len(pending)
            for group in groups:
                members = [(pid, d) for pid, d in pending if pid in group]
                if members:
                    test_ids = set(test.ids)
                    cond = [
                        (c.name, c.modality, m.frame[m.frame["id"].isin(test_ids)].to_dict("records"))
                        for c, m in todo.conditions
                    ]
                    tasks.append(
                        FoldTask(
                            f,
                            members,
                            train.frame.to_dict("records"),
                            test.frame.to_dict("records"),
                            todo.plan.classes,
                            cache_root,
                            registry,
                            cond,
                            {pid: names[pid] for pid, _ in members},
                            rep.repeat,
                        )
                    )
    return tasks, skipped


def blocked_folds(todo: RunPlan, repeat: int = 0) -> list[tuple[str, int]]:
    """The (pipeline, fold)s of blocked pipelines not stored already (in ``repeat``): each is stored as failed."""
    rep = todo.each_repeat()[repeat]
    return [(pid, f) for pid in todo.blocked for f in range(1, len(rep.splits) + 1) if (pid, f) not in rep.done]


def stream_to_store(
    stream: Iterable[Report],
    tasks: list[FoldTask],
    run: PreparedRun,
    store: ResultsStore,
    outcome: BenchmarkOutcome,
    emit: EventHandler,
) -> None:
    """Store each fold task's results as its report arrives (one transaction per fold), counting them on
    ``outcome`` and emitting an event per pipeline-fold; a failed task fails each of its pipelines."""
    names = run.names
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
        store.save_fold(run.run_id, result.results, result.errors, run.code, task.repeat)
        outcome.ran += len(result.results)
        outcome.shared_hits += result.shared_hits
        for pid, _ in result.results:
            emit(PipelineFoldFinished(pid, names[pid], task.fold, True))
        for pid, fold, message in result.errors:
            emit(PipelineFoldFinished(pid, names[pid], fold, False, message))


def announce(
    run: PreparedRun,
    todo: RunPlan,
    tasks: list[FoldTask],
    outcome: BenchmarkOutcome,
    store: ResultsStore,
    emit: EventHandler,
) -> None:
    """Emit what the run will do (RunPlanned, counting every repeat's folds) and store the folds of blocked
    pipelines as failed, each with its event."""
    every = todo.each_repeat()
    blocked = [blocked_folds(todo, rep.repeat) for rep in every]
    outcome.skipped -= sum(map(len, blocked))
    n_folds = len(todo.plan.splits)
    emit(
        RunPlanned(
            run.run_id,
            run.name,
            len(run.pipelines),
            n_folds * len(every),  # every repeat's folds: what a progress bar counts to
            sum(len(t.pipelines) for t in tasks) + sum(map(len, blocked)),
            outcome.skipped,
            run.names,
            {pid: sum((pid, f) in r.done for r in every for f in range(1, n_folds + 1)) for pid, _ in run.pipelines},
            tuple(outcome.code_changes),
            len(every),
        )
    )
    for rep, failed in zip(every, blocked):
        if failed:
            store.save_fold(run.run_id, [], [(pid, f, todo.blocked[pid]) for pid, f in failed], repeat=rep.repeat)
            for pid, f in failed:
                emit(PipelineFoldFinished(pid, run.names[pid], f, False, todo.blocked[pid]))


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
    the spec's ``execution`` block) bound each task's time and each worker's life. The steps:
    :func:`prepare_run` → :func:`begin_run` → :func:`plan_run` → :func:`fold_tasks` → :func:`stream_to_store`.
    """
    registry = registry or get_registry()
    wd = Path(workdir) if workdir is not None else default_workdir()
    jobs = max(1, jobs or os.cpu_count() or 1)
    emit = events or ignore
    limits = limits or limits_of(spec.execution)
    run = prepare_run(spec, registry, wd, base_dir)
    store = ResultsStore(wd / "results.db")
    try:
        stale, code_changes = begin_run(run, spec, registry, store, fresh, base_dir)
        cache = FeatureCache(wd / "cache") if use_cache else None
        provider = FeatureProvider(
            registry,
            cache=cache,
            jobs=jobs,
            limits=limits,
            progress=lambda name_, done, total: emit(ExtractionProgress(name_, done, total)),
        )
        finished = set() if fresh else store.finished(run.run_id) - stale
        todo = plan_run(run, spec, registry, store, provider, emit, limits, jobs, finished)
        todo.repeats = plan_repeats(run, store, todo.plan, registry, fresh)
        outcome = BenchmarkOutcome(
            run.run_id,
            run.name,
            run.pipelines,
            len(todo.plan.splits),
            warnings=[*cost_warnings(run.specs, registry, len(todo.manifest)), *budget_warnings(run.specs)]
            + provider.warnings()
            + same_folds(todo.plan.splits, todo.repeats),
            code_changes=code_changes,
        )
        tasks, outcome.skipped = fold_tasks(run, todo, registry, str(cache.root) if cache is not None else None)
        announce(run, todo, tasks, outcome, store, emit)
        stream = run_dask(tasks, scheduler, jobs, limits) if executor == "dask" else run_local(tasks, jobs, limits)
        try:
            stream_to_store(stream, tasks, run, store, outcome, emit)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # stops every worker at once (Ctrl-C, a cancelling handler)
        outcome.errors = store.errors(run.run_id)
        emit(RunFinished(run.run_id, outcome.ran, outcome.skipped, len(outcome.errors)))
        return outcome
    finally:
        store.close()
