"""One torch.cnn convolution layer, forward + backward, three ways: what bounds the CNN's epoch.

Each layer of the demo's network (kernel 5; 25 eGeMAPS LLDs → 64 channels at dilation 1, then
64 → 64 at dilations 2 and 4, the first without a gradient for its input, as in training) on a
(batch × frames × channels) input, one thread, timed alternately:

1. ``Conv1d`` over a transposed (batch × channels × frames) copy — the network before issue 13;
2. a 2-D convolution over a channels-last (batch × channels × 1 × frames) view — what
   ``emoframe_torch.networks.TemporalCNN`` runs now;
3. Winograd F(4, 5) in eager PyTorch: tiles of 8 frames, the kernel and tiles transformed, 8
   batched matrix products with 2.5× fewer multiply-adds than the direct convolution, the output
   transformed back (the dilation handled by treating its phases as batch rows). Exact in real
   arithmetic; the script prints its largest difference from ``Conv1d``.

    python benchmarks/bench_cnn_conv.py [--batch 32] [--frames 130] [--in-dim 25] [--channels 64] [--reps 50]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch.nn import functional as F

M, R = 4, 5  # outputs per tile, kernel taps
POINTS = (0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5)  # and infinity


def winograd_matrices() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(Aᵀ, G, Bᵀ) of F(M, R) from the points above and infinity (Toom-Cook, transposed for correlation)."""
    a = M + R - 1

    def vandermonde(cols: int) -> np.ndarray:
        v = np.array([[p**j for j in range(cols)] for p in POINTS] + [[0.0] * (cols - 1) + [1.0]])
        return v

    at, g, bt = vandermonde(M).T, vandermonde(R), np.linalg.inv(vandermonde(a)).T
    return tuple(torch.tensor(x, dtype=torch.float32) for x in (at, g, bt))  # type: ignore[return-value]


AT, G, BT = winograd_matrices()


def winograd_conv(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, d: int) -> torch.Tensor:
    """Same as ``Conv1d(padding=2d, dilation=d)`` on (batch × frames × channels) ``x``, by Winograd F(4, 5)."""
    batch, frames, c = x.shape
    a = M + R - 1
    per_phase = -(-frames // d)
    tiles = -(-per_phase // M)
    length = tiles * M + R - 1
    xp = F.pad(x, (0, 0, 2 * d, length * d - frames - 2 * d)).view(batch, length, d, c)
    u = torch.matmul(xp.unfold(1, a, M), BT.T)  # (batch, tiles, d, c, a)
    u = u.permute(4, 0, 1, 2, 3).reshape(a, -1, c)
    v = torch.einsum("jk,ock->jco", G, w)  # (a, c, out)
    m = torch.bmm(u, v)  # (a, rows, out)
    y = torch.matmul(AT, m.reshape(a, -1)).view(M, batch, tiles, d, -1)
    return y.permute(1, 2, 0, 3, 4).reshape(batch, tiles * M * d, -1)[:, :frames] + b


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--frames", type=int, default=130)
    ap.add_argument("--in-dim", type=int, default=25)
    ap.add_argument("--channels", type=int, default=64)
    ap.add_argument("--reps", type=int, default=50)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    c = args.channels
    total: dict[str, float] = {}
    total_cpu: dict[str, float] = {}
    for c_in, d, grad in ((args.in_dim, 1, False), (c, 2, True), (c, 4, True)):
        x = torch.randn(args.batch, args.frames, c_in, requires_grad=grad)
        w = (torch.randn(c, c_in, R) * 0.1).requires_grad_()
        b = torch.zeros(c, requires_grad=True)

        def conv1d(x=x, w=w, b=b, d=d) -> torch.Tensor:
            return F.conv1d(x.transpose(1, 2), w, b, padding=2 * d, dilation=d).transpose(1, 2)

        def channels_last(x=x, w=w, b=b, d=d) -> torch.Tensor:
            h = x.transpose(1, 2).unsqueeze(2)
            return F.conv2d(h, w.unsqueeze(2), b, padding=(0, 2 * d), dilation=(1, d)).squeeze(2).transpose(1, 2)

        def winograd(x=x, w=w, b=b, d=d) -> torch.Tensor:
            return winograd_conv(x, w, b, d)

        ways = {"Conv1d, transposed copy": conv1d, "channels-last conv2d (now)": channels_last}
        ways["Winograd F(4,5)"] = winograd
        with torch.no_grad():
            diff = max(float((f() - conv1d()).abs().max()) for f in ways.values())
        times: dict[str, list[float]] = {k: [] for k in ways}
        cpu: dict[str, list[float]] = {k: [] for k in ways}
        for _ in range(3):
            for f in ways.values():
                f().sum().backward()
        for _ in range(args.reps):
            for name, f in ways.items():  # alternately: background load weighs on every way alike
                t0, c0 = time.perf_counter(), time.process_time()
                f().sum().backward()
                times[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
        base = statistics.median(times["Conv1d, transposed copy"])
        print(f"{c_in} → {c} channels, dilation {d} (largest difference from Conv1d {diff:.1e}):")
        for name, ts in times.items():
            med, med_cpu = statistics.median(ts), statistics.median(cpu[name])
            total[name] = total.get(name, 0.0) + med
            total_cpu[name] = total_cpu.get(name, 0.0) + med_cpu
            print(f"  {name:28s} {med * 1e3:6.2f} ms wall, {med_cpu * 1e3:6.2f} ms CPU, forward + backward  "
                  f"({base / med:.2f}× Conv1d)")  # fmt: skip
    base = total["Conv1d, transposed copy"]
    print("the three layers:")
    for name, t in total.items():
        print(f"  {name:28s} {t * 1e3:6.2f} ms wall, {total_cpu[name] * 1e3:6.2f} ms CPU  ({base / t:.2f}× Conv1d)")


if __name__ == "__main__":
    main()
