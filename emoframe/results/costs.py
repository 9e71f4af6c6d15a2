"""What each pipeline cost, in the results store: per fold, fit seconds (wall and CPU), prediction
milliseconds per utterance, the fitted state's bytes, the worker's peak memory; for models trained by
epochs, the training curve (train loss and validation UAR per epoch) and the epoch kept.

Two tables beside ``folds``, keyed like a fold (run, pipeline, repeat, fold) and written in the fold's
own transaction; a store without them (written before they existed) reads as "no cost recorded".
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

import numpy as np

from ..evaluation.records import FoldResult

if TYPE_CHECKING:
    from .store import ResultsStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS fold_costs (
    run_id TEXT NOT NULL, pipeline_id TEXT NOT NULL, repeat INTEGER NOT NULL DEFAULT 0, fold INTEGER NOT NULL,
    fit_s REAL, fit_cpu_s REAL, predict_ms REAL, predict_rows INTEGER, state_bytes INTEGER, peak_mb REAL,
    PRIMARY KEY (run_id, pipeline_id, repeat, fold)
);
CREATE TABLE IF NOT EXISTS training_curves (
    run_id TEXT NOT NULL, pipeline_id TEXT NOT NULL, repeat INTEGER NOT NULL DEFAULT 0, fold INTEGER NOT NULL,
    model TEXT NOT NULL, epoch INTEGER NOT NULL, train_loss REAL, val_uar REAL, best_epoch INTEGER,
    PRIMARY KEY (run_id, pipeline_id, repeat, fold, model, epoch)
);
"""

TABLES = ("fold_costs", "training_curves")


def migrate(db: sqlite3.Connection) -> None:
    db.executescript(SCHEMA)


def _has_tables(db: sqlite3.Connection) -> bool:
    found = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return set(TABLES) <= found


def save(db: sqlite3.Connection, run_id: str, pid: str, fr: FoldResult) -> None:
    """A fold's cost and training curves, inside the caller's transaction (replacing an older fold's)."""
    key = (run_id, pid, fr.repeat, fr.fold)
    db.execute("DELETE FROM training_curves WHERE run_id = ? AND pipeline_id = ? AND repeat = ? AND fold = ?", key)
    db.execute(
        "INSERT OR REPLACE INTO fold_costs (run_id, pipeline_id, repeat, fold, fit_s, fit_cpu_s, predict_ms, "
        "predict_rows, state_bytes, peak_mb) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*key, fr.fit_s, fr.fit_cpu_s, fr.predict_ms, len(fr.test_ids), fr.state_bytes, fr.peak_mb),
    )
    for model, curve in sorted(fr.curves.items()):
        best = curve.get("best_epoch")
        for point in curve.get("epochs", []):
            db.execute(
                "INSERT OR REPLACE INTO training_curves (run_id, pipeline_id, repeat, fold, model, epoch, "
                "train_loss, val_uar, best_epoch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*key, model, int(point["epoch"]), point.get("train_loss"), point.get("val_uar"), best),
            )


def forget(db: sqlite3.Connection, run_id: str, pid: str, repeat: int, fold: int) -> None:
    for table in TABLES:
        db.execute(
            f"DELETE FROM {table} WHERE run_id = ? AND pipeline_id = ? AND repeat = ? AND fold = ?",
            (run_id, pid, repeat, fold),
        )


def fold_costs(store: ResultsStore, run_id: str, pipeline_id: str) -> list[dict[str, Any]]:
    """Each stored fold's cost (repeat, fold, fit_s, fit_cpu_s, predict_ms, predict_rows, state_bytes, peak_mb)."""
    if not _has_tables(store.db):
        return []
    keys = ("repeat", "fold", "fit_s", "fit_cpu_s", "predict_ms", "predict_rows", "state_bytes", "peak_mb")
    rows = store.db.execute(
        f"SELECT {', '.join(keys)} FROM fold_costs WHERE run_id = ? AND pipeline_id = ? ORDER BY repeat, fold",
        (run_id, pipeline_id),
    )
    return [dict(zip(keys, r)) for r in rows]


def curves(store: ResultsStore, run_id: str, pipeline_id: str) -> dict[str, list[dict[str, Any]]]:
    """model ('branch: name') → one curve per (repeat, fold): {repeat, fold, best_epoch, epoch, train_loss, val_uar}
    (the last three as lists, in epoch order)."""
    if not _has_tables(store.db):
        return {}
    rows = store.db.execute(
        "SELECT model, repeat, fold, epoch, train_loss, val_uar, best_epoch FROM training_curves "
        "WHERE run_id = ? AND pipeline_id = ? ORDER BY model, repeat, fold, epoch",
        (run_id, pipeline_id),
    )
    out: dict[str, dict[tuple[int, int], dict[str, Any]]] = {}
    for model, repeat, fold, epoch, loss, val, best in rows:
        c = out.setdefault(model, {}).setdefault(
            (repeat, fold),
            {"repeat": repeat, "fold": fold, "best_epoch": best, "epoch": [], "train_loss": [], "val_uar": []},
        )
        c["epoch"].append(epoch)
        c["train_loss"].append(loss)
        c["val_uar"].append(val)
    return {m: list(by_fold.values()) for m, by_fold in out.items()}


def _mean(values: list[Any]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return float(np.mean(present)) if present else None


def summary(
    costs: list[dict[str, Any]], model_curves: dict[str, list[dict[str, Any]]], folds: set[tuple[int, int]]
) -> dict[str, Any]:
    """A pipeline's cost over the (repeat, fold)s its figures use: fit seconds (wall, CPU) per repeat (the sum
    over its folds, mean over repeats), prediction ms per utterance (all test rows), state bytes and peak
    memory (mean and max over folds), the kept epoch of its first model trained by epochs (mean over folds)."""
    rows = [c for c in costs if (c["repeat"], c["fold"]) in folds]
    if not rows:
        return {}
    repeats = sorted({c["repeat"] for c in rows})
    per_repeat = [[c for c in rows if c["repeat"] == r] for r in repeats]

    def per_repeat_sum(key: str) -> float | None:
        sums = [sum(c[key] for c in rs) for rs in per_repeat if all(c[key] is not None for c in rs)]
        return float(np.mean(sums)) if sums else None

    timed = [c for c in rows if c["predict_ms"] is not None and c["predict_rows"]]
    utterances = sum(c["predict_rows"] for c in timed)
    best: dict[str, Any] | None = None
    for model in sorted(model_curves):
        kept = [c for c in model_curves[model] if (c["repeat"], c["fold"]) in folds]
        if kept:
            best = {
                "model": model,
                "best_epoch": _mean([c["best_epoch"] for c in kept]),
                "epochs_run": _mean([len(c["epoch"]) for c in kept]),
            }
            break
    return {
        "fit_s": per_repeat_sum("fit_s"),
        "fit_cpu_s": per_repeat_sum("fit_cpu_s"),
        "predict_ms": (sum(c["predict_ms"] * c["predict_rows"] for c in timed) / utterances) if utterances else None,
        "state_bytes": _mean([c["state_bytes"] for c in rows]),
        "peak_mb": max((c["peak_mb"] for c in rows if c["peak_mb"] is not None), default=None),
        "best_epoch": best["best_epoch"] if best else None,
        "epochs_run": best["epochs_run"] if best else None,
        "curve_model": best["model"] if best else None,
    }
