"""The shared training loop: padding and masks, class-weighted loss, early stopping on training speakers."""

from __future__ import annotations

import copy
import time
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


def label_index(y: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
    """(sorted classes, each label's index into them); at least two classes, as every classifier needs."""
    from emoframe import ComponentError

    classes = np.unique(np.asarray(y))
    if len(classes) < 2:
        raise ComponentError(f"{who}: needs at least two classes to train")
    return classes, np.searchsorted(classes, np.asarray(y))


def loss_weights(yi: np.ndarray, k: int, balanced: bool) -> np.ndarray:
    """Cross-entropy class weights from these rows: inverse class frequency (0 for a class absent from
    them) when ``balanced``, else ones."""
    if not balanced:
        return np.ones(k)
    counts = np.bincount(yi, minlength=k).astype(np.float64)
    return np.where(counts > 0, len(yi) / (k * np.maximum(counts, 1)), 0.0)


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
    weights = loss_weights(y[tr], k, p.class_weight)
    loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32, device=device))
    module = module.to(device)
    opt = torch.optim.Adam(module.parameters(), lr=p.lr, weight_decay=p.weight_decay)
    best_state, best_score, best_epoch, stale = copy.deepcopy(module.state_dict()), -1.0, 0, 0
    history = []
    lengths = np.array([min(len(x), p.max_frames) for x in X])
    for epoch in range(1, p.epochs + 1):
        module.train()
        t0, c0 = time.perf_counter(), time.process_time()
        total, frames, padded = 0.0, 0, 0
        for idx in batches(rng.permutation(tr), lengths, p.batch_size, getattr(p, "batching", "random"), rng):
            if len(idx) < 2 and len(tr) > 1:  # batch norm needs two rows
                continue
            xb, mb = pad([X[i] for i in idx], p.max_frames)
            yb = torch.from_numpy(y[idx]).to(device)
            opt.zero_grad()
            loss = loss_fn(module(xb.to(device), mb.to(device)), yb)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), 5.0)
            opt.step()
            total += float(loss.detach()) * len(idx)
            frames, padded = frames + int(mb.sum()), padded + mb.numel()
        train_s, train_cpu_s = time.perf_counter() - t0, time.process_time() - c0
        pred = predict(module, [X[i] for i in va], p).argmax(1)
        score = balanced_accuracy(y[va], pred)
        history.append(
            {
                "epoch": epoch,
                "loss": total / max(1, len(tr)),
                "val_uar": score,
                "train_s": train_s,  # wall and CPU seconds of the epoch's training steps
                "train_cpu_s": train_cpu_s,
                "frames": frames,  # real frames trained on, and the frames computed with padding
                "padded_frames": padded,
            }
        )
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


def batches(order: np.ndarray, lengths: np.ndarray, size: int, how: str, rng: np.random.Generator) -> list[np.ndarray]:
    """Batches of ``order`` (already shuffled). bucketed: within windows of 20 batches, rows sorted
    by length and cut into batches, the batches then shuffled — each batch pads to a length close
    to its own rows', and every epoch still mixes rows and batch order."""
    if how != "bucketed":
        return [order[s : s + size] for s in range(0, len(order), size)]
    out = []
    window = size * 20
    for w in range(0, len(order), window):
        part = order[w : w + window]
        part = part[np.argsort(lengths[part], kind="stable")]
        out += [part[s : s + size] for s in range(0, len(part), size)]
    return [out[i] for i in rng.permutation(len(out))]


def predict(module: Any, X: list[np.ndarray], p: Any) -> np.ndarray:
    """Probabilities in the order of ``X``; computed in batches of similar length (padding is masked,
    so the order changes nothing but the time)."""
    import torch

    device = next(module.parameters()).device
    module.eval()
    order = np.argsort([len(x) for x in X], kind="stable")
    out = []
    with torch.no_grad():
        for s in range(0, len(X), p.batch_size):
            xb, mb = pad([X[i] for i in order[s : s + p.batch_size]], p.max_frames)
            out.append(torch.softmax(module(xb.to(device), mb.to(device)), -1).cpu().numpy())
    if not out:
        return np.zeros((0, 0))
    proba = np.empty((len(X), out[0].shape[1]), dtype=out[0].dtype)
    proba[order] = np.vstack(out)
    return proba
