"""The leaderboard of a run: one row per pipeline, every figure with its spread; exports."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import numpy as np

from ..evaluation.records import EvaluationResult
from ..evaluation.stats import comparison_verdict, fusion_outcome, paired_difference
from ..evaluation.summary import summarise
from ..spec import PipelineSpec
from .store import ResultsStore

#: the exported columns. The headline ``uar`` is the pooled UAR (every test row of every fold scored
#: once), with its bootstrap CI; the fold mean ± std sits beside it, labelled. Gains are in UAR points.
COLUMNS = (
    "pipeline",
    "n",
    "coverage",
    "uar",
    "uar_ci_low",
    "uar_ci_high",
    "uar_fold_mean",
    "uar_fold_std",
    "wa",
    "macro_f1",
    "gain_pts",
    "gain_ci_low_pts",
    "gain_ci_high_pts",
    "gap",
    "fit_s",
    "predict_s",
    "folds",
    "status",
)
SORT_KEYS = {
    "uar": "uar",
    "wa": "wa",
    "macro_f1": "macro_f1",
    "gain": "gain_pts",
    "gap": "gap",
    "fit": "fit_s",
    "name": "pipeline",
    "n": "n",
}


def results_of(store: ResultsStore, run_id: str) -> list[tuple[dict[str, Any], EvaluationResult | None, list[dict]]]:
    """(pipeline row, its summary or None, its errors) for every pipeline of a run."""
    run = store.run(run_id)
    errors = store.errors(run["id"])
    out = []
    for p in store.pipelines(run["id"]):
        folds = store.fold_results(run["id"], p["id"])
        spec = PipelineSpec.model_validate(p["spec"])
        result = summarise(spec, folds, run["classes"], run["warnings"], run["failures"]) if folds else None
        out.append((p, result, [e for e in errors if e["pipeline_id"] == p["id"]]))
    return out


def leaderboard(store: ResultsStore, run_id: str, sort: str = "uar", descending: bool = True) -> list[dict[str, Any]]:
    run = store.run(run_id)
    rows = []
    for p, r, errs in results_of(store, run_id):
        n = run["n_folds"] or 0
        done = len(r.folds) if r else 0
        status = "failed" if errs and done < n else ("done" if done == n else f"{done}/{n} folds")
        row: dict[str, Any] = {
            "pipeline": p["name"],
            "id": p["id"],
            "fused": p["fused"],
            "folds": f"{done}/{n}",
            "status": status,
            "errors": [e["message"] for e in errs],
        }
        if r is not None:
            g = r.fusion_gain or {}
            n_rows = sum(len(fr.test_ids) for fr in r.folds)
            row.update(
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
                warnings=r.warnings,
                robustness=r.robustness,
                learned=learned_over_folds([fr.learned for fr in r.folds]),
            )
        rows.append(row)
    return sort_rows(rows, SORT_KEYS.get(sort, sort), descending)


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


def learned_lines(row: dict[str, Any]) -> list[str]:
    """'audio: torch.weighted_layers layer_weights: 0.08 ±0.01, 0.31 ±0.02, …' for each reported value."""
    lines = []
    for where, summary in (row.get("learned") or {}).items():
        for key, value in summary.items():
            if isinstance(value, dict) and "mean" in value:
                means, stds = np.atleast_1d(value["mean"]), np.atleast_1d(value["std"])
                text = ", ".join(f"{m:.3f} ±{s:.3f}" for m, s in zip(means, stds))
            else:
                text = str(value)
            lines.append(f"{where} {key} (mean ± std over folds): {text}")
    return lines


def compare_pipelines(store: ResultsStore, run_id: str, first: str, second: str) -> dict[str, Any]:
    """Pipeline A against B on the rows both were evaluated on: the paired-bootstrap UAR difference with
    its CI and a plain verdict (the same rule as fusion gain). A and B: a pipeline id (prefix) or label."""
    from ..errors import EmoframeError

    run = store.run(run_id)
    pipelines = store.pipelines(run["id"])

    def find(key: str) -> dict[str, Any]:
        hits = [p for p in pipelines if p["name"] == key] or [p for p in pipelines if p["id"].startswith(key)]
        if len(hits) != 1:
            close = ", ".join(p["name"] for p in pipelines if key.lower() in p["name"].lower())[:400]
            hint = f"; did you mean: {close}" if close else "; `emoframe results --run RUN` lists them"
            raise EmoframeError(
                f"{'no' if not hits else 'more than one'} pipeline '{key}' in run {run['id'][:12]}" + hint
            )
        return hits[0]

    a, b = find(first), find(second)
    preds = {}
    for p in (a, b):
        preds[p["id"]] = {
            i: (t, y)
            for fr in store.fold_results(run["id"], p["id"])
            for i, t, y in zip(fr.test_ids, fr.y_true, fr.y_pred)
        }
    shared = sorted(set(preds[a["id"]]) & set(preds[b["id"]]))
    if not shared:
        raise EmoframeError(f"'{a['name']}' and '{b['name']}' have no evaluated rows in common yet")
    ev = run["spec"].get("evaluation", {})
    d = paired_difference(
        [preds[a["id"]][i][0] for i in shared],
        [preds[a["id"]][i][1] for i in shared],
        [preds[b["id"]][i][1] for i in shared],
        run["classes"],
        n=ev.get("bootstrap", 1000),
        seed=ev.get("seed", 0),
    )
    return {
        **d,
        "a": a["name"],
        "b": b["name"],
        "outcome": fusion_outcome(*d["ci"]),
        "verdict": comparison_verdict(a["name"], b["name"], d),
    }


def sort_rows(rows: list[dict[str, Any]], key: str, descending: bool) -> list[dict[str, Any]]:
    """Rows sorted by one column; rows without a value (failed, unfused) keep their order at the end."""
    present = [r for r in rows if r.get(key) is not None]
    missing = [r for r in rows if r.get(key) is None]
    present.sort(key=lambda r: r[key], reverse=descending)
    return present + missing


def _pts(fraction: float | None) -> float | None:
    """A UAR difference in points (the one unit of every gain emoframe shows)."""
    return None if fraction is None else fraction * 100  # unrounded: every face formats the same number


def gain_text(row: dict[str, Any]) -> str:
    """A fused row's gain and CI in UAR points, '+6.9 [+2.2, +11.7]'; '' for unimodal rows."""
    if row.get("gain_pts") is None:
        return ""
    return f"{row['gain_pts']:+.1f} [{row['gain_ci_low_pts']:+.1f}, {row['gain_ci_high_pts']:+.1f}]"


