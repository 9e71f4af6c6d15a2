"""Against a bare script: EmoDB, eGeMAPS → SVC with per-speaker normalisation, LOSO, cold cache.

Each round times (1) a bare script — every file read with soundfile, averaged to mono and resampled
to 16 kHz with scipy's ``resample_poly`` (what emoframe's audio loader does, so both sides analyse the
same signal: this EmoDB copy is at 22,050 Hz), openSMILE's ``process_signal``, per-speaker
z-normalisation, StandardScaler + SVC per leave-one-speaker-out fold, UAR over the pooled
predictions — and (2) `emoframe run` of the same pipeline on the same rows in a fresh workdir
(extraction over ``--jobs``, the cache written, every fold stored, bootstrap CIs). Rounds alternate
which side runs first (odd rounds the bare script, even rounds emoframe), so neither always meets a
cold page cache or a quieter machine; wall and CPU seconds of every run, the UAR of both, and the
ratios of the medians. With ``--nkululeko PYTHON`` (an interpreter of a separate environment with
nkululeko installed: its dependencies do not fit emoframe's), (3) nkululeko on the same rows once
after the rounds: its openSMILE eGeMAPSv02 functionals (at the files' own rate), ``scale =
speaker``, an RBF SVM, ``logo`` = the number of speakers, cold (fresh experiment folder). Needs
../shared/data/emodb; ``--speakers 3`` keeps three speakers' rows for a quick smoke run.

    python benchmarks/bench_emodb.py [--jobs 2] [--rounds 2] [--speakers N] [--emodb DIR]
        [--nkululeko PYTHON] [--json out.json]
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


SR = 16000  # the rate emoframe's audio loader gives every extractor


def bare(manifest) -> tuple[float, float, float]:
    """(wall, cpu, UAR) of the script a scikit-learn user writes, analysing what emoframe analyses: each
    file at 16 kHz, mono."""
    from math import gcd

    import opensmile
    import soundfile as sf
    from baselines import cross_validate, speaker_z  # the scikit-learn baselines' own LOSO and z-norm
    from scipy.signal import resample_poly
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    def at_16k(path: str) -> np.ndarray:
        x, sr = sf.read(path, dtype="float32", always_2d=True)
        x = x.mean(axis=1)
        g = gcd(SR, sr)
        return x if sr == SR else resample_poly(x, SR // g, sr // g).astype(np.float32)

    t0, c0 = time.perf_counter(), cpu_with_children()
    smile = opensmile.Smile(opensmile.FeatureSet.eGeMAPSv02, opensmile.FeatureLevel.Functionals)
    X = np.vstack([smile.process_signal(at_16k(f), SR).to_numpy() for f in manifest.frame["audio"]])
    y, speakers = manifest.labels.astype(str), manifest.speakers
    uar, _ = cross_validate(lambda: make_pipeline(StandardScaler(), SVC()), speaker_z(X, speakers), y, speakers)
    return time.perf_counter() - t0, cpu_with_children() - c0, uar


def with_emoframe(csv: Path, jobs: int) -> tuple[float, float, dict]:
    """(wall, cpu, leaderboard row) of `emoframe run` of the same pipeline on the rows of ``csv``, cold."""
    from emoframe.bench.runner import run_benchmark
    from emoframe.plugin.registry import get_registry
    from emoframe.results.leaderboard import leaderboard
    from emoframe.results.store import ResultsStore
    from emoframe.spec import parse_spec

    spec = parse_spec(
        {
            "data": {"manifest": str(csv)},
            "evaluation": {"protocol": "loso"},
            "branches": {"audio": {"extractor": "opensmile.egemaps", "model": "sklearn.svc", "normalise": "speaker"}},
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), cpu_with_children()
        outcome = run_benchmark(spec, get_registry(), tmp, jobs=jobs)
        wall, cpu = time.perf_counter() - t0, cpu_with_children() - c0
        store = ResultsStore(Path(tmp) / "results.db", readonly=True)
        (row,) = leaderboard(store, outcome.run_id)
        store.close()
    return wall, cpu, row


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
    ap.add_argument("--rounds", type=int, default=2, help="odd rounds run the bare script first, even ones emoframe")
    ap.add_argument("--speakers", type=int, help="keep the first N speakers' rows (a smoke run)")
    ap.add_argument("--nkululeko", help="python of a separate environment with nkululeko installed")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--emodb", type=Path, default=EMODB, help="the EmoDB folder [../shared/data/emodb]")
    args = ap.parse_args()
    if not (args.emodb / "wav").is_dir():
        sys.exit(f"needs EmoDB in {args.emodb}")
    from emoframe.plugin.registry import get_registry

    manifest = get_registry().create("emodb", {"root": str(args.emodb)}, kind="corpus").load()
    if args.speakers:
        keep = sorted(set(map(str, manifest.speakers)))[: args.speakers]
        manifest = manifest.subset(manifest.frame["speaker"].astype(str).isin(keep).to_numpy())
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "emodb.csv"  # the same rows for both sides (absolute audio paths)
        manifest.to_csv(csv)
        for r in range(args.rounds):
            order = ("bare", "emoframe") if r % 2 == 0 else ("emoframe", "bare")
            this: dict = {"order": list(order)}
            for side in order:
                if side == "bare":
                    wall, cpu, uar = bare(manifest)
                    this["bare"] = {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "uar": round(uar, 4)}
                else:
                    wall, cpu, row = with_emoframe(csv, args.jobs)
                    this["emoframe"] = {
                        "wall_s": round(wall, 1),
                        "cpu_s": round(cpu, 1),
                        "uar": round(row.uar, 4),
                        "uar_ci": [round(row.uar_ci_low, 4), round(row.uar_ci_high, 4)],
                    }
            this["wall_ratio"] = round(this["emoframe"]["wall_s"] / this["bare"]["wall_s"], 2)
            this["cpu_ratio"] = round(this["emoframe"]["cpu_s"] / this["bare"]["cpu_s"], 2)
            rounds.append(this)
            print(json.dumps({"round": r + 1, **this}), flush=True)

    def median(side: str, key: str) -> float:
        return round(float(np.median([x[side][key] for x in rounds])), 1)

    result = {
        "utterances": len(manifest),
        "speakers": len(set(map(str, manifest.speakers))),
        "jobs": args.jobs,
        "rounds": rounds,
        "bare_wall_s": median("bare", "wall_s"),
        "bare_cpu_s": median("bare", "cpu_s"),
        "emoframe_wall_s": median("emoframe", "wall_s"),
        "emoframe_cpu_s": median("emoframe", "cpu_s"),
        "wall_ratio": round(median("emoframe", "wall_s") / median("bare", "wall_s"), 2),
        "cpu_ratio": round(median("emoframe", "cpu_s") / median("bare", "cpu_s"), 2),
        "bare_uar": rounds[0]["bare"]["uar"],
        "emoframe_uar": rounds[0]["emoframe"]["uar"],
    }
    if args.nkululeko:
        with tempfile.TemporaryDirectory() as tmp:
            result["nkululeko"] = nkululeko(args.nkululeko, manifest, Path(tmp))
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
