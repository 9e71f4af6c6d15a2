"""supervise's decisions one by one (WorkerPool): hand out, a reply, a death, a timeout, recycling."""

from __future__ import annotations

import os
import time

from emoframe.workers import Done, Failed, Limits, Started, WorkerPool


def job(item):
    kind, value = item
    if kind == "exit":
        os._exit(3)
    if kind == "hang":
        time.sleep(3600)
    if kind == "raise":
        raise RuntimeError(f"bad item {value}")
    return value * 2


def settle_all(pool):
    """Wait once and settle every busy worker: the reports of that round."""
    busy = pool.busy()
    ready = pool.wait(busy)
    return [r for w in busy if (r := pool.settle(w, ready)) is not None]


def until_reported(pool, n, deadline_s=30):
    out, t0 = [], time.monotonic()
    while len(out) < n and time.monotonic() - t0 < deadline_s:
        out += settle_all(pool)
    return out


def test_hand_out_starts_at_most_jobs_workers_and_pulls_lazily():
    pulled = []

    def items():
        for i in range(5):
            pulled.append(i)
            yield ("ok", i)

    pool = WorkerPool(job, items(), jobs=2)
    try:
        assert list(pool.hand_out()) == [Started(0), Started(1)]
        assert pulled == [0, 1] and len(pool.busy()) == 2 and not pool.drained()
        assert sorted(r.value for r in until_reported(pool, 2)) == [0, 2]
        assert list(pool.hand_out()) == [Started(2), Started(3)] and len(pool.workers) == 2  # workers kept
    finally:
        pool.close()


def test_settle_reports_a_reply_an_error_and_a_death():
    pool = WorkerPool(job, [("ok", 4), ("raise", 1), ("exit", 0)], jobs=3)
    try:
        list(pool.hand_out())
        got = {r.index: r for r in until_reported(pool, 3)}
        assert got[0] == Done(0, 8)
        assert isinstance(got[1], Failed) and got[1].kind == "error" and "bad item 1" in got[1].message
        assert isinstance(got[2], Failed) and got[2].kind == "died" and "exited with code 3" in got[2].message
        assert len(pool.workers) == 2  # the dead worker is gone, the others stay
        assert pool.pull() is None and pool.drained()
    finally:
        pool.close()


def test_settle_times_out_a_hanging_task_and_stops_its_worker():
    pool = WorkerPool(job, [("hang", 0)], jobs=1, limits=Limits(timeout=0.5))
    try:
        list(pool.hand_out())
        process = pool.workers[0].process
        (report,) = until_reported(pool, 1)
        assert isinstance(report, Failed) and report.kind == "timeout" and "timed out after 0.5 s" in report.message
        assert not pool.workers and not process.is_alive()
    finally:
        pool.close()


def test_a_worker_is_recycled_after_max_tasks():
    pool = WorkerPool(job, [("ok", 1), ("ok", 2)], jobs=1, limits=Limits(max_tasks=1))
    try:
        list(pool.hand_out())
        first = pool.workers[0]
        assert until_reported(pool, 1) == [Done(0, 2)]
        assert not pool.workers and not first.process.is_alive()
        assert list(pool.hand_out()) == [Started(1)] and pool.workers[0] is not first
    finally:
        pool.close()


def test_reap_idle_forgets_a_worker_killed_while_idle():
    pool = WorkerPool(job, [("ok", 1)], jobs=1)
    try:
        list(pool.hand_out())
        until_reported(pool, 1)
        w = pool.workers[0]
        w.process.kill()
        w.process.join()
        pool.reap_idle()
        assert pool.workers == []
    finally:
        pool.close()
