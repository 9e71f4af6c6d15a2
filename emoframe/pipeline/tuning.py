"""Nested tuning of one pipeline on one training set: trials drawn by Optuna, each scored on speaker-grouped
inner folds of that set only, the best parameters handed back for the refit on the whole set.

Optuna (not scikit-learn's ParameterGrid/ParameterSampler) because one library gives grids, seeded
random and TPE sampling over log/linear/integer/categorical distributions, and pruning of a hopeless
trial after a few inner folds; the ask/tell interface keeps the loop (and the features) ours.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..data.manifest import Manifest
from ..errors import ComponentError, describe_exception
from ..evaluation.splits import assert_disjoint, tuning_folds
from ..evaluation.tuning import chosen_trial, inner_score
from ..spec import PipelineSpec, TuningSpec
from ..spec.dimension import Dimension
from ..spec.search import budget, sampler_of, space, with_params

#: (pipeline with the trial's parameters, inner training rows, inner validation rows) → predicted labels
FitPredict = Callable[[PipelineSpec, Manifest, Manifest], np.ndarray]


@dataclass
class TuningRecord:
    """What the search in one outer training fold did: every trial, and the parameters chosen."""

    chosen: dict[str, Any]
    chosen_trial: int
    score: float
    budget: int
    metric: str
    sampler: str
    inner_folds: int
    trials: list[dict[str, Any]] = field(default_factory=list)  # number, params, state, score, scores, reason, s
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sampler(kind: str, dims: dict[str, Dimension], seed: int) -> Any:
    import optuna

    if kind == "grid":
        return optuna.samplers.GridSampler({n: list(d.values) for n, d in dims.items()}, seed=seed)
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def _suggest(trial: Any, name: str, dim: Dimension) -> Any:
    if dim.categorical:
        return trial.suggest_categorical(name, list(dim.values))
    if dim.kind == "int":
        return trial.suggest_int(name, int(dim.low), int(dim.high))
    return trial.suggest_float(name, dim.low, dim.high, log=dim.kind == "loguniform")


def _grid_order(dims: dict[str, Dimension], params: dict[str, Any]) -> int:
    """A grid point's position in scikit-learn's ParameterGrid order (names sorted, the last varies fastest)."""
    order = 0
    for name in sorted(dims):
        values = list(dims[name].values)
        order = order * len(values) + values.index(params[name])
    return order


def tune(
    spec: PipelineSpec, train: Manifest, classes: np.ndarray, fit_predict: FitPredict, say: Callable[[str], None]
) -> TuningRecord:
    """Search ``spec``'s space on speaker-grouped inner folds of ``train`` (nothing else is read): each trial
    fits ``fit_predict`` on the inner training rows and scores the inner validation rows. A trial that
    raises is recorded as failed with its reason and costs that trial only; if every trial fails the
    search raises ComponentError with their reasons."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # failures: recorded by us
    t0 = time.perf_counter()
    t = spec.tuning or TuningSpec()
    dims, kind, n = space(spec), sampler_of(spec), budget(spec)
    folds = tuning_folds(train.labels, train.speakers, t.inner_folds, t.seed)
    for tr, va in folds:  # the inner validation speakers are never trained on within a trial
        assert_disjoint(train.speakers[tr], train.speakers[va], "tuning inner fold")
    inner = [(train.take(tr), train.take(va)) for tr, va in folds]  # cut once, shared by every trial
    pruner = optuna.pruners.MedianPruner() if t.pruner == "median" else optuna.pruners.NopPruner()
    study = optuna.create_study(direction="maximize", sampler=_sampler(kind, dims, t.seed), pruner=pruner)
    trials: list[dict[str, Any]] = []

    def objective(trial: Any) -> float:
        params = {name: _suggest(trial, name, dim) for name, dim in dims.items()}
        record: dict[str, Any] = {"number": trial.number, "params": params, "state": "complete", "scores": []}
        if kind == "grid":
            record["order"] = _grid_order(dims, params)
        trials.append(record)
        started = time.perf_counter()
        try:
            trial_spec = with_params(spec, params)
            for step, (inner_train, inner_val) in enumerate(inner):
                pred = fit_predict(trial_spec, inner_train, inner_val)
                record["scores"].append(inner_score(t.metric, inner_val.labels, pred, classes))
                trial.report(float(np.mean(record["scores"])), step)
                if step < len(folds) - 1 and trial.should_prune():
                    record.update(state="pruned", score=None, reason=f"pruned after {step + 1} inner fold(s)")
                    raise optuna.TrialPruned()
            record["score"] = float(np.mean(record["scores"]))
            return float(record["score"])
        except optuna.TrialPruned:
            raise
        except Exception as exc:  # a failing trial costs that trial only: Optuna records it failed, we say why
            record.update(state="failed", score=None, reason=describe_exception(exc))
            raise
        finally:
            record["seconds"] = time.perf_counter() - started
            say(f"tuning trial {trial.number + 1}/{n}: {record['state']}")

    # optimize (not ask/tell): the grid sampler stops the study itself once every point has run
    study.optimize(objective, n_trials=n, catch=(Exception,))
    best = chosen_trial(trials)
    if best is None:
        reasons = sorted({str(tr.get("reason", "")) for tr in trials})
        raise ComponentError(f"every one of the {n} tuning trials failed: {'; '.join(reasons)[:600]}")
    return TuningRecord(
        chosen=dict(best["params"]),
        chosen_trial=int(best["number"]),
        score=float(best["score"]),
        budget=n,
        metric=t.metric,
        sampler=kind,
        inner_folds=len(folds),
        trials=trials,
        seconds=time.perf_counter() - t0,
    )
