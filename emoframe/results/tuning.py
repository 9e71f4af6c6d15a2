"""Nested tuning in the results store and on the leaderboard: every trial of every outer fold in the table
``tuning_trials``, and per tuned pipeline its default-vs-tuned comparison, the parameters chosen per fold
and its sensitivity.

The table's key leaves room for a repeat (``repeat``, 0 unless a run repeats its protocol); a fold's
trials are written in the fold's own transaction, so a stored fold always has its trials.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..evaluation.records import EvaluationResult
from ..evaluation.stats import comparison_verdict, paired_difference
from ..evaluation.summary import repeated_difference
from ..evaluation.tuning import sensitivity
from ..spec import PipelineSpec
from ..spec.search import budget, is_tuned, untuned

if TYPE_CHECKING:
    from .leaderboard import LeaderboardRow

SCHEMA = """
CREATE TABLE IF NOT EXISTS tuning_trials (
    run_id TEXT NOT NULL, pipeline_id TEXT NOT NULL, repeat INTEGER NOT NULL DEFAULT 0, fold INTEGER NOT NULL,
    trial INTEGER NOT NULL, params TEXT NOT NULL, state TEXT NOT NULL, score REAL, scores TEXT, reason TEXT,
    seconds REAL, chosen INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (run_id, pipeline_id, repeat, fold, trial)
);
"""


def create(db: sqlite3.Connection) -> None:
    db.executescript(SCHEMA)


def has_table(db: sqlite3.Connection) -> bool:
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tuning_trials'"
    return db.execute(query).fetchone() is not None


def forget(
    db: sqlite3.Connection, run_id: str, pipeline_id: str | None = None, fold: int | None = None, repeat: int = 0
) -> None:
    """Drop stored trials of a run (of one pipeline-fold of one repeat when given), in the caller's transaction."""
    if not has_table(db):
        return
    if pipeline_id is None:
        db.execute("DELETE FROM tuning_trials WHERE run_id = ?", (run_id,))
    else:
        db.execute(
            "DELETE FROM tuning_trials WHERE run_id = ? AND pipeline_id = ? AND repeat = ? AND fold = ?",
            (run_id, pipeline_id, repeat, fold),
        )


def write(
    db: sqlite3.Connection, run_id: str, pipeline_id: str, fold: int, record: dict[str, Any], repeat: int = 0
) -> None:
    """One outer fold's search (``TuningRecord.to_dict()``), each trial a row; the chosen one marked."""
    forget(db, run_id, pipeline_id, fold, repeat)
    chosen = record.get("chosen_trial")
    for t in record.get("trials", []):
        db.execute(
            "INSERT INTO tuning_trials (run_id, pipeline_id, repeat, fold, trial, params, state, score, scores, "
            "reason, seconds, chosen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                pipeline_id,
                repeat,
                fold,
                int(t["number"]),
                json.dumps(t["params"], sort_keys=True),
                t["state"],
                t.get("score"),
                json.dumps(t.get("scores", [])),
                t.get("reason"),
                t.get("seconds"),
                int(t["number"] == chosen),
            ),
        )


def read(db: sqlite3.Connection, run_id: str, repeat: int = 0) -> dict[str, dict[int, list[dict[str, Any]]]]:
    """pipeline id → outer fold → its trials (number order) in one repeat of the protocol, as stored."""
    if not has_table(db):
        return {}
    out: dict[str, dict[int, list[dict[str, Any]]]] = {}
    rows = db.execute(
        "SELECT pipeline_id, fold, trial, params, state, score, scores, reason, seconds, chosen FROM tuning_trials "
        "WHERE run_id = ? AND repeat = ? ORDER BY pipeline_id, fold, trial",
        (run_id, repeat),
    )
    for pid, fold, trial, params, state, score, scores, reason, seconds, chosen in rows:
        out.setdefault(pid, {}).setdefault(fold, []).append(
            {
                "number": trial,
                "params": json.loads(params),
                "state": state,
                "score": score,
                "scores": json.loads(scores or "[]"),
                "reason": reason,
                "seconds": seconds,
                "chosen": bool(chosen),
            }
        )
    return out


# -- the leaderboard's tuning figures ----------------------------------------------------------------
def _pooled(result: EvaluationResult) -> dict[str, tuple[str, str]]:
    return {i: (t, p) for fr in result.folds for i, t, p in zip(fr.test_ids, fr.y_true, fr.y_pred)}


def _by_repeat(result: EvaluationResult) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for fr in result.folds:
        out.setdefault(fr.repeat, []).append(fr)
    return out


def _difference(
    result: EvaluationResult, twin: EvaluationResult, classes: list[str], n: int, seed: int
) -> dict[str, Any] | None:
    """Tuned − default on the rows both scored: over every repeat of each when the protocol was repeated
    (the same statistic as ``compare``), else the plain paired bootstrap; None without shared rows."""
    a, b = _by_repeat(result), _by_repeat(twin)
    if max(len(a), len(b)) > 1:
        return repeated_difference(a, b, classes, n=n, seed=seed)
    pa, pb = _pooled(result), _pooled(twin)
    shared = [i for i in pa if i in pb]
    if not shared:
        return None
    return paired_difference(
        [pa[i][0] for i in shared], [pa[i][1] for i in shared], [pb[i][1] for i in shared], classes, n=n, seed=seed
    )


