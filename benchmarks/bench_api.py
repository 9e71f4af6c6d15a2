"""``emoframe.bench`` (Python) against ``emoframe bench`` (CLI) on the same spec: the CLI calls the API, so the
two should cost the same (issue 31: within 2%).

Each side runs in a fresh process with a fresh workdir (extraction, folds and the report included), the two
sides alternating round by round so that a change in background load weighs on both; the medians of wall
and CPU seconds (the process and its workers) are compared. Spec: eGeMAPS→SVC + TF-IDF→SVC with late
fusion and voting, 3 speaker folds, over a synthetic corpus of 8 speakers × 4 classes × 4 utterances
generated once.

    python benchmarks/bench_api.py [--rounds 4] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from emoframe.data.synth import generate

API = """
import sys
import emoframe
emoframe.bench(sys.argv[1], workdir=sys.argv[2], jobs=2, progress=False, report=True)
"""


def timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child and its workers) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--json", help="Write the figures here too.")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="emoframe-bench-api-"))
    manifest = generate(root / "corpus", seed=0, speakers=8, per_class=4) / "manifest.csv"
    spec = root / "spec.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "name": "api-vs-cli",
                "data": {"manifest": str(manifest)},
                "evaluation": {"protocol": "speaker_kfold", "folds": 3, "seed": 0},
                "branches": {
                    "audio": {"extractor": "opensmile.egemaps", "model": "sklearn.svc"},
                    "text": {"extractor": "sklearn.tfidf", "model": "sklearn.svc"},
                },
                "fusion": ["fusion.late", "fusion.vote"],
            }
        )
    )
    sides: dict[str, list[tuple[float, float]]] = {"api": [], "cli": []}
    for r in range(args.rounds):
        order = ("api", "cli") if r % 2 == 0 else ("cli", "api")
        for side in order:
            wd = root / f"wd-{side}-{r}"
            command = (
                [sys.executable, "-c", API, str(spec), str(wd)]
                if side == "api"
                else [sys.executable, "-m", "emoframe", "bench", str(spec), "-j", "2", "--workdir", str(wd)]
            )
            sides[side].append(timed(command))
            print(f"round {r + 1} {side}: {sides[side][-1][0]:.2f} s wall, {sides[side][-1][1]:.2f} s CPU", flush=True)
    figures = {
        side: {
            "wall_median_s": statistics.median(w for w, _ in runs),
            "cpu_median_s": statistics.median(c for _, c in runs),
        }
        for side, runs in sides.items()
    }
    wall = figures["api"]["wall_median_s"] / figures["cli"]["wall_median_s"]
    cpu = figures["api"]["cpu_median_s"] / figures["cli"]["cpu_median_s"]
    print(
        f"emoframe.bench / emoframe bench: {wall:.3f}× wall ({figures['api']['wall_median_s']:.2f} s vs "
        f"{figures['cli']['wall_median_s']:.2f} s), {cpu:.3f}× CPU ({figures['api']['cpu_median_s']:.2f} s vs "
        f"{figures['cli']['cpu_median_s']:.2f} s); medians of {args.rounds} alternating rounds"
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"sides": sides, "figures": figures, "wall": wall, "cpu": cpu}, indent=1))


if __name__ == "__main__":
    main()
