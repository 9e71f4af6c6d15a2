"""Where fold tasks run: supervised local worker processes, or a Dask cluster. Same results.

Both yield the workers module's reports (Started / Done / Failed, by task index), so the
runner treats a dead worker, a timeout and a raising plugin the same way on either.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial
from typing import Any

from ..errors import EmoframeError
from ..workers import Done, Failed, Limits, Report, Started, limit_threads, supervise
from .tasks import FoldOutcome, FoldTask, run_task

DEFAULT_LIMITS = Limits()


def _threaded_task(task: FoldTask, threads: int) -> FoldOutcome:
    limit_threads(threads)
    return run_task(task)


def run_local(tasks: list[FoldTask], jobs: int, limits: Limits = DEFAULT_LIMITS) -> Iterator[Report]:
    """In ``jobs`` supervised worker processes (one with every core when jobs is 1)."""
    threads = max(1, (os.cpu_count() or 1) // max(1, min(jobs, len(tasks) or 1)))
    yield from supervise(partial(_threaded_task, threads=threads), tasks, jobs=jobs, limits=limits)


def _isolated(task: FoldTask, timeout: float | None) -> FoldOutcome:
    """On a Dask worker: the task in a supervised child, so a crash or hang costs this task only."""
    try:
        reports = list(
            supervise(partial(_threaded_task, threads=1), [task], jobs=1, limits=Limits(timeout=timeout, max_tasks=1))
        )
    except AssertionError:  # a daemonic Dask worker may not fork children: run in the worker itself
        return _threaded_task(task, 1)
    final = reports[-1]
    if isinstance(final, Done):
        outcome: FoldOutcome = final.value
        return outcome
    message = final.message if isinstance(final, Failed) else "no result"
    return FoldOutcome(task.fold, [], [(pid, task.fold, message) for pid, _ in task.pipelines], 0)


def run_dask(
    tasks: list[FoldTask], scheduler: str | None, jobs: int, limits: Limits = DEFAULT_LIMITS
) -> Iterator[Report]:
    """On a Dask cluster at ``scheduler`` (tcp://host:port), or a LocalCluster of ``jobs`` processes."""
    try:
        import dask
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError:
        raise EmoframeError("the dask executor needs `pip install 'dask[distributed]'`") from None
    cluster: Any = None
    if scheduler in (None, "", "local"):
        with dask.config.set({"distributed.worker.daemon": False}):  # lets tasks run in supervised children
            cluster = LocalCluster(
                n_workers=max(1, jobs), threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
            )
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout=30)
        except OSError as exc:
            raise EmoframeError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    try:
        futures = {}
        for i, t in enumerate(tasks):
            futures[client.submit(_isolated, t, limits.timeout, pure=False)] = i
            yield Started(i)
        for fut in dask_completed(list(futures)):
            i = futures[fut]
            try:
                yield Done(i, fut.result())
            except Exception as exc:  # noqa: BLE001 — e.g. KilledWorker: this task failed, the rest goes on
                yield Failed(i, "died", f"the Dask task failed: {type(exc).__name__}: {exc}")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
