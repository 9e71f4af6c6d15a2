"""Distributed: the demo grid on a Dask scheduler and workers started as separate processes.

Starts `dask scheduler` on 127.0.0.1 and `dask worker` processes (one thread each; tasks run in
supervised children, so workers are not daemonic), extracts the demo's features once into a
shared cache, then runs the demo grid three times from scratch (fresh results, warm features):
the local executor (--jobs 2), Dask with one worker, Dask with two. Prints the wall and CPU
seconds of each run, the speed-up of two Dask workers over one, and whether every pipeline's
pooled UAR equals the local executor's. CPU seconds: this process and its reaped children (the
local executor joins its workers) plus, for Dask, what the scheduler, nannies, workers and their
task children spent during the run (each process of the cluster's tree, read before and after).

    python benchmarks/bench_dask.py [--no-robustness] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

import psutil
import yaml
from clock import cpu_with_children

from emoframe.bench.runner import run_benchmark
from emoframe.plugin.registry import get_registry
from emoframe.results.leaderboard import leaderboard
from emoframe.results.store import ResultsStore
from emoframe.spec import parse_spec


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_cluster(workers: int, env: dict[str, str]) -> tuple[str, list[subprocess.Popen]]:
    port = free_port()
    dask = str(Path(sys.executable).with_name("dask"))
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]  # fmt: skip
    address = f"tcp://127.0.0.1:{port}"
    time.sleep(3)
    for _ in range(workers):
        procs.append(
            subprocess.Popen(
                [dask, "worker", address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    from distributed import Client

    with Client(address, timeout=60) as client:
        client.wait_for_workers(workers, timeout=120)
    return address, procs


def tree_cpu(procs: Sequence[subprocess.Popen]) -> dict[int, float]:
    """CPU seconds so far of every living process under ``procs`` (each with its waited-for children)."""
    out: dict[int, float] = {}
    for p in procs:
        try:
            root = psutil.Process(p.pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for q in tree:
            try:
                t = q.cpu_times()
                out[q.pid] = t.user + t.system + t.children_user + t.children_system
            except psutil.NoSuchProcess:
                pass
    return out


def timed(spec, workdir: Path, procs: Sequence[subprocess.Popen] = (), **kw) -> tuple[float, float, dict[str, float]]:
    """(wall seconds, CPU seconds, pooled UAR by pipeline) of one run from scratch."""
    before, c0, t0 = tree_cpu(procs), cpu_with_children(), time.perf_counter()
    outcome = run_benchmark(spec, get_registry(), workdir, fresh=True, **kw)
    wall, cpu = time.perf_counter() - t0, cpu_with_children() - c0
    cpu += sum(v - before.get(pid, 0.0) for pid, v in tree_cpu(procs).items())
    assert not outcome.errors, outcome.errors[:3]
    rows = leaderboard(ResultsStore(workdir / "results.db"), outcome.run_id)
    return wall, cpu, {r.pipeline: round(r.uar, 6) for r in rows if r.uar is not None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-robustness", action="store_true", help="the demo grid without its robustness block")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    doc = yaml.safe_load((files("emoframe.bench") / "demo.yaml").read_text())
    if args.no_robustness:
        doc.pop("robustness", None)
    spec = parse_spec(doc)
    env = dict(os.environ, DASK_DISTRIBUTED__WORKER__DAEMON="False")
    result: dict = {"cores": os.cpu_count(), "robustness": not args.no_robustness}
    with tempfile.TemporaryDirectory() as tmp:
        wd = Path(tmp)
        run_benchmark(spec, get_registry(), wd, jobs=2)  # corpus and features, cached for every timed run
        wall, cpu, local = timed(spec, wd, jobs=2)
        result["local_jobs2_s"], result["local_jobs2_cpu_s"] = round(wall, 1), round(cpu, 1)
        for n in (1, 2):
            address, procs = start_cluster(n, env)
            try:
                wall, cpu, board = timed(spec, wd, procs, executor="dask", scheduler=address, jobs=n)
            finally:
                for p in reversed(procs):
                    p.terminate()
                for p in procs:
                    p.wait(timeout=30)
            result[f"dask_{n}_workers_s"] = round(wall, 1)
            result[f"dask_{n}_workers_cpu_s"] = round(cpu, 1)
            result[f"dask_{n}_same_leaderboard"] = board == local
    result["dask_speedup_2_vs_1"] = round(result["dask_1_workers_s"] / result["dask_2_workers_s"], 2)
    print(json.dumps(result, indent=2))
    same = result["dask_1_same_leaderboard"] and result["dask_2_same_leaderboard"]
    print(f"Dask (1 and 2 workers) gives the local executor's leaderboard: {'PASS' if same else 'FAIL'}")
    print(f"speed-up of 2 workers over 1: {result['dask_speedup_2_vs_1']}× (reported; no target)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
