"""Sequence models: seconds per training epoch and test UAR, before and after issue 13.

On the demo corpus's eGeMAPS LLD sequences (every 2nd frame, as in the demo), one split by
speaker (9 training speakers, 3 test), torch at one thread (as in a fold worker when two run
side by side), the same seed for every variant, a fixed number of epochs (no early stop). The
target of issue 13 is ≥ 3× faster per epoch at the same accuracy (UAR within 1 point).

Variants: the CNN with random and with length-bucketed batches; the BiLSTM as it ran when the
issue was filed (nn.LSTM over packed sequences, kept here as the baseline), as it runs now (the
same function computed on padded batches, tests/test_torch_lstm.py), and now with bucketing.

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
from emoframe_torch.models import LSTM
from emoframe_torch.networks import BiLSTMAttention


class PackedBiLSTMAttention(BiLSTMAttention):
    """torch.lstm's network before issue 13: nn.LSTM over packed sequences (the baseline)."""

    def encode(self, x, mask):
        from torch import nn

        lengths = mask.sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return out


class PackedLSTM(LSTM):
    def build(self, in_dim, n_classes):
        p = self.params
        return PackedBiLSTMAttention(in_dim, n_classes, p.hidden, p.layers, p.dropout)


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
    variants = [
        ("torch.cnn", "random", "random batches (before)", None),
        ("torch.cnn", "bucketed", "bucketed", None),
        ("torch.lstm", "random", "packed, random batches (before)", PackedLSTM),
        ("torch.lstm", "random", "padded, random batches (now)", None),
        ("torch.lstm", "bucketed", "padded, bucketed", None),
    ]
    rows = {}
    for model, batching, label, cls in variants:
        params = {"epochs": args.epochs, "patience": args.epochs, "frame_stride": 2, "batching": batching}
        m = reg.create(model, params, kind="model") if cls is None else cls(params)
        m.fit(Xtr, ytr, gtr)
        per_epoch = [h["train_s"] for h in m.training_["history"]]
        key = f"{model} {label}"
        rows[key] = {
            "epoch_s_median": round(statistics.median(per_epoch), 3),
            "test_uar": round(balanced_accuracy(yte, m.predict(Xte)), 4),
        }
        print(f"{key}: {rows[key]}", flush=True)
    result = {"threads": args.threads, "epochs": args.epochs, "runs": rows}
    for model in ("torch.cnn", "torch.lstm"):
        mine = [k for k in rows if k.startswith(model + " ")]
        before = rows[mine[0]]
        for key in mine[1:]:
            r = rows[key]
            speed = before["epoch_s_median"] / r["epoch_s_median"]
            delta = 100 * (r["test_uar"] - before["test_uar"])
            result[f"{key} speed-up per epoch"] = round(speed, 2)
            result[f"{key} UAR change (points)"] = round(delta, 1)
            verdict = "PASS" if speed >= 3 and abs(delta) <= 1 else "FAIL"
            print(f"{key}: {speed:.2f}× faster per epoch than before (target ≥ 3×), "
                  f"UAR {delta:+.1f} points (target within ±1): {verdict}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
