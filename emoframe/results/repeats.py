"""Repeats in the results store: the folds of repeats 1, 2, … of a run (``evaluation.repeats``).

Repeat 0 is the run as it always was: its folds stay in ``folds``, so a run without repeats, and every
store written before repeats existed, reads unchanged. Repeat r ≥ 1 keeps its folds in ``repeat_folds``,
keyed by run, pipeline, repeat and fold, each committed in the same transaction as any other fold: a run
interrupted after its first repeats resumes with the rest. Errors carry their repeat in ``errors.repeat``.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from typing import TYPE_CHECKING

from ..code_digest import fold_is_current
from ..evaluation.records import FoldResult

if TYPE_CHECKING:
    from .store import ResultsStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS repeat_folds (
    run_id TEXT NOT NULL, pipeline_id TEXT NOT NULL, repeat INTEGER NOT NULL, fold INTEGER NOT NULL,
    result TEXT NOT NULL, test_uar REAL NOT NULL, finished REAL NOT NULL, code TEXT,
    PRIMARY KEY (run_id, pipeline_id, repeat, fold)
);
"""

#: what a FoldResult carries from the worker that its own tables hold (never the fold's JSON)
NOT_IN_JSON = ("repeat", "fit_cpu_s", "state_bytes", "peak_mb", "predict_ms", "curves", "tuning", "explanation")


def migrate(db: sqlite3.Connection) -> None:
    """The repeat table, and the repeat of each error (0 for every error stored before)."""
    db.executescript(SCHEMA)
    if "repeat" not in {r[1] for r in db.execute("PRAGMA table_info(errors)")}:
        db.execute("ALTER TABLE errors ADD COLUMN repeat INTEGER NOT NULL DEFAULT 0")


def fold_json(fr: FoldResult) -> str:
    """The fold as ``folds.result`` / ``repeat_folds.result`` hold it: its figures, not its cost."""
    d = asdict(fr)
    for key in NOT_IN_JSON:
        d.pop(key, None)
    return json.dumps(d)


def has_table(db: sqlite3.Connection) -> bool:
    found = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'repeat_folds'").fetchone()
    return found is not None


def save(db: sqlite3.Connection, run_id: str, pid: str, fr: FoldResult, now: float, code: str | None) -> None:
    """One fold of repeat ``fr.repeat`` ≥ 1, inside the caller's transaction."""
    db.execute(
        "INSERT OR REPLACE INTO repeat_folds (run_id, pipeline_id, repeat, fold, result, test_uar, finished, code) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (run_id, pid, fr.repeat, fr.fold, fold_json(fr), fr.test_uar, now, code),
    )


def forget(db: sqlite3.Connection, run_id: str, pid: str, repeat: int, fold: int) -> None:
    db.execute(
        "DELETE FROM repeat_folds WHERE run_id = ? AND pipeline_id = ? AND repeat = ? AND fold = ?",
        (run_id, pid, repeat, fold),
    )


def fold_code(store: ResultsStore, run_id: str, repeat: int) -> dict[tuple[str, int], dict[str, str] | None]:
    """(pipeline id, fold) → code digests of each stored fold of ``repeat`` ≥ 1."""
    if not has_table(store.db):
        return {}
    rows = store.db.execute(
        "SELECT pipeline_id, fold, code FROM repeat_folds WHERE run_id = ? AND repeat = ?", (run_id, repeat)
    )
    return {(p, f): store.code_of(c) for p, f, c in rows}


def fold_results(store: ResultsStore, run_id: str, pipeline_id: str) -> dict[int, list[FoldResult]]:
    """repeat ≥ 1 → the pipeline's current folds of that repeat (stale ones left out, as for repeat 0)."""
    if not has_table(store.db):
        return {}
    run_code = store.run_code(run_id)
    out: dict[int, list[FoldResult]] = {}
    rows = store.db.execute(
        "SELECT repeat, result, code FROM repeat_folds WHERE run_id = ? AND pipeline_id = ? ORDER BY repeat, fold",
        (run_id, pipeline_id),
    )
    for repeat, result, code in rows:
        if fold_is_current(store.code_of(code), run_code):
            out.setdefault(repeat, []).append(FoldResult(**{**json.loads(result), "repeat": repeat}))
    return out


def all_folds(store: ResultsStore, run_id: str, pipeline_id: str) -> dict[int, list[FoldResult]]:
    """Every repeat's current folds of a pipeline: repeat → folds (repeat 0 from ``folds``); only repeats
    with at least one fold."""
    out = {0: store.fold_results(run_id, pipeline_id)}
    out.update(fold_results(store, run_id, pipeline_id))
    return {r: f for r, f in sorted(out.items()) if f}


def stale(store: ResultsStore, run_id: str) -> set[tuple[str, int, int]]:
    """(pipeline id, repeat, fold) of every stored fold of a repeat ≥ 1 computed by older code."""
    run_code = store.run_code(run_id)
    if not has_table(store.db):
        return set()
    rows = store.db.execute("SELECT pipeline_id, repeat, fold, code FROM repeat_folds WHERE run_id = ?", (run_id,))
    return {(p, r, f) for p, r, f, c in rows if not fold_is_current(store.code_of(c), run_code)}


def repeat_fold_counts(store: ResultsStore) -> dict[str, int]:
    """run id → folds stored for its repeats 1, 2, … (what `runs` adds to the folds of repeat 0)."""
    if not has_table(store.db):
        return {}
    return dict(store.db.execute("SELECT run_id, COUNT(*) FROM repeat_folds GROUP BY run_id").fetchall())
