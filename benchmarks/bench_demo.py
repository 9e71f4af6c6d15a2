"""The demo's budget, as ratios to a bare openSMILE pass over the demo corpus timed in the same run.

1. the bare pass: a loop calling opensmile (eGeMAPS functionals) on every file of the demo corpus,
   timed before and after the cold demo (the ratios use the mean of the two);
2. `emoframe demo` cold, in a fresh workdir (corpus generation, extraction, every fold, report);
3. `emoframe demo` again, warm (feature cache and results store reused).

Targets: cold ≤ 7× the bare pass, warm ≤ 0.25× the bare pass, demo workdir ≤ 150 MB. Also prints
where the cold run's time went: fit seconds per pipeline (summed over folds, from the results
store) and the workdir's size by folder.

    python benchmarks/bench_demo.py [--jobs 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_extraction import bare_opensmile  # noqa: E402

from emoframe.data.synth import generate  # noqa: E402


def children_cpu() -> float:
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return c.ru_utime + c.ru_stime


def demo(workdir: Path, jobs: int) -> tuple[float, float]:
    """(wall, CPU) of one `emoframe demo` in a fresh process (its workers included)."""
    cmd = [sys.executable, "-m", "emoframe", "demo", "--workdir", str(workdir), "--jobs", str(jobs)]
    c0, t0 = children_cpu(), time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0, children_cpu() - c0


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def fit_seconds(workdir: Path) -> dict[str, float]:
    """Fit seconds per pipeline label, summed over folds (standalone cost: shared work counted in each)."""
    con = sqlite3.connect(workdir / "results.db")
    try:
        names = dict(con.execute("SELECT id, name FROM pipelines"))
        out: dict[str, float] = {}
        for pid, blob in con.execute("SELECT pipeline_id, result FROM folds"):
            out[names.get(pid, pid)] = out.get(names.get(pid, pid), 0.0) + json.loads(blob).get("fit_s", 0.0)
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))
    finally:
        con.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        generate(tmp_path / "corpus")
        files = sorted(str(p) for p in (tmp_path / "corpus" / "wav").glob("*.wav"))
        bare_opensmile(files[:5])  # load the shared library once, as the demo's workers do
        c0 = time.process_time()
        bare_before = bare_opensmile(files)
        wd = tmp_path / "work"
        cold, cold_cpu = demo(wd, args.jobs)
        # timed again after the cold run: the ratio uses the mean, so a machine that drifts during the
        # run (this one's pass moved by 40% between runs) shifts both sides alike
        bare_after = bare_opensmile(files)
        bare_cpu = (time.process_time() - c0) / 2
        bare = (bare_before + bare_after) / 2
        warm, warm_cpu = demo(wd, args.jobs)
        folders = {p.name: round(size_mb(p), 1) for p in wd.iterdir() if p.is_dir()}
        total_mb = round(size_mb(wd), 1)
        fits = {k: round(v, 1) for k, v in fit_seconds(wd).items()}
    result = {
        "cores": os.cpu_count(),
        "jobs": args.jobs,
        "bare_opensmile_s": round(bare, 1),
        "bare_opensmile_before_after_s": [round(bare_before, 1), round(bare_after, 1)],
        "bare_opensmile_cpu_s": round(bare_cpu, 1),
        "demo_cold_s": round(cold, 1),
        "demo_cold_cpu_s": round(cold_cpu, 1),
        "demo_warm_s": round(warm, 1),
        "demo_warm_cpu_s": round(warm_cpu, 1),
        "cold_ratio": round(cold / bare, 2),
        "warm_ratio": round(warm / bare, 3),
        # the same ratios in CPU seconds (the demo's processes against the bare pass's), to read beside wall
        "cold_cpu_ratio": round(cold_cpu / bare_cpu, 2),
        "warm_cpu_ratio": round(warm_cpu / bare_cpu, 3),
        "workdir_mb": total_mb,
        "workdir_folders_mb": folders,
        "fit_s_per_pipeline": fits,
    }
    print(json.dumps(result, indent=2))
    checks = [
        ("demo cold vs bare openSMILE pass", result["cold_ratio"], 7.0, "×"),
        ("demo warm vs bare openSMILE pass", result["warm_ratio"], 0.25, "×"),
        ("demo workdir", total_mb, 150.0, " MB"),
    ]
    for label, value, limit, unit in checks:
        print(f"{label}: {value}{unit}  (target ≤ {limit}{unit}) {'PASS' if value <= limit else 'FAIL'}")
    print(f"in CPU seconds: cold {result['cold_cpu_ratio']}×, warm {result['warm_cpu_ratio']}× the bare pass")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
