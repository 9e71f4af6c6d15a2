"""Extraction speed on the demo corpus, as ratios measured in one run (issue 3 targets).

(a) emoframe, one worker, cold cache  vs  a bare loop calling opensmile on the same files
    — target: overhead ≤ 10%
(b) two workers vs one                — target: ≥ 1.7× on 2 cores
(c) warm cache vs cold (one worker)   — target: ≥ 50×

    python benchmarks/bench_extraction.py [--repeats 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from emoframe.data.manifest import load_manifest
from emoframe.data.synth import generate
from emoframe.features import FeatureCache, extract_features
from emoframe.registry import get_registry


def bare_opensmile(files: list[str]) -> float:
    import opensmile

    t0 = time.perf_counter()
    smile = opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02, feature_level=opensmile.FeatureLevel.Functionals
    )
    for f in files:
        smile.process_file(f)
    return time.perf_counter() - t0


def emoframe_run(manifest, jobs: int, cache_root: Path | None) -> float:
    ext = get_registry().create("opensmile.egemaps")
    cache = FeatureCache(cache_root) if cache_root else None
    t0 = time.perf_counter()
    result = extract_features(ext, manifest, jobs=jobs, cache=cache)
    elapsed = time.perf_counter() - t0
    assert len(result.ids) == len(manifest), result.failures
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        generate(tmp / "demo")
        synth_s = time.perf_counter() - t0
        manifest = load_manifest(tmp / "demo" / "manifest.csv")
        files = manifest.frame["audio"].tolist()
        bare_opensmile(files[:5])  # warm the OS file cache and opensmile's shared library
        runs: dict[str, list[float]] = {"bare": [], "one": [], "two": [], "warm": []}
        for r in range(args.repeats):
            runs["bare"].append(bare_opensmile(files))
            runs["one"].append(emoframe_run(manifest, 1, tmp / f"cache-one-{r}"))
            runs["warm"].append(emoframe_run(manifest, 1, tmp / f"cache-one-{r}"))
            runs["two"].append(emoframe_run(manifest, 2, tmp / f"cache-two-{r}"))
    med = {k: statistics.median(v) for k, v in runs.items()}
    result = {
        "files": len(files),
        "repeats": args.repeats,
        "demo_generation_s": round(synth_s, 2),
        "seconds_median": {k: round(v, 3) for k, v in med.items()},
        "a_overhead_vs_bare": round(med["one"] / med["bare"] - 1, 3),
        "b_two_vs_one_speedup": round(med["one"] / med["two"], 2),
        "c_warm_vs_cold_speedup": round(med["one"] / med["warm"], 1),
    }
    print(json.dumps(result, indent=2))
    print(f"(a) overhead vs bare opensmile loop: {result['a_overhead_vs_bare']:+.1%}  (target ≤ +10%)")
    print(f"(b) two workers vs one:              {result['b_two_vs_one_speedup']:.2f}×  (target ≥ 1.7×)")
    print(f"(c) warm cache vs cold:              {result['c_warm_vs_cold_speedup']:.0f}×  (target ≥ 50×)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
