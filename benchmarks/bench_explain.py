"""What explanations cost (issue 30), as ratios measured in one run, wall and CPU, each side taken in the same run.

1. Branch attribution of a 2-branch late fusion (eGeMAPS→SVC + TF-IDF→SVC, ``fusion.late``) on the demo
   corpus, benchmarked with the feature cache warm: the attribution's seconds (summed over the folds, as the
   fold recorded them) over that pipeline's benchmark time (its fit + predict seconds, summed over folds:
   the figure the leaderboard shows) and over the whole run's wall/CPU — target ≤ 5%;
2. grouped permutation importance with 5 repeats (eGeMAPS' parameter groups) over the pipeline's own fit
   time (summed over folds) — target ≤ 1×;
3. ``predict --explain`` vs ``predict`` on 200 files with a bundle of the same pipeline (in-process
   ``Predictor.predict_manifest``, features cached, the two called alternately; medians) — target ≤ 1.3×.

    python benchmarks/bench_explain.py [--reps 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
from clock import cpu_with_children

from emoframe.bench.runner import run_benchmark
from emoframe.data.manifest import load_manifest
from emoframe.deploy.predictor import Predictor
from emoframe.deploy.train import train_bundle
from emoframe.features import FeatureCache
from emoframe.plugin.registry import get_registry
from emoframe.results import explanations
from emoframe.results.leaderboard import leaderboard
from emoframe.results.store import ResultsStore
from emoframe.spec import parse_spec

BRANCHES = {
    "audio": {"extractor": "opensmile.egemaps", "model": "sklearn.svc"},
    "text": {"extractor": "sklearn.tfidf", "model": "sklearn.svc"},
}


def cpu() -> float:
    """This process's CPU seconds at nanosecond resolution (os.times ticks at 10 ms: too coarse here)."""
    return time.process_time()


def bench_run(workdir: Path) -> dict[str, float]:
    """The demo benchmark of one late fusion (with its unimodal parts), run twice: the second, with the cache
    warm and --fresh, is the one measured."""
    spec = parse_spec(
        {
            "name": "explain-cost",
            "data": {"corpus": "demo"},
            "branches": BRANCHES,
            "fusion": "fusion.late",
            "evaluation": {"protocol": "speaker_kfold", "folds": 5},
        }
    )
    reg = get_registry()
    run_benchmark(spec, reg, workdir, jobs=1)  # extraction into the cache
    c0, t0 = cpu_with_children(), time.perf_counter()
    outcome = run_benchmark(spec, reg, workdir, jobs=1, fresh=True)
    wall, cpu_s = time.perf_counter() - t0, cpu_with_children() - c0
    store = ResultsStore(workdir / "results.db", readonly=True)
    try:
        row = next(r for r in leaderboard(store, outcome.run_id) if r.fused)
        stored = explanations.read(store.db, outcome.run_id, row.id).values()
        folds = store.fold_results(outcome.run_id, row.id)
    finally:
        store.close()
    part = {k: sum(d["seconds"].get(k, 0.0) for d in stored) for k in ("attribution", "importance")}
    part_cpu = {k: sum(d["cpu_seconds"].get(k, 0.0) for d in stored) for k in ("attribution", "importance")}
    fit = sum(f.fit_s for f in folds)
    pipeline_s = fit + sum(f.predict_s for f in folds)
    return {
        "run_wall_s": wall,
        "run_cpu_s": cpu_s,
        "pipeline_fit_predict_s": pipeline_s,
        "pipeline_fit_s": fit,
        "attribution_s": part["attribution"],
        "attribution_cpu_s": part_cpu["attribution"],
        "importance_s": part["importance"],
        "importance_cpu_s": part_cpu["importance"],
        "attribution_over_pipeline": part["attribution"] / pipeline_s,
        "attribution_over_run_wall": part["attribution"] / wall,
        "attribution_cpu_over_run_cpu": part_cpu["attribution"] / cpu_s,
        "importance_over_fit": part["importance"] / fit,
    }


def bench_predict(workdir: Path, reps: int) -> dict[str, float]:
    reg = get_registry()
    path = next((workdir / "corpora").rglob("manifest.csv"))  # the demo corpus bench_run generated
    manifest = load_manifest(path)
    spec = parse_spec({"name": "late", "data": {"manifest": str(path)}, "branches": BRANCHES, "fusion": "fusion.late"})
    bundle = train_bundle(spec, workdir / "bundle", reg, workdir=workdir, jobs=1).path
    model = Predictor.load(bundle, reg)
    rows = manifest.subset(pd.Series(range(len(manifest))).lt(200).to_numpy())
    provider = model.provider(cache=FeatureCache(workdir / "cache"), jobs=1)
    plain = lambda: model.predict_manifest(rows, provider)  # noqa: E731
    explained = lambda: model.predict_manifest(rows, provider, explain=True)  # noqa: E731
    plain(), explained()
    out: list[list[tuple[float, float]]] = [[], []]
    for _ in range(reps):
        for k, fn in enumerate((plain, explained)):
            c0, t0 = cpu(), time.perf_counter()
            fn()
            out[k].append((time.perf_counter() - t0, cpu() - c0))
    (pw, pc), (ew, ec) = ([statistics.median(x[i] for x in side) for i in (0, 1)] for side in out)
    return {
        "files": len(rows),
        "predict_wall_s": pw,
        "predict_cpu_s": pc,
        "explain_wall_s": ew,
        "explain_cpu_s": ec,
        "explain_over_predict_wall": ew / pw,
        "explain_over_predict_cpu": ec / pc,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="emoframe-bench-explain-") as tmp:
        workdir = Path(tmp)
        figures = {"run": bench_run(workdir), "predict": bench_predict(workdir, args.reps)}
    r, p = figures["run"], figures["predict"]
    print(
        f"attribution: {r['attribution_s']:.3f} s wall over 5 folds = {r['attribution_over_pipeline']:.2%} of the "
        f"pipeline's fit+predict ({r['pipeline_fit_predict_s']:.2f} s), {r['attribution_over_run_wall']:.2%} of the "
        f"run's wall ({r['run_wall_s']:.1f} s); CPU {r['attribution_cpu_over_run_cpu']:.2%} of the run's "
        f"({r['run_cpu_s']:.1f} s)  [target ≤ 5%]"
    )
    print(
        f"importance (5 repeats): {r['importance_s']:.2f} s = {r['importance_over_fit']:.2f}× the pipeline's fit "
        f"({r['pipeline_fit_s']:.2f} s; CPU {r['importance_cpu_s']:.2f} s)  [target ≤ 1×]"
    )
    print(
        f"predict --explain on {p['files']} files: {p['explain_over_predict_wall']:.2f}× wall "
        f"({p['explain_wall_s']:.3f} vs {p['predict_wall_s']:.3f} s), {p['explain_over_predict_cpu']:.2f}× CPU "
        "[target ≤ 1.3×]"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
