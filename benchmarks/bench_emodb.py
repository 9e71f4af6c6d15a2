"""Against a bare script: EmoDB, eGeMAPS → SVC with per-speaker normalisation, LOSO, cold cache.

In one run: (1) a bare script — opensmile over every file, per-speaker z-normalisation,
StandardScaler + SVC per leave-one-speaker-out fold, UAR over the pooled predictions — and
(2) `emoframe run` of the same pipeline in a fresh workdir (extraction over the default jobs,
the cache written, every fold stored, bootstrap CIs). Wall and CPU seconds and UAR of both.
With ``--nkululeko PYTHON`` (an interpreter of a separate environment with nkululeko installed:
its dependencies do not fit emoframe's), (3) nkululeko on the same rows in the same run: its
openSMILE eGeMAPSv02 functionals, ``scale = speaker``, an RBF SVM, ``logo`` = the number of
speakers (leave one speaker out), cold (fresh experiment folder). Needs ../shared/data/emodb.

    python benchmarks/bench_emodb.py [--jobs 2] [--nkululeko /path/to/venv/bin/python] [--json out.json]
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
from clock import cpu_with_children

EMODB = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "emodb"


def bare(manifest) -> tuple[float, float, float]:
    """(wall, cpu, UAR) of the script a scikit-learn user writes."""
    import opensmile
    from baselines import cross_validate, speaker_z  # the scikit-learn baselines' own LOSO and z-norm
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    t0, c0 = time.perf_counter(), cpu_with_children()
    smile = opensmile.Smile(opensmile.FeatureSet.eGeMAPSv02, opensmile.FeatureLevel.Functionals)
    X = np.vstack([smile.process_file(f).to_numpy() for f in manifest.frame["audio"]])
    y, speakers = manifest.labels.astype(str), manifest.speakers
    uar, _ = cross_validate(lambda: make_pipeline(StandardScaler(), SVC()), speaker_z(X, speakers), y, speakers)
    return time.perf_counter() - t0, cpu_with_children() - c0, uar


NKULULEKO_INI = """[EXP]
root = {root}/
name = emodb_loso
runs = 1
epochs = 1
[DATA]
databases = ['emodb']
emodb = {csv}
emodb.type = csv
emodb.absolute_path = True
emodb.split_strategy = speaker_split
target = emotion
labels = {labels}
[FEATS]
type = ['os']
scale = speaker
[MODEL]
type = svm
C_val = 1.0
kernel = rbf
logo = {speakers}
"""


def nkululeko(python: str, manifest, workdir: Path) -> dict:
    """(wall, CPU, UAR and its last lines) of ``python -m nkululeko.nkululeko`` on the same rows, LOSO."""
    import re
    import subprocess

    import pandas as pd

    csv = workdir / "emodb.csv"
    frame = manifest.frame
    pd.DataFrame({"file": frame["audio"], "speaker": frame["speaker"], "emotion": frame["label"]}).to_csv(
        csv, index=False
    )
    labels = sorted(set(map(str, manifest.labels)))
    ini = workdir / "exp.ini"
    ini.write_text(
        NKULULEKO_INI.format(root=workdir / "nkulu", csv=csv, labels=labels, speakers=len(set(manifest.speakers)))
    )
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(
        [python, "-m", "nkululeko.nkululeko", "--config", str(ini)], capture_output=True, text=True, cwd=workdir
    )
    wall = time.perf_counter() - t0
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = done.stdout + done.stderr
    # its summary line over runs ("mean: 0.6882, std: …"), else the last UAR it printed
    found = re.findall(r"^mean: (0\.\d+)", out, flags=re.M) or re.findall(r"UAR[^0-9]{0,40}?(0\.\d+)", out)
    return {
        "exit": done.returncode,
        "wall_s": round(wall, 1),
        "cpu_s": round(c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime, 1),
        "uar": float(found[-1]) if found else None,
        "tail": out.strip().splitlines()[-8:],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--nkululeko", help="python of a separate environment with nkululeko installed")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if not (EMODB / "wav").is_dir():
        sys.exit(f"needs EmoDB in {EMODB}")
    from emoframe.bench.runner import run_benchmark
    from emoframe.plugin.registry import get_registry
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
        t0, c0 = time.perf_counter(), cpu_with_children()
        outcome = run_benchmark(spec, reg, tmp, jobs=args.jobs)
        ef_wall, ef_cpu = time.perf_counter() - t0, cpu_with_children() - c0
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
    if args.nkululeko:
        with tempfile.TemporaryDirectory() as tmp:
            result["nkululeko"] = nkululeko(args.nkululeko, manifest, Path(tmp))
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
