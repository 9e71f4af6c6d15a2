"""One benchmark over several corpora (``data: [...]``): the grid on each corpus, and the cross-corpus matrix.

A *study* is made of ordinary runs, one per *unit*, run one after the other with the runner's own steps
(:func:`~emoframe.bench.runner.begin_run` → plan → :func:`~emoframe.bench.runner.fold_tasks` →
:func:`~emoframe.bench.runner.stream_to_store`), so each resumes, records failures and reports like any run:

- a **corpus** unit per data source: the grid under that source's protocol (its own, else the
  evaluation's; ``speaker_kfold`` under a matrix), on its own classes (under a matrix: the labels every
  corpus shares);
- with ``protocol: cross_corpus_matrix``, a **matrix** unit per training set (each corpus, and with
  ``leave_one_out`` all but one): one fold that trains each pipeline once on the training set and predicts
  every other corpus at once, so a (pipeline, training set) is fitted once however many corpora it is
  tested on. The cells are cut from its predictions (``results.corpora.matrix_cells``).

Rows of every corpus are named ``<corpus>:<id>`` (speakers too, and a ``corpus`` column is added), so
one feature provider serves every unit: each file's features are extracted once per extractor whatever
the number of units that read it (``FeatureProvider.computed`` counts it). A corpus that fails to load
fails its units with the reason; the other corpora run and are stored.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from ..data.cards import CorpusCard, corpus_card, sample_rate_note
from ..data.digest import manifest_fingerprint
from ..data.manifest import Manifest
from ..data.source import check_audio_rows, load_data
from ..errors import DataError, EmoframeError, describe_exception
from ..features import FeatureCache
from ..pipeline import FeatureProvider, Pipeline
from ..plugin.registry import Registry, get_registry
from ..results.corpora import Unit, save_study, set_unit
from ..results.store import ResultsStore
from ..spec import BenchmarkSpec, DataSpec, PipelineSpec, pipelines_of
from ..spec.code import pipeline_code
from ..workdir import workdir as default_workdir
from ..workers import Limits
from .evaluate import plan
from .events import CorpusUnitStarted, EventHandler, ExtractionProgress, PipelineFoldFinished, RunPlanned, ignore
from .executors import run_dask, run_local
from .runner import (
    BenchmarkOutcome,
    PreparedRun,
    RunPlan,
    begin_run,
    blocked_folds,
    component_versions,
    fold_tasks,
    limits_of,
    plan_run,
    run_key,
    stream_to_store,
)
from .tasks import pipeline_id

__all__ = ["Source", "StudyOutcome", "load_sources", "run_study", "shared_labels", "study_units"]

SPEAKER_PROTOCOLS = ("speaker_kfold", "loso")


@dataclass
class Source:
    """One data source of a study as loaded: its rows (ids, speakers named ``<name>:…``), card, or why it failed."""

    name: str
    spec: DataSpec
    manifest: Manifest | None
    error: str | None = None
    card: CorpusCard | None = None


@dataclass
class StudyOutcome(BenchmarkOutcome):
    """A study's outcome: the runner's counts summed over its units, each unit with its run, and how many
    times each extractor computed a file or read it from the cache."""

    units: list[Unit] = field(default_factory=list)
    computed: dict[str, int] = field(default_factory=dict)
    from_cache: dict[str, int] = field(default_factory=dict)
    matrix_fits: int = 0  # (pipeline, training set) fits of the matrix units run by this call


def _language(registry: Registry, data: DataSpec) -> str | None:
    if data.corpus is None or data.corpus.name not in registry:
        return None
    return getattr(registry.get(data.corpus.name).cls, "language", None)


def named_rows(manifest: Manifest, name: str) -> Manifest:
    """The rows with ids and speakers named ``<name>:…`` and a ``corpus`` column: unique across corpora."""
    frame = manifest.frame.copy()
    frame["id"] = name + ":" + frame["id"].astype(str)
    frame["speaker"] = name + ":" + frame["speaker"].astype(str)
    frame["corpus"] = name
    out = Manifest(frame, name, manifest.root, list(manifest.warnings))
    out.text_source = manifest.text_source
    return out


def load_sources(
    spec: BenchmarkSpec | PipelineSpec, registry: Registry, workdir: Path, base_dir: str | Path | None
) -> list[Source]:
    """Load every source (label map, classes); one that cannot be loaded is kept with its reason."""
    out = []
    for data in spec.data_sources:
        name = data.source_name()
        try:
            m = load_data(data, registry, base_dir, workdir=workdir)
        except (EmoframeError, OSError, ValueError) as exc:
            out.append(Source(name, data, None, f"could not be loaded: {describe_exception(exc)}"))
            continue
        m = named_rows(m, name)
        out.append(Source(name, data, m, None, corpus_card(m, name, _language(registry, data))))
    return out


def _labels(s: Source) -> list[str]:
    return sorted({str(v) for v in s.manifest.labels}) if s.manifest is not None else []


def shared_labels(sources: list[Source], matrix: bool) -> list[str]:
    """The labels the loaded corpora share (a matrix: every corpus; otherwise the union of those each
    shares with another). Bad label maps are refused here, each naming its corpus and the labels."""
    loaded = [s for s in sources if s.manifest is not None]
    return labels_shared({s.name: _labels(s) for s in loaded}, {s.name: s.spec.label_map for s in loaded}, matrix)


def labels_shared(
    labels: dict[str, list[str]], maps: dict[str, dict[str, str | None] | None], matrix: bool
) -> list[str]:
    """:func:`shared_labels` on each corpus's labels (after its map) and its ``label_map``: the rule itself,
    also run by ``validate`` on the labels known before loading (:func:`declared_labels`)."""
    names = list(labels)

    def others(name: str) -> set[str]:
        return {label for n, ls in labels.items() if n != name for label in ls}

    def listing(exclude: str | None = None) -> str:
        return "; ".join(f"{n}: {', '.join(ls)}" for n, ls in labels.items() if n != exclude)

    if len(names) < 2:
        return labels[names[0]] if names else []
    for name in names:
        for native, target in (maps.get(name) or {}).items():
            if target and target not in others(name):
                raise DataError(
                    f"{name}: label_map maps '{native}' onto '{target}', a label no other corpus has "
                    f"({listing(name)}); map it onto one of theirs, or drop it (null)"
                )
    for name in names:
        shared = sorted(set(labels[name]) & others(name))
        if len(shared) < 2:
            raise DataError(
                f"{name}: after its label map it shares {len(shared)} label(s) with the other corpora "
                f"({', '.join(shared) or 'none'}); its labels: {', '.join(labels[name])}; the others' "
                f"({listing(name)}) — map its labels onto theirs with label_map, or leave it out"
            )
    if not matrix:
        return sorted({label for name in names for label in set(labels[name]) & others(name)})
    common = sorted(set.intersection(*(set(ls) for ls in labels.values())))
    if len(common) < 2:
        raise DataError(
            f"cross_corpus_matrix: the corpora share {len(common)} label(s) ({', '.join(common) or 'none'}); "
            f"{listing()} — map them onto one set with each corpus's label_map (at least two labels every "
            "corpus has)"
        )
    return common


def declared_labels(
    spec: BenchmarkSpec | PipelineSpec, registry: Registry, base_dir: str | Path | None
) -> dict[str, list[str]] | None:
    """Each source's labels (its map and ``classes`` applied) as far as they are known without loading audio
    or generating data: a manifest's rows, a registered corpus's declared labels (``native_labels``). None
    when one source's are not known. A superset of what loading finds (a corpus folder may lack a label),
    so :func:`labels_shared` on these refuses nothing that the run itself would accept."""
    out: dict[str, list[str]] = {}
    for data in spec.data_sources:
        if data.corpus is None:
            try:
                found = {str(v) for v in load_data(data, registry, base_dir).labels}
            except (EmoframeError, OSError, ValueError):
                return None  # the run says why
        else:
            if data.corpus.name not in registry:
                return None
            native = getattr(registry.get(data.corpus.name).cls, "native_labels", None) or {}
            if not native:
                return None
            label_map = data.label_map or {}
            mapped = {label_map.get(v, v) if v in label_map else v for v in set(native.values())}
            found = {str(v) for v in mapped if v}
            if data.classes:
                found &= {str(c) for c in data.classes}
        out[data.source_name()] = sorted(found)
    return out


def unit_protocol(spec: BenchmarkSpec | PipelineSpec, data: DataSpec) -> str:
    """A corpus unit's protocol: the source's own, else the evaluation's (speaker_kfold under a matrix)."""
    if data.protocol:
        return data.protocol
    return "speaker_kfold" if spec.evaluation.protocol == "cross_corpus_matrix" else spec.evaluation.protocol


