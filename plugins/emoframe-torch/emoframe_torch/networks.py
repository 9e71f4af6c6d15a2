"""The networks: temporal CNN (1-D over frames, or 2-D over frames × bands) and BiLSTM + attention."""

from __future__ import annotations

from typing import cast

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def masked_mean_max(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean and max over real frames only: h (B, T, C), mask (B, T) → (B, 2C)."""
    m = mask.unsqueeze(-1)
    mean = (h * m).sum(1) / m.sum(1).clamp(min=1)
    mx = h.masked_fill(~m, float("-inf")).max(1).values
    return torch.cat([mean, mx], -1)


class Dropout(nn.Dropout):
    """``nn.Dropout`` with the random draws made cheaply on the CPU (no state: saved models load as before).

    torch's CPU Bernoulli sampler costs about 15 ns an element, a third of a CNN training step. On
    the CPU the uniform draws come from a PCG64 stream (about 4 ns an element) seeded by one draw
    from torch's generator, so training stays reproducible under ``torch.manual_seed``; on other
    devices, other dtypes and tensors that are not dense it is ``F.dropout``.
    """

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        p = self.p
        if not self.training or p == 0:
            return h
        dense = h.is_contiguous() or (h.dim() == 4 and h.is_contiguous(memory_format=torch.channels_last))
        if h.device.type != "cpu" or h.dtype != torch.float32 or not dense or self.inplace:
            return F.dropout(h, p, True, self.inplace)
        seed = int(torch.randint(0, 2**62, (1,)))
        u = np.random.default_rng(seed).random(h.numel(), dtype=np.float32)
        keep = torch.from_numpy(np.where(u >= p, np.float32(1.0 / (1.0 - p)), np.float32(0.0)))
        return h * keep.as_strided(h.shape, h.stride())  # laid out in h's own memory order


class TemporalCNN(nn.Module):
    """Dilated 1-D convolutions over time; padded frames are zeroed after every block.

    The blocks are ``Conv1d → BatchNorm1d → ReLU → Dropout`` modules (their state dict is what
    saved models hold), run as 2-D convolutions over a (batch × channels × 1 × frames) view of the
    (batch × frames × channels) input: that view is channels-last, oneDNN's fast layout on the CPU,
    so no layer transposes or copies its input, and the forward convolution runs about twice as fast
    as ``Conv1d`` on a transposed copy (a training step ~0.65× the time, with ``Dropout`` below).
    """

    def __init__(self, in_dim: int, n_classes: int, channels: int, layers: int, kernel: int, dropout: float):
        super().__init__()
        self.blocks = nn.ModuleList()
        c_in = in_dim
        for i in range(layers):
            d = 2**i
            self.blocks.append(
                nn.Sequential(
                    nn.Conv1d(c_in, channels, kernel, padding=d * (kernel // 2), dilation=d),
                    nn.BatchNorm1d(channels),
                    nn.ReLU(),
                    Dropout(dropout),
                )
            )
            c_in = channels
        self.head = nn.Linear(2 * channels, n_classes)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = x.transpose(1, 2).unsqueeze(2)  # (B, C, 1, T) with channels-last strides: no copy
        keep = mask[:, None, None, :].to(x.dtype)
        for block in self.blocks:
            conv, bn, _, drop = cast(nn.Sequential, block)
            h = F.relu(_batch_norm(cast(nn.BatchNorm1d, bn), channels_last_conv(cast(nn.Conv1d, conv), h)))
            h = drop(h) * keep
        return self.head(masked_mean_max(h.squeeze(2).transpose(1, 2), mask))


def channels_last_conv(conv: nn.Conv1d, h: torch.Tensor) -> torch.Tensor:
    """``conv`` (stride 1) applied to a (B, C, 1, T) tensor as a 2-D convolution: what it computes
    on the (B, C, T) tensor, in the channels-last layout oneDNN runs fastest."""
    pad, dil = int(conv.padding[0]), int(conv.dilation[0])
    return F.conv2d(h, conv.weight.unsqueeze(2), conv.bias, padding=(0, pad), dilation=(1, dil))


def _batch_norm(bn: nn.BatchNorm1d, h: torch.Tensor) -> torch.Tensor:
    """``bn`` applied to a (B, C, 1, T) tensor, as ``BatchNorm1d`` does to (B, C, T): same statistics
    (over batch and frames), same running averages and batch count."""
    momentum = 0.0 if bn.momentum is None else bn.momentum
    if bn.training and bn.track_running_stats and bn.num_batches_tracked is not None:
        bn.num_batches_tracked.add_(1)
        if bn.momentum is None:
            momentum = 1.0 / float(bn.num_batches_tracked)
    use_batch = bn.training or bn.running_mean is None
    return F.batch_norm(
        h,
        bn.running_mean if not bn.training or bn.track_running_stats else None,
        bn.running_var if not bn.training or bn.track_running_stats else None,
        bn.weight,
        bn.bias,
        use_batch,
        momentum,
        bn.eps,
    )


class SpectrogramCNN(nn.Module):
    """2-D convolutions over (frames × bands) with pooling, for log-mel spectrograms."""

    def __init__(self, in_dim: int, n_classes: int, channels: int, layers: int, kernel: int, dropout: float):
        super().__init__()
        blocks, c_in = [], 1
        for i in range(layers):
            c_out = channels * (2 ** min(i, 2)) // 2 or 1
            blocks += [
                nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
                nn.MaxPool2d(2, ceil_mode=True),
                Dropout(dropout),
            ]
            c_in = c_out
        self.conv = nn.Sequential(*blocks)
        self.layers = layers
        self.head = nn.Linear(2 * c_in, n_classes)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.conv((x * mask.unsqueeze(-1)).unsqueeze(1))  # (B, C, T', D')
        h = h.mean(3).transpose(1, 2)  # (B, T', C)
        lengths = mask.sum(1)
        for _ in range(self.layers):
            lengths = torch.div(lengths + 1, 2, rounding_mode="floor")
        t = torch.arange(h.shape[1], device=h.device)
        m = t.unsqueeze(0) < lengths.clamp(min=1).unsqueeze(1)
        return self.head(masked_mean_max(h, m))


class BiLSTMAttention(nn.Module):
    """Bidirectional LSTM over the real frames of each row, attention pooling over them.

    Computes what a bidirectional ``nn.LSTM`` over packed (unpadded) sequences computes, without
    packing: the forward direction runs over the padded batch (padding comes after a row's real
    frames, so it cannot reach them); the backward direction runs forward over each row reversed
    within its own length (padding stays at the end), and its outputs are put back in order. On the
    CPU a padded LSTM runs on oneDNN and its backward pass is about 5× faster than the packed one
    (benchmarks/bench_torch.py). The weights are ``self.lstm``'s, so saved models load unchanged.
    """

    def __init__(self, in_dim: int, n_classes: int, hidden: int, layers: int, dropout: float):
        super().__init__()
        self.lstm = nn.LSTM(
            in_dim,
            hidden,
            num_layers=layers,
            batch_first=True,
            bidirectional=True,
            dropout=dropout if layers > 1 else 0.0,
        )
        self.attention = nn.Linear(2 * hidden, 1)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(2 * hidden, n_classes)

    def _direction(self, h: torch.Tensor, layer: int, suffix: str) -> torch.Tensor:
        """One direction of one layer, run forward over ``h`` (batch × frames × dims) from zero state."""
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        weights = [getattr(self.lstm, f"{n}_l{layer}{suffix}") for n in names]
        zeros = h.new_zeros(1, h.shape[0], self.lstm.hidden_size)
        out, _, _ = torch.lstm(h, (zeros, zeros), weights, True, 1, 0.0, self.training, False, True)
        return out

    def encode(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(batch × frames × 2·hidden) outputs of the bidirectional LSTM; zero on padded frames."""
        lengths = mask.sum(1, keepdim=True).clamp(min=1)
        t = torch.arange(x.shape[1], device=x.device).unsqueeze(0)
        # each row's frames reversed within its length, padding left in place: its own inverse
        flip = torch.where(t < lengths, lengths - 1 - t, t).unsqueeze(-1)
        keep = mask.unsqueeze(-1).to(x.dtype)
        h = x
        for layer in range(self.lstm.num_layers):
            if layer:
                h = nn.functional.dropout(h, self.lstm.dropout, self.training)
            forward = self._direction(h, layer, "")
            reversed_ = h.gather(1, flip.expand(-1, -1, h.shape[-1]))
            backward = self._direction(reversed_, layer, "_reverse")
            backward = backward.gather(1, flip.expand(-1, -1, backward.shape[-1]))
            h = torch.cat([forward, backward], -1) * keep
        return h

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        out = self.encode(x, mask)
        scores = self.attention(out).squeeze(-1).masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=1).unsqueeze(-1)
        return self.head(self.dropout((weights * out).sum(1)))