def coverage_text(row: dict[str, Any]) -> str:
    """'480 (100%)': rows evaluated and their share of the rows the protocol would evaluate."""
    if row.get("n") is None:
        return ""
    return f"{row['n']}" + (f" ({row['coverage']:.0%})" if row.get("coverage") is not None else "")


def outcome(row: dict[str, Any]) -> str:
    """'helped' / 'hurt' / 'none' for a fused row (the one rule, on the row's CI)."""
    return fusion_outcome(row.get("gain_ci_low_pts"), row.get("gain_ci_high_pts"))


#: the leaderboard's headers, shared by the terminal table, markdown and the TUI
HEADERS = (
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


def table_cells(r: dict[str, Any]) -> list[str]:
    """One row's cells under HEADERS (a failed or unfinished row shows its status)."""
    if r.get("uar") is None:
        return [r["pipeline"], "", r["status"], "", "", "", "", "", "", r["folds"]]
    return [
        r["pipeline"],
        coverage_text(r),
        f"{r['uar']:.3f} [{r['uar_ci_low']:.3f}, {r['uar_ci_high']:.3f}]",
        f"{r['uar_fold_mean']:.3f} ± {r['uar_fold_std']:.3f}",
        f"{r['wa']:.3f}",
        f"{r['macro_f1']:.3f}",
        gain_text(r),
        f"{r['gap']:+.3f}",
        f"{r['fit_s']:.1f}",
        r["folds"],
    ]


def to_markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for r in rows:
        lines.append("| " + " | ".join(c.replace("|", "\\|") or "—" for c in table_cells(r)) + " |")
    return "\n".join(lines) + "\n"


def to_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: r.get(k) for k in COLUMNS})
    return buf.getvalue()


def to_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=1)
