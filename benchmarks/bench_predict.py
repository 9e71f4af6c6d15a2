"""Prediction with a trained bundle, as ratios to bare work timed in the same run (the two sides of
each ratio are called alternately, so a change in background load weighs on both).

Bundle: eGeMAPS→SVC + TF-IDF→SVC, late fusion with learned weights, trained on the demo corpus.

1. one 3 s utterance through the loaded bundle (``emoframe.load(...).predict_proba``) vs the bare
   work: read the file, openSMILE (a Smile built once), the TF-IDF vocabulary, both SVCs and the
   weighted average, called directly — target ≤ 1.15×;
2. loading the bundle in a fresh process (``Predictor.load``, plugin imports included) — ≤ 1 s —
   and as a ratio to importing the libraries its components are made of, alone in a fresh process;
3. a folder of 200 files predicted with 2 worker processes vs 1 — ≥ 1.7× faster (the prediction
   itself, in one process, each twice in turn, the faster kept; the whole ``emoframe predict``
   command's wall time is printed too);
4. ``emoframe serve``: median latency of POST /predict (sequential, keep-alive) vs the in-process
   predict of the same file — ≤ 1.3×.

    python benchmarks/bench_predict.py [--reps 30] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
from clock import cpu_with_children

from emoframe.data.synth import generate
from emoframe.deploy.predictor import Predictor
from emoframe.deploy.train import train_bundle
from emoframe.plugin.registry import get_registry
from emoframe.spec import parse_spec

SPEC = {
    "name": "egemaps-svc+tfidf-svc late",
    "branches": {
        "audio": {"extractor": "opensmile.egemaps", "model": "sklearn.svc"},
        "text": {"extractor": "sklearn.tfidf", "model": "sklearn.svc"},
    },
    "fusion": {"name": "fusion.late", "params": {"weights": "learned"}},
}


def cpu() -> float:
    t = os.times()
    return t.user + t.system


def process_cpu(pid: int) -> float:
    """CPU seconds of another process so far (utime + stime from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def paired(fn_a, fn_b, reps: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Medians (wall, CPU) of ``fn_a`` and ``fn_b`` called alternately, so that a change in the machine's
    background load during the measurement weighs on both sides alike."""
    fn_a(), fn_b(), fn_a(), fn_b()
    out: list[list[tuple[float, float]]] = [[], []]
    for _ in range(reps):
        for k, fn in enumerate((fn_a, fn_b)):
            c0, t0 = cpu(), time.perf_counter()
            fn()
            out[k].append((time.perf_counter() - t0, cpu() - c0))
    a, b = ([statistics.median(x[i] for x in side) for i in (0, 1)] for side in out)
    return (a[0], a[1]), (b[0], b[1])


def utterance(root: Path, frame: pd.DataFrame, out: Path, seconds: float = 3.0) -> Path:
    """A 3 s recording: demo utterances of one speaker joined end to end."""
    parts, total = [], 0
    for a in frame["audio"]:
        x, sr = sf.read(root / a, dtype="float32")
        parts.append(x)
        total += len(x)
        if total >= seconds * sr:
            break
    sf.write(out, np.concatenate(parts)[: int(seconds * sr)], sr)
    return out


def bare(model: Predictor):
    """The same work without emoframe: the bundle's own fitted estimators called directly."""
    import opensmile

    smile = opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02, feature_level=opensmile.FeatureLevel.Functionals
    )
    b = model.pipeline.branches
    vectorizer, audio_svc, text_svc = b["text"].extractor.vectorizer_, b["audio"].model.model_, b["text"].model.model_
    w = model.pipeline.fusion.weights_

    def run(path: Path, text: str) -> np.ndarray:
        x, sr = sf.read(path, dtype="float32")
        feats = smile.process_signal(x, sr).to_numpy()
        P = w["audio"] * audio_svc.predict_proba(feats) + w["text"] * text_svc.predict_proba(
            vectorizer.transform([text])
        )
        return P / P.sum(1, keepdims=True)

    return run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_latency(bundle: Path, wav: Path, text: str, reps: int, local) -> tuple[float, float, dict, float, float]:
    import httpx

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "emoframe", "serve", str(bundle), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            for _ in range(300):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            data = wav.read_bytes()

            def ask() -> dict:
                r = client.post("/predict", files={"audio": (wav.name, data, "audio/wav")}, data={"text": text})
                r.raise_for_status()
                return r.json()

            record = ask()
            s0 = process_cpu(proc.pid)
            (wall, _), (local_wall, local_cpu) = paired(ask, local, reps)
            server_cpu = (process_cpu(proc.pid) - s0) / (reps + 2)  # per request, warm-up pairs included
        return wall, local_wall, record, server_cpu, local_cpu
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def load_seconds(bundle: Path) -> dict[str, float]:
    """Predictor.load in a fresh process (the first load, plugin imports included, and a second one),
    beside two baselines, each in its own fresh process: importing the libraries the bundle's
    components are made of (the floor of any fresh load), and importing scikit-learn through skops."""
    code = (
        "import time, json, sys\n"
        "t0 = time.perf_counter(); import emoframe; from emoframe.deploy.predictor import Predictor\n"
        "t1 = time.perf_counter(); Predictor.load(sys.argv[1]); t2 = time.perf_counter()\n"
        "Predictor.load(sys.argv[1]); t3 = time.perf_counter()\n"
        "print(json.dumps({'import_emoframe': t1 - t0, 'first_load': t2 - t1, 'second_load': t3 - t2,\n"
        "                  'fresh_cpu': time.process_time()}))\n"
    )
    bare = (  # eGeMAPS, TF-IDF, the SVCs and their calibration, and the data libraries
        "import time, json\n"
        "t0 = time.perf_counter()\n"
        "import numpy, pandas, soundfile, opensmile\n"
        "import sklearn.svm, sklearn.calibration, sklearn.feature_extraction.text\n"
        "print(json.dumps({'import_libraries': time.perf_counter() - t0, 'libraries_cpu': time.process_time()}))\n"
    )
    libs = (  # what the first load spends importing the libraries the bundle's estimators are made of
        "import time, json\n"
        "t0 = time.perf_counter(); from emoframe.deploy.state import skops_io; skops_io()\n"
        "print(json.dumps({'import_sklearn_skops': time.perf_counter() - t0}))\n"
    )
    out: dict[str, float] = {}
    for c, args in ((code, [str(bundle)]), (bare, []), (libs, [])):
        run = subprocess.run([sys.executable, "-c", c, *args], capture_output=True, text=True, check=True)
        out.update(json.loads(run.stdout.strip().splitlines()[-1]))
    out["fresh_vs_libraries"] = (out["import_emoframe"] + out["first_load"]) / out["import_libraries"]
    return out


def folder_speedup(model: Predictor, folder: Path, bundle: Path) -> dict[str, float]:
    from emoframe.deploy.inputs import collect
    from emoframe.workers import Limits

    manifest = collect([folder]).manifest
    out: dict[str, float] = {}
    for _ in range(2):  # alternately, twice; the faster of each (timing noise only ever adds)
        for jobs in (1, 2):
            c0, t0 = cpu_with_children(), time.perf_counter()
            result = model.predict_manifest(manifest, model.provider(jobs=jobs, limits=Limits()))
            wall, used = time.perf_counter() - t0, cpu_with_children() - c0
            if wall <= out.get(f"jobs{jobs}_wall", wall):
                out[f"jobs{jobs}_wall"], out[f"jobs{jobs}_cpu"] = wall, used
            assert len(result.records) == len(manifest), result.failures
    for jobs in (1, 2):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "emoframe", "predict", str(bundle), str(folder), "--jobs", str(jobs), "--no-cache",
             "--format", "csv"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        out[f"command_jobs{jobs}_wall"] = time.perf_counter() - t0
    out["speedup"] = out["jobs1_wall"] / out["jobs2_wall"]
    out["command_speedup"] = out["command_jobs1_wall"] / out["command_jobs2_wall"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-predict-") as tmp_:
        tmp = Path(tmp_)
        generate(tmp / "demo", seed=0, speakers=12, per_class=10)
        frame = pd.read_csv(tmp / "demo" / "manifest.csv")
        t0 = time.perf_counter()
        spec = parse_spec({**SPEC, "data": {"manifest": str(tmp / "demo" / "manifest.csv")}})
        train_bundle(spec, tmp / "bundle", get_registry(), jobs=2)
        train_s = time.perf_counter() - t0
        model = Predictor.load(tmp / "bundle")
        wav = utterance(tmp / "demo", frame[frame["speaker"] == frame["speaker"][0]], tmp / "three-seconds.wav")
        text = "I can't believe you did that again."

        run_bare = bare(model)
        expected = model.predict_proba([wav], texts=[text]).to_numpy()
        assert np.max(np.abs(run_bare(wav, text) - expected)) < 1e-6, "the bare path must compute the same numbers"
        (bare_wall, bare_cpu), (api_wall, api_cpu) = paired(
            lambda: run_bare(wav, text), lambda: model.predict_proba([wav], texts=[text]), args.reps
        )

        folder = tmp / "new"
        folder.mkdir()
        for a, t in list(zip(frame["audio"], frame["text"]))[: args.files]:
            shutil.copy(tmp / "demo" / a, folder / Path(a).name)
            (folder / Path(a).name).with_suffix(".txt").write_text(t)
        speed = folder_speedup(model, folder, tmp / "bundle")
        load = load_seconds(tmp / "bundle")
        serve_wall, local_wall, record, server_cpu, local_cpu = serve_latency(
            tmp / "bundle", wav, text, args.reps, lambda: model.predict_proba([wav], texts=[text])
        )
        assert abs(record["angry"] - expected[0][0]) < 1e-6, "the server must answer what the API answers"

    results = {
        "train_s": train_s,
        "single": {"bare_wall": bare_wall, "bare_cpu": bare_cpu, "emoframe_wall": api_wall, "emoframe_cpu": api_cpu,
                   "ratio": api_wall / bare_wall},
        "load": load,
        "folder": speed,
        "serve": {"median_wall": serve_wall, "in_process_wall": local_wall, "ratio": serve_wall / local_wall,
                  "server_cpu_per_request": server_cpu, "in_process_cpu": local_cpu},
    }  # fmt: skip
    s = results["single"]
    print(f"trained the bundle on {len(frame)} rows in {train_s:.1f} s")
    print(
        f"one 3 s utterance: bare {s['bare_wall'] * 1e3:.1f} ms wall ({s['bare_cpu'] * 1e3:.1f} ms CPU), emoframe "
        f"{s['emoframe_wall'] * 1e3:.1f} ms ({s['emoframe_cpu'] * 1e3:.1f} ms CPU): {s['ratio']:.2f}× "
        f"[target ≤ 1.15: {'PASS' if s['ratio'] <= 1.15 else 'FAIL'}]"
    )
    print(
        f"load: {load['first_load']:.2f} s first in a fresh process (+ {load['import_emoframe']:.2f} s importing "
        f"emoframe; {load['fresh_cpu']:.2f} s CPU in all), of which importing scikit-learn and skops "
        f"{load['import_sklearn_skops']:.2f} s; importing the bundle's libraries alone "
        f"{load['import_libraries']:.2f} s ({load['libraries_cpu']:.2f} s CPU): "
        f"{load['fresh_vs_libraries']:.2f}× that; "
        f"{load['second_load']:.2f} s again [target ≤ 1 s in a fresh process: "
        f"{'PASS' if load['first_load'] <= 1 else 'FAIL'}; once the libraries are imported: "
        f"{'PASS' if load['second_load'] <= 1 else 'FAIL'}]"
    )
    print(
        f"{args.files} files: 1 worker {speed['jobs1_wall']:.1f} s wall ({speed['jobs1_cpu']:.1f} s CPU), "
        f"2 workers {speed['jobs2_wall']:.1f} s ({speed['jobs2_cpu']:.1f} s CPU): "
        f"{speed['speedup']:.2f}× [target ≥ 1.7: {'PASS' if speed['speedup'] >= 1.7 else 'FAIL'}]; whole command "
        f"{speed['command_jobs1_wall']:.1f} s vs {speed['command_jobs2_wall']:.1f} s ({speed['command_speedup']:.2f}×)"
    )
    r = results["serve"]
    print(
        f"serve: median request {r['median_wall'] * 1e3:.1f} ms wall ({r['server_cpu_per_request'] * 1e3:.0f} ms "
        f"server CPU) vs in-process {r['in_process_wall'] * 1e3:.1f} ms ({r['in_process_cpu'] * 1e3:.0f} ms CPU): "
        f"{r['ratio']:.2f}× [target ≤ 1.3: {'PASS' if r['ratio'] <= 1.3 else 'FAIL'}]"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
