"""Supervised worker processes: one misbehaving plugin costs one task, never the run.

``supervise(fn, items, jobs, limits)`` runs ``fn(item)`` for every item in worker processes
and yields what happened to each, in completion order:

- a worker that dies (``os._exit``, a segfault, the OOM killer) fails only the item it held,
  reported with its exit code or signal, and is replaced;
- an item that runs past ``limits.timeout`` seconds has its worker killed and is reported as
  timed out; the rest goes on;
- a worker is retired after ``limits.max_tasks`` items or once its memory passes
  ``limits.max_memory_mb`` (a leaking plugin cannot grow it without bound);
- Ctrl-C (or the consumer closing the generator) terminates every worker at once, and a
  worker whose parent dies exits by itself (no orphans, even after SIGKILL of the parent).

Workers are forked on Linux (cheap, inherit imports and programmatic plugins) and spawned
elsewhere. The module is infrastructure: it knows nothing of emoframe's components.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from .errors import describe_exception
from .library_warnings import KNOWN_NOISE as KNOWN_NOISE  # re-exported: the older path docs and callers use
from .library_warnings import library_warnings_reported as library_warnings_reported
from .library_warnings import report_library_warnings as report_library_warnings
from .library_warnings import reporting_library_warnings

START_METHOD_ENV = "EMOFRAME_START_METHOD"  # fork | spawn | forkserver: override the platform default
DEFAULT_TIMEOUT = 7200.0  # seconds per task: long enough for a CPU fine-tune fold, short of "forever"


@dataclass(frozen=True)
class Limits:
    """What one task and one worker may cost. ``None`` means no limit."""

    timeout: float | None = DEFAULT_TIMEOUT
    max_tasks: int | None = 50
    max_memory_mb: float | None = None


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Started:
    index: int


@dataclass(frozen=True)
class Done:
    index: int
    value: Any


@dataclass(frozen=True)
class Failed:
    """An item whose function raised (``kind`` error), whose worker died, or that timed out."""

    index: int
    kind: str  # error | died | timeout
    message: str


Report = Started | Done | Failed


def mp_context() -> Any:  # a fork or spawn context (typeshed lacks their common base)
    """fork on Linux (keeps warm imports, never re-runs the user's script); spawn elsewhere."""
    method = os.environ.get(START_METHOD_ENV) or ("fork" if sys.platform == "linux" else "spawn")
    return mp.get_context(method)


#: set in a worker forked from a process that had torch loaded: see limit_threads
_TORCH_INHERITED = False


def limit_threads(n: int = 1) -> None:
    """``n`` intra-op threads for this worker process (no oversubscription), for the libraries loaded.

    A worker forked from a process that had already loaded torch keeps torch at one thread: a
    child forked after torch ran a parallel region hangs in its next one (GNU OpenMP keeps no
    thread pool across fork). Such a worker is correct but slower; emoframe's own commands load
    torch in workers only, never in the parent.
    """
    torch_threads = 1 if _TORCH_INHERITED else n
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    os.environ["OMP_NUM_THREADS"] = str(torch_threads)
    if "torch" in sys.modules:
        try:
            sys.modules["torch"].set_num_threads(torch_threads)
        except RuntimeError:
            pass


def undo_malloc_trim() -> None:
    """Undo an inherited ``MALLOC_TRIM_THRESHOLD_`` in this process and its children.

    Dask's nanny sets it (64 KiB) for its workers, and with it set glibc's malloc stops adapting
    its mmap threshold: every array over 128 KiB is mapped afresh and page-faulted in, and a torch
    training step took twice the CPU time in a Dask worker's child (benchmarks/bench_dask.py). This
    sets the thresholds glibc's own adaptation tends to (mmap 32 MiB, trim 64 MiB) and removes the
    variable for this process's children; where the variable is not set it does nothing.
    """
    if os.environ.pop("MALLOC_TRIM_THRESHOLD_", None) is None or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 << 20)
    mallopt(m_trim_threshold, 64 << 20)


def describe_exit(code: int | None) -> str:
    """'killed by signal SIGSEGV' / 'exited with code 3'."""
    if code is None:
        return "stopped"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


