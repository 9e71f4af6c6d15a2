"""The results store: SQLite at ``<workdir>/results.db`` (docs/architecture.md).

Each finished fold of each pipeline is one row, committed in its own transaction, so an
interrupted benchmark (Ctrl-C, kill) leaves a consistent store and a rerun resumes where it
stopped: a (pipeline, fold) is either fully there or not at all. WAL mode lets a reader (the
TUI, `emoframe results`) look while a benchmark writes.

Each fold row records the code digest of every component its pipeline ran (``folds.code``), and
each run the digests it last ran with (``runs.code``), so that a fold computed by code that has
changed since is recognised as stale and run again (stores from before this hold NULL there).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..code_digest import fold_is_current
from ..errors import EmoframeError
from ..evaluation.failures import as_records
from ..evaluation.records import FoldResult
from . import costs, explanations, repeats, tuning


class StoreError(EmoframeError):
    """The results store cannot be used: damaged, unwritable, or the disk is full."""

    exit_code = 1


def store_error(path: Path, exc: sqlite3.DatabaseError) -> StoreError:
    text = str(exc)
    if "full" in text:
        return StoreError(
            f"the disk holding the results store {path} is full ({text}); free space and rerun "
            "— every fold stored before is kept"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreError(
            f"the results store {path} is damaged ({text}); move it aside (emoframe does not delete "
            "it) and rerun to start a new store"
        )
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StoreError(f"cannot write the results store {path} ({text}); use a writable --workdir")
    return StoreError(f"results store {path}: {text}")


def _open_readonly(path: Path) -> sqlite3.Connection:
    """Open without writing: read-only mode, else immutable (a read-only folder cannot hold WAL files)."""
    from urllib.parse import quote

    uri = f"file:{quote(str(path.resolve()))}"
    try:
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30, isolation_level=None)
        db.execute("SELECT COUNT(*) FROM runs").fetchone()
        return db
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            raise
        return sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=30, isolation_level=None)


SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, name TEXT, spec TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL,
    classes TEXT, warnings TEXT, failures TEXT, n_folds INTEGER
);
CREATE TABLE IF NOT EXISTS pipelines (
    run_id TEXT NOT NULL, id TEXT NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL, spec TEXT NOT NULL,
    fused INTEGER NOT NULL, PRIMARY KEY (run_id, id)
);
CREATE TABLE IF NOT EXISTS folds (
    run_id TEXT NOT NULL, pipeline_id TEXT NOT NULL, fold INTEGER NOT NULL, result TEXT NOT NULL,
    test_uar REAL NOT NULL, finished REAL NOT NULL, PRIMARY KEY (run_id, pipeline_id, fold)
);
-- columns added later (n_rows, base_dir, asr, code of runs; code of folds) come from ResultsStore._migrate
CREATE TABLE IF NOT EXISTS errors (
    run_id TEXT NOT NULL, pipeline_id TEXT NOT NULL, fold INTEGER NOT NULL, message TEXT NOT NULL, at REAL NOT NULL
);
"""


def _code_json(code: Mapping[str, str] | None) -> str | None:
    return json.dumps(dict(code), sort_keys=True) if code is not None else None


def _code_of(text: str | None) -> dict[str, str] | None:
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return None
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else None


