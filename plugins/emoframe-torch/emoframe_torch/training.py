"""The shared training loop: padding and masks, class-weighted loss, early stopping on training speakers."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from emoframe import balanced_accuracy, inner_split


def pick_device(choice: str) -> Any:
    import torch

    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        from emoframe import ComponentError

        raise ComponentError("device 'cuda' asked for but no CUDA device is available; use device: auto or cpu")
    return torch.device(choice)


def pad(seqs: list[np.ndarray], max_frames: int) -> tuple[Any, Any]:
    """(batch × frames × dims) zero-padded tensor and (batch × frames) mask of real frames."""
    import torch

    seqs = [s[:max_frames] for s in seqs]
    T = max(len(s) for s in seqs)
    D = seqs[0].shape[1]
    x = np.zeros((len(seqs), T, D), dtype=np.float32)
    mask = np.zeros((len(seqs), T), dtype=bool)
    for i, s in enumerate(seqs):
        x[i, : len(s)] = s
        mask[i, : len(s)] = True
    return torch.from_numpy(x), torch.from_numpy(mask)


def train(
    module: Any,
    X: list[np.ndarray],
    y: np.ndarray,
    groups: np.ndarray | None,
    p: Any,
    progress: Callable[..., None] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Train with Adam on class-weighted cross-entropy; keep the epoch with the best validation UAR."""
    import torch

    device = pick_device(p.device)
    torch.manual_seed(p.seed)
    if device.type == "cuda":
        torch.cuda.manual_seed_all(p.seed)
    rng = np.random.default_rng(p.seed)
    tr, va = inner_split(y, groups, p.val_fraction, p.seed) if len(y) >= 10 else (np.arange(len(y)), np.arange(len(y)))
    k = int(y.max()) + 1
    counts = np.bincount(y[tr], minlength=k).astype(np.float64)
    weights = np.where(counts > 0, len(tr) / (k * np.maximum(counts, 1)), 0.0) if p.class_weight else np.ones(k)
    loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32, device=device))
    module = module.to(device)
    opt = torch.optim.Adam(module.parameters(), lr=p.lr, weight_decay=p.weight_decay)
    best_state, best_score, best_epoch, stale = copy.deepcopy(module.state_dict()), -1.0, 0, 0
    history = []
    for epoch in range(1, p.epochs + 1):
        module.train()
        order = rng.permutation(tr)
        total = 0.0
        for s in range(0, len(order), p.batch_size):
            idx = order[s : s + p.batch_size]
            if len(idx) < 2 and len(order) > 1:  # batch norm needs two rows
                continue
            xb, mb = pad([X[i] for i in idx], p.max_frames)
            yb = torch.from_numpy(y[idx]).to(device)
            opt.zero_grad()
            loss = loss_fn(module(xb.to(device), mb.to(device)), yb)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), 5.0)
            opt.step()
            total += float(loss.detach()) * len(idx)
        pred = predict(module, [X[i] for i in va], p).argmax(1)
        score = balanced_accuracy(y[va], pred)
        history.append({"epoch": epoch, "loss": total / max(1, len(tr)), "val_uar": score})
        if progress is not None:
            progress(epoch, p.epochs, f"epoch {epoch}/{p.epochs} val UAR {score:.3f}")
        if score > best_score + 1e-9:
            best_state, best_score, best_epoch, stale = copy.deepcopy(module.state_dict()), score, epoch, 0
        else:
            stale += 1
            if stale >= p.patience:
                break
    module.load_state_dict(best_state)
    return module, {"best_epoch": best_epoch, "best_val_uar": best_score, "history": history}


def predict(module: Any, X: list[np.ndarray], p: Any) -> np.ndarray:
    import torch

    device = next(module.parameters()).device
    module.eval()
    out = []
    with torch.no_grad():
        for s in range(0, len(X), p.batch_size):
            xb, mb = pad(X[s : s + p.batch_size], p.max_frames)
            out.append(torch.softmax(module(xb.to(device), mb.to(device)), -1).cpu().numpy())
    return np.vstack(out) if out else np.zeros((0, 0))
