"""Extraction speed, as ratios measured in one run.

--case egemaps (default), on the demo corpus:
(a) emoframe, one worker, cold cache  vs  a bare loop calling opensmile on the same files
    — target: overhead ≤ 10%
(b) two workers vs one                — target: ≥ 1.7× on 2 cores
(c) warm cache vs cold (one worker)   — target: ≥ 50×

--case minilm, on the MELD transcripts (../shared/data/meld-text; --limit N for a quick look):
(d) emoframe cold (all rows of the corpus, default jobs)  vs  a bare batched loop (batch 32, one
    process, torch on every core) over the corpus's distinct sentences, model loading included
    in both — target: ≤ 1.2×
(e) warm cache vs cold                — target: ≥ 50×

    python benchmarks/bench_extraction.py [--case egemaps|minilm] [--repeats 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from emoframe.data.manifest import load_manifest
from emoframe.data.synth import generate
from emoframe.features import FeatureCache, extract_features
from emoframe.plugin.registry import get_registry


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


MELD = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "meld-text"


def bare_minilm(texts: list[str], batch_size: int = 32) -> tuple[float, float]:
    """What a user writes without emoframe: load MiniLM, embed in batches of 32, in order. (wall, cpu)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from emoframe_transformers.loading import quiet, resolve

    quiet()
    t0, c0 = time.perf_counter(), time.process_time()
    path = resolve("")
    tok, model = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()
    out = []
    with torch.no_grad():
        for s in range(0, len(texts), batch_size):
            enc = tok(texts[s : s + batch_size], padding=True, truncation=True, max_length=128, return_tensors="pt")
            states = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            emb = torch.nn.functional.normalize((states * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=-1)
            out.append(emb.numpy())
    return time.perf_counter() - t0, time.process_time() - c0


def machine_cpu() -> float:
    """CPU-seconds spent by the whole machine so far (/proc/stat): workers forked from a fork
    server are not this process's children, so their time is counted this way (quiet machine)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(v) for i, v in enumerate(fields[:8]) if i not in (3, 4))  # less idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def minilm_case(limit: int | None) -> dict:
    from emoframe.workers import Limits

    if not MELD.is_dir():
        raise SystemExit(f"the minilm case needs the MELD transcripts in {MELD}")
    manifest = get_registry().create("meld", {"root": str(MELD)}, kind="corpus").load()
    if limit:
        manifest = manifest.subset(manifest.frame.index.to_numpy() < limit)
    distinct = list(dict.fromkeys(t if t.strip() else "." for t in manifest.texts))
    # the bare loop runs in its own process: torch loaded here would leave emoframe's forked
    # worker at one thread (see emoframe.workers.limit_threads)
    with tempfile.TemporaryDirectory() as tmp:
        texts = Path(tmp) / "texts.json"
        texts.write_text(json.dumps(distinct))
        m0 = machine_cpu()
        out = subprocess.run(
            [sys.executable, __file__, "--bare-minilm", str(texts)], check=True, capture_output=True, text=True
        )
        bare_machine = machine_cpu() - m0
    bare_wall, bare_cpu = json.loads(out.stdout.strip().splitlines()[-1])
    ext = get_registry().create("transformers.embed", kind="extractor")
    with tempfile.TemporaryDirectory() as tmp:
        cache = FeatureCache(Path(tmp) / "cache")
        m0 = machine_cpu()
        cold = extract_features(ext, manifest, cache=cache, limits=Limits())
        cold_cpu = machine_cpu() - m0
        warm = extract_features(ext, manifest, cache=cache, limits=Limits())
    assert not cold.failures, list(cold.failures.items())[:3]
    result = {
        "rows": len(manifest),
        "distinct_sentences": len(distinct),
        "cores": os.cpu_count(),
        "computed": cold.misses,
        "reused": cold.reused,
        "bare_wall_s": round(bare_wall, 1),
        "bare_cpu_s": round(bare_cpu, 1),
        "bare_machine_cpu_s": round(bare_machine, 1),
        "emoframe_cold_wall_s": round(cold.seconds, 1),
        "emoframe_cold_machine_cpu_s": round(cold_cpu, 1),
        "emoframe_warm_wall_s": round(warm.seconds, 2),
        "d_cold_vs_bare": round(cold.seconds / bare_wall, 2),
        "e_warm_vs_cold_speedup": round(cold.seconds / warm.seconds, 1),
    }
    print(json.dumps(result, indent=2))
    d, e = result["d_cold_vs_bare"], result["e_warm_vs_cold_speedup"]
    print(f"(d) emoframe cold vs bare batched loop: {d:.2f}×  (target ≤ 1.2×) {'PASS' if d <= 1.2 else 'FAIL'}")
    print(f"(e) warm cache vs cold:                {e:.0f}×  (target ≥ 50×) {'PASS' if e >= 50 else 'FAIL'}")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", choices=["egemaps", "minilm"], default="egemaps")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--limit", type=int, help="minilm: the first N rows only")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--bare-minilm", type=Path, help=argparse.SUPPRESS)  # internal: the bare loop's process
    args = ap.parse_args()
    if args.bare_minilm:
        print(json.dumps(bare_minilm(json.loads(args.bare_minilm.read_text()))))
        return
    if args.case == "minilm":
        result = minilm_case(args.limit)
        if args.json:
            args.json.write_text(json.dumps(result, indent=2))
        return
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