def rss_mb() -> float:
    """This process's resident memory in MB (current on Linux, peak elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 1e6 if sys.platform == "darwin" else peak / 1e3


_channel: list[Any] = []  # in a worker: [conn, index of the task it runs]


def note(text: str) -> None:
    """Tell the supervising parent what this worker is doing now (named if the worker dies or hangs).

    A no-op outside a supervised worker.
    """
    if _channel:
        try:
            _channel[0].send(("note", _channel[1], text, 0.0))
        except (OSError, ValueError):
            pass


def _die_with_parent(parent: int) -> None:
    """Exit when the parent goes away: the kernel's death signal on Linux, a watchdog thread everywhere."""
    if sys.platform == "linux":
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    direct = os.getppid() == parent  # fork/spawn: our parent; forkserver: a server between us

    def gone() -> bool:
        if direct:
            return os.getppid() != parent
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False
        return False

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if gone():
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _worker_main(
    conn: Connection,
    fn: Callable[[Any], Any],
    limits: Limits,
    parent: int,
    initializer: Callable[..., None] | None,
    initargs: tuple[Any, ...],
    torch_inherited: bool = False,
    report_warnings: bool = False,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    global _TORCH_INHERITED
    _TORCH_INHERITED = torch_inherited
    if report_warnings:  # forked children inherit it; spawned ones are told
        report_library_warnings()
    import faulthandler

    faulthandler.disable()  # a crash is reported by the parent, with what the worker was doing
    _die_with_parent(parent)
    if initializer is not None:
        try:
            initializer(*initargs)
        except BaseException as exc:  # noqa: BLE001 — reported to the parent, which fails the task
            conn.send(("init-error", -1, f"{type(exc).__name__}: {exc}", 0.0))
            return
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        except Exception as exc:  # noqa: BLE001 — the task could not be rebuilt here (e.g. a missing module)
            conn.send(("error", -2, f"the worker could not receive its task: {type(exc).__name__}: {exc}", rss_mb()))
            continue
        if message is None:
            return
        index, item = message
        _channel[:] = [conn, index]
        try:
            conn.send(("ok", index, fn(item), rss_mb()))
        except BaseException as exc:  # noqa: BLE001 — the item failed; the worker carries on
            conn.send(("error", index, describe_exception(exc), rss_mb()))


class _Worker:
    def __init__(
        self,
        ctx: Any,
        fn: Callable[[Any], Any],
        limits: Limits,
        initializer: Callable[..., None] | None,
        initargs: tuple[Any, ...],
    ):
        self.conn, child = ctx.Pipe()
        torch_inherited = ctx.get_start_method() == "fork" and "torch" in sys.modules
        self.process = ctx.Process(
            target=_worker_main,
            args=(child, fn, limits, os.getpid(), initializer, initargs, torch_inherited, reporting_library_warnings()),
            daemon=False,
        )
        self.process.start()
        child.close()
        self.index: int | None = None  # the task it holds
        self.since = 0.0
        self.done = 0
        self.doing = ""  # the last note() of the task it holds

    def give(self, index: int, item: Any) -> None:
        self.index, self.since, self.doing = index, time.monotonic(), ""
        self.conn.send((index, item))

    def stop(self, kill: bool = False) -> None:
        if self.process.is_alive():
            if kill:
                self.process.kill()
            else:
                try:
                    self.conn.send(None)
                except OSError:
                    pass
        self.process.join(timeout=None if kill else 5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


class WorkerPool:
    """The parent's side of :func:`supervise`: up to ``jobs`` workers, the items not handed out yet, and
    what each reply, death or overrun of a busy worker means. One method per decision, so each can be read
    (and tested) alone."""

    def __init__(
        self,
        fn: Callable[[Any], Any],
        items: Iterable[Any],
        jobs: int = 1,
        limits: Limits = DEFAULT_LIMITS,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
    ):
        self.fn, self.jobs, self.limits, self.initializer, self.initargs = fn, jobs, limits, initializer, initargs
        self.source = iter(enumerate(items))
        self.retry: deque[tuple[int, Any]] = deque()  # items whose worker died before it could take them
        self.exhausted = False
        self.ctx = mp_context()
        self.workers: list[_Worker] = []

    def pull(self) -> tuple[int, Any] | None:
        """The next (index, item) to hand out: a retried one first; None when there is none (yet)."""
        if self.retry:
            return self.retry.popleft()
        if not self.exhausted:
            entry = next(self.source, None)
            if entry is not None:
                return entry
            self.exhausted = True
        return None

    def drained(self) -> bool:
        """Every item handed out (the caller stops once no worker is busy either)."""
        return self.exhausted and not self.retry

    def busy(self) -> list[_Worker]:
        return [w for w in self.workers if w.index is not None]

    def _drop(self, w: _Worker, kill: bool = True) -> None:
        w.stop(kill=kill)
        self.workers.remove(w)

    def reap_idle(self) -> None:
        """Forget idle workers that died (killed from outside): never hand them a task."""
        for w in [w for w in self.workers if w.index is None and not w.process.is_alive()]:
            self._drop(w)

    def hand_out(self) -> Iterator[Report]:
        """Give items to idle workers, starting new ones up to ``jobs``; Started for each handed out,
        Failed for one that cannot be handed over (a worker that died meanwhile: a fresh one takes it)."""
        idle = [w for w in self.workers if w.index is None]
        while idle or len(self.workers) < self.jobs:
            entry = self.pull()
            if entry is None:
                break
            index, item = entry
            w = idle.pop() if idle else _Worker(self.ctx, self.fn, self.limits, self.initializer, self.initargs)
            if w not in self.workers:
                self.workers.append(w)
            try:
                w.give(index, item)
            except Exception as exc:  # noqa: BLE001 — the worker is gone, or the item cannot be pickled
                w.index = None
                if not w.process.is_alive():  # the worker died, not the task: a fresh one takes it
                    self._drop(w)
                    self.retry.appendleft((index, item))
                    continue
                yield Failed(index, "error", f"could not hand the task to a worker: {exc}")
                continue
            yield Started(index)

    def wait(self, busy: list[_Worker]) -> list[Any]:
        """Block until a busy worker replies or dies, or the first running task reaches its timeout."""
        timeout = self.limits.timeout
        deadline = min((w.since + timeout for w in busy), default=None) if timeout is not None else None
        wait_s = None if deadline is None else max(0.0, deadline - time.monotonic())
        return wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=wait_s)

    def settle(self, w: _Worker, ready: list[Any]) -> Report | None:
        """What happened to busy worker ``w`` (``ready``: what :meth:`wait` returned): its task's reply,
        its death or its timeout as a report; None for a progress note or nothing yet."""
        if w.conn in ready:
            try:
                kind, received, payload, memory = w.conn.recv()
            except (EOFError, OSError):
                kind, received, payload, memory = "eof", w.index, None, 0.0
            if kind == "note":
                w.doing = str(payload)
                return None
            if kind in ("ok", "error"):
                return self._finished(w, kind, received, payload, memory)
            if kind == "init-error":
                held, w.index = w.index, None
                self._drop(w)
                return Failed(held, "error", f"worker set-up failed: {payload}")  # type: ignore[arg-type]
        if w.process.sentinel in ready or (w.conn in ready and not w.process.is_alive()):
            w.process.join(timeout=1)
            held, w.index = w.index, None
            code = w.process.exitcode
            self._drop(w)
            doing = f" while {w.doing}" if w.doing else ""
            return None if held is None else Failed(held, "died", f"the worker process {describe_exit(code)}{doing}")
        timeout = self.limits.timeout
        if timeout is not None and w.index is not None and time.monotonic() - w.since > timeout:
            held, w.index = w.index, None
            self._drop(w)
            doing = f" while {w.doing}" if w.doing else ""
            return Failed(held, "timeout", f"timed out after {timeout:g} s{doing} (the worker was stopped)")
        return None

    def _finished(self, w: _Worker, kind: str, received: int, payload: Any, memory: float) -> Report:
        """A task's reply; the worker is recycled after ``max_tasks`` tasks or past ``max_memory_mb``."""
        finished = w.index if received == -2 else received  # -2: the worker could not rebuild its task
        assert finished is not None
        w.index = None
        w.done += 1
        limits = self.limits
        if (limits.max_tasks is not None and w.done >= limits.max_tasks) or (
            limits.max_memory_mb is not None and memory > limits.max_memory_mb
        ):
            self._drop(w, kill=False)  # recycled: a fresh worker takes the next task
        return Done(finished, payload) if kind == "ok" else Failed(finished, "error", payload)

    def close(self) -> None:
        """Stop every worker: those still holding a task are killed."""
        for w in self.workers:
            w.stop(kill=w.index is not None)


def supervise(
    fn: Callable[[Any], Any],
    items: Iterable[Any],
    jobs: int = 1,
    limits: Limits = DEFAULT_LIMITS,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
) -> Generator[Report, None, None]:
    """Run ``fn`` over ``items`` in ``jobs`` supervised workers; yield Started/Done/Failed reports.

    ``items`` is consumed lazily, one item whenever a worker is free to take it: a source that
    blocks until its next item arrives keeps the workers (and their warm imports) between items
    (``Resident``). The decisions are :class:`WorkerPool`'s."""
    pool = WorkerPool(fn, items, jobs, limits, initializer, initargs)
    try:
        while True:
            pool.reap_idle()
            yield from pool.hand_out()
            busy = pool.busy()
            if not busy:
                if pool.drained():
                    return
                continue
            ready = pool.wait(busy)
            for w in busy:
                report = pool.settle(w, ready)
                if report is not None:
                    yield report
    finally:
        pool.close()


class Resident:
    """One supervised worker kept between calls, for a caller that gets its items one at a time
    (a Dask task): ``run(item)`` hands the item over and returns its ``Done`` or ``Failed``
    report under ``supervise``'s rules — a death or a timeout fails that item only and a fresh
    worker takes the next; the worker is retired after ``limits.max_tasks`` items — while the
    worker's imports stay warm between items. Not for concurrent use: one per calling thread.
    """

    _NEVER = object()

    def __init__(
        self,
        fn: Callable[[Any], Any],
        limits: Limits = DEFAULT_LIMITS,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
    ):
        import queue

        self._inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # blocks only when asked for an item, which run() always puts first
        source = iter(self._inbox.get, self._NEVER)
        self._reports = supervise(fn, source, jobs=1, limits=limits, initializer=initializer, initargs=initargs)

    def run(self, item: Any) -> Done | Failed:
        self._inbox.put(item)
        for report in self._reports:
            if not isinstance(report, Started):
                return report
        raise RuntimeError("the resident worker's supervisor ended")  # pragma: no cover — the source never ends

    def close(self) -> None:
        """Stop the worker (and its children die with it)."""
        self._reports.close()
