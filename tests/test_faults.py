"""Fault injection (issue 9 §3, §5): a plugin that raises, hangs, leaks or kills its process in fit
or in extract costs its own pipeline's folds (or its own samples) and nothing else, under
-j1, -j2 and the Dask executor; Ctrl-C stops promptly with exit 130 and no orphan."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from emoframe.bench import events as ev
from emoframe.bench.runner import run_benchmark
from emoframe.plugin.registry import Registry
from emoframe.spec import parse_spec
from emoframe.workers import Limits

from . import fault_plugin, toy_plugin
from .processes import child_pids, is_alive
from .text_corpus import rotated, write_text_corpus

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    """A text-only corpus: 4 speakers × 2 classes × 3 utterances; two transcripts hold 'boom'."""
    boom = {(0, "happy", 0), (2, "sad", 1)}
    return write_text_corpus(
        tmp_path_factory.mktemp("faults") / "manifest.csv",
        4,
        3,
        lambda s, label, k: rotated(label, k) + (" boom" if (s, label, k) in boom else ""),
    )


@pytest.fixture
def reg() -> Registry:
    r = Registry.from_entry_points(allow=[])
    r.add_plugin(toy_plugin, name="toy")
    r.add_plugin(fault_plugin, name="fault")
    return r


def spec_with(manifest: Path, model: dict | None = None, extractor: dict | None = None, share: float = 0.02):
    models = [{"name": "toy.centroid"}]
    if model is not None:
        models.append(model)
    branches = {"text": {"extractor": "toy.words", "model": models}}
    if extractor is not None:
        branches = {"text": [branches["text"], {"extractor": extractor, "model": "toy.centroid"}]}
    return parse_spec(
        {
            "name": "faults",
            "data": {"manifest": str(manifest)},
            "evaluation": {"protocol": "speaker_kfold", "folds": 2, "bootstrap": 20, "max_failure_share": share},
            "branches": branches,
            "kind": "benchmark",
        }
    )


def predictions(workdir: Path, run_id: str, name: str) -> dict[int, list[str]]:
    con = sqlite3.connect(workdir / "results.db")
    rows = con.execute(
        "SELECT f.fold, f.result FROM folds f JOIN pipelines p ON p.id = f.pipeline_id AND "
        "p.run_id = f.run_id WHERE f.run_id = ? AND p.name = ?",
        (run_id, name),
    ).fetchall()
    con.close()
    return {fold: json.loads(result)["y_pred"] for fold, result in rows}


HEALTHY = "toy.words→toy.centroid"


@pytest.fixture(scope="module")
def reference(manifest, tmp_path_factory):
    r = Registry.from_entry_points(allow=[])
    r.add_plugin(toy_plugin, name="toy")
    wd = tmp_path_factory.mktemp("reference")
    out = run_benchmark(spec_with(manifest), r, wd, jobs=1)
    return predictions(wd, out.run_id, HEALTHY)


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize(
    "mode, expect",
    [
        ("raise", "RuntimeError: deliberate failure"),
        ("exit", "exited with code 3"),
        ("segv", "SIGSEGV"),
        ("hang", "timed out after 3 s"),
    ],
)
def test_a_faulty_model_fails_its_own_pipeline_only(manifest, reg, reference, tmp_path, jobs, mode, expect):
    spec = spec_with(manifest, model={"name": "fault.model", "params": {"mode": mode}})
    out = run_benchmark(spec, reg, tmp_path, jobs=jobs, limits=Limits(timeout=3))
    assert predictions(tmp_path, out.run_id, HEALTHY) == reference  # untouched, fold by fold
    assert len(out.errors) == 2 and all(expect in e["message"] for e in out.errors), out.errors
    if mode in ("exit", "segv", "hang"):  # named by what the worker was doing
        assert all("fault.model" in e["message"] for e in out.errors)


def test_a_leaking_model_is_contained_by_recycling(manifest, reg, reference, tmp_path):
    spec = spec_with(manifest, model={"name": "fault.model", "params": {"mode": "leak"}})
    out = run_benchmark(spec, reg, tmp_path, jobs=1, limits=Limits(max_memory_mb=150, max_tasks=None))
    assert not out.errors and predictions(tmp_path, out.run_id, HEALTHY) == reference


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("mode", ["exit", "raise", "hang"])
def test_a_faulty_extractor_loses_only_the_samples_it_fails_on(manifest, reg, tmp_path, jobs, mode):
    # 2 of 24 rows: an odd bad row below a 10% allowance, left out of every pipeline with its reason
    spec = spec_with(manifest, extractor={"name": "fault.text", "params": {"mode": mode, "trigger": "boom"}}, share=0.1)
    out = run_benchmark(spec, reg, tmp_path, jobs=jobs, limits=Limits(timeout=3))
    con = sqlite3.connect(tmp_path / "results.db")
    failures = json.loads(con.execute("SELECT failures FROM runs WHERE id = ?", (out.run_id,)).fetchone()[0])
    con.close()
    assert sorted(f["id"] for f in failures) == ["s0_happy_0", "s2_sad_1"], failures
    expect = {"exit": "exited with code 3", "raise": "deliberate failure", "hang": "timed out"}[mode]
    assert all(expect in f["reason"] and "fault.text" in f["component"] for f in failures), failures
    assert not out.errors  # both pipelines ran on the rows that could be extracted


def test_dask_executor_survives_a_dying_and_a_raising_task(manifest, reg, reference, tmp_path):
    pytest.importorskip("distributed")
    spec = spec_with(manifest, model={"name": "fault.model", "params": {"mode": "exit"}})
    out = run_benchmark(spec, reg, tmp_path, jobs=2, executor="dask", limits=Limits(timeout=30))
    assert predictions(tmp_path, out.run_id, HEALTHY) == reference
    assert len(out.errors) == 2 and all("exited with code 3" in e["message"] for e in out.errors), out.errors


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_programmatic_plugins_reach_spawned_workers(manifest, reg, reference, tmp_path, monkeypatch, method):
    """Issue 10 §5: plugins added with add_plugin are rebuilt in workers that did not fork from us."""
    monkeypatch.setenv("EMOFRAME_START_METHOD", method)
    spec = spec_with(manifest, model={"name": "fault.model", "params": {"mode": "raise"}})
    out = run_benchmark(spec, reg, tmp_path, jobs=2)
    assert predictions(tmp_path, out.run_id, HEALTHY) == reference
    assert len(out.errors) == 2 and all("deliberate failure" in e["message"] for e in out.errors)


def test_killing_a_dask_worker_mid_run_loses_nothing(manifest, reg, reference, tmp_path):
    """Issue 9 §5: a Dask worker killed while it holds tasks — the tasks are rescheduled, nothing is lost."""
    pytest.importorskip("distributed")
    import threading

    spec = spec_with(manifest, model={"name": "fault.model", "params": {"mode": "slow"}})
    started = threading.Event()
    box: dict = {}

    def events(event):
        if isinstance(event, ev.FoldStarted):
            started.set()

    def run():
        try:
            box["out"] = run_benchmark(spec, reg, tmp_path, jobs=2, executor="dask", events=events)
        except BaseException as exc:  # noqa: BLE001 — reported by the assertion below
            box["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    assert started.wait(120)
    victim = None
    for _ in range(100):  # a Dask worker process (its nanny runs in this process) busy with a slow fit
        workers = [c for c in child_pids(os.getpid()) if child_pids(c)]
        if workers:
            victim = workers[0]
            break
        time.sleep(0.1)
    assert victim is not None
    os.kill(victim, signal.SIGKILL)
    thread.join(300)
    assert not thread.is_alive() and "error" not in box, box
    out = box["out"]
    assert not out.errors, out.errors
    assert predictions(tmp_path, out.run_id, HEALTHY) == reference
    (slow,) = [p.display_name for _, p in out.pipelines if "fault.model" in p.display_name]
    assert len(predictions(tmp_path, out.run_id, slow)) == 2  # both folds of the killed worker's pipeline


# -- events: once per fact, for every executor ----------------------------------------------
@pytest.mark.parametrize("executor, jobs", [("local", 1), ("local", 2), ("dask", 2)])
def test_event_sequence(manifest, reg, tmp_path, executor, jobs):
    if executor == "dask":
        pytest.importorskip("distributed")
    seen: list[ev.Event] = []
    spec = spec_with(manifest, model={"name": "fault.model", "params": {"mode": "raise"}})
    out = run_benchmark(spec, reg, tmp_path, jobs=jobs, executor=executor, events=seen.append)
    kinds = [type(e).__name__ for e in seen if not isinstance(e, ev.ExtractionProgress)]
    assert kinds[0] == "RunPlanned" and kinds[-1] == "RunFinished"
    planned, finished = seen[0], seen[-1]
    assert planned.pending == 4 and planned.skipped == 0
    done = [e for e in seen if isinstance(e, ev.PipelineFoldFinished)]
    assert sorted((e.pipeline, e.fold) for e in done) == sorted({(e.pipeline, e.fold) for e in done})  # once each
    assert len(done) == 4 and sum(not e.ok for e in done) == 2 and finished.failed == 2 and finished.ran == 2
    started = {e.fold: i for i, e in enumerate(seen) if isinstance(e, ev.FoldStarted)}
    for i, e in enumerate(seen):
        if isinstance(e, ev.PipelineFoldFinished):
            assert any(
                isinstance(s, ev.FoldStarted) and s.fold == e.fold and e.pipeline in s.pipelines for s in seen[:i]
            )
    if executor == "local" and jobs == 1:  # strictly sequential: started, its pipelines finished, next
        assert kinds == ["RunPlanned"] + ["FoldStarted", "PipelineFoldFinished"] * 4 + ["RunFinished"]
    assert started and out.ran == 2
    rerun: list[ev.Event] = []
    again = run_benchmark(spec, reg, tmp_path, jobs=jobs, executor=executor, events=rerun.append)
    replanned = next(e for e in rerun if isinstance(e, ev.RunPlanned))
    assert replanned.skipped == 2 and replanned.pending == 2 and again.run_id == out.run_id  # failures rerun


# -- the CLI: exit codes, Ctrl-C ------------------------------------------------------------------
def plugin_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose emoframe finds the fault and toy plugins through entry points."""
    site = tmp_path / "site"
    info = site / "emoframe_faults-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: emoframe-faults\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[emoframe]\nfault = tests.fault_plugin\ntoy = tests.toy_plugin\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}


