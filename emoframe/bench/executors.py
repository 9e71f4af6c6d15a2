"""Where fold tasks run: this process, local worker processes, or a Dask cluster. Same results."""
from __future__ import annotations

import multiprocessing as mp
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from ..errors import EmoframeError
from .tasks import FoldOutcome, FoldTask, run_task


def run_local(tasks: list[FoldTask], jobs: int, progress: Callable[..., None] | None = None) -> Iterator[FoldOutcome]:
    """jobs=1: in this process (live per-pipeline progress); more: a process pool (fork on Linux)."""
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield run_task(task, progress)
        return
    ctx = mp.get_context("fork" if sys.platform == "linux" else "spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=ctx) as pool:
        futures = [pool.submit(run_task, t) for t in tasks]
        for fut in as_completed(futures):
            yield fut.result()


def run_dask(tasks: list[FoldTask], scheduler: str | None, jobs: int) -> Iterator[FoldOutcome]:
    """On a Dask cluster at ``scheduler`` (tcp://host:port), or a LocalCluster of ``jobs`` processes."""
    try:
        from distributed import Client, LocalCluster, as_completed as dask_completed
    except ImportError:
        raise EmoframeError("the dask executor needs `pip install 'dask[distributed]'`") from None
    cluster: Any = None
    if scheduler in (None, "", "local"):
        cluster = LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout=30)
        except OSError as exc:
            raise EmoframeError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    try:
        futures = [client.submit(run_task, t, pure=False) for t in tasks]
        for fut in dask_completed(futures):
            yield fut.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
