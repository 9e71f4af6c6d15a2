"""Supervised workers (issue 9 §3): a dying, hanging or leaking task costs that task only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from emoframe.workers import Done, Failed, Limits, Resident, Started, supervise, undo_malloc_trim

from .processes import child_pids, is_alive


def work(item):
    kind, value = item
    if kind == "ok":
        return value * 2
    if kind == "raise":
        raise RuntimeError(f"bad item {value}")
    if kind == "exit":
        os._exit(3)
    if kind == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    if kind == "hang":
        time.sleep(3600)
    if kind == "pid":
        return os.getpid()
    if kind == "leak":
        work.hoard = getattr(work, "hoard", []) + [bytearray(value * 1_000_000)]
        return os.getpid()
    raise ValueError(kind)


def outcomes(items, **kw):
    reports = list(supervise(work, items, **kw))
    assert sorted(r.index for r in reports if isinstance(r, Started)) == list(range(len(items)))
    return {r.index: r for r in reports if not isinstance(r, Started)}


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_dead_worker_fails_only_its_task(jobs):
    items = [("ok", 1), ("exit", 0), ("ok", 2), ("segv", 0), ("raise", 5), ("ok", 3)]
    out = outcomes(items, jobs=jobs)
    assert {i: r.value for i, r in out.items() if isinstance(r, Done)} == {0: 2, 2: 4, 5: 6}
    assert out[1].kind == "died" and "exited with code 3" in out[1].message
    assert out[3].kind == "died" and "SIGSEGV" in out[3].message
    assert out[4].kind == "error" and "RuntimeError: bad item 5" in out[4].message


def test_a_hanging_task_times_out_and_the_rest_goes_on():
    t0 = time.monotonic()
    out = outcomes([("hang", 0), ("ok", 1), ("ok", 2)], jobs=2, limits=Limits(timeout=1.5))
    assert out[0].kind == "timeout" and "timed out after 1.5 s" in out[0].message
    assert out[1].value == 2 and out[2].value == 4
    assert time.monotonic() - t0 < 20


def test_workers_are_recycled_after_n_tasks():
    out = outcomes([("pid", 0)] * 6, jobs=1, limits=Limits(max_tasks=2))
    pids = [out[i].value for i in range(6)]
    assert len(set(pids)) == 3 and pids[0] == pids[1] != pids[2]


def test_a_leaking_worker_is_recycled_above_the_memory_ceiling():
    base = outcomes([("pid", 0)], jobs=1)[0].value  # noqa: F841 — a warm-up
    out = outcomes([("leak", 60)] * 4, jobs=1, limits=Limits(max_memory_mb=150, max_tasks=None))
    pids = [out[i].value for i in range(4)]
    assert len(set(pids)) >= 2  # the leak was cut short by a fresh worker


def test_closing_the_generator_stops_every_worker():
    before = set(child_pids(os.getpid()))
    gen = supervise(work, [("hang", 0), ("hang", 1)], jobs=2)
    assert isinstance(next(gen), Started) and isinstance(next(gen), Started)
    children = set(child_pids(os.getpid())) - before
    assert len(children) == 2
    gen.close()
    time.sleep(0.3)
    assert not (children & set(child_pids(os.getpid())))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killing_the_parent_leaves_no_orphan(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {os.path.dirname(os.path.dirname(__file__))!r})
        from emoframe.workers import supervise
        from tests.test_workers import work
        for report in supervise(work, [("hang", 0), ("hang", 1)], jobs=2):
            print(type(report).__name__, flush=True)
    """)
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert parent.stdout.readline().strip() == "Started" and parent.stdout.readline().strip() == "Started"
    children = child_pids(parent.pid)
    assert len(children) == 2
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{c}") and is_alive(c) for c in children):
        time.sleep(0.1)
    assert not any(os.path.exists(f"/proc/{c}") and is_alive(c) for c in children)


def test_failed_is_reported_for_an_unpicklable_item():
    reports = list(supervise(work, [("ok", 1), ("ok", lambda: 0), ("ok", 2)], jobs=1))
    out = {r.index: r for r in reports if not isinstance(r, Started)}
    assert out[0].value == 2 and out[2].value == 4
    assert isinstance(out[1], Failed) and "could not hand the task" in out[1].message


def test_a_worker_killed_while_idle_costs_no_task():
    gen = supervise(work, [("pid", 0)] * 3, jobs=1)
    assert isinstance(next(gen), Started)
    first = next(gen)
    assert isinstance(first, Done)
    os.kill(first.value, signal.SIGKILL)  # killed from outside between two tasks
    time.sleep(0.3)
    rest = [r for r in gen if not isinstance(r, Started)]
    assert [type(r).__name__ for r in rest] == ["Done", "Done"] and all(r.value != first.value for r in rest)