class Standardised(nn.Module):
    """A fitted network with its input standardisation and softmax: what the ONNX export traces."""

    mean: torch.Tensor  # buffers (register_buffer), typed for what forward reads
    std: torch.Tensor

    def __init__(self, net: nn.Module, mean: np.ndarray, std: np.ndarray):
        super().__init__()
        self.net = net
        self.register_buffer("mean", torch.tensor(np.asarray(mean, dtype=np.float32)))
        self.register_buffer("std", torch.tensor(np.asarray(std, dtype=np.float32)))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        z = (x - self.mean) / self.std * mask.unsqueeze(-1).to(x.dtype)
        return torch.softmax(self.net(z, mask), -1)


class WeightedLayerHead(nn.Module):
    """Softmax-weighted sum of an encoder's layers (SUPERB / EmoBox), each layer-normalised, then an MLP.

    x: (batch × layers × dims); the mask of the shared training loop is all True here and unused.
    """

    def __init__(self, n_layers: int, dim: int, n_classes: int, hidden: int, dropout: float):
        super().__init__()
        self.layer_logits = nn.Parameter(torch.zeros(n_layers))
        self.dim = dim
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, n_classes))

    def weights(self) -> torch.Tensor:
        return torch.softmax(self.layer_logits, 0)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        z = nn.functional.layer_norm(x, (self.dim,))
        pooled = (z * self.weights().view(1, -1, 1)).sum(1)
        return self.mlp(pooled)
