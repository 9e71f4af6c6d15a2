"""Against a bare script: EmoDB, eGeMAPS → SVC with per-speaker normalisation, LOSO, cold cache.

In one run: (1) a bare script — opensmile over every file, per-speaker z-normalisation,
StandardScaler + SVC per leave-one-speaker-out fold, UAR over the pooled predictions — and
(2) `emoframe run` of the same pipeline in a fresh workdir (extraction over the default jobs,
the cache written, every fold stored, bootstrap CIs). Wall and CPU seconds and UAR of both.
Needs ../shared/data/emodb.

    python benchmarks/bench_emodb.py [--jobs 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

EMODB = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "emodb"


def cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def bare(manifest) -> tuple[float, float, float]:
    """(wall, cpu, UAR) of the script a scikit-learn user writes."""
    import opensmile
    from baselines import cross_validate, speaker_z  # the scikit-learn baselines' own LOSO and z-norm
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    t0, c0 = time.perf_counter(), cpu()
    smile = opensmile.Smile(opensmile.FeatureSet.eGeMAPSv02, opensmile.FeatureLevel.Functionals)
    X = np.vstack([smile.process_file(f).to_numpy() for f in manifest.frame["audio"]])
    y, speakers = manifest.labels.astype(str), manifest.speakers
    uar, _ = cross_validate(lambda: make_pipeline(StandardScaler(), SVC()), speaker_z(X, speakers), y, speakers)
    return time.perf_counter() - t0, cpu() - c0, uar


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if not (EMODB / "wav").is_dir():
        sys.exit(f"needs EmoDB in {EMODB}")
    from emoframe.bench.runner import run_benchmark
    from emoframe.registry import get_registry
    from emoframe.results.leaderboard import leaderboard
    from emoframe.results.store import ResultsStore
    from emoframe.spec import parse_spec

    reg = get_registry()
    manifest = reg.create("emodb", {"root": str(EMODB)}, kind="corpus").load()
    bare_wall, bare_cpu, bare_uar = bare(manifest)
    spec = parse_spec(
        {
            "data": {"corpus": {"name": "emodb", "params": {"root": str(EMODB)}}},
            "evaluation": {"protocol": "loso"},
            "branches": {"audio": {"extractor": "opensmile.egemaps", "model": "sklearn.svc", "normalise": "speaker"}},
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), cpu()
        outcome = run_benchmark(spec, reg, tmp, jobs=args.jobs)
        ef_wall, ef_cpu = time.perf_counter() - t0, cpu() - c0
        (row,) = leaderboard(ResultsStore(Path(tmp) / "results.db"), outcome.run_id)
    result = {
        "utterances": len(manifest),
        "jobs": args.jobs,
        "bare_wall_s": round(bare_wall, 1),
        "bare_cpu_s": round(bare_cpu, 1),
        "bare_uar": round(bare_uar, 4),
        "emoframe_wall_s": round(ef_wall, 1),
        "emoframe_cpu_s": round(ef_cpu, 1),
        "emoframe_uar": round(row["uar"], 4),
        "emoframe_uar_ci": [round(row["uar_ci_low"], 4), round(row["uar_ci_high"], 4)],
        "wall_ratio": round(ef_wall / bare_wall, 2),
        "cpu_ratio": round(ef_cpu / bare_cpu, 2),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
