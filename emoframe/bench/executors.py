"""Where fold tasks run: supervised local worker processes, or a Dask cluster. Same results.

Both yield the workers module's reports (Started / Done / Failed, by task index), so the
runner treats a dead worker, a timeout and a raising plugin the same way on either.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Iterator
from functools import partial
from typing import Any

from ..errors import EmoframeError
from ..library_warnings import report_library_warnings, reporting_library_warnings
from ..workers import (
    Done,
    Failed,
    Limits,
    Report,
    Resident,
    Started,
    limit_threads,
    supervise,
    undo_malloc_trim,
)
from .tasks import FoldOutcome, FoldTask, run_task

DEFAULT_LIMITS = Limits()


def _threaded_task(task: FoldTask, threads: int) -> FoldOutcome:
    limit_threads(threads)
    return run_task(task)


def run_local(tasks: list[FoldTask], jobs: int, limits: Limits = DEFAULT_LIMITS) -> Iterator[Report]:
    """In ``jobs`` supervised worker processes (one with every core when jobs is 1)."""
    threads = max(1, (os.cpu_count() or 1) // max(1, min(jobs, len(tasks) or 1)))
    yield from supervise(partial(_threaded_task, threads=threads), tasks, jobs=jobs, limits=limits)


#: on a Dask worker: each calling thread's resident supervised child, for the run (session) it serves
_RESIDENTS: dict[int, tuple[tuple[str, float | None], Resident]] = {}


def _prepare_child(report_warnings: bool) -> None:
    """A Dask worker's supervised child: Dask's malloc setting undone; library warnings as emoframe
    lines when the command that submitted the task prints them so (a Dask worker is not its child)."""
    undo_malloc_trim()
    if report_warnings:
        report_library_warnings()


def _isolated(task: FoldTask, timeout: float | None, session: str = "", report_warnings: bool = False) -> FoldOutcome:
    """On a Dask worker: the task in a supervised child, so a crash or hang costs this task only.

    The child stays for the rest of the run (``session``), one per worker thread, so its imports
    and loaded plugins serve every task the run sends here; a new run gets a fresh child (code or
    plugins changed in between are loaded anew), as does a task after a crash or a timeout. The
    child undoes the malloc setting Dask gives its workers (``undo_malloc_trim``: half-speed torch).
    """
    thread = threading.get_ident()
    key = (session, timeout)
    held = _RESIDENTS.get(thread)
    if held is None or held[0] != key:
        if held is not None:
            held[1].close()
        child = Resident(
            partial(_threaded_task, threads=1),
            Limits(timeout=timeout),
            initializer=_prepare_child,
            initargs=(report_warnings,),
        )
        held = _RESIDENTS[thread] = (key, child)
    try:
        final = held[1].run(task)
    except AssertionError:  # a daemonic Dask worker may not fork children: run in the worker itself
        _RESIDENTS.pop(thread, None)
        return _threaded_task(task, 1)
    if isinstance(final, Done):
        outcome: FoldOutcome = final.value
        return outcome
    return FoldOutcome(task.fold, [], [(pid, task.fold, final.message) for pid, _ in task.pipelines], 0)


def _release(session: str) -> int:
    """On a Dask worker, after a run: stop the children kept for ``session`` (how many), so that a
    worker does not hold an idle child — torch and the plugins loaded — until the next run."""
    done = [t for t, (key, _) in list(_RESIDENTS.items()) if key[0] == session]
    for thread in done:
        held = _RESIDENTS.pop(thread, None)
        if held is not None:
            held[1].close()
    return len(done)


#: the transport emoframe's Dask client connects over: plain TCP. TLS (tls://, wss://) needs security
#: credentials emoframe has no option for, UCX a package it does not install, and websockets are untested
#: here: each is refused by name rather than failing inside Dask once the run has started.
DASK_SCHEMES = ("tcp",)
UNSUPPORTED_SCHEMES = {
    "tls": "needs TLS credentials (a Dask security configuration), which emoframe cannot pass yet",
    "wss": "needs TLS credentials (a Dask security configuration), which emoframe cannot pass yet",
    "ws": "websocket transport is not supported by emoframe's Dask executor",
    "ucx": "needs the UCX transport (ucx-py), which emoframe does not install",
}
SCHEDULER_FORM = "tcp://HOST:PORT (HOST:PORT alone means tcp://)"
_HOST = re.compile(r"\[[0-9A-Za-z:.%_-]+\]|[A-Za-z0-9._-]+")


def scheduler_address(text: str) -> str:
    """A Dask scheduler address in the form Dask accepts, as ``SCHEME://HOST:PORT``; ``local`` (a
    LocalCluster) stays ``local``. Anything else is refused here, naming the form, instead of Dask
    raising ValueError once the corpus is loaded."""
    given = text.strip()
    if given == "local":
        return given
    scheme, sep, location = given.rpartition("://")
    scheme = scheme.lower() if sep else "tcp"
    host, colon, port = location.rpartition(":")
    problem = ""
    if scheme in UNSUPPORTED_SCHEMES:
        problem = f"'{scheme}://' {UNSUPPORTED_SCHEMES[scheme]}"
    elif scheme not in DASK_SCHEMES:
        problem = f"unknown scheme '{scheme}://'"
    elif not colon or not host:
        problem = "it names no HOST:PORT"
    elif not _HOST.fullmatch(host):
        problem = f"'{host}' is not a host name or address"
    elif not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        problem = f"'{port}' is not a port (1–65535)"
    if problem:
        quoted = text if text.isprintable() else repr(text)[1:-1]
        raise EmoframeError(f"--scheduler '{quoted}': {problem}; give the Dask scheduler as {SCHEDULER_FORM}")
    return f"{scheme}://{host}:{int(port)}"


def choose_executor(executor: str | None, scheduler: str | None) -> tuple[str, str | None, str | None]:
    """(executor, checked scheduler address, a note to show): ``--scheduler`` implies the Dask executor
    (said in the note) and contradicts an explicit ``--executor local`` (refused)."""
    if scheduler is None:
        return executor or "local", None, None
    address = scheduler_address(scheduler)
    if executor == "local":
        raise EmoframeError(
            f"--scheduler {scheduler} names a Dask scheduler, and --executor local runs without Dask: "
            "drop --scheduler, or use --executor dask"
        )
    note = None if executor == "dask" else f"--scheduler given: fold tasks run on the Dask scheduler at {address}"
    return "dask", address, note


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
    if scheduler is not None and scheduler != "":
        scheduler = scheduler_address(scheduler)
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
    finished = False
    session = uuid.uuid4().hex  # this run: each Dask worker keeps one supervised child for it
    try:
        futures = {}
        for i, t in enumerate(tasks):
            futures[client.submit(_isolated, t, limits.timeout, session, reporting_library_warnings(), pure=False)] = i
            yield Started(i)
        for fut in dask_completed(list(futures)):
            i = futures[fut]
            try:
                yield Done(i, fut.result())
            except Exception as exc:  # noqa: BLE001 — e.g. KilledWorker: this task failed, the rest goes on
                yield Failed(i, "died", f"the Dask task failed: {type(exc).__name__}: {exc}")
        finished = True
    finally:
        if finished:  # no task of this run is running any more: its children can go
            try:
                client.run(_release, session)
            except Exception:  # noqa: BLE001 — a worker gone or busy: its child goes with the next run
                pass
        client.close()
        if cluster is not None:
            cluster.close()
