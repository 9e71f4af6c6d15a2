"""What a run still has to run: the stored folds computed by older code (:func:`stale_folds`) and the repeats
of the protocol (``evaluation.repeats``) with their folds and their pipelines' seeds.

Repeat 0 is the run itself; repeat r ≥ 1 cuts the folds again from the same rows with a derived seed
(:func:`emoframe.evaluation.repeats.derive_seed`) and runs every pipeline with derived component seeds.
Nothing is extracted again: the rows, and so the cached features, are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..code_digest import changed_components
from ..data.manifest import Manifest
from ..evaluation.repeats import derive_seed
from ..plugin.registry import Registry
from ..results.store import ResultsStore
from .evaluate import Plan, check_folds, cut_folds, repeat_spec

__all__ = ["RepeatTodo", "plan_repeats", "repeat_spec", "same_folds", "stale_folds"]

if TYPE_CHECKING:
    from .runner import PreparedRun


@dataclass
class RepeatTodo:
    """One repeat of the protocol: its seed, its folds (cut with that seed) and the folds stored already."""

    repeat: int
    seed: int
    splits: list[tuple[Manifest, Manifest]]
    done: set[tuple[str, int]]


def stale_folds(
    stored: dict[tuple[str, int], dict[str, str] | None],
    current: dict[str, dict[str, str]],
    versions: dict[str, str],
    run_id: str,
) -> tuple[set[tuple[str, int]], list[str]]:
    """The stored (pipeline, fold)s computed by code other than today's, and one line per changed component
    saying so: "sklearn.svc's code changed since run … was stored (version 2 unchanged): rerunning …"."""
    stale: set[tuple[str, int]] = set()
    by_component: dict[str, set[tuple[str, int]]] = {}
    unrecorded: set[tuple[str, int]] = set()
    for (pid, fold), was in stored.items():
        now = current.get(pid)
        if now is None:
            continue
        if was is None:
            unrecorded.add((pid, fold))
            continue
        for name in changed_components(was, now):
            by_component.setdefault(name, set()).add((pid, fold))
    lines = []
    for name, folds in sorted(by_component.items()):
        stale |= folds
        version = f"version {versions[name]} unchanged" if name in versions else "same version"
        lines.append(
            f"{name}'s code changed since run {run_id[:12]} was stored ({version}): rerunning "
            f"{len(folds)} pipeline-fold(s) of {len({p for p, _ in folds})} pipeline(s)"
        )
    if unrecorded:
        stale |= unrecorded
        lines.append(
            f"{len(unrecorded)} pipeline-fold(s) of {len({p for p, _ in unrecorded})} pipeline(s) of run "
            f"{run_id[:12]} were stored before emoframe recorded the code that computed them: rerunning them"
        )
    return stale, lines


def plan_repeats(
    run: PreparedRun, store: ResultsStore, plan: Plan, registry: Registry, fresh: bool
) -> list[RepeatTodo]:
    """Repeats 1, 2, … of ``evaluation.repeats``: the folds cut again from the same rows (no feature is extracted
    again) with each repeat's derived seed, and the folds each has stored already (stale ones left out)."""
    first = run.pipelines[0][1]
    ev = first.evaluation
    out = []
    for r in range(1, ev.n_repeats):
        seed = derive_seed(ev.seed, r)
        assert plan.rows is not None  # a single-corpus protocol: the rows the folds were cut from
        splits = cut_folds(first, plan.rows, seed, r)
        check_folds(first, splits, f"repeat {r + 1} fold")
        done: set[tuple[str, int]] = set()
        if not fresh:
            versions = {n: registry.get(n).version for c in run.code.values() for n in c if n in registry}
            stale, _ = stale_folds(store.fold_code(run.run_id, r), run.code, versions, run.run_id)
            done = store.finished(run.run_id, r) - stale
        out.append(RepeatTodo(r, seed, splits, done))
    return out


def same_folds(first: list[tuple[Manifest, Manifest]], repeats: list[RepeatTodo]) -> list[str]:
    """A warning for each repeat that cut the speakers into the same folds as an earlier one (its figures then
    differ only by model seeds)."""

    def cut(splits: list[tuple[Manifest, Manifest]]) -> frozenset[frozenset[str]]:
        return frozenset(frozenset(map(str, test.speakers)) for _, test in splits)

    seen = {cut(first): 1}
    out = []
    for rep in repeats:
        key = cut(rep.splits)
        if key in seen:
            out.append(
                f"repeat {rep.repeat + 1} cut the speakers into the same folds as repeat {seen[key]}: its figures "
                "differ only by model seeds (more speakers, or fewer folds, give more distinct folds)"
            )
        seen.setdefault(key, rep.repeat + 1)
    return out