def test_supervise_takes_items_lazily_one_per_free_worker():
    pulled = []

    def source():
        for i in range(3):
            pulled.append(i)
            yield ("ok", i)

    gen = supervise(work, source(), jobs=1)
    assert isinstance(next(gen), Started) and pulled == [0]  # the second waits for a free worker
    assert next(gen) == Done(0, 0) and pulled == [0]
    assert [type(r).__name__ for r in gen] == ["Started", "Done", "Started", "Done"] and pulled == [0, 1, 2]


def test_a_resident_worker_keeps_its_process_between_items_and_replaces_a_dead_one():
    before = set(child_pids(os.getpid()))
    resident = Resident(work, Limits(timeout=2))
    try:
        first, second = resident.run(("pid", 0)), resident.run(("pid", 0))
        assert isinstance(first, Done) and first.value == second.value  # one process for both
        assert resident.run(("ok", 21)).value == 42
        raised = resident.run(("raise", 1))
        assert isinstance(raised, Failed) and raised.kind == "error" and "bad item 1" in raised.message
        assert resident.run(("pid", 0)).value == first.value  # an exception does not cost the worker
        died = resident.run(("exit", 0))
        assert isinstance(died, Failed) and died.kind == "died" and "exited with code 3" in died.message
        hung = resident.run(("hang", 0))
        assert isinstance(hung, Failed) and hung.kind == "timeout"
        after = resident.run(("pid", 0))
        assert isinstance(after, Done) and after.value != first.value  # a fresh worker took over
        os.kill(after.value, signal.SIGKILL)  # killed from outside while idle: no item lost
        time.sleep(0.3)
        assert resident.run(("ok", 1)) == Done(8, 2)  # the ninth item
    finally:
        resident.close()
    time.sleep(0.3)
    assert not (set(child_pids(os.getpid())) - before)


def test_a_resident_worker_is_recycled_after_max_tasks():
    resident = Resident(work, Limits(max_tasks=2))
    try:
        pids = [resident.run(("pid", 0)).value for _ in range(5)]
    finally:
        resident.close()
    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4]


MALLOC_CHILD = """
import os, resource, sys
import numpy as np
from emoframe.workers import undo_malloc_trim
if sys.argv[1] == "undo":
    undo_malloc_trim()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(100):
    a = np.ones(75_000)  # 600 kB, allocated and freed: what a training loop does every step
    del a
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before, os.environ.get("MALLOC_TRIM_THRESHOLD_"))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_undo_malloc_trim_stops_dasks_setting_from_faulting_in_every_array():
    """Under Dask's MALLOC_TRIM_THRESHOLD_ every large array is mapped and faulted in afresh."""
    env = dict(os.environ, MALLOC_TRIM_THRESHOLD_="65536")
    runs = {}
    for how in ("keep", "undo"):
        out = subprocess.run([sys.executable, "-c", MALLOC_CHILD, how], env=env, capture_output=True, text=True)
        faults, variable = out.stdout.split()
        runs[how] = (int(faults), variable)
    assert runs["keep"] == (runs["keep"][0], "65536") and runs["undo"][1] == "None"
    assert runs["keep"][0] > 20 * max(runs["undo"][0], 100)  # ~150 faults an array against ~100 in all
    undo_malloc_trim()  # where the variable is not set: nothing happens


TORCH_PARENT = """
import sys
import numpy as np
import pandas as pd
import torch
from emoframe import FeatureExtractor
from emoframe.data.manifest import Manifest
from emoframe.features import extract_features
from emoframe.workers import Limits

class TorchOps(FeatureExtractor):
    \"\"\"Runs a parallel torch kernel per sample.\"\"\"
    name, version, modality, output = "test.torchops", "1", "text", "vector"
    def extract(self, x):
        return np.array([float(torch.ones(200_000).mul(len(x)).exp().log().sum())], dtype=np.float32)

torch.ones(2_000_000).exp().sum()  # the parent runs a parallel region first (GNU OpenMP's pool starts)
m = Manifest.from_frame(pd.DataFrame({"id": ["a", "b"], "audio": "", "text": ["x", "yy"], "label": "l",
                                      "speaker": "s"}), require_audio=False)
r = extract_features(TorchOps(), m, jobs=1, limits=Limits(timeout=60))  # one worker, every core
print("failures", r.failures, "ids", r.ids)
"""


def test_a_worker_forked_after_torch_ran_does_not_hang(tmp_path):
    """A child forked after torch used its OpenMP pool hangs in its next parallel region, unless
    it keeps torch at one thread (workers.limit_threads): extraction finishes, both samples done."""
    pytest.importorskip("torch")
    import subprocess
    import sys

    script = tmp_path / "torch_parent.py"
    script.write_text(TORCH_PARENT)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "failures {} ids ['a', 'b']" in out.stdout
