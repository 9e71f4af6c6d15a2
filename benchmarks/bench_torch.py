"""Sequence models: seconds per training epoch and test UAR, random vs length-bucketed batches.

On the demo corpus's eGeMAPS LLD sequences (every 2nd frame, as in the demo), one split by
speaker (9 training speakers, 3 test), torch at one thread (as in a fold worker when two run
side by side), the same seed for both batchings, a fixed number of epochs (no early stop). The
target of issue 13 is ≥ 3× faster per epoch at the same accuracy (UAR within 1 point).

    python benchmarks/bench_torch.py [--epochs 6] [--threads 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import numpy as np

from emoframe import balanced_accuracy
from emoframe.data.manifest import load_manifest
from emoframe.data.synth import generate
from emoframe.features import FeatureCache, extract_features
from emoframe.registry import get_registry


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    import torch

    reg = get_registry()
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp) / "demo")
        manifest = load_manifest(Path(tmp) / "demo" / "manifest.csv")
        lld = extract_features(
            reg.create("opensmile.egemaps_lld", kind="extractor"), manifest, cache=FeatureCache(Path(tmp) / "c")
        )
    torch.set_num_threads(args.threads)
    speakers = manifest.speakers
    test_speakers = sorted(set(speakers))[-3:]
    test = np.isin(speakers, test_speakers)
    X = lld.features
    y = manifest.labels
    Xtr, ytr, gtr = [X[i] for i in np.flatnonzero(~test)], y[~test], speakers[~test]
    Xte, yte = [X[i] for i in np.flatnonzero(test)], y[test]
    rows = {}
    for model in ("torch.cnn", "torch.lstm"):
        for batching in ("random", "bucketed"):
            params = {"epochs": args.epochs, "patience": args.epochs, "frame_stride": 2, "batching": batching}
            m = reg.create(model, params, kind="model").fit(Xtr, ytr, gtr)
            per_epoch = [h["train_s"] for h in m.training_["history"]]
            rows[f"{model} {batching}"] = {
                "epoch_s_median": round(statistics.median(per_epoch), 2),
                "test_uar": round(balanced_accuracy(yte, m.predict(Xte)), 4),
            }
            print(f"{model} {batching}: {rows[f'{model} {batching}']}", flush=True)
    result = {"threads": args.threads, "epochs": args.epochs, "runs": rows}
    for model in ("torch.cnn", "torch.lstm"):
        r, b = rows[f"{model} random"], rows[f"{model} bucketed"]
        speed = r["epoch_s_median"] / b["epoch_s_median"]
        delta = 100 * (b["test_uar"] - r["test_uar"])
        result[f"{model} speed-up per epoch"] = round(speed, 2)
        result[f"{model} UAR change (points)"] = round(delta, 1)
        print(f"{model}: bucketed {speed:.2f}× faster per epoch (target ≥ 3×) {'PASS' if speed >= 3 else 'FAIL'}; "
              f"UAR {delta:+.1f} points (target within ±1)")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
