"""A benchmark over several corpora as the store keeps it, and the tables it gives.

A multi-corpus run (a *study*) is a row of ``runs`` like any run (its spec lists the corpora) that holds no
folds itself: each corpus's grid is an ordinary run, and so is each training set of a cross-corpus matrix
(train on one corpus, or on all but one, test on the others). The corpus dimension is the table
``corpus_runs`` (study, unit → the run of that corpus or training set), added beside the existing tables:
a fold is identified by (run of its corpus, pipeline, fold) — with repeats, (…, repeat, fold) — so nothing
of the existing tables changes meaning and a one-corpus run is stored exactly as before.

What this module gives: the per-corpus leaderboards (:func:`corpus_leaderboards`, the ordinary
:func:`~emoframe.results.leaderboard.leaderboard` of each corpus's run), the leaderboard across corpora with
the ranks and their test (:func:`across_corpora`), and the cells of the matrix with their CIs
(:func:`matrix_cells`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from ..evaluation.metrics import confusion, uar
from ..evaluation.ranking import RankTest, rank_pipelines
from ..evaluation.stats import bootstrap_ci
from .leaderboard import LeaderboardRow, leaderboard
from .store import ResultsStore, store_error

TABLES = """
CREATE TABLE IF NOT EXISTS corpus_studies (id TEXT PRIMARY KEY, info TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS corpus_runs (
    study_id TEXT NOT NULL, unit TEXT NOT NULL, position INTEGER NOT NULL, role TEXT NOT NULL,
    corpus TEXT NOT NULL, train TEXT NOT NULL, test TEXT NOT NULL, run_id TEXT, status TEXT NOT NULL,
    message TEXT, PRIMARY KEY (study_id, unit)
);
"""


@dataclass(frozen=True)
class Unit:
    """One run a study is made of: a corpus's own grid (role ``corpus``) or a training set of the matrix
    (role ``matrix``: trains on ``train``, tests on each of ``test``)."""

    key: str
    role: str
    corpus: str  # the corpus (role corpus) or the training set's label ("emodb", "all but emodb")
    train: tuple[str, ...]
    test: tuple[str, ...] = ()
    run_id: str | None = None
    status: str = "pending"  # pending, done, failed
    message: str | None = None


def _tables(store: ResultsStore) -> None:
    try:
        store.db.executescript(TABLES)
    except sqlite3.DatabaseError as exc:
        raise store_error(store.path, exc) from None


def _has_tables(store: ResultsStore) -> bool:
    names = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {"corpus_studies", "corpus_runs"} <= names


def save_study(store: ResultsStore, study_id: str, info: dict[str, Any], units: list[Unit]) -> None:
    """Record (or update) a study: what it compared (``info``: corpora, cards, shared labels, notes) and its
    units. A unit's run and status are kept when already stored, unless given anew."""
    _tables(store)
    with store.transaction() as db:
        db.execute(
            "INSERT INTO corpus_studies (id, info) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET info = excluded.info",
            (study_id, json.dumps(info, sort_keys=True)),
        )
        for position, u in enumerate(units):
            db.execute(
                "INSERT INTO corpus_runs (study_id, unit, position, role, corpus, train, test, run_id, status, "
                "message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(study_id, unit) DO UPDATE SET "
                "position = excluded.position, run_id = excluded.run_id, status = excluded.status, "
                "message = excluded.message",
                (
                    study_id,
                    u.key,
                    position,
                    u.role,
                    u.corpus,
                    json.dumps(list(u.train)),
                    json.dumps(list(u.test)),
                    u.run_id,
                    u.status,
                    u.message,
                ),
            )


def set_unit(store: ResultsStore, study_id: str, unit: Unit) -> None:
    """A unit's outcome: done (its run finished, failures inside it are the run's), or failed with why."""
    with store.transaction() as db:
        db.execute(
            "UPDATE corpus_runs SET run_id = ?, status = ?, message = ? WHERE study_id = ? AND unit = ?",
            (unit.run_id, unit.status, unit.message, study_id, unit.key),
        )


def study(store: ResultsStore, run_id: str) -> tuple[dict[str, Any], list[Unit]] | None:
    """(info, units) of a multi-corpus run; None for any other run (or a store from before studies)."""
    if not _has_tables(store):
        return None
    row = store.db.execute("SELECT info FROM corpus_studies WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        return None
    units = [
        Unit(k, r, c, tuple(json.loads(tr)), tuple(json.loads(te)), rid, st, msg)
        for k, r, c, tr, te, rid, st, msg in store.db.execute(
            "SELECT unit, role, corpus, train, test, run_id, status, message FROM corpus_runs WHERE study_id = ? "
            "ORDER BY position",
            (run_id,),
        )
    ]
    return json.loads(row[0]), units


def is_study(store: ResultsStore, run_id: str) -> bool:
    return study(store, run_id) is not None


def _required(store: ResultsStore, run_id: str) -> tuple[dict[str, Any], list[Unit]]:
    from ..errors import EmoframeError

    found = study(store, run_id)
    if found is None:
        raise EmoframeError(
            f"run {run_id[:12]} is not a run over several corpora (data: [...]); ranks over corpora need one "
            "(docs/evaluation.md, 'Across corpora')"
        )
    return found


def corpus_leaderboards(store: ResultsStore, study_id: str) -> dict[str, list[LeaderboardRow]]:
    """Corpus → its leaderboard (the ordinary one of its run, rows as a one-corpus run has them); a corpus that
    failed to load or has not run yet is absent (:func:`unit_problems` says why)."""
    _, units = _required(store, study_id)
    out = {}
    for u in units:
        if u.role == "corpus" and u.run_id is not None and u.status != "failed":
            out[u.corpus] = leaderboard(store, u.run_id)
    return out


def unit_problems(store: ResultsStore, study_id: str) -> list[str]:
    """One line per unit that failed as a whole (e.g. its corpus could not be loaded), with the reason."""
    _, units = _required(store, study_id)
    return [
        f"{'corpus' if u.role == 'corpus' else 'training set'} {u.corpus}: {u.message}"
        for u in units
        if u.status == "failed"
    ]


@dataclass(frozen=True)
class AcrossRow:
    """One pipeline across corpora: its pooled UAR on each corpus, their mean, its average rank and what the
    test says of it. Made only by :func:`across_corpora`; exported through ``to_record``."""

    pipeline: str
    uar: dict[str, float | None]  # corpus → pooled UAR (None: failed or not run there)
    uar_ci: dict[str, tuple[float, float] | None]
    mean_uar: float | None
    average_rank: float | None  # over the corpora ranked (those where every pipeline has a score)
    corpora_done: int
    tied_with_best: bool | None  # None: no test claimed
    p_versus_best: float | None  # Holm-adjusted
    rank: int | None = None

    def to_record(self) -> dict[str, Any]:
        record = dataclasses.asdict(self)
        record["uar_ci"] = {k: list(v) if v is not None else None for k, v in self.uar_ci.items()}
        return record


@dataclass(frozen=True)
class AcrossCorpora:
    corpora: list[str]
    rows: list[AcrossRow]
    ranks: RankTest | None  # None: nothing to rank yet
    problems: list[str]

    def to_record(self) -> dict[str, Any]:
        return {
            "corpora": self.corpora,
            "rows": [r.to_record() for r in self.rows],
            "ranks": rank_record(self.ranks),
            "problems": self.problems,
        }


def rank_record(ranks: RankTest | None) -> dict[str, Any] | None:
    """The rank test as JSON: average ranks, Friedman, CD, Nemenyi, Holm against the best, the verdict."""
    if ranks is None:
        return None
    d = dataclasses.asdict(ranks)
    d["tied_with_best"] = ranks.tied_with_best
    d["verdict"] = ranks.verdict()
    return d


def across_corpora(store: ResultsStore, study_id: str) -> AcrossCorpora:
    """The leaderboard across corpora: each pipeline's pooled UAR per corpus, mean, average rank over the
    corpora (blocks) and the Friedman / post-hoc tests where the corpora allow them."""
    info, _ = _required(store, study_id)
    boards = corpus_leaderboards(store, study_id)
    corpora = [c for c in info.get("corpora", []) if c in boards]
    names: list[str] = []
    for board in boards.values():
        for r in board:
            if r.pipeline not in names:
                names.append(r.pipeline)
    by = {c: {r.pipeline: r for r in board} for c, board in boards.items()}
    scores: dict[str, dict[str, float]] = {
        p: {c: float(by[c][p].uar) for c in corpora if p in by[c] and by[c][p].uar is not None}  # type: ignore[arg-type]
        for p in names
    }
    ranks = None
    complete = [c for c in corpora if all(c in scores[p] for p in names)]
    if names and complete:
        ranks = rank_pipelines(scores, corpora=corpora)
    avg = dict(zip(ranks.pipelines, ranks.average_ranks)) if ranks else {}
    vs = {v.pipeline: v for v in ranks.versus_best} if ranks else {}
    rows: list[AcrossRow] = []
    for p in names:
        values = [scores[p][c] for c in corpora if c in scores[p]]
        tied: bool | None = None
        if ranks is not None and ranks.tested:
            tied = p in ranks.tied_with_best
        rows.append(
            AcrossRow(
                pipeline=p,
                uar={c: scores[p].get(c) for c in corpora},
                uar_ci={
                    c: (by[c][p].uar_ci_low, by[c][p].uar_ci_high)  # type: ignore[misc]
                    if p in by[c] and by[c][p].uar is not None
                    else None
                    for c in corpora
                },
                mean_uar=sum(values) / len(values) if values else None,
                average_rank=avg.get(p),
                corpora_done=len(values),
                tied_with_best=tied,
                p_versus_best=vs[p].p_holm if p in vs and ranks is not None and ranks.tested else None,
            )
        )
    ordered = sorted(rows, key=lambda r: (r.average_rank is None, r.average_rank or 0.0, -(r.mean_uar or 0.0)))
    ordered = [
        dataclasses.replace(r, rank=i + 1 if r.average_rank is not None else None) for i, r in enumerate(ordered)
    ]
    return AcrossCorpora(corpora, ordered, ranks, unit_problems(store, study_id))


@dataclass(frozen=True)
class Cell:
    """One cell of the cross-corpus matrix: trained on ``train``, tested on ``test`` (on the shared labels).
    The diagonal (``train == test``) is the test corpus's own in-corpus score; ``drop_pts`` is that score
    minus this cell's, in UAR points."""

    pipeline: str
    train: str
    test: str
    uar: float
    uar_ci_low: float
    uar_ci_high: float
    n: int
    kind: str  # in_corpus, cross, leave_one_out
    in_corpus: float | None = None
    drop_pts: float | None = None

    def to_record(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


CELL_COLUMNS = tuple(f.name for f in dataclasses.fields(Cell))


def matrix_cells(store: ResultsStore, study_id: str) -> list[Cell]:
    """Every cell of the matrix with its bootstrap CI: the in-corpus diagonal from each corpus's run, each
    off-diagonal cell from its training set's one fit (the rows of the test corpus picked from its
    predictions, scored exactly as a cross_corpus run of that pair would score them)."""
    info, units = _required(store, study_id)
    if not info.get("matrix"):
        return []
    run_ids = {u.run_id for u in units if u.run_id is not None}
    spec_ev = info.get("evaluation", {})
    n_boot, seed = int(spec_ev.get("bootstrap", 1000)), int(spec_ev.get("seed", 0))
    diagonal: dict[tuple[str, str], Cell] = {}
    for u in units:
        if u.role != "corpus" or u.run_id is None or u.status == "failed" or u.run_id not in run_ids:
            continue
        for r in leaderboard(store, u.run_id):
            if r.uar is not None:
                diagonal[(r.pipeline, u.corpus)] = Cell(
                    r.pipeline, u.corpus, u.corpus, r.uar, r.uar_ci_low, r.uar_ci_high, r.n or 0,  # type: ignore[arg-type]
                    "in_corpus", r.uar, 0.0,
                )  # fmt: skip
    cells = list(diagonal.values())
    for u in units:
        if u.role != "matrix" or u.run_id is None or u.status == "failed":
            continue
        classes = store.run(u.run_id)["classes"]
        for p in store.pipelines(u.run_id):
            folds = store.fold_results(u.run_id, p["id"])
            if not folds:
                continue
            fold = folds[0]
            for test in u.test:
                keep = [i for i, rid in enumerate(fold.test_ids) if rid.split(":", 1)[0] == test]
                if not keep:
                    continue
                y_true = [fold.y_true[i] for i in keep]
                y_pred = [fold.y_pred[i] for i in keep]
                score = uar(confusion(y_true, y_pred, classes))
                low, high = bootstrap_ci(y_true, y_pred, classes, n=n_boot, seed=seed)
                own = diagonal.get((p["name"], test))
                cells.append(
                    Cell(
                        p["name"],
                        u.corpus,
                        test,
                        score,
                        low,
                        high,
                        len(keep),
                        "leave_one_out" if len(u.train) > 1 else "cross",
                        own.uar if own else None,
                        (own.uar - score) * 100 if own else None,
                    )
                )
    return cells


def cells_to_csv(cells: list[Cell]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(CELL_COLUMNS))
    writer.writeheader()
    for c in cells:
        writer.writerow(c.to_record())
    return buf.getvalue()


def cells_to_json(cells: list[Cell]) -> str:
    return json.dumps([c.to_record() for c in cells], indent=1)
