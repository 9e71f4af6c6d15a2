"""Work sharing in the benchmark runner, as a ratio measured in one run (issue 5 target).

A grid of the 4 late-kind fusions (late with learned weights, vote, stacking, gated) over
the same 2 branches (eGeMAPS → SVC, TF-IDF → SVC) must cost < 2× one late-fusion pipeline
(late with learned weights: it needs the same out-of-fold branch probabilities as stacking
and gated). Features are extracted and cached before timing, so only training is compared.

    python benchmarks/bench_grid.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from emoframe.bench.runner import run_benchmark
from emoframe.data.synth import generate
from emoframe.plugin.registry import get_registry
from emoframe.spec import parse_spec

BRANCHES = {
    "audio": {"extractor": "opensmile.egemaps", "model": "sklearn.svc"},
    "text": {"extractor": "sklearn.tfidf", "model": "sklearn.svc"},
}
LEARNED = {"name": "fusion.late", "params": {"weights": "learned"}}


def timed(doc: dict, workdir: Path) -> float:
    t0 = time.perf_counter()
    outcome = run_benchmark(parse_spec(doc), get_registry(), workdir, jobs=1, fresh=True)
    assert not outcome.errors, outcome.errors
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        generate(tmp / "demo")
        base = {
            "data": {"manifest": str(tmp / "demo" / "manifest.csv")},
            "evaluation": {"protocol": "speaker_kfold", "folds": 5, "bootstrap": 0},
            "branches": BRANCHES,
            "baselines": False,
        }
        one = {**base, "kind": "benchmark", "fusion": [LEARNED]}
        equal = {**base, "kind": "benchmark", "fusion": ["fusion.late"]}
        grid = {**base, "kind": "benchmark", "fusion": [LEARNED, "fusion.vote", "fusion.stacking", "fusion.gated"]}
        timed(one, tmp / "warm")  # extract and cache the features once, outside the timings
        runs = {"one_learned": [], "one_equal": [], "grid4": []}
        for _ in range(args.repeats):
            runs["one_learned"].append(timed(one, tmp / "wd"))
            runs["one_equal"].append(timed(equal, tmp / "wd"))
            runs["grid4"].append(timed(grid, tmp / "wd"))
    med = {k: statistics.median(v) for k, v in runs.items()}
    result = {
        "seconds_median": {k: round(v, 2) for k, v in med.items()},
        "grid4_vs_one_learned_late": round(med["grid4"] / med["one_learned"], 2),
        "grid4_vs_one_equal_late": round(med["grid4"] / med["one_equal"], 2),
    }
    print(json.dumps(result, indent=2))
    print(
        f"grid of 4 late-kind fusions vs one learned late fusion: {result['grid4_vs_one_learned_late']:.2f}× "
        "(target < 2×)"
    )


if __name__ == "__main__":
    main()