def check_speakers(spec: BenchmarkSpec | PipelineSpec, sources: list[Source]) -> None:
    """A corpus under a speaker-independent protocol needs speakers enough for it: said before anything runs."""
    for s in sources:
        if s.manifest is None:
            continue
        protocol = unit_protocol(spec, s.spec)
        if protocol not in SPEAKER_PROTOCOLS:
            continue
        n = int(s.manifest.frame["speaker"].nunique())
        need = spec.evaluation.folds if protocol == "speaker_kfold" else 2
        if n < need:
            names = ", ".join(sorted({v.split(":", 1)[1] for v in s.manifest.frame["speaker"]})[:3])
            raise DataError(
                f"{s.name}: {n} speaker(s) ({names}) but protocol {protocol} needs at least {need} speakers; "
                f"give the source speakers (a speaker column), or its own protocol (data: [{{name: {s.name}, "
                "protocol: predefined, ...}]) with a split column"
            )


def _unit_spec(spec: BenchmarkSpec, data: DataSpec, evaluation: dict[str, Any], **extra: Any) -> BenchmarkSpec:
    return spec.model_copy(
        update={
            "data": data,
            "evaluation": spec.evaluation.model_copy(update=evaluation),
            **extra,
        }
    )


def study_units(
    spec: BenchmarkSpec, sources: list[Source], shared: list[str]
) -> list[tuple[Unit, BenchmarkSpec | None, list[Source]]]:
    """Every unit of the study with the spec of its run (None: its corpus failed to load) and the sources
    it reads (training sources first)."""
    matrix = spec.evaluation.protocol == "cross_corpus_matrix"
    by = {s.name: s for s in sources}
    out: list[tuple[Unit, BenchmarkSpec | None, list[Source]]] = []
    for s in sources:
        unit = Unit(f"corpus:{s.name}", "corpus", s.name, (s.name,))
        if s.manifest is None:
            out.append((Unit(**{**unit.__dict__, "status": "failed", "message": s.error}), None, [s]))
            continue
        data = s.spec.model_copy(update={"protocol": None, "classes": shared if matrix else s.spec.classes})
        ev: dict[str, Any] = {"protocol": unit_protocol(spec, s.spec), "leave_one_out": None, "train": None}
        out.append((unit, _unit_spec(spec, data, ev, sources=None), [s]))
    if not matrix:
        return out
    names = [s.name for s in sources]
    trainings: list[tuple[tuple[str, ...], str]] = [((n,), n) for n in names]
    if spec.evaluation.leave_one_out and len(names) > 2:
        trainings += [(tuple(m for m in names if m != n), f"all but {n}") for n in names]
    for train, label in trainings:
        test = tuple(n for n in names if n not in train)
        unit = Unit(f"train:{'+'.join(train)}", "matrix", label, train, test)
        failed = [n for n in train if by[n].manifest is None]
        if failed:
            why = f"training corpus {', '.join(failed)} {by[failed[0]].error}"
            out.append((Unit(**{**unit.__dict__, "status": "failed", "message": why}), None, []))
            continue
        test = tuple(n for n in test if by[n].manifest is not None)
        unit = Unit(unit.key, unit.role, unit.corpus, train, test)
        first = by[train[0]].spec.model_copy(update={"classes": shared})
        out.append((unit, _unit_spec(spec, first, {"train": list(train)}), [by[n] for n in (*train, *test)]))
    return out


