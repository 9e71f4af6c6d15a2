"""Scale curve: extraction + a 4-pipeline benchmark on synthetic corpora of growing size.

Per size (default 1000, 4000, 16000 utterances; `corpus synth --size`): wall time, CPU time
(this process and its workers) and peak RSS (the largest single process) of one cold
`run_benchmark` in a fresh process, split into corpus generation and the benchmark. The grid:
eGeMAPS → SVC, TF-IDF → logistic regression, their late fusion and their early fusion (→ logistic
regression), speaker-independent 5-fold. Targets: time per utterance grows at most linearly
(the largest size's seconds per utterance ≤ 1.25× the smallest's), peak RSS < 2 GB at 16k.

    python benchmarks/bench_scale.py [--sizes 1000 4000 16000] [--jobs 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from clock import cpu_with_children

GRID = {
    "name": "scale",
    "evaluation": {"protocol": "speaker_kfold", "folds": 5, "seed": 0},
    "branches": {
        "audio": {"extractor": "opensmile.egemaps", "model": "sklearn.svc"},
        "text": {"extractor": "sklearn.tfidf", "model": "sklearn.logreg"},
    },
    "fusion": ["fusion.late", "fusion.early"],
    "model": "sklearn.logreg",
}


def one(size: int, folder: Path, jobs: int) -> dict:
    """In a fresh process: generate, then benchmark cold; print the figures as JSON."""
    from emoframe.bench.runner import run_benchmark
    from emoframe.data.synth import generate, shape_for
    from emoframe.plugin.registry import get_registry
    from emoframe.spec import parse_spec

    speakers, per_class = shape_for(size)
    t0 = time.perf_counter()
    generate(folder / "corpus", speakers=speakers, per_class=per_class)
    gen_s = time.perf_counter() - t0
    cpu0 = cpu_with_children()
    t0 = time.perf_counter()
    outcome = run_benchmark(
        parse_spec(GRID | {"data": {"manifest": str(folder / "corpus" / "manifest.csv")}}),
        get_registry(),
        folder / "work",
        jobs=jobs,
    )
    bench_s = time.perf_counter() - t0
    assert not outcome.errors, outcome.errors[:3]
    return {
        "utterances": speakers * per_class * 4,
        "speakers": speakers,
        "generate_s": round(gen_s, 1),
        "bench_wall_s": round(bench_s, 1),
        "bench_cpu_s": round(cpu_with_children() - cpu0, 1),
        "pipelines": len(outcome.pipelines),
        "peak_rss_mb": round(
            max(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
            )
            / 1024
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 16000])
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)  # internal: SIZE FOLDER, in a fresh process
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(int(args.one[0]), Path(args.one[1]), args.jobs)))
        return
    rows = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(size), tmp, "--jobs", str(args.jobs)],
                check=True,
                capture_output=True,
                text=True,
            )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["bench_s_per_utterance"] = round(row["bench_wall_s"] / row["utterances"], 4)
        rows.append(row)
        print(json.dumps(row), flush=True)
    growth = rows[-1]["bench_s_per_utterance"] / rows[0]["bench_s_per_utterance"]
    peak = max(r["peak_rss_mb"] for r in rows)
    result = {"cores": os.cpu_count(), "jobs": args.jobs, "sizes": rows, "growth_per_utterance": round(growth, 2)}
    print(f"time per utterance, largest vs smallest: {growth:.2f}×  (target ≤ 1.25×: at most linear) "
          f"{'PASS' if growth <= 1.25 else 'FAIL'}")  # fmt: skip
    print(f"peak RSS: {peak} MB  (target < 2048 MB) {'PASS' if peak < 2048 else 'FAIL'}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
