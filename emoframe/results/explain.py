"""One pipeline's "why", from the store: modality reliance, complementarity, feature importance, top terms and
the plain sentence that explains its fusion verdict. The one function every face calls (:func:`explain`):
``emoframe explain``, the report's section, the TUI's Results screen. docs/evaluation.md, "Why: attribution".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import EmoframeError
from ..evaluation.attribution import complementarity, reliance, shares, spread
from ..evaluation.overlap import overlap_warning
from ..evaluation.records import FoldResult
from ..evaluation.stats import fusion_outcome
from . import explanations
from .leaderboard import LeaderboardRow, resolve_pipeline
from .store import ResultsStore

HIGH_TEXT = 0.6  # share of attribution above which "relies on text" is said beside an overlap warning
EXAMPLES = 10  # disagreement examples shown (the JSON/CSV faces give every row)
RERUN = "run the benchmark again with --fresh to compute them"


@dataclass
class Explanation:
    """Everything the faces show about why one pipeline decided as it did (figures over its test folds)."""

    run_id: str
    pipeline: str
    pipeline_id: str
    kind: str  # 'late', 'early', 'unimodal'
    method: str | None = None
    modalities: dict[str, str] = field(default_factory=dict)  # branch → audio | text
    reliance: dict[str, dict[str, float]] = field(default_factory=dict)  # branch → mean_abs, std, share, share_std
    complementarity: dict[str, Any] = field(default_factory=dict)
    verdict: str | None = None
    outcome: str | None = None
    sentence: str = ""
    importance: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)  # branch → group → mean, std
    top_terms: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)  # branch → class → terms
    utterances: list[dict[str, Any]] = field(default_factory=list)
    efficiency_gap: float | None = None  # max |fused − baseline − Σ contributions| over every row
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # part → seconds summed over folds

    def to_record(self) -> dict[str, Any]:
        from dataclasses import asdict

        return _clean(asdict(self))

    def disagreements(self, limit: int = EXAMPLES) -> list[dict[str, Any]]:
        """Rows where the branches' labels differ, the contested ones first (one branch right)."""
        rows = [u for u in self.utterances if len({u[f"{k}_pred"] for k in self.modalities}) > 1]
        rows.sort(key=lambda u: (not any(u[f"{k}_pred"] == u["true"] for k in self.modalities), u["fold"]))
        return rows[:limit]


def _clean(value: Any) -> Any:
    """NaN → None, so JSON faces stay valid JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _pct(x: float | None) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.0%}"


def sentence(
    outcome: str | None,
    gain_pts: float | None,
    modalities: dict[str, str],
    rel: dict[str, dict[str, float]],
    comp: dict[str, Any],
    overlap: tuple[int, int] | None,
) -> str:
    """The fusion verdict explained in one plain sentence from the figures (reliance, complementarity, overlap)."""
    if not modalities:
        return ""
    what = {"helped": "Fusion helped", "hurt": "Fusion hurt", "none": "Fusion did not help"}.get(outcome or "", "")
    head = f"{what} ({gain_pts:+.1f} UAR points)" if what and gain_pts is not None else (what or "Fusion")
    parts = []
    if rel:
        top = max(rel, key=lambda k: rel[k]["share"])
        parts.append(f"it leans on {modalities[top]} for {_pct(rel[top]['share'])} of its attribution")
    if comp and comp.get("rows"):
        parts.append(
            f"the branches disagree on {_pct(comp['disagree'])} of utterances with exactly one right on "
            f"{_pct(comp['exactly_one_right'])}, and fusion follows the right one in {_pct(comp['follows_right'])} "
            f"of those disagreements (picking the right branch every time would reach UAR {comp['oracle_uar']:.3f})"
        )
    text = head + ": " + "; ".join(parts) if parts else head
    text_branches = [k for k, m in modalities.items() if m == "text"]
    text_share = sum(rel[k]["share"] for k in text_branches if k in rel)
    if overlap and overlap_warning(*overlap) and text_branches:
        hits, total = overlap
        if text_share >= HIGH_TEXT:
            text += (
                f" — and it relies on text for {_pct(text_share)} of its attribution while {_pct(hits / total)} of "
                "test transcripts occur verbatim in training: it may have learned the script, not the emotion"
            )
        else:
            text += f" (transcript overlap: {_pct(hits / total)} of test transcripts occur verbatim in training)"
    return text + "."


def _importance(per_fold: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """branch → group → mean and spread over folds of each fold's mean UAR drop over its repeats."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    branches = sorted({b for d in per_fold for b in d})
    for b in branches:
        folds = [{g: float(np.mean(v)) for g, v in d[b].items()} for d in per_fold if b in d]
        out[b] = {g: {"mean": m, "std": s, "folds": len(folds)} for g, (m, s) in spread(folds).items()}
    return out


