"""The benchmark runner's steps one by one: prepare → begin → plan → fold tasks → stream into the store."""

from __future__ import annotations

import pytest

from emoframe.bench.events import FoldStarted, PipelineFoldFinished
from emoframe.bench.runner import (
    BenchmarkOutcome,
    begin_run,
    blocked_folds,
    fold_tasks,
    plan_run,
    prepare_run,
    run_benchmark,
    run_key,
    stream_to_store,
)
from emoframe.bench.tasks import run_task
from emoframe.pipeline import FeatureProvider
from emoframe.results.store import ResultsStore
from emoframe.spec import parse_spec
from emoframe.workers import Done, Failed, Limits, Started


@pytest.fixture
def corpus(tmp_path):
    from emoframe.data.synth import generate

    return generate(tmp_path / "corpus", seed=5, speakers=4, per_class=2) / "manifest.csv"


def spec(manifest):
    return parse_spec(
        {
            "name": "steps",
            "data": {"manifest": str(manifest)},
            "evaluation": {"protocol": "speaker_kfold", "folds": 2, "bootstrap": 20},
            "branches": {
                "audio": {"extractor": "toy.energy", "model": "toy.centroid"},
                "text": {"extractor": "toy.words", "model": "toy.centroid"},
            },
            "fusion": ["fusion.late", "fusion.vote"],
        }
    )


def planned(corpus, registry, wd, store, finished=frozenset()):
    s = spec(corpus)
    run = prepare_run(s, registry, wd, None)
    begin_run(run, s, registry, store, fresh=False, base_dir=None)
    provider = FeatureProvider(registry, jobs=1)
    events: list = []
    todo = plan_run(run, s, registry, store, provider, events.append, Limits(), 1, set(finished))
    return run, todo, events


def test_prepare_run_keys_the_run_and_writes_nothing(corpus, registry, tmp_path):
    s = spec(corpus)
    run = prepare_run(s, registry, tmp_path / "wd", None)
    assert run.run_id == run_key(s, [run.manifest], run.specs, registry)
    assert run.name == "steps" and len(run.pipelines) == 4 and run.test_manifest is None  # 2 fusions + 2 baselines
    assert set(run.names) == set(run.code) == {pid for pid, _ in run.pipelines}
    assert all("toy.centroid" in digests for digests in run.code.values())
    assert not (tmp_path / "wd").exists()


def test_begin_run_records_the_run_and_reports_no_stale_folds_on_a_new_one(corpus, registry, tmp_path):
    s = spec(corpus)
    run = prepare_run(s, registry, tmp_path, None)
    store = ResultsStore(tmp_path / "results.db")
    try:
        assert begin_run(run, s, registry, store, fresh=False, base_dir=None) == (set(), [])
        assert store.finished(run.run_id) == set()
        assert run.run_id in {r["id"] for r in store.runs()}
    finally:
        store.close()


def test_fold_tasks_skip_stored_folds_and_blocked_pipelines(corpus, registry, tmp_path):
    store = ResultsStore(tmp_path / "results.db")
    try:
        run, todo, _ = planned(corpus, registry, tmp_path, store)
        n_folds = len(todo.plan.splits)
        assert n_folds == 2 and not todo.blocked
        tasks, skipped = fold_tasks(run, todo, registry, None)
        # the fusions share both branches with the baselines: one share group, one task per fold
        assert [t.fold for t in tasks] == [1, 2] and skipped == 0
        assert all(len(t.pipelines) == 4 and t.classes == todo.plan.classes for t in tasks)
        first = run.pipelines[0][0]
        todo.done = {(first, 1)}
        todo.blocked = {run.pipelines[1][0]: "toy.energy failed"}
        tasks, skipped = fold_tasks(run, todo, registry, None)
        assert [len(t.pipelines) for t in tasks] == [2, 3] and skipped == 2 + 1
        assert blocked_folds(todo) == [(run.pipelines[1][0], 1), (run.pipelines[1][0], 2)]
    finally:
        store.close()


def test_stream_to_store_saves_each_report_and_fails_every_pipeline_of_a_failed_task(corpus, registry, tmp_path):
    store = ResultsStore(tmp_path / "results.db")
    try:
        run, todo, _ = planned(corpus, registry, tmp_path, store)
        tasks, _ = fold_tasks(run, todo, registry, None)
        outcome = BenchmarkOutcome(run.run_id, run.name, run.pipelines, len(todo.plan.splits))
        events: list = []
        reports = [Started(0), Done(0, run_task(tasks[0])), Started(1), Failed(1, "died", "the worker died")]
        stream_to_store(reports, tasks, run, store, outcome, events.append)
        assert outcome.ran == 4 and outcome.shared_hits > 0
        assert store.finished(run.run_id) == {(pid, 1) for pid, _ in run.pipelines}
        assert {(e["pipeline_id"], e["fold"]) for e in store.errors(run.run_id)} == {
            (pid, 2) for pid, _ in run.pipelines
        }
        assert [type(e) for e in events[:1]] == [FoldStarted]
        finished = [e for e in events if isinstance(e, PipelineFoldFinished)]
        assert [(e.fold, e.ok) for e in finished] == [(1, True)] * 4 + [(2, False)] * 4
        assert all(e.error == "the worker died" for e in finished[4:])
    finally:
        store.close()


def test_the_steps_compose_into_run_benchmark(corpus, registry, tmp_path):
    """run_benchmark stores what the steps store: a second call resumes with nothing to do."""
    first = run_benchmark(spec(corpus), registry, tmp_path / "wd", jobs=1)
    assert first.ran == 8 and first.skipped == 0 and not first.errors
    again = run_benchmark(spec(corpus), registry, tmp_path / "wd", jobs=1)
    assert again.run_id == first.run_id and again.ran == 0 and again.skipped == 8
