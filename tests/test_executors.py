"""The Dask executor's task wrapper: one supervised child per worker thread for a whole run, fresh
for the next run, and free of the malloc setting Dask gives its workers (half-speed torch)."""

from __future__ import annotations

import os
import sys
import time
from types import SimpleNamespace

import pytest

from emoframe.bench import executors
from emoframe.bench.tasks import FoldOutcome

from .processes import child_pids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked children")
def test_a_run_keeps_one_child_and_the_next_run_gets_a_fresh_one(monkeypatch):
    def task_in_child(task, threads):  # what the child sees: its pid and Dask's malloc variable
        return FoldOutcome(task.fold, [], [(str(os.getpid()), 0, str(os.environ.get("MALLOC_TRIM_THRESHOLD_")))], 0)

    monkeypatch.setattr(executors, "_threaded_task", task_in_child)
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")  # as a Dask nanny sets it
    before = set(child_pids(os.getpid()))
    try:
        first = [executors._isolated(SimpleNamespace(fold=f, pipelines=[]), 30, "run-1") for f in (1, 2, 3)]
        pids = {o.errors[0][0] for o in first}
        assert len(pids) == 1 and {o.errors[0][2] for o in first} == {"None"}
        assert [o.fold for o in first] == [1, 2, 3]
        second = executors._isolated(SimpleNamespace(fold=4, pipelines=[]), 30, "run-2")
        assert second.errors[0][0] not in pids  # a new run, a new child (code may have changed)
        time.sleep(0.3)
        assert int(next(iter(pids))) not in child_pids(os.getpid())  # the last run's child is gone
    finally:
        for _, resident in executors._RESIDENTS.values():
            resident.close()
        executors._RESIDENTS.clear()
    time.sleep(0.3)
    assert not (set(child_pids(os.getpid())) - before)


def _worker_state() -> tuple[int, list[int]]:
    """On a Dask worker: how many resident children it keeps, and its child processes."""
    import psutil

    return len(executors._RESIDENTS), sorted(p.pid for p in psutil.Process().children())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked children")
def test_a_finished_dask_run_stops_its_children_on_every_worker():
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    from emoframe.workers import Done

    with dask.config.set({"distributed.worker.daemon": False}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        )
    try:
        with distributed.Client(cluster) as client:
            before = client.run(_worker_state)
            assert all(n == 0 for n, _ in before.values())
            # not real fold tasks: each raises in its child, which stays for the next (as after a plugin error)
            tasks = [SimpleNamespace(fold=f, pipelines=[]) for f in range(4)]
            reports = list(executors.run_dask(tasks, cluster.scheduler_address, jobs=2))
            assert sorted(r.value.fold for r in reports if isinstance(r, Done)) == [0, 1, 2, 3]
            time.sleep(0.3)
            after = client.run(_worker_state)
            assert after == before  # no resident child kept, no child process left on any worker
    finally:
        cluster.close()
