"""The leaderboard of a run: one row per pipeline (``rows.LeaderboardRow``), every figure with its spread,
ranked; comparisons of two pipelines; exports."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..evaluation.cost import pareto_front
from ..evaluation.records import EvaluationResult
from ..evaluation.stats import comparison_verdict, fusion_outcome, paired_difference
from ..evaluation.summary import repeated_difference, summarise_repeats
from ..spec import PipelineSpec
from . import costs, repeats
from .resolve import SHORT_ID, describe, match_pipeline, resolve_run, short_id_width
from .rows import COLUMNS, SORT_KEYS, LeaderboardRow
from .store import ResultsStore


def results_of(store: ResultsStore, run_id: str) -> list[tuple[dict[str, Any], EvaluationResult | None, list[dict]]]:
    """(pipeline row, its summary or None, its errors) for every pipeline of a run."""
    run = store.run(run_id)
    errors = store.errors(run["id"])
    out = []
    for p in store.pipelines(run["id"]):
        by_repeat = repeats.all_folds(store, run["id"], p["id"])
        spec = PipelineSpec.model_validate(p["spec"])
        result = (
            summarise_repeats(spec, by_repeat, run["classes"], run["warnings"], run["failures"]) if by_repeat else None
        )
        out.append((p, result, [e for e in errors if e["pipeline_id"] == p["id"]]))
    return out


def run_repeats(run: dict[str, Any]) -> int:
    """How many repeats of its protocol a stored run asked for (1 without ``evaluation.repeats``)."""
    return int((run["spec"].get("evaluation") or {}).get("repeats") or 1)


def leaderboard(store: ResultsStore, run_id: str, sort: str = "uar", descending: bool = True) -> list[LeaderboardRow]:
    """The run's rows, ranked, sorted by ``sort`` (a key of ``SORT_KEYS`` or a row field)."""
    run = store.run(run_id)
    stale = store.stale_folds(run["id"]) | {(pid, f) for pid, _, f in repeats.stale(store, run["id"])}
    n_repeats = run_repeats(run)
    rows = []
    evaluated = results_of(store, run_id)
    for p, r, errs in evaluated:
        n = (run["n_folds"] or 0) * n_repeats
        done = len(r.folds) if r else 0
        status = "failed" if errs and done < n else ("done" if done == n else f"{done}/{n} folds")
        older = sum(1 for pid, _ in stale if pid == p["id"])
        if older:  # left out of every figure: a rerun of changed code stopped before reaching them
            status += f"; {older} fold(s) of older code left out (run the benchmark again to rerun them)"
        head = {
            "pipeline": p["name"],
            "id": p["id"],
            "fused": p["fused"],
            "folds": f"{done}/{n}",
            "status": status,
            "errors": tuple(e["message"] for e in errs),
        }
        if r is None:
            rows.append(LeaderboardRow(**head))
        else:
            used = {(fr.repeat, fr.fold) for fr in r.folds}
            cost = costs.summary(
                costs.fold_costs(store, run["id"], p["id"]), costs.curves(store, run["id"], p["id"]), used
            )
            g = r.fusion_gain or {}
            # rows evaluated (each once however many repeats scored it)
            n_rows = sum(len(fr.test_ids) for fr in r.folds) // max(1, r.repeats)
            row = LeaderboardRow(
                **head,
                n=n_rows,
                coverage=(n_rows / run["n_rows"]) if run.get("n_rows") else None,
                uar=r.metrics["uar"],
                uar_ci_low=r.uar_ci[0],
                uar_ci_high=r.uar_ci[1],
                uar_fold_mean=r.uar_mean,
                uar_fold_std=r.uar_std,
                wa=r.metrics["wa"],
                macro_f1=r.metrics["macro_f1"],
                weighted_f1=r.metrics["weighted_f1"],
                gain_pts=_pts(g.get("gain")),
                gain_ci_low_pts=_pts((g.get("ci") or [None])[0]),
                gain_ci_high_pts=_pts((g.get("ci") or [None, None])[1]),
                verdict=r.verdict,
                gap=r.gap_mean,
                gap_std=r.gap_std,
                fit_s=r.fit_s,
                predict_s=r.predict_s,
                recall=r.metrics["recall"],
                confusion=r.metrics["confusion"],
                warnings=tuple(r.warnings),
                robustness=r.robustness,
                learned=learned_over_folds([fr.learned for fr in r.folds]),
                repeats=r.repeats,
                repeat_uars=tuple(r.repeat_uars),
                uar_repeat_std=r.uar_repeat_std,
                fit_cpu_s=cost.get("fit_cpu_s"),
                predict_ms=cost.get("predict_ms"),
                state_bytes=cost.get("state_bytes"),
                peak_mb=cost.get("peak_mb"),
                best_epoch=cost.get("best_epoch"),
                epochs_run=cost.get("epochs_run"),
            )
            rows.append(row)
    rows = with_tuning(rows, evaluated, store.tuning_trials(run["id"]), run["classes"])
    return sort_rows(add_pareto(add_ranks(rows)), SORT_KEYS.get(sort, sort), descending)


