"""Sequence models: seconds per training epoch and test UAR, before and after issue 13.

On the demo corpus's eGeMAPS LLD sequences (every 2nd frame, as in the demo), split by speaker
(each of ``--folds`` groups of 3 speakers tested once, the other 9 training), torch at one thread
(as in a fold worker when two run side by side), a fixed number of epochs (no early stop), each
fold trained with each of ``--seeds`` seeds by every variant in turn (so a noisy neighbour slows
all variants alike). The target of issue 13 is ≥ 3× faster per epoch at the same accuracy (UAR
within 1 point): the speed-up is the ratio of median epoch times, the accuracy the mean of the
paired UAR differences (same fold, same seed) with its 95% interval — one 120-row test set moves
by a point when one utterance changes class, so a single seed cannot tell 1 point from noise.

Variants: the CNN as it ran when the issue was filed (``Conv1d`` over transposed copies, torch's
Bernoulli dropout: kept here as the baseline) and as it runs now (channels-last 2-D convolutions,
PCG64 dropout draws), each with random and with length-bucketed batches; the BiLSTM as it ran
when the issue was filed (nn.LSTM over packed sequences, kept as the baseline), as it runs now (the
same function computed on padded batches, tests/test_torch_lstm.py), and now with bucketing.

For the CNN it also prints two bounds: the floor (its convolutions' arithmetic over the real
frames at this core's matrix-product rate, measured in the same run) and what its convolutions
alone cost as they run now (forward and backward, at the per-frame rate of a 32 × 130 batch, over
the frames each variant computes, padding included) — beside the time per epoch that 3× faster
than before allows.

    python benchmarks/bench_torch.py [--epochs 6] [--threads 1] [--folds 4] [--seeds 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
from pathlib import Path

import numpy as np

from emoframe import balanced_accuracy
from emoframe.data.manifest import load_manifest
from emoframe.data.synth import generate
from emoframe.features import FeatureCache, extract_features
from emoframe.plugin.registry import get_registry
from emoframe_torch.models import CNN, LSTM
from emoframe_torch.networks import BiLSTMAttention, TemporalCNN, channels_last_conv, masked_mean_max


class Conv1dCNN(TemporalCNN):
    """torch.cnn's 1-D network before issue 13: Conv1d over (batch × channels × frames) copies of the
    input, torch's own dropout (the baseline). The same parameters and the same function."""

    def __init__(self, *args):
        from torch import nn

        super().__init__(*args)
        for block in self.blocks:
            block[3] = nn.Dropout(block[3].p)

    def forward(self, x, mask):
        h = x.transpose(1, 2)
        keep = mask.unsqueeze(1).float()
        for block in self.blocks:
            h = block(h) * keep
        return self.head(masked_mean_max(h.transpose(1, 2), mask))


class Conv1dCNNModel(CNN):
    def build(self, in_dim, n_classes):
        p = self.params
        return Conv1dCNN(in_dim, n_classes, p.channels, p.layers, p.kernel, p.dropout)


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


def interval(diffs: list[float]) -> tuple[float, float]:
    """Mean and 95% half-width (t quantile for small n) of paired differences."""
    t95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26, 10: 2.23}
    mean = statistics.fmean(diffs)
    if len(diffs) < 2:
        return mean, math.inf
    return mean, t95.get(len(diffs) - 1, 2.0) * statistics.stdev(diffs) / math.sqrt(len(diffs))


def sgemm_gflops(channels: int, kernel: int) -> float:
    """This core's float32 matrix-product rate (GFLOP/s, best of 20) on a convolution's im2col shape:
    4,096 frames × (kernel · channels) inputs × channels outputs."""
    import time

    import torch

    a, b = torch.randn(4096, kernel * channels), torch.randn(kernel * channels, channels)
    best = math.inf
    for _ in range(20):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * a.shape[0] * a.shape[1] * b.shape[1] / best / 1e9


def cnn_flops_per_frame(in_dim: int, channels: int, layers: int, kernel: int) -> int:
    """Multiply-adds ×2 of one frame through the convolutions, forward and backward: the forward,
    the weight gradients (as many), the input gradients of every layer but the first."""
    forward = 2 * kernel * (in_dim * channels + (layers - 1) * channels * channels)
    return 2 * forward + 2 * kernel * (layers - 1) * channels * channels