def _terms(per_fold: list[dict[str, Any]], k: int = 10) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """branch → class → top terms by mean coefficient over the folds (0 where a fold's top list lacks it)."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    n = len(per_fold)
    for b in sorted({b for d in per_fold for b in d}):
        out[b] = {}
        for c in sorted({c for d in per_fold if b in d for c in d[b]}):
            seen: dict[str, list[float]] = {}
            for d in per_fold:
                for term, w in d.get(b, {}).get(c, []):
                    seen.setdefault(term, []).append(w)
            rows: list[dict[str, Any]] = [
                {
                    "term": t,
                    "mean": float(np.sum(ws) / n),
                    "std": float(np.std(ws + [0.0] * (n - len(ws)), ddof=1)) if n > 1 else 0.0,
                    "folds": len(ws),
                }
                for t, ws in seen.items()
            ]
            out[b][c] = sorted(rows, key=lambda r: -r["mean"])[:k]
    return out


def _attributions(ex: Explanation, attributions: dict[int, dict[str, Any]], by_fold: dict[int, FoldResult]) -> None:
    """Reliance over folds and the per-utterance rows, from the stored attributions."""
    first = next(iter(attributions.values()))
    ex.method, ex.modalities = first["method"], dict(first["modalities"])
    per_fold = [reliance(a["contributions"]) for a in attributions.values()]
    mean_abs, share = spread(per_fold), spread([shares(r) for r in per_fold])
    ex.reliance = {
        k: {"mean_abs": mean_abs[k][0], "std": mean_abs[k][1], "share": share[k][0], "share_std": share[k][1]}
        for k in ex.modalities
    }
    gap = 0.0
    for f, a in sorted(attributions.items()):
        fr = by_fold[f]
        truth = dict(zip(fr.test_ids, fr.y_true))
        for i, uid in enumerate(a["ids"]):
            total = a["baseline"][i] + sum(a["contributions"][k][i] for k in ex.modalities)
            gap = max(gap, abs(a["fused"][i] - total))
            u = {
                "fold": f,
                "id": uid,
                "true": truth.get(uid),
                "predicted": a["predicted"][i],
                "fused": a["fused"][i],
                "baseline": a["baseline"][i],
            }
            u.update({f"contribution_{k}": a["contributions"][k][i] for k in ex.modalities})
            ex.utterances.append(u)
    ex.efficiency_gap = gap


def _complementarity(ex: Explanation, folds: list[FoldResult], classes: list[str]) -> None:
    """Complementarity from the stored predictions (branches' and fused), which every run has."""
    parts = {k: [v for fr in folds for v in fr.parts[k]] for k in sorted(folds[0].parts)}
    y_true = [v for fr in folds for v in fr.y_true]
    y_pred = [v for fr in folds for v in fr.y_pred]
    ex.complementarity = complementarity(y_true, parts, y_pred, classes)
    preds = {(fr.fold, i): {k: fr.parts[k][j] for k in fr.parts} for fr in folds for j, i in enumerate(fr.test_ids)}
    if ex.utterances:
        for u in ex.utterances:
            u.update({f"{k}_pred": v for k, v in preds.get((u["fold"], u["id"]), {}).items()})
    else:  # an older run: rows from the stored predictions alone
        for fr in folds:
            for j, uid in enumerate(fr.test_ids):
                u = {"fold": fr.fold, "id": uid, "true": fr.y_true[j], "predicted": fr.y_pred[j]}
                u.update({f"{k}_pred": fr.parts[k][j] for k in fr.parts})
                ex.utterances.append(u)


def explain_row(store: ResultsStore, run_id: str, row: LeaderboardRow) -> Explanation:
    """The explanation of one resolved pipeline of a run."""
    run = store.run(run_id)
    pipes = {p["id"]: p for p in store.pipelines(run["id"])}
    spec = pipes[row.id]["spec"]
    folds: list[FoldResult] = store.fold_results(run["id"], row.id)
    if not folds:
        raise EmoframeError(f"{row.pipeline} has no finished fold in run {run['id'][:12]}; nothing to explain yet")
    stored = explanations.read(store.db, run["id"], row.id)
    kind = "unimodal" if not spec.get("fusion") else ("early" if spec.get("model") else "late")  # early: one model
    current = {fr.fold for fr in folds}
    stored = {f: d for f, d in stored.items() if f in current}
    ex = Explanation(run_id=run["id"], pipeline=row.pipeline, pipeline_id=row.id, kind=kind)
    attributions = {f: d["attribution"] for f, d in stored.items() if "attribution" in d}
    for f, d in sorted(stored.items()):
        for part, why in d.get("errors", {}).items():
            ex.errors.append(f"fold {f}: {part}: {why}")
        for part, s in d.get("seconds", {}).items():
            ex.seconds[part] = ex.seconds.get(part, 0.0) + float(s)
    if kind == "unimodal":
        ex.notes.append("unimodal pipeline: no modalities to attribute — feature importance only")
    if attributions:
        _attributions(ex, attributions, {fr.fold: fr for fr in folds})
    elif kind != "unimodal":
        branches = sorted(spec.get("branches", {}))
        ex.modalities = {k: _modality(k, spec["branches"][k]) for k in branches}
        if stored:
            ex.notes.append("no modality attribution: " + "; ".join(ex.errors or ["it failed"]))
        else:
            ex.notes.append(
                "this run was stored before emoframe kept explanations: complementarity is recomputed from its "
                "stored predictions; per-utterance contributions and feature importance need the fitted models — "
                + RERUN
            )
    if kind != "unimodal" and folds[0].parts:
        _complementarity(ex, folds, run["classes"])
    ex.verdict, ex.outcome = (
        row.verdict,
        (fusion_outcome(row.gain_ci_low_pts, row.gain_ci_high_pts) if row.gain_pts is not None else None),
    )
    overlap = (sum(fr.overlap[0] for fr in folds), sum(fr.overlap[1] for fr in folds))
    if kind != "unimodal":
        ex.sentence = sentence(ex.outcome, row.gain_pts, ex.modalities, ex.reliance, ex.complementarity, overlap)
    ex.importance = _importance([d["importance"] for d in stored.values() if d.get("importance")])
    ex.top_terms = _terms([d["top_terms"] for d in stored.values() if d.get("top_terms")])
    if not stored and kind == "unimodal":
        ex.notes.append(f"this run was stored before emoframe kept feature importance — {RERUN}")
    return ex


def _modality(key: str, branch: dict[str, Any]) -> str:
    from ..spec import branch_modality

    return branch_modality(key, branch.get("modality")) or "text"


def explain(store: ResultsStore, run_ref: str | None, pipeline_ref: str) -> Explanation:
    """The explanation of the pipeline ``pipeline_ref`` names in the run ``run_ref`` names (references as
    :mod:`emoframe.results.resolve` reads them; an unknown one is refused with the list to pick from)."""
    run_id, row = resolve_pipeline(store, run_ref, pipeline_ref)
    return explain_row(store, run_id, row)


FIGURE_FIELDS = ["section", "branch", "item", "value", "spread"]


def figure_rows(ex: Explanation) -> list[dict[str, Any]]:
    """The explanation's figures as flat rows (section, branch, item, value, spread over folds): what the
    table, the CSV, the report and the TUI show, so every face shows the same numbers."""
    rows: list[dict[str, Any]] = []
    for k, r in sorted(ex.reliance.items()):
        m = ex.modalities.get(k, k)
        rows.append(
            {
                "section": "reliance",
                "branch": k,
                "item": f"{m}: mean |contribution|",
                "value": r["mean_abs"],
                "spread": r["std"],
            }
        )
        rows.append(
            {"section": "reliance", "branch": k, "item": f"{m}: share", "value": r["share"], "spread": r["share_std"]}
        )
    labels = {
        "exactly_one_right": "exactly one branch right",
        "any_right": "at least one branch right",
        "oracle_uar": "oracle UAR (pick the right branch)",
        "disagree": "branches disagree",
        "follows_right": "fusion right when branches disagree",
        "contested": "disagreements with a right branch (rows)",
    }
    for key, label in labels.items():
        if key in ex.complementarity:
            rows.append(
                {
                    "section": "complementarity",
                    "branch": "",
                    "item": label,
                    "value": ex.complementarity[key],
                    "spread": None,
                }
            )
    for b, groups in sorted(ex.importance.items()):
        for g, v in sorted(groups.items(), key=lambda kv: -kv[1]["mean"]):
            rows.append(
                {"section": "importance (UAR drop)", "branch": b, "item": g, "value": v["mean"], "spread": v["std"]}
            )
    for b, classes in sorted(ex.top_terms.items()):
        for c, terms in sorted(classes.items()):
            for t in terms[:5]:
                rows.append(
                    {
                        "section": f"top terms: {c}",
                        "branch": b,
                        "item": t["term"],
                        "value": t["mean"],
                        "spread": t["std"],
                    }
                )
    return _clean(rows)
