"""The store's explanations table: per (run, pipeline, fold), what ``pipeline.explain.explain_fold`` found on
that fold's test rows (attributions, branch probabilities, feature importance, top terms), as JSON.

A table of its own, added beside the others (``ResultsStore._migrate``): the fold rows keep their JSON as it
was, so stores stay readable by older versions; a run stored before this table has no rows here, and
``results.explain`` says what it can still recompute from the stored predictions.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

TABLE = "explanations"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    run_id TEXT NOT NULL, pipeline_id TEXT NOT NULL, fold INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (run_id, pipeline_id, fold)
)
"""


def create(db: sqlite3.Connection) -> None:
    db.execute(SCHEMA)


def write(db: sqlite3.Connection, run_id: str, pipeline_id: str, fold: int, data: dict[str, Any] | None) -> None:
    """Replace the fold's explanation (none: remove it, so no explanation outlives its fold's figures)."""
    db.execute(f"DELETE FROM {TABLE} WHERE run_id = ? AND pipeline_id = ? AND fold = ?", (run_id, pipeline_id, fold))
    if data:
        db.execute(
            f"INSERT INTO {TABLE} (run_id, pipeline_id, fold, data) VALUES (?, ?, ?, ?)",
            (run_id, pipeline_id, fold, json.dumps(data)),
        )


def delete_run(db: sqlite3.Connection, run_id: str) -> None:
    db.execute(f"DELETE FROM {TABLE} WHERE run_id = ?", (run_id,))


def read(db: sqlite3.Connection, run_id: str, pipeline_id: str) -> dict[int, dict[str, Any]]:
    """fold → its stored explanation; {} for a store or run from before explanations."""
    try:
        rows = db.execute(
            f"SELECT fold, data FROM {TABLE} WHERE run_id = ? AND pipeline_id = ? ORDER BY fold", (run_id, pipeline_id)
        ).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return {}
        raise
    return {int(f): json.loads(d) for f, d in rows}