def matrix_manifest(unit: Unit, sources: list[Source], shared: list[str]) -> Manifest:
    """The training corpora's rows (split train) then every test corpus's (split test), on the shared labels."""
    frames = []
    for s in sources:
        assert s.manifest is not None
        m = s.manifest.keep_classes([c for c in shared if c in set(s.manifest.labels)])
        frames.append(m.frame.assign(split="train" if s.name in unit.train else "test"))
    frame = pd.concat(frames, ignore_index=True)
    return Manifest(frame, unit.key, None, [w for s in sources for w in (s.manifest.warnings if s.manifest else [])])


def plan_matrix(
    run: PreparedRun, registry: Registry, store: ResultsStore, provider: FeatureProvider, finished: set[tuple[str, int]]
) -> RunPlan:
    """A matrix unit's plan: one fold, training rows then every test corpus's rows (the predefined split of
    :func:`matrix_manifest`); blocked pipelines as :func:`~emoframe.bench.runner.plan_run` blocks them."""
    first = run.pipelines[0][1]
    as_split = first.model_copy(
        update={"evaluation": first.evaluation.model_copy(update={"protocol": "predefined", "train": None})}
    )
    refs = {r.model_dump_json(): r for p in run.specs for r in Pipeline(p, registry).stateless_refs()}
    p = plan(as_split, registry, provider, list(refs.values()), run.manifest, None, run.specs)
    store.set_plan(run.run_id, p.classes, p.warnings, p.failures, len(p.splits), p.eligible)
    blocked = {
        pid: "; ".join(
            msg
            for k, msg in p.failed_components.items()
            if k in {r.key() for r in Pipeline(ps, registry).stateless_refs()}
        )
        for pid, ps in run.pipelines
    }
    return RunPlan(p, run.manifest, finished, {k: v for k, v in blocked.items() if v}, [])