class ResultsStore:
    """Runs, pipelines, folds and predictions of benchmarks.

    ``readonly=True`` (results, report, the TUI's Results screen) opens an existing store
    without writing anything, so a read-only workdir can still be read. A damaged file or a
    full disk is a :class:`StoreError` that names the file and what to do.
    """

    def __init__(self, path: str | Path, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        try:
            if readonly:
                if not self.path.is_file():
                    raise StoreError(
                        f"no results store at {self.path}; run `emoframe bench SPEC` or `emoframe demo` first"
                    )
                self.db = _open_readonly(self.path)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.executescript(SCHEMA)
                self._migrate()
            self.db.execute("SELECT COUNT(*) FROM runs").fetchone()
            columns = {r[1] for r in self.db.execute("PRAGMA table_info(runs)")}
            self._has_n_rows, self._has_base_dir = "n_rows" in columns, "base_dir" in columns
            self._has_asr = "asr" in columns
            self._has_run_code = "code" in columns
            self._has_fold_code = "code" in {r[1] for r in self.db.execute("PRAGMA table_info(folds)")}
        except sqlite3.DatabaseError as exc:
            raise store_error(self.path, exc) from None
        except OSError as exc:
            raise StoreError(f"cannot open the results store {self.path}: {exc.strerror or exc}") from None

    def _migrate(self) -> None:
        """Columns added since a store was created (stores stay readable by older and newer versions)."""
        columns = {r[1] for r in self.db.execute("PRAGMA table_info(runs)")}
        if "n_rows" not in columns:
            self.db.execute("ALTER TABLE runs ADD COLUMN n_rows INTEGER")
        if "base_dir" not in columns:  # where the spec's relative paths resolve (the spec file's folder)
            self.db.execute("ALTER TABLE runs ADD COLUMN base_dir TEXT")
        if "asr" not in columns:  # speech recognition: transcriber, word error rate, failures (JSON)
            self.db.execute("ALTER TABLE runs ADD COLUMN asr TEXT")
        if "code" not in columns:  # component name → code digest the run last ran with (JSON)
            self.db.execute("ALTER TABLE runs ADD COLUMN code TEXT")
        if "code" not in {r[1] for r in self.db.execute("PRAGMA table_info(folds)")}:
            self.db.execute("ALTER TABLE folds ADD COLUMN code TEXT")  # the same, of the fold's own pipeline
        tuning.create(self.db)  # nested tuning's trials (results/tuning.py)
        repeats.migrate(self.db)  # folds of repeats 1, 2, … and the repeat of each error (results.repeats)
        costs.migrate(self.db)  # each fold's cost and training curves (results.costs)
        explanations.create(self.db)  # attributions per fold: a table of its own (results.explanations)

    code_of = staticmethod(_code_of)  # a stored code column as a dict (results.repeats reads it)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise store_error(self.path, exc) from None

    # -- writing ---------------------------------------------------------------------
    def begin_run(
        self,
        run_id: str,
        name: str,
        spec: dict[str, Any],
        pipelines: list[tuple[str, str, dict, bool]],
        fresh: bool = False,
        base_dir: str | None = None,
        code: dict[str, str] | None = None,
    ) -> None:
        """Create (or reopen) a run and its pipelines; ``fresh`` drops what an earlier run stored. ``code``:
        component name → code digest this call runs with."""
        now = time.time()
        with self.transaction() as db:
            if fresh:
                for table in ("folds", "errors", "repeat_folds", *costs.TABLES):
                    db.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
                tuning.forget(db, run_id)
                db.execute("DELETE FROM pipelines WHERE run_id = ?", (run_id,))
                db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
                explanations.delete_run(db, run_id)
            db.execute(
                "INSERT INTO runs (id, name, spec, created, updated, base_dir, code) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET updated = excluded.updated, name = excluded.name, "
                "base_dir = excluded.base_dir, code = excluded.code",
                (run_id, name, json.dumps(spec, sort_keys=True), now, now, base_dir, _code_json(code)),
            )
            for position, (pid, pname, pspec, fused) in enumerate(pipelines):
                db.execute(
                    "INSERT INTO pipelines (run_id, id, position, name, spec, fused) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(run_id, id) DO UPDATE SET position = excluded.position, name = excluded.name",
                    (run_id, pid, position, pname, json.dumps(pspec, sort_keys=True), int(fused)),
                )

    def set_plan(
        self,
        run_id: str,
        classes: list[str],
        warnings: list[str],
        failures: list[dict[str, str]],
        n_folds: int,
        n_rows: int = 0,
    ) -> None:
        """What the protocol decided: classes, warnings, rows left out, folds, rows it would evaluate."""
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET classes = ?, warnings = ?, failures = ?, n_folds = ?, n_rows = ? WHERE id = ?",
                (json.dumps(classes), json.dumps(warnings), json.dumps(failures), n_folds, n_rows, run_id),
            )

    def set_asr(self, run_id: str, reports: list[dict[str, Any]]) -> None:
        """What speech recognition gave this run: per corpus side, the transcriber, WER and failures."""
        with self.transaction() as db:
            db.execute("UPDATE runs SET asr = ? WHERE id = ?", (json.dumps(reports), run_id))

    def save_fold(
        self,
        run_id: str,
        results: list[tuple[str, FoldResult]],
        errors: list[tuple[str, int, str]],
        code: Mapping[str, dict[str, str]] | None = None,
        repeat: int = 0,
    ) -> None:
        """One finished fold task: its pipelines' results and errors, in one transaction. ``code``: pipeline
        id → the code digest of each component it ran (stored with each of its folds). ``repeat``: which
        repeat of the protocol the errors belong to (the results carry their own)."""
        now = time.time()
        with self.transaction() as db:
            for pid, fr in results:
                pid_code = (code or {}).get(pid)
                if fr.repeat:
                    repeats.save(db, run_id, pid, fr, now, _code_json(pid_code))
                else:
                    db.execute(
                        "INSERT OR REPLACE INTO folds (run_id, pipeline_id, fold, result, test_uar, finished, code) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (run_id, pid, fr.fold, repeats.fold_json(fr), fr.test_uar, now, _code_json(pid_code)),
                    )
                if fr.tuning is not None:  # its trials go to their own table, beside the fold
                    tuning.write(db, run_id, pid, fr.fold, fr.tuning, fr.repeat)
                costs.save(db, run_id, pid, fr)
                if fr.repeat == 0:  # explanations are repeat 0's (as robustness is)
                    explanations.write(db, run_id, pid, fr.fold, fr.explanation)
                db.execute(
                    "DELETE FROM errors WHERE run_id = ? AND pipeline_id = ? AND fold = ? AND repeat = ?",
                    (run_id, pid, fr.fold, fr.repeat),
                )
            for pid, fold, message in errors:
                db.execute(
                    "DELETE FROM errors WHERE run_id = ? AND pipeline_id = ? AND fold = ? AND repeat = ?",
                    (run_id, pid, fold, repeat),
                )
                # a fold stored by older code and failing on today's keeps no figures of the older code
                if repeat:
                    repeats.forget(db, run_id, pid, repeat, fold)
                else:
                    db.execute(
                        "DELETE FROM folds WHERE run_id = ? AND pipeline_id = ? AND fold = ?", (run_id, pid, fold)
                    )
                tuning.forget(db, run_id, pid, fold, repeat)  # and none of its searches' trials
                costs.forget(db, run_id, pid, repeat, fold)
                if repeat == 0:
                    explanations.write(db, run_id, pid, fold, None)
                db.execute(
                    "INSERT INTO errors (run_id, pipeline_id, fold, message, at, repeat) VALUES (?, ?, ?, ?, ?, ?)",
                    (run_id, pid, fold, message, now, repeat),
                )
            db.execute("UPDATE runs SET updated = ? WHERE id = ?", (now, run_id))

    # -- reading ---------------------------------------------------------------------
    def finished(self, run_id: str, repeat: int = 0) -> set[tuple[str, int]]:
        """(pipeline id, fold) of every stored fold of ``repeat`` (0: the run's first, or only, repeat)."""
        if repeat:
            return set(repeats.fold_code(self, run_id, repeat))
        return {(p, f) for p, f in self.db.execute("SELECT pipeline_id, fold FROM folds WHERE run_id = ?", (run_id,))}

    def fold_code(self, run_id: str, repeat: int = 0) -> dict[tuple[str, int], dict[str, str] | None]:
        """(pipeline id, fold) → the code digests each stored fold (of ``repeat``) was computed with; None for a
        fold stored before emoframe recorded them."""
        if repeat:
            return repeats.fold_code(self, run_id, repeat)
        if not self._has_fold_code:  # an older store opened read-only: nothing recorded
            return dict.fromkeys(self.finished(run_id))
        rows = self.db.execute("SELECT pipeline_id, fold, code FROM folds WHERE run_id = ?", (run_id,))
        return {(p, f): _code_of(c) for p, f, c in rows}

    def runs(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT id, name, created, updated, n_folds, (SELECT COUNT(*) FROM pipelines p "
            "WHERE p.run_id = runs.id), (SELECT COUNT(*) FROM folds f WHERE f.run_id = runs.id), "
            "(SELECT COUNT(*) FROM errors e WHERE e.run_id = runs.id), spec FROM runs ORDER BY updated DESC"
        )
        keys = ("id", "name", "created", "updated", "n_folds", "pipelines", "folds_done", "errors", "spec")
        out = [dict(zip(keys, r)) for r in rows]
        for r in out:
            r["spec"] = json.loads(r["spec"])
        return out

    def run_index(self) -> list[tuple[str, str, float]]:
        """(id, name, updated) of every run, newest first: what a run reference is matched against."""
        return [
            (i, n or "", u) for i, n, u in self.db.execute("SELECT id, name, updated FROM runs ORDER BY updated DESC")
        ]

    def run(self, run_id: str) -> dict[str, Any]:
        """One run, by a reference of :mod:`emoframe.results.resolve` (its id, an id prefix of at least
        4 hex characters, or its exact name); anything naming no run or several runs is refused."""
        from .resolve import match_run

        n_rows = "n_rows" if self._has_n_rows else "NULL"
        base_dir = "base_dir" if self._has_base_dir else "NULL"
        asr = "asr" if self._has_asr else "NULL"
        query = (
            f"SELECT id, name, spec, classes, warnings, failures, n_folds, {n_rows}, created, {base_dir}, {asr} "
            "FROM runs WHERE id = ?"
        )
        rows = self.db.execute(query, (run_id,)).fetchall()
        if not rows:  # not a full id: matched in Python, literally (user text never reaches a LIKE pattern)
            rows = self.db.execute(query, (match_run(self.run_index(), run_id, str(self.path)),)).fetchall()
        r = rows[0]
        return {
            "id": r[0],
            "name": r[1],
            "spec": json.loads(r[2]),
            "classes": json.loads(r[3] or "[]"),
            "warnings": json.loads(r[4] or "[]"),
            "failures": as_records(json.loads(r[5] or "[]")),
            "n_folds": r[6],
            "n_rows": r[7] or 0,
            "created": r[8],
            "base_dir": r[9],
            "asr": json.loads(r[10] or "[]"),
        }

    def pipelines(self, run_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT id, name, spec, fused FROM pipelines WHERE run_id = ? ORDER BY position", (run_id,)
        )
        return [{"id": i, "name": n, "spec": json.loads(s), "fused": bool(f)} for i, n, s, f in rows]

    def run_code(self, run_id: str) -> dict[str, str] | None:
        """Component name → the code digest the run last ran with; None for a run stored before digests."""
        if not self._has_run_code:
            return None
        row = self.db.execute("SELECT code FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _code_of(row[0]) if row else None

    def fold_results(self, run_id: str, pipeline_id: str) -> list[FoldResult]:
        """The pipeline's stored folds computed by the code its run last ran with. A fold of older code
        (a rerun of changed code interrupted before it reached that fold) is left out: it is stale, counted
        by :meth:`stale_folds`, and rerun by the next ``bench``; its figures never pool with today's."""
        code = "code" if self._has_fold_code else "NULL"
        rows = self.db.execute(
            f"SELECT result, {code} FROM folds WHERE run_id = ? AND pipeline_id = ? ORDER BY fold",
            (run_id, pipeline_id),
        )
        run_code = self.run_code(run_id)
        return [FoldResult(**json.loads(r)) for r, c in rows if fold_is_current(_code_of(c), run_code)]

    def stale_folds(self, run_id: str) -> set[tuple[str, int]]:
        """(pipeline id, fold) of every stored fold that :meth:`fold_results` leaves out as older code's."""
        run_code = self.run_code(run_id)
        return {key for key, code in self.fold_code(run_id).items() if not fold_is_current(code, run_code)}

    def tuning_trials(self, run_id: str) -> dict[str, dict[int, list[dict[str, Any]]]]:
        """pipeline id → outer fold → the trials of its nested tuning (``results.tuning``)."""
        return tuning.read(self.db, run_id)

    def errors(self, run_id: str) -> list[dict[str, Any]]:
        """Every stored error: pipeline_id, fold, message, and (for repeats 1, 2, …) repeat."""
        has_repeat = "repeat" in {r[1] for r in self.db.execute("PRAGMA table_info(errors)")}
        repeat = "repeat" if has_repeat else "0"
        rows = self.db.execute(
            f"SELECT pipeline_id, fold, message, {repeat} FROM errors WHERE run_id = ? "
            "ORDER BY 1, 4, 2",  # pipeline, repeat, fold
            (run_id,),
        )
        # the repeat only where there is one: errors of runs without repeats read as they always did
        return [{"pipeline_id": p, "fold": f, "message": m, **({"repeat": r} if r else {})} for p, f, m, r in rows]