def add_pareto(rows: list[LeaderboardRow]) -> list[LeaderboardRow]:
    """The rows with ``pareto``: whether no other row of the run has a pooled UAR at least as high for fit
    seconds at most as low (:func:`emoframe.evaluation.cost.pareto_front`); None without results."""
    front = pareto_front([(r.uar, r.fit_s) for r in rows])
    return [dataclasses.replace(r, pareto=on if r.has_results else None) for r, on in zip(rows, front)]


def with_tuning(
    rows: list[LeaderboardRow],
    evaluated: list[tuple[dict[str, Any], EvaluationResult | None, list[dict]]],
    trials: dict[str, dict[int, list[dict[str, Any]]]],
    classes: list[str],
) -> list[LeaderboardRow]:
    """The rows with the tuning fields of each tuned pipeline (``results.tuning.figures``)."""
    from . import tuning

    specs = {p["id"]: PipelineSpec.model_validate(p["spec"]) for p, _, _ in evaluated}
    results = {p["id"]: r for p, r, _ in evaluated}
    by_digest = {spec.digest(): pid for pid, spec in specs.items()}
    out = []
    for row in rows:
        spec = specs[row.id]
        twin = tuning.twin_of(spec, by_digest)
        fields = tuning.figures(
            spec,
            results[row.id],
            trials.get(row.id, {}),
            (twin, results[twin]) if twin is not None else None,
            classes,
        )
        out.append(dataclasses.replace(row, **fields) if fields else row)
    return out


def add_ranks(rows: list[LeaderboardRow]) -> list[LeaderboardRow]:
    """The rows with their ``rank`` (1: the highest pooled UAR; ties keep the spec's order; None without
    results) and ``short_id`` (the id's first 8 characters, more where two would read the same): how a face
    shows a pipeline so that `compare`, `train --pipeline` and the TUI can be told which one."""
    width = short_id_width([r.id for r in rows])
    ranked = [r for r in sort_rows(rows, "uar", True) if r.uar is not None]
    ranks = {r.id: rank for rank, r in enumerate(ranked, start=1)}
    return [dataclasses.replace(r, rank=ranks.get(r.id), short_id=r.id[:width]) for r in rows]


