"""The leaderboard of a run: one row per pipeline, every figure with its spread; exports."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ..evaluation.records import EvaluationResult
from ..evaluation.summary import summarise
from ..spec import PipelineSpec
from .store import ResultsStore

COLUMNS = (
    "pipeline",
    "uar",
    "uar_std",
    "uar_ci_low",
    "uar_ci_high",
    "wa",
    "macro_f1",
    "fusion_gain",
    "gain_ci_low",
    "gain_ci_high",
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
    "gain": "fusion_gain",
    "gap": "gap",
    "fit": "fit_s",
    "name": "pipeline",
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
            row.update(
                uar=r.uar_mean,
                uar_std=r.uar_std,
                uar_ci_low=r.uar_ci[0],
                uar_ci_high=r.uar_ci[1],
                uar_pooled=r.metrics["uar"],
                wa=r.metrics["wa"],
                macro_f1=r.metrics["macro_f1"],
                weighted_f1=r.metrics["weighted_f1"],
                fusion_gain=g.get("gain"),
                gain_ci_low=(g.get("ci") or [None])[0],
                gain_ci_high=(g.get("ci") or [None, None])[1],
                verdict=r.verdict,
                gap=r.gap_mean,
                gap_std=r.gap_std,
                fit_s=r.fit_s,
                predict_s=r.predict_s,
                recall=r.metrics["recall"],
                confusion=r.metrics["confusion"],
                warnings=r.warnings,
                robustness=r.robustness,
            )
        rows.append(row)
    return sort_rows(rows, SORT_KEYS.get(sort, sort), descending)


def sort_rows(rows: list[dict[str, Any]], key: str, descending: bool = True) -> list[dict[str, Any]]:
    """Rows sorted by one column; rows without a value (failed, unfused) keep their order at the end."""
    present = [r for r in rows if r.get(key) is not None]
    missing = [r for r in rows if r.get(key) is None]
    present.sort(key=lambda r: r[key], reverse=descending)
    return present + missing


def gain_text(row: dict[str, Any]) -> str:
    """A fused row's gain and CI in UAR points, '+6.9 [+2.2, +11.7]'; '' for unimodal rows."""
    if row.get("fusion_gain") is None:
        return ""
    return f"{row['fusion_gain'] * 100:+.1f} [{row['gain_ci_low'] * 100:+.1f}, {row['gain_ci_high'] * 100:+.1f}]"


def _fmt(v: Any, signed: bool = False) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:+.3f}" if signed else f"{v:.3f}"
    return str(v)


def to_markdown(rows: list[dict[str, Any]]) -> str:
    head = "| pipeline | UAR ± std | 95% CI | WA | macro-F1 | fusion gain [95% CI] | gap | fit s | folds |"
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        ci = f"{_fmt(r.get('uar_ci_low'))}–{_fmt(r.get('uar_ci_high'))}" if r.get("uar") is not None else "—"
        gain = (
            f"{_fmt(r['fusion_gain'], True)} [{_fmt(r['gain_ci_low'], True)}, {_fmt(r['gain_ci_high'], True)}]"
            if r.get("fusion_gain") is not None
            else "—"
        )
        uar = f"{_fmt(r.get('uar'))} ± {_fmt(r.get('uar_std'))}" if r.get("uar") is not None else r["status"]
        lines.append(
            f"| {r['pipeline']} | {uar} | {ci} | {_fmt(r.get('wa'))} | {_fmt(r.get('macro_f1'))} | {gain} | "
            f"{_fmt(r.get('gap'), True)} | {_fmt(r.get('fit_s'))} | {r['folds']} |"
        )
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
