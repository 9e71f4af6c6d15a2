"""What an evaluation leaves: one fold's predictions, one pipeline's pooled result.

Plain dataclasses with no behaviour beyond serialisation: the results store, the runner,
the CLI and the TUI all read and write these, and none of them needs the pipeline stack.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class FoldResult:
    fold: int
    test_ids: list[str]
    y_true: list[str]
    y_pred: list[str]
    proba: list[list[float]]
    train_uar: float
    test_uar: float
    fit_s: float
    predict_s: float
    parts: dict[str, list[str]] = field(default_factory=dict)  # unimodal predictions on the same test rows
    n_train: int = 0
    train_speakers: list[str] = field(default_factory=list)
    test_speakers: list[str] = field(default_factory=list)
    overlap: list[int] = field(default_factory=lambda: [0, 0])  # test transcripts seen in training, non-empty ones
    robustness: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # condition → test ids, predictions
    learned: dict[str, dict[str, Any]] = field(default_factory=dict)  # 'branch: model' → Model.report()
    tuning: dict[str, Any] | None = None  # nested tuning's search in this fold (stored apart: tuning_trials)
    # the repeat of the protocol (evaluation.repeats) and the fold's cost; the store keeps these in their own
    # tables (results.repeats, results.costs), never in the fold's JSON
    repeat: int = 0
    fit_cpu_s: float | None = None  # CPU seconds of the standalone fit (fit_s is its wall time)
    predict_ms: float | None = None  # standalone prediction, milliseconds per test utterance
    state_bytes: int | None = None  # bytes of the fitted state (arrays, weights, estimators)
    peak_mb: float | None = None  # the worker's peak resident memory while this pipeline's fold ran
    curves: dict[str, dict[str, Any]] = field(default_factory=dict)  # 'branch: model' → Model.training_curve()
    # attribution, feature importance, top terms on these test rows (pipeline.explain.explain_fold); kept in
    # the store's own table (results.explanations), not in the fold's JSON
    explanation: dict[str, Any] = field(default_factory=dict)


@dataclass
class EvaluationResult:
    """Everything a report needs about one pipeline under one protocol."""

    pipeline: str
    spec: dict[str, Any]
    protocol: str
    classes: list[str]
    folds: list[FoldResult]
    metrics: dict[str, Any]
    uar_mean: float
    uar_std: float
    uar_ci: tuple[float, float]
    gap_mean: float
    gap_std: float
    fit_s: float
    predict_s: float
    fusion_gain: dict[str, Any] | None = None
    verdict: str | None = None
    warnings: list[str] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)  # rows left out: id, component, reason
    robustness: dict[str, dict[str, Any]] = field(default_factory=dict)  # condition → UAR, delta vs clean, rows
    repeats: int = 1  # repeats of the protocol pooled here (evaluation.repeats)
    repeat_uars: list[float] = field(default_factory=list)  # each repeat's UAR on the rows every repeat scored
    uar_repeat_std: float | None = None  # their standard deviation: the spread between repeats

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
