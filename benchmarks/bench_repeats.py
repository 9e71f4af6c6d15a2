"""Repeats and cost columns, as ratios measured in one run (issue 28 targets).

1. 3 repeats (``evaluation.repeats: 3``) cost ≤ 3.2× one repeat, and extract nothing more: both runs
   read the same warm feature cache in one workdir (each into a fresh results store), and the cache's
   entries are counted before and after (0 new entries = 0 extra extraction).
2. The cost columns (fit CPU seconds, standalone predict time, state size, peak memory, training curves,
   their tables) add ≤ 2% to a benchmark's wall time: the same run with the cost code replaced by no-ops
   (inherited by the forked workers), alternating with the real one; and, robust to a busy machine, the
   seconds spent inside the cost code itself (each call timed, in the workers too) as a share of the wall.

The grid: eGeMAPS → SVC and TF-IDF → SVC with learned late fusion (3 pipelines), speaker 5-fold on the
synthetic demo corpus (480 utterances), one worker. Each measurement is taken ``--rounds`` times,
alternating; wall and CPU (this process and its workers) are both reported.

    python benchmarks/bench_repeats.py [--rounds 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clock import cpu_with_children  # noqa: E402

from emoframe.bench.runner import run_benchmark  # noqa: E402
from emoframe.data.synth import generate  # noqa: E402
from emoframe.plugin.registry import get_registry  # noqa: E402
from emoframe.spec import parse_spec  # noqa: E402

BRANCHES = {
    "audio": {"extractor": "opensmile.egemaps", "model": "sklearn.svc"},
    "text": {"extractor": "sklearn.tfidf", "model": "sklearn.svc"},
}


def spec(manifest: Path, repeats: int) -> Any:
    return parse_spec(
        {
            "data": {"manifest": str(manifest)},
            "evaluation": {"protocol": "speaker_kfold", "folds": 5, "repeats": repeats},
            "branches": BRANCHES,
            "fusion": [{"name": "fusion.late", "params": {"weights": "learned"}}],
        }
    )


def cache_entries(workdir: Path) -> int:
    return sum(1 for f in (workdir / "cache").rglob("*") if f.is_file())


def fit_seconds(workdir: Path, store: str) -> tuple[float, float]:
    """(wall, CPU) fit seconds the run's folds recorded (results.costs), summed over every fold and repeat:
    the fits themselves, whatever else the machine was doing."""
    import sqlite3

    con = sqlite3.connect(workdir / "stores" / store / "results.db")
    try:
        wall, cpu = con.execute("SELECT SUM(fit_s), SUM(fit_cpu_s) FROM fold_costs").fetchone()
        return float(wall), float(cpu)
    finally:
        con.close()


def timed(doc: Any, workdir: Path, store: str) -> tuple[float, float]:
    """(wall, CPU) of one run into a fresh results store ``store`` under ``workdir`` (the cache shared)."""
    import shutil

    runs = workdir / "stores" / store
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir(parents=True)
    (runs / "cache").symlink_to(workdir / "cache", target_is_directory=True)
    c0, t0 = cpu_with_children(), time.perf_counter()
    out = run_benchmark(doc, get_registry(), runs, jobs=1, fresh=True)
    wall, cpu = time.perf_counter() - t0, cpu_with_children() - c0
    assert not out.errors, out.errors
    return wall, cpu


def cost_code() -> list[tuple[Any, str]]:
    """(owner, name) of every function the cost columns add to a run."""
    from emoframe.bench import tasks
    from emoframe.pipeline import fitted
    from emoframe.results import costs

    return [
        (fitted.Pipeline, "state_bytes"),
        (fitted.Pipeline, "curves"),
        (costs, "save"),
        (tasks, "reset_peak_memory"),
        (tasks, "peak_memory_mb"),
    ]


class NoCost:
    """The cost code as no-ops (a context), to measure what it adds."""

    def __enter__(self) -> NoCost:
        self.saved = [(owner, name, getattr(owner, name)) for owner, name in cost_code()]
        blank: dict[str, Any] = {
            "state_bytes": None,
            "curves": {},
            "save": None,
            "reset_peak_memory": False,
            "peak_memory_mb": 0.0,
        }
        for owner, name, _ in self.saved:
            setattr(owner, name, lambda *a, _v=blank[name], **k: _v)
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, value in self.saved:
            setattr(owner, name, value)


class TimedCost(NoCost):
    """The cost code timed call by call (in the forked workers too: each call appends its seconds to ``log``)."""

    def __init__(self, log: Path):
        self.log = log

    def __enter__(self) -> TimedCost:
        self.saved = [(owner, name, getattr(owner, name)) for owner, name in cost_code()]
        for owner, name, fn in self.saved:

            def timed_call(*a: Any, _fn: Any = fn, **k: Any) -> Any:
                t0 = time.perf_counter()
                try:
                    return _fn(*a, **k)
                finally:
                    with open(self.log, "a") as f:
                        f.write(f"{time.perf_counter() - t0}\n")

            setattr(owner, name, timed_call)
        return self

    def seconds(self) -> float:
        return sum(float(x) for x in self.log.read_text().split()) if self.log.exists() else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root / "demo")
        manifest = root / "demo" / "manifest.csv"
        wd = root / "wd"
        t0 = time.perf_counter()
        run_benchmark(spec(manifest, 1), get_registry(), wd, jobs=1)  # extracts once: the cache is warm after
        print(f"warm-up (extraction and one repeat): {time.perf_counter() - t0:.1f} s", flush=True)
        entries = cache_entries(wd)
        rounds: list[dict[str, Any]] = []
        for r in range(args.rounds):
            one = timed(spec(manifest, 1), wd, "one")
            three = timed(spec(manifest, 3), wd, "three")
            with NoCost():
                bare = timed(spec(manifest, 1), wd, "bare")
            with TimedCost(root / f"cost-{r}.log") as clock:
                costed = timed(spec(manifest, 1), wd, "costed")
            inside = clock.seconds()
            extra = cache_entries(wd) - entries
            fits_one, fits_three = fit_seconds(wd, "one"), fit_seconds(wd, "three")
            rounds.append(
                {
                    "one": one,
                    "three": three,
                    "bare": bare,
                    "costed": costed,
                    "repeats_ratio_wall": three[0] / one[0],
                    "repeats_ratio_cpu": three[1] / one[1],
                    "cost_overhead_wall": costed[0] / bare[0] - 1,
                    "cost_overhead_cpu": costed[1] / bare[1] - 1,
                    "extra_cache_entries": extra,
                    "fits_ratio_wall": fits_three[0] / fits_one[0],
                    "fits_ratio_cpu": fits_three[1] / fits_one[1],
                    "cost_code_s": inside,
                    "cost_code_share": inside / costed[0],
                }
            )
            x = rounds[-1]
            print(
                f"round {r + 1}: 1 repeat {one[0]:.1f} s wall / {one[1]:.1f} s CPU; 3 repeats {three[0]:.1f} / "
                f"{three[1]:.1f} → ×{x['repeats_ratio_wall']:.2f} wall, ×{x['repeats_ratio_cpu']:.2f} CPU (≤ 3.2); "
                f"fits alone (stored fit s) ×{x['fits_ratio_wall']:.2f} wall, ×{x['fits_ratio_cpu']:.2f} CPU; "
                f"extra cache entries {extra} (0); cost code {costed[0]:.1f} s vs without {bare[0]:.1f} s → "
                f"{x['cost_overhead_wall']:+.1%} wall, {x['cost_overhead_cpu']:+.1%} CPU (≤ 2%); timed inside: "
                f"{inside:.3f} s = {x['cost_code_share']:.2%} of the run's wall",
                flush=True,
            )
        summary = {
            k: statistics.median(x[k] for x in rounds)
            for k in (
                "repeats_ratio_wall",
                "repeats_ratio_cpu",
                "fits_ratio_wall",
                "fits_ratio_cpu",
                "cost_overhead_wall",
                "cost_overhead_cpu",
                "cost_code_share",
            )
        }
        print("medians:", json.dumps({k: round(v, 4) for k, v in summary.items()}))
        if args.json:
            args.json.write_text(json.dumps({"rounds": rounds, "medians": summary}, indent=1))


if __name__ == "__main__":
    main()