def study_key(spec: BenchmarkSpec, sources: list[Source], registry: Registry) -> str:
    """The study's id: its spec, each source's data (or why it failed) and the components' versions."""
    parts = {
        "spec": spec.digest(),
        "data": [manifest_fingerprint(s.manifest) if s.manifest is not None else s.error for s in sources],
        "components": component_versions(pipelines_of(spec, registry), registry),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def checked_sources(
    spec: BenchmarkSpec, registry: Registry, workdir: Path, base_dir: str | Path | None
) -> tuple[list[Source], list[str]]:
    """The sources loaded and every data-level bad input refused before anything runs (exit 2): an ASR text
    branch under a matrix, bad label maps, too few speakers, audio branches over text-only rows. Returns the
    sources and the labels they share."""
    matrix = spec.evaluation.protocol == "cross_corpus_matrix"
    one_each = [spec.model_copy(update={"data": s, "sources": None}) for s in spec.data_sources]
    if matrix and any(p.uses_asr for one in one_each for p in pipelines_of(one, registry)):
        raise DataError(
            "cross_corpus_matrix reads the corpora's own transcripts; ASR text branches run in each corpus's grid "
            "(protocol speaker_kfold, loso or predefined) — set transcripts: gold or choose one of those"
        )
    sources = load_sources(spec, registry, workdir, base_dir)
    shared = shared_labels(sources, matrix)
    check_speakers(spec, sources)
    for s in sources:
        if s.manifest is not None:
            check_audio_rows(pipelines_of(spec, registry), s.manifest)
    return sources, shared


def run_study(
    spec: BenchmarkSpec,
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
) -> StudyOutcome:
    """Run (or resume) a benchmark over several corpora; every unit is a run in ``<workdir>/results.db``
    and the study links them (``results.corpora``). Bad label maps and too few speakers are refused before
    anything runs; a corpus that cannot be loaded fails its units and the others run."""
    registry = registry or get_registry()
    wd = Path(workdir) if workdir is not None else default_workdir()
    jobs = max(1, jobs or os.cpu_count() or 1)
    emit = events or ignore
    limits = limits or limits_of(spec.execution)
    matrix = spec.evaluation.protocol == "cross_corpus_matrix"
    sources, shared = checked_sources(spec, registry, wd, base_dir)
    loaded = [s for s in sources if s.manifest is not None]
    study_id = study_key(spec, sources, registry)
    name = spec.name or f"benchmark over {len(sources)} corpora {study_id[:8]}"
    cards = [s.card for s in loaded if s.card is not None]
    notes = [n for n in [sample_rate_note(cards)] if n] + [f"{s.name} {s.error}" for s in sources if s.error]
    planned = study_units(spec, sources, shared)
    info = {
        "corpora": [s.name for s in sources],
        "cards": {c.name: c.to_dict() for c in cards},
        "shared": shared,
        "matrix": matrix,
        "leave_one_out": bool(spec.evaluation.leave_one_out),
        "evaluation": {"bootstrap": spec.evaluation.bootstrap, "seed": spec.evaluation.seed},
        "notes": notes,
    }
    store = ResultsStore(wd / "results.db")
    cache = FeatureCache(wd / "cache") if use_cache else None
    provider = FeatureProvider(
        registry,
        cache=cache,
        jobs=jobs,
        limits=limits,
        progress=lambda name_, done, total: emit(ExtractionProgress(name_, done, total)),
    )
    outcome = StudyOutcome(study_id, name, [], 0)
    try:
        store.begin_run(study_id, name, spec.to_dict(), [], fresh=fresh, base_dir=_dir(base_dir))
        store.set_plan(study_id, shared, notes, [], 0, 0)
        save_study(store, study_id, info, [u for u, _, _ in planned])
        for unit, unit_spec, reads in planned:
            emit(CorpusUnitStarted(unit.key, unit.role, unit.corpus, unit.test))
            if unit_spec is None:
                outcome.units.append(unit)
                continue
            try:
                done = _run_unit(unit, unit_spec, reads, shared, registry, store, provider, emit, limits, jobs,
                                 executor, scheduler, fresh, base_dir, name, outcome)  # fmt: skip
            except (EmoframeError, OSError) as exc:  # e.g. too few rows of a class for its folds: this unit only
                done = Unit(**{**unit.__dict__, "status": "failed", "message": describe_exception(exc)})
            set_unit(store, study_id, done)
            outcome.units.append(done)
        outcome.errors = [
            {"pipeline_id": "", "fold": 0, "message": f"{u.corpus}: {u.message}"}
            for u in outcome.units
            if u.status == "failed"
        ] + [e for u in outcome.units if u.run_id and u.status != "failed" for e in store.errors(u.run_id)]
        outcome.computed, outcome.from_cache = dict(provider.computed), dict(provider.from_cache)
        outcome.warnings = notes + provider.warnings()
        return outcome
    finally:
        store.close()


def _dir(base_dir: str | Path | None) -> str | None:
    return str(Path(base_dir).resolve()) if base_dir is not None else None


def _run_unit(
    unit: Unit,
    spec: BenchmarkSpec,
    reads: list[Source],
    shared: list[str],
    registry: Registry,
    store: ResultsStore,
    provider: FeatureProvider,
    emit: EventHandler,
    limits: Limits,
    jobs: int,
    executor: str,
    scheduler: str | None,
    fresh: bool,
    base_dir: str | Path | None,
    study_name: str,
    outcome: StudyOutcome,
) -> Unit:
    """One unit as one run: keyed, begun, planned, its pending folds run and stored."""
    pipelines = [(pipeline_id(p), p) for p in pipelines_of(spec, registry)]
    if unit.role == "corpus":
        manifest = reads[0].manifest
        assert manifest is not None
        if spec.data.classes:
            manifest = manifest.keep_classes(spec.data.classes)
    else:
        manifest = matrix_manifest(unit, reads, shared)
    run_id = run_key(spec, [manifest], [p for _, p in pipelines], registry)
    label = unit.corpus if unit.role == "corpus" else f"train {unit.corpus} → {', '.join(unit.test)}"
    code = {pid: pipeline_code(ps, registry) for pid, ps in pipelines}
    run = PreparedRun(run_id, f"{study_name} · {label}", pipelines, manifest, None, code)
    stale, code_changes = begin_run(run, spec, registry, store, fresh, base_dir)
    finished = set() if fresh else store.finished(run_id) - stale
    if unit.role == "corpus":
        todo = plan_run(run, spec, registry, store, provider, emit, limits, jobs, finished)
    else:
        todo = plan_matrix(run, registry, store, provider, finished)
    cache_root = str(provider.cache.root) if provider.cache is not None else None
    tasks, skipped = fold_tasks(run, todo, registry, cache_root)
    blocked = blocked_folds(todo)
    skipped -= len(blocked)
    n_folds = len(todo.plan.splits)
    emit(
        RunPlanned(
            run.run_id,
            run.name,
            len(pipelines),
            n_folds,
            sum(len(t.pipelines) for t in tasks) + len(blocked),
            skipped,
            run.names,
            {pid: sum((pid, f) in todo.done for f in range(1, n_folds + 1)) for pid, _ in pipelines},
            tuple(code_changes),
        )
    )
    if blocked:
        store.save_fold(run.run_id, [], [(pid, f, todo.blocked[pid]) for pid, f in blocked])
        for pid, f in blocked:
            emit(PipelineFoldFinished(pid, run.names[pid], f, False, todo.blocked[pid]))
    part = BenchmarkOutcome(run_id, run.name, pipelines, n_folds)
    stream = run_dask(tasks, scheduler, jobs, limits) if executor == "dask" else run_local(tasks, jobs, limits)
    try:
        stream_to_store(stream, tasks, run, store, part, emit)
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    outcome.ran += part.ran
    outcome.skipped += skipped
    outcome.shared_hits += part.shared_hits
    outcome.code_changes += code_changes
    outcome.pipelines += [(pid, p) for pid, p in pipelines]
    if unit.role == "matrix":
        outcome.matrix_fits += part.ran
    return Unit(unit.key, unit.role, unit.corpus, unit.train, unit.test, run_id, "done", None)
