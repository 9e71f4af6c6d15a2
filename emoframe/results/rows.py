"""The leaderboard's row: one pipeline of a run as every face shows it (typed, frozen), its exported
columns and the keys it sorts by. Made only by :func:`emoframe.results.leaderboard.leaderboard`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

#: the exported columns. The headline ``uar`` is the pooled UAR (every test row of every fold scored
#: once), with its bootstrap CI; the fold mean ± std sits beside it, labelled. Gains are in UAR points.
COLUMNS = (
    "rank",
    "id",
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
    "repeats",
    "uar_repeat_std",
    "fit_cpu_s",
    "predict_ms",
    "state_bytes",
    "peak_mb",
    "best_epoch",
    "pareto",
)
#: the figures a row has only once its pipeline has fold results (absent from its record before)
RESULT_FIELDS = (
    "n",
    "coverage",
    "uar",
    "uar_ci_low",
    "uar_ci_high",
    "uar_fold_mean",
    "uar_fold_std",
    "wa",
    "macro_f1",
    "weighted_f1",
    "gain_pts",
    "gain_ci_low_pts",
    "gain_ci_high_pts",
    "verdict",
    "gap",
    "gap_std",
    "fit_s",
    "predict_s",
    "recall",
    "confusion",
    "warnings",
    "robustness",
    "learned",
    "repeats",
    "repeat_uars",
    "uar_repeat_std",
    "fit_cpu_s",
    "predict_ms",
    "state_bytes",
    "peak_mb",
    "best_epoch",
    "epochs_run",
    "pareto",
)

#: the fields of a tuned row only (``results.tuning.figures``)
TUNING_FIELDS = (
    "tuned",
    "tuning_budget",
    "tuning_trials_run",
    "tuning_failed_trials",
    "tuning_chosen",
    "tuning_sensitivity",
    "default_id",
    "default_uar",
    "default_uar_ci_low",
    "default_uar_ci_high",
    "tuning_gain_pts",
    "tuning_gain_ci_low_pts",
    "tuning_gain_ci_high_pts",
    "tuning_gain_n",
)


@dataclass(frozen=True)
class LeaderboardRow:
    """One pipeline of a run as every face reads it (CLI, report, TUI, `compare`, `train --pipeline`) and
    every export writes it (``to_record``). The figures are None until the pipeline has fold results; gains
    are in UAR points. Made only by :func:`leaderboard`."""

    pipeline: str
    id: str
    fused: bool
    folds: str
    status: str
    errors: tuple[str, ...] = ()
    n: int | None = None
    coverage: float | None = None
    uar: float | None = None
    uar_ci_low: float | None = None
    uar_ci_high: float | None = None
    uar_fold_mean: float | None = None
    uar_fold_std: float | None = None
    wa: float | None = None
    macro_f1: float | None = None
    weighted_f1: float | None = None
    gain_pts: float | None = None
    gain_ci_low_pts: float | None = None
    gain_ci_high_pts: float | None = None
    verdict: str | None = None
    gap: float | None = None
    gap_std: float | None = None
    fit_s: float | None = None
    predict_s: float | None = None
    recall: dict[str, float | None] | None = None
    confusion: list[list[int]] | None = None
    warnings: tuple[str, ...] = ()
    robustness: dict[str, dict[str, Any]] | None = None
    learned: dict[str, dict[str, Any]] | None = None
    rank: int | None = None  # 1: the highest pooled UAR; None without results
    short_id: str = ""  # the id's first 8 characters, more where two would read the same
    # nested tuning (results/tuning.py), only on a row whose pipeline carries a search
    tuned: bool = False
    tuning_budget: int | None = None  # trials per outer fold
    tuning_trials_run: int | None = None
    tuning_failed_trials: int | None = None
    tuning_chosen: tuple[dict[str, Any], ...] = ()  # per outer fold: {"fold": f, "params": {...}}
    tuning_sensitivity: dict[str, Any] | None = None  # spread of mean inner scores over the trials
    default_id: str | None = None  # the untuned twin evaluated on the same folds
    default_uar: float | None = None
    default_uar_ci_low: float | None = None
    default_uar_ci_high: float | None = None
    tuning_gain_pts: float | None = None  # tuned − default UAR on the same rows, paired bootstrap CI
    tuning_gain_ci_low_pts: float | None = None
    tuning_gain_ci_high_pts: float | None = None
    tuning_gain_n: int | None = None
    # repeats of the protocol (evaluation.repeats): how many the figures pool, each one's UAR and their spread
    repeats: int | None = None
    repeat_uars: tuple[float, ...] = ()
    uar_repeat_std: float | None = None
    # cost (results.costs): fit_s is wall seconds per repeat; these beside it, None where not recorded
    fit_cpu_s: float | None = None  # CPU seconds of the fits, per repeat
    predict_ms: float | None = None  # standalone prediction, milliseconds per utterance
    state_bytes: float | None = None  # bytes of the fitted state (mean over folds)
    peak_mb: float | None = None  # the worker's peak resident memory (max over folds)
    best_epoch: float | None = None  # the epoch early stopping kept (mean over folds; models trained by epochs)
    epochs_run: float | None = None  # epochs run before stopping (mean over folds)
    pareto: bool | None = None  # on the accuracy (pooled UAR) / cost (fit seconds) front of its run

    @property
    def has_results(self) -> bool:
        """Whether the pipeline has fold results (and so its figures)."""
        return self.uar is not None

    def to_record(self) -> dict[str, Any]:
        """The row as the JSON export writes it (and the CSV export picks ``COLUMNS`` from): the figures only
        once there are results, lists as lists; the one place a row becomes a dict."""
        record: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name in RESULT_FIELDS and not self.has_results:
                continue
            if f.name in TUNING_FIELDS and not self.tuned:  # an untuned row exports as it always did
                continue
            value = getattr(self, f.name)
            record[f.name] = list(value) if isinstance(value, tuple) else value
        return record


SORT_KEYS = {
    "uar": "uar",
    "wa": "wa",
    "macro_f1": "macro_f1",
    "gain": "gain_pts",
    "gap": "gap",
    "fit": "fit_s",
    "name": "pipeline",
    "n": "n",
    "rank": "rank",
}