def learned_over_folds(per_fold: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """What models reported (``Model.report``), over folds: numbers and lists of numbers become
    {"mean": …, "std": …} (element-wise); anything else is kept from the first fold."""
    out: dict[str, dict[str, Any]] = {}
    for where in sorted({w for f in per_fold for w in f}):
        reports = [f[where] for f in per_fold if where in f]
        summary: dict[str, Any] = {}
        for key in reports[0]:
            values = [r.get(key) for r in reports]
            try:
                arr = np.asarray(values, dtype=float)
            except (TypeError, ValueError):
                summary[key] = values[0]
                continue
            summary[key] = {"mean": np.round(arr.mean(0), 4).tolist(), "std": np.round(arr.std(0), 4).tolist()}
        out[where] = summary
    return out


def learned_lines(row: LeaderboardRow) -> list[str]:
    """'audio: torch.weighted_layers layer_weights: 0.08 ±0.01, 0.31 ±0.02, …' for each reported value."""
    lines = []
    for where, summary in (row.learned or {}).items():
        for key, value in summary.items():
            if isinstance(value, dict) and "mean" in value:
                means, stds = np.atleast_1d(value["mean"]), np.atleast_1d(value["std"])
                text = ", ".join(f"{m:.3f} ±{s:.3f}" for m, s in zip(means, stds))
            else:
                text = str(value)
            lines.append(f"{where} {key} (mean ± std over folds): {text}")
    return lines


def resolve_pipeline(
    store: ResultsStore, run_ref: str | None, ref: str, rows: Sequence[LeaderboardRow] | None = None
) -> tuple[str, LeaderboardRow]:
    """(run id, leaderboard row) of the pipeline ``ref`` names in the run ``run_ref`` names.

    ``rows``: that run's leaderboard when the caller has it (ranks come from it; it costs a bootstrap
    per pipeline).
    """
    run_id = resolve_run(store, run_ref)
    corpus_runs = _corpus_runs(store, run_id)
    if corpus_runs:  # a run over several corpora holds no pipeline of its own: its corpora's runs do
        from ..errors import EmoframeError

        listing = "; ".join(f"{rid[:12]} ({what})" for rid, what in corpus_runs)
        raise EmoframeError(
            f"run {run_id[:12]} is a benchmark over several corpora: its pipelines ran in a run per corpus "
            f"(and per training set of a matrix): {listing}. Name one of those runs (`emoframe runs` lists "
            f"them), or see them all with `emoframe results --run {run_id[:12]}` and `emoframe rank {run_id[:12]}`"
        )
    if rows is None:
        rows = leaderboard(store, run_id)
    return run_id, match_pipeline(rows, ref, f"run {run_id[:12]}")


def _corpus_runs(store: ResultsStore, run_id: str) -> list[tuple[str, str]]:
    """(run id, what it is) of each run a multi-corpus run is made of; [] for any other run."""
    import sqlite3

    try:
        found = store.db.execute(
            "SELECT run_id, role, corpus FROM corpus_runs WHERE study_id = ? ORDER BY position", (run_id,)
        ).fetchall()
    except sqlite3.OperationalError:  # a store from before runs over several corpora
        return []
    return [(rid, f"corpus {c}" if role == "corpus" else f"trained on {c}") for rid, role, c in found if rid]


def compare_pipelines(store: ResultsStore, run_id: str, first: str, second: str) -> dict[str, Any]:
    """Pipeline A against B on the rows both were evaluated on: the paired-bootstrap UAR difference with
    its CI and a plain verdict (the same rule as fusion gain). A and B: references of
    :mod:`emoframe.results.resolve` (a leaderboard rank, an id prefix, a label)."""
    from ..errors import EmoframeError

    run = store.run(run_id)
    rows = leaderboard(store, run["id"])
    a = resolve_pipeline(store, run["id"], first, rows)[1]
    b = resolve_pipeline(store, run["id"], second, rows)[1]
    if a.id == b.id:
        raise EmoframeError(f"'{first}' and '{second}' both name {describe(a)}: compare two different pipelines")
    ev = run["spec"].get("evaluation", {})
    folds = {p.id: repeats.all_folds(store, run["id"], p.id) for p in (a, b)}
    if max(len(folds[a.id]), len(folds[b.id])) > 1:
        d = _compare_repeats(folds[a.id], folds[b.id], run["classes"], ev)
        if d is None:
            raise EmoframeError(f"'{a.pipeline}' and '{b.pipeline}' have no evaluated rows in common yet")
    else:
        preds = {}
        for p in (a, b):
            preds[p.id] = {
                i: (t, y) for fr in folds[p.id].get(0, []) for i, t, y in zip(fr.test_ids, fr.y_true, fr.y_pred)
            }
        shared = sorted(set(preds[a.id]) & set(preds[b.id]))
        if not shared:
            raise EmoframeError(f"'{a.pipeline}' and '{b.pipeline}' have no evaluated rows in common yet")
        d = paired_difference(
            [preds[a.id][i][0] for i in shared],
            [preds[a.id][i][1] for i in shared],
            [preds[b.id][i][1] for i in shared],
            run["classes"],
            n=ev.get("bootstrap", 1000),
            seed=ev.get("seed", 0),
        )
    return {
        **d,
        "a": a.pipeline,
        "b": b.pipeline,
        "a_ref": describe(a, uar=False),
        "b_ref": describe(b, uar=False),
        "outcome": fusion_outcome(*d["ci"]),
        "verdict": comparison_verdict(a.pipeline, b.pipeline, d),
    }


def _compare_repeats(
    a: dict[int, list[Any]], b: dict[int, list[Any]], classes: list[str], ev: dict[str, Any]
) -> dict[str, Any] | None:
    """A against B over every repeat of each, on the rows every repeat of both scored
    (:func:`emoframe.evaluation.stats.repeated_paired_difference`); None without such rows."""
    return repeated_difference(a, b, classes, n=ev.get("bootstrap", 1000), seed=ev.get("seed", 0))


def sort_rows(rows: list[LeaderboardRow], key: str, descending: bool) -> list[LeaderboardRow]:
    """Rows sorted by one field; rows without a value (failed, unfused) keep their order at the end."""
    present = [r for r in rows if getattr(r, key) is not None]
    missing = [r for r in rows if getattr(r, key) is None]
    present.sort(key=lambda r: getattr(r, key), reverse=descending)
    return present + missing


def _pts(fraction: float | None) -> float | None:
    """A UAR difference in points (the one unit of every gain emoframe shows)."""
    return None if fraction is None else fraction * 100  # unrounded: every face formats the same number


def gain_text(row: LeaderboardRow) -> str:
    """A fused row's gain and CI in UAR points, '+6.9 [+2.2, +11.7]'; '' for unimodal rows."""
    if row.gain_pts is None:
        return ""
    return f"{row.gain_pts:+.1f} [{row.gain_ci_low_pts:+.1f}, {row.gain_ci_high_pts:+.1f}]"


def coverage_text(row: LeaderboardRow) -> str:
    """'480 (100%)': rows evaluated and their share of the rows the protocol would evaluate."""
    if row.n is None:
        return ""
    return f"{row.n}" + (f" ({row.coverage:.0%})" if row.coverage is not None else "")


def outcome(row: LeaderboardRow) -> str:
    """'helped' / 'hurt' / 'none' for a fused row (the one rule, on the row's CI)."""
    return fusion_outcome(row.gain_ci_low_pts, row.gain_ci_high_pts)


#: the leaderboard's headers, shared by the terminal table, markdown and the TUI
HEADERS = (
    "#",
    "id",
    "pipeline",
    "n (coverage)",
    "UAR pooled [95% CI]",
    "fold mean ± std",
    "WA",
    "macro-F1",
    "fusion gain pts [95% CI]",
    "gap",
    "fit s",
    "folds",
)


#: where the fusion gain sits in ``table_cells`` (the report colours it)
GAIN_CELL = HEADERS.index("fusion gain pts [95% CI]")


def table_cells(r: LeaderboardRow) -> list[str]:
    """One row's cells under HEADERS (a failed or unfinished row shows its status)."""
    ident = [str(r.rank) if r.rank is not None else "", r.short_id or r.id[:SHORT_ID]]
    if r.uar is None:
        return [*ident, r.pipeline, "", r.status, "", "", "", "", "", "", r.folds]
    return [
        *ident,
        r.pipeline,
        coverage_text(r),
        f"{r.uar:.3f} [{r.uar_ci_low:.3f}, {r.uar_ci_high:.3f}]",
        f"{r.uar_fold_mean:.3f} ± {r.uar_fold_std:.3f}"
        + (f"; repeats ±{r.uar_repeat_std:.3f} (×{r.repeats})" if r.repeats and r.repeats > 1 else ""),
        f"{r.wa:.3f}",
        f"{r.macro_f1:.3f}",
        gain_text(r),
        f"{r.gap:+.3f}",
        f"{r.fit_s:.1f}",
        r.folds,
    ]


def to_markdown(rows: list[LeaderboardRow]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for r in rows:
        lines.append("| " + " | ".join(c.replace("|", "\\|") or "—" for c in table_cells(r)) + " |")
    return "\n".join(lines) + "\n"


def to_csv(rows: list[LeaderboardRow]) -> str:
    """The rows' ``COLUMNS`` as CSV (empty where a row has no such figure yet)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        record = r.to_record()
        writer.writerow({k: record.get(k) for k in COLUMNS})
    return buf.getvalue()


def to_json(rows: list[LeaderboardRow]) -> str:
    """Every row's record (``LeaderboardRow.to_record``) as one JSON array."""
    return json.dumps([r.to_record() for r in rows], indent=1)