def conv_seconds_per_frame(in_dim: int, channels: int, layers: int, kernel: int, reps: int = 30) -> float:
    """Seconds per computed (padded) frame of torch.cnn's convolution layers alone, forward and
    backward, run the way ``TemporalCNN`` runs them (channels-last 2-D convolutions), on a 32 ×
    130-frame batch: median of ``reps`` after warm-up."""
    import time

    import torch

    net = TemporalCNN(in_dim, 2, channels, layers, kernel, 0.0)
    x = torch.randn(32, 130, in_dim)

    def step() -> None:
        h = x.transpose(1, 2).unsqueeze(2)
        for block in net.blocks:
            h = channels_last_conv(block[0], h)
        h.sum().backward()

    for _ in range(3):
        step()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return statistics.median(times) / x.shape[0] / x.shape[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--folds", type=int, default=4, help="test groups of 3 speakers (at most 4 on the demo corpus)")
    ap.add_argument("--seeds", type=int, default=2)
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
    groups = [sorted(set(speakers))[3 * i : 3 * i + 3] for i in range(len(set(speakers)) // 3)][: args.folds]
    X, y = lld.features, manifest.labels
    variants = [  # (model, batching, label, class or None for the registered one); the first of a model is "before"
        ("torch.cnn", "random", "before: Conv1d, torch dropout, random batches", Conv1dCNNModel),
        ("torch.cnn", "random", "now: channels-last, PCG64 dropout, random batches", None),
        ("torch.cnn", "bucketed", "now, bucketed batches", None),
        ("torch.lstm", "random", "before: packed, random batches", PackedLSTM),
        ("torch.lstm", "random", "now: padded, random batches", None),
        ("torch.lstm", "bucketed", "now: padded, bucketed batches", None),
    ]
    epochs: dict[str, list[float]] = {v[2]: [] for v in variants}
    frames: dict[str, list[int]] = {v[2]: [] for v in variants}
    padded: dict[str, list[int]] = {v[2]: [] for v in variants}
    cpu: dict[str, list[float]] = {v[2]: [] for v in variants}
    uars: dict[str, list[float]] = {v[2]: [] for v in variants}
    for fold, test_speakers in enumerate(groups):
        test = np.isin(speakers, test_speakers)
        Xtr, ytr, gtr = [X[i] for i in np.flatnonzero(~test)], y[~test], speakers[~test]
        Xte, yte = [X[i] for i in np.flatnonzero(test)], y[test]
        for seed in range(args.seeds):
            for model, batching, label, cls in variants:
                params = {"epochs": args.epochs, "patience": args.epochs, "frame_stride": 2}
                params |= {"batching": batching, "seed": seed}
                m = reg.create(model, params, kind="model") if cls is None else cls(params)
                m.fit(Xtr, ytr, gtr)
                epochs[label] += [h["train_s"] for h in m.training_["history"]]
                cpu[label] += [h["train_cpu_s"] for h in m.training_["history"]]
                frames[label] += [h["frames"] for h in m.training_["history"]]
                padded[label] += [h["padded_frames"] for h in m.training_["history"]]
                uars[label].append(balanced_accuracy(yte, m.predict(Xte)))
                print(f"fold {fold} seed {seed} {model} {label}: "
                      f"{statistics.median(epochs[label][-args.epochs:]):.3f} s/epoch "
                      f"({statistics.median(cpu[label][-args.epochs:]):.3f} CPU-s), UAR {uars[label][-1]:.3f}",
                      flush=True)  # fmt: skip
    result: dict = {"threads": args.threads, "epochs": args.epochs, "folds": len(groups), "seeds": args.seeds}
    rows = {}
    for model, _, label, _ in variants:
        rows[f"{model} {label}"] = {
            "epoch_s_median": round(statistics.median(epochs[label]), 3),
            "epoch_cpu_s_median": round(statistics.median(cpu[label]), 3),
            "test_uar_mean": round(statistics.fmean(uars[label]), 4),
            "test_uar_sd": round(statistics.stdev(uars[label]), 4) if len(uars[label]) > 1 else None,
        }
    result["runs"] = rows
    print()
    for model in ("torch.cnn", "torch.lstm"):
        mine = [v[2] for v in variants if v[0] == model]
        before = mine[0]
        for label in mine[1:]:
            speed = statistics.median(epochs[before]) / statistics.median(epochs[label])
            delta, half = interval([100 * (a - b) for a, b in zip(uars[label], uars[before], strict=True)])
            key = f"{model} {label}"
            result[f"{key} speed-up per epoch"] = round(speed, 2)
            result[f"{key} CPU speed-up per epoch"] = round(
                statistics.median(cpu[before]) / statistics.median(cpu[label]), 2
            )
            result[f"{key} UAR change (points, mean and 95% half-width)"] = [round(delta, 1), round(half, 1)]
            verdict = "PASS" if speed >= 3 and abs(delta) <= 1 else "FAIL"
            fits = len(uars[label])
            print(f"{key}: {speed:.2f}× faster per epoch than before (target ≥ 3×), "
                  f"UAR {delta:+.1f} ± {half:.1f} points over {fits} fits (target within ±1): {verdict}")  # fmt: skip
    # the floor: the CNN's convolution arithmetic alone, over the real frames, at this core's sgemm rate
    cnn = reg.create("torch.cnn", kind="model").params
    rate = sgemm_gflops(cnn.channels, cnn.kernel)
    per_frame = cnn_flops_per_frame(X[0].shape[1], cnn.channels, cnn.layers, cnn.kernel)
    floor = statistics.median(frames[variants[0][2]]) * per_frame / rate / 1e9
    most = statistics.median(epochs[variants[0][2]]) / floor
    result["cnn floor s/epoch (convolutions at the sgemm rate)"] = round(floor, 3)
    result["cnn most speed-up possible for this network"] = round(most, 2)
    print(f"torch.cnn floor: {per_frame / 1e3:.0f} kFLOP a frame × {statistics.median(frames[variants[0][2]]):,.0f} "
          f"real frames an epoch at this core's {rate:.0f} GFLOP/s sgemm = {floor:.3f} s/epoch with nothing else "
          f"computed: at most {most:.2f}× faster than before for this network")  # fmt: skip
    # what the convolutions alone cost as they run now, over the frames each variant computes
    per = conv_seconds_per_frame(X[0].shape[1], cnn.channels, cnn.layers, cnn.kernel)
    budget = statistics.median(epochs[variants[0][2]]) / 3
    for label in (variants[1][2], variants[2][2]):
        conv_s = per * statistics.median(padded[label])
        result[f"cnn {label}: convolutions alone s/epoch"] = round(conv_s, 3)
        print(f"torch.cnn {label}: the convolutions alone, as run now, take {conv_s:.3f} s/epoch over "
              f"{statistics.median(padded[label]):,.0f} computed frames; 3× faster than before allows "
              f"{budget:.3f} s/epoch for everything")  # fmt: skip
    result["cnn 3x budget s/epoch"] = round(budget, 3)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
