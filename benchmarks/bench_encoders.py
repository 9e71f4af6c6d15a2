"""Pretrained speech encoders: emoframe's extraction against a bare transformers loop on the same files,
timed in the same run (the two sides alternate, so a change in background load weighs on both).

Model: the architecture of microsoft/wavlm-base-plus (12 transformer layers, 768 wide, 94 M parameters)
with random weights built from its config — a forward pass costs the same whatever the weights, and
this machine cannot download; ``--model PATH`` measures a real downloaded model instead.

1. overhead: ``transformers.audio_encoder`` (batch_size 1, mean of the last layer, in this process, no
   cache) vs a bare loop (soundfile read, the model's feature extractor, ``model(**inputs)``, mean) over
   the same files; wall and CPU seconds; target ≤ 1.1×;
2. batching on the CPU: batch_size 8 vs 1, for a group-norm front end (wavlm-base-plus: only
   recordings of equal length share a batch, so little is expected) and a layer-norm one (the
   wavlm-large kind: padded batches with an attention mask);
3. with CUDA present: utterances per second over the files in float32 and in half precision.

    python benchmarks/bench_encoders.py [--files 60] [--reps 2] [--model PATH] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from emoframe.data.manifest import Manifest
from emoframe.data.synth import generate
from emoframe.features.extract import extract_features


def cpu() -> float:
    t = os.times()
    return t.user + t.system


def build_model(folder: Path, norm: str) -> Path:
    """wavlm-base-plus's architecture (config values as published), random weights, saved like a download."""
    import torch
    import transformers as tf

    torch.manual_seed(0)
    config = tf.WavLMConfig(
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        feat_extract_norm=norm,
        do_stable_layer_norm=norm == "layer",
        conv_bias=norm == "layer",
    )
    tf.WavLMModel(config).save_pretrained(folder)
    tf.Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=16000, do_normalize=True, return_attention_mask=norm == "layer"
    ).save_pretrained(folder)
    return folder


def bare(folder: str, paths: list[str]) -> list[np.ndarray]:
    """What a user would write: read each file, the feature extractor, the model, the mean of the last layer."""
    import torch
    from transformers import AutoFeatureExtractor, AutoModel

    fe = AutoFeatureExtractor.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    out = []
    with torch.inference_mode():
        for p in paths:
            x, sr = sf.read(p, dtype="float32")
            inputs = fe(x, sampling_rate=sr, return_tensors="pt")
            out.append(model(**inputs).last_hidden_state.mean(1)[0].numpy())
    return out


def emoframe_pass(folder: str, manifest: Manifest, batch: int) -> list[np.ndarray]:
    from emoframe_transformers.audio import AudioEncoder

    result = extract_features(AudioEncoder(model=folder, batch_size=batch, device="cpu"), manifest, jobs=1)
    assert not result.failures, result.failures
    return result.features


def timed(fn) -> tuple[float, float, object]:
    c0, t0 = cpu(), time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, cpu() - c0, value


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=60, help="demo-corpus files to embed")
    ap.add_argument("--reps", type=int, default=2, help="alternating repetitions of each comparison")
    ap.add_argument("--model", help="a downloaded model folder instead of the random-weight wavlm-base-plus")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-encoders-"))
    corpus = generate(tmp / "demo", seed=0, speakers=12, per_class=10)
    frame = pd.read_csv(corpus / "manifest.csv").head(args.files)
    manifest = Manifest.from_frame(frame, "demo", root=corpus)
    paths = manifest.frame["audio"].tolist()
    seconds = sum(sf.info(p).duration for p in paths)
    print(f"{len(paths)} files, {seconds:.0f} s of audio", flush=True)
    group = args.model or str(build_model(tmp / "wavlm-base-plus-arch", "group"))
    figures: dict[str, object] = {"files": len(paths), "audio_seconds": round(seconds, 1)}

    # 1. overhead against the bare loop (batch 1 both)
    bare_runs, ours_runs = [], []
    for _ in range(args.reps):
        bare_runs.append(timed(lambda: bare(group, paths)))
        ours_runs.append(timed(lambda: emoframe_pass(group, manifest, 1)))
    ref, got = bare_runs[-1][2], ours_runs[-1][2]
    diff = max(float(np.abs(np.asarray(a) - np.asarray(b)).max()) for a, b in zip(ref, got))  # type: ignore[arg-type]
    ratios = [o[0] / b[0] for b, o in zip(bare_runs, ours_runs)]
    cpu_ratios = [o[1] / b[1] for b, o in zip(bare_runs, ours_runs)]
    ok = max(ratios) <= 1.1
    for i, (b, o) in enumerate(zip(bare_runs, ours_runs), start=1):
        print(
            f"run {i}: bare loop {b[0]:.1f} s wall / {b[1]:.1f} s CPU; emoframe {o[0]:.1f} s / {o[1]:.1f} s "
            f"→ {o[0] / b[0]:.2f}× wall, {o[1] / b[1]:.2f}× CPU",
            flush=True,
        )
    verdict = f"{'PASS' if ok else 'FAIL'} (max {max(ratios):.2f}×)"
    print(f"overhead ≤ 1.1× the bare loop: {verdict}; features equal within {diff:.1e}", flush=True)
    figures["overhead"] = {"wall_ratios": ratios, "cpu_ratios": cpu_ratios, "max_abs_diff": diff, "pass": ok}

    # 2. batching on the CPU
    layer = str(build_model(tmp / "wavlm-layer-norm-arch", "layer")) if not args.model else None
    for label, folder in (("group-norm front end", group), ("layer-norm front end", layer)):
        if folder is None:
            continue
        one = [timed(lambda f=folder: emoframe_pass(f, manifest, 1))[:2] for _ in range(args.reps)]
        eight = [timed(lambda f=folder: emoframe_pass(f, manifest, 8))[:2] for _ in range(args.reps)]
        speed = [a[0] / b[0] for a, b in zip(one, eight)]
        times = f"batch 1 {[round(a[0], 1) for a in one]} s, batch 8 {[round(b[0], 1) for b in eight]} s"
        print(f"batching ({label}): {times} → {', '.join(f'{s:.2f}×' for s in speed)} faster", flush=True)
        figures[f"batching {label}"] = {"batch1": one, "batch8": eight, "speedup": speed}

    # 3. the GPU, where there is one
    if torch.cuda.is_available():
        from emoframe_transformers.audio import AudioEncoder

        for half in (False, True):
            e = AudioEncoder(model=group, batch_size=16, device="cuda", half=half)
            extract_features(e, manifest, jobs=1)  # warm-up: CUDA context, kernels
            wall, _, _ = timed(lambda e=e: extract_features(e, manifest, jobs=1))
            print(f"GPU {'float16' if half else 'float32'}: {len(paths) / wall:.1f} utterances/s", flush=True)
            figures[f"gpu {'half' if half else 'float32'} utt/s"] = len(paths) / wall
    else:
        print("no CUDA device: GPU throughput not measured", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, default=float))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