def test_cli_exit_code_1_names_the_failed_pipeline(manifest, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        yaml.safe_dump(spec_with(manifest, model={"name": "fault.model", "params": {"mode": "exit"}}).to_dict())
    )
    run = subprocess.run(
        [sys.executable, "-m", "emoframe", "bench", str(spec), "-j", "1", "--workdir", str(tmp_path / "wd")],
        capture_output=True,
        text=True,
        env=plugin_env(tmp_path),
        timeout=300,
    )
    assert run.returncode == 1, run.stderr
    assert "fault.model" in run.stderr and "exited with code 3" in run.stderr
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr
    assert "toy.words→toy.centroid" in run.stdout  # the healthy pipeline's row is printed


def test_ctrl_c_stops_promptly_with_130_and_leaves_no_worker(manifest, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        yaml.safe_dump(spec_with(manifest, model={"name": "fault.model", "params": {"mode": "hang"}}).to_dict())
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emoframe",
            "bench",
            str(spec),
            "-j",
            "2",
            "--timeout",
            "none",
            "--workdir",
            str(tmp_path / "wd"),
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=plugin_env(tmp_path),
        # a shell's background job (`pytest … &`) inherits SIGINT ignored, and so would this child: give it the
        # disposition of a command typed at a terminal, which is what this test is about
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    line = ""
    deadline = time.monotonic() + 120
    while "to run" not in line and time.monotonic() < deadline:
        line = proc.stderr.readline()
    time.sleep(2)  # the hanging fits are under way
    children = child_pids(proc.pid)
    assert children
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    assert time.monotonic() - t0 < 15 and proc.returncode == 130
    assert "interrupted" in proc.stderr.read()
    time.sleep(0.5)
    assert not [c for c in children if is_alive(c)]
    db = sqlite3.connect(tmp_path / "wd" / "results.db")  # the store is consistent and readable
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