def figures(
    spec: PipelineSpec,
    result: EvaluationResult | None,
    trials: dict[int, list[dict[str, Any]]],
    twin: tuple[str, EvaluationResult | None] | None,
    classes: Sequence[str],
) -> dict[str, Any]:
    """A tuned pipeline's tuning fields of its leaderboard row: its budget, the parameters chosen in each
    outer fold, sensitivity, failed trials, and (with its untuned twin's result) default UAR with its CI
    and the paired tuned − default difference on the test rows both scored."""
    if not is_tuned(spec):
        return {}
    per_fold = [trials[f] for f in sorted(trials)]
    out: dict[str, Any] = {
        "tuned": True,
        "tuning_budget": budget(spec),
        "tuning_chosen": tuple(
            {"fold": f, "params": next((t["params"] for t in trials[f] if t["chosen"]), None)} for f in sorted(trials)
        ),
        "tuning_sensitivity": sensitivity(per_fold),
        "tuning_failed_trials": sum(t["state"] == "failed" for ts in per_fold for t in ts),
        "tuning_trials_run": sum(len(ts) for ts in per_fold),
    }
    if twin is None:
        return out
    twin_id, twin_result = twin
    out["default_id"] = twin_id
    if twin_result is None or result is None:
        return out
    out["default_uar"] = twin_result.metrics["uar"]
    out["default_uar_ci_low"], out["default_uar_ci_high"] = twin_result.uar_ci
    ev = spec.evaluation
    d = _difference(result, twin_result, list(classes), ev.bootstrap, ev.seed)
    if d is not None:
        out["tuning_gain_pts"] = d["diff"] * 100
        out["tuning_gain_ci_low_pts"] = d["ci"][0] * 100
        out["tuning_gain_ci_high_pts"] = d["ci"][1] * 100
        out["tuning_gain_n"] = d["n"]
    return out


def twin_of(spec: PipelineSpec, by_digest: dict[str, str]) -> str | None:
    """The id of a tuned pipeline's untuned twin in the same run (None when the run has none)."""
    return by_digest.get(untuned(spec).digest())


# -- how every face words it ------------------------------------------------------------------------
def short_names(params: dict[str, Any]) -> dict[str, Any]:
    """``branches.audio.model.C`` → ``C`` where the parameter's own name is unambiguous in the search."""
    tails = [k.rsplit(".", 1)[-1] for k in params]
    return {(t if tails.count(t) == 1 else k): v for k, t, v in zip(params, tails, params.values())}


def params_text(params: dict[str, Any] | None) -> str:
    if params is None:
        return "no trial completed"
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in short_names(params).items())


def gain_verdict(row: LeaderboardRow) -> str | None:
    """'tuned is better than default: +3.2 UAR points [+0.4, +6.1] on 535 shared rows' (the fusion-gain rule)."""
    if row.tuning_gain_pts is None:
        return None
    d = {
        "diff": row.tuning_gain_pts / 100,
        "ci": [(row.tuning_gain_ci_low_pts or 0) / 100, (row.tuning_gain_ci_high_pts or 0) / 100],
        "n": row.tuning_gain_n or 0,
    }
    return comparison_verdict("tuned", "default", d)


def tuning_lines(row: LeaderboardRow) -> list[str]:
    """A tuned row in words: tuned vs default UAR with CIs and the paired verdict, the parameters chosen in
    each outer fold, sensitivity and failed trials. [] for an untuned row."""
    if not row.tuned:
        return []
    lines = []
    if row.uar is not None and row.default_uar is not None:
        lines.append(
            f"tuned UAR {row.uar:.3f} [{row.uar_ci_low:.3f}, {row.uar_ci_high:.3f}] vs default "
            f"{row.default_uar:.3f} [{row.default_uar_ci_low:.3f}, {row.default_uar_ci_high:.3f}]; "
            f"{gain_verdict(row)}"
        )
    lines.append(
        f"budget {row.tuning_budget} trials per outer fold ({row.tuning_trials_run} run, "
        f"{row.tuning_failed_trials} failed); chosen per fold: "
        + "; ".join(f"{c['fold']}: {params_text(c['params'])}" for c in row.tuning_chosen)
    )
    s = row.tuning_sensitivity
    if s is not None:
        lines.append(
            f"sensitivity: mean inner scores spread {s['range']:.3f} (best − worst trial), std {s['std']:.3f}, "
            f"averaged over {s['folds']} outer fold(s)"
        )
    return lines


def trial_failures(trials: dict[str, dict[int, list[dict[str, Any]]]], names: dict[str, str]) -> list[dict[str, str]]:
    """Failed tuning trials as `emoframe failures` records (kind 'trial'): the pipeline, the outer fold, the
    trial's parameters and why it failed."""
    return [
        {
            "kind": "trial",
            "what": names.get(pid, pid),
            "component": "",
            "fold": str(fold),
            "reason": f"trial {t['number'] + 1} ({params_text(t['params'])}): {t.get('reason') or 'failed'}",
            "file": "",
        }
        for pid, folds in sorted(trials.items())
        for fold, ts in sorted(folds.items())
        for t in ts
        if t["state"] == "failed"
    ]
