"""Has the code changed since a stored run computed its figures? Asked by every face that reads a run.

A run's folds record the code digest of each component that computed them (``folds.code``). Read
beside today's code (:func:`emoframe.spec.code.pipeline_code`), a component whose digest differs
makes that pipeline's stored figures the older code's: ``results``, ``compare`` and ``report`` say so,
and ``train --run`` refuses to ship them as the bundle's figures (``bench`` reruns just those folds).
"""

from __future__ import annotations

from ..code_digest import changed_components
from ..plugin.registry import Registry
from ..spec import PipelineSpec
from ..spec.code import pipeline_code
from .store import ResultsStore


def changed_since_stored(store: ResultsStore, run_id: str, registry: Registry) -> dict[str, list[str]]:
    """Component name → the labels of the run's pipelines whose stored folds were computed by other code
    of it than today's. A component not installed today is left to the faces that load it (they name it);
    folds stored before emoframe recorded code are not judged here (a ``bench`` rerun says so)."""
    stored = store.fold_code(run_id)
    changed: dict[str, list[str]] = {}
    for p in store.pipelines(run_id):
        now = pipeline_code(PipelineSpec.model_validate(p["spec"]), registry)
        names: set[str] = set()
        for (pid, _), was in stored.items():
            if pid == p["id"] and was is not None:
                names.update(n for n in changed_components(was, now) if n in now and n in was)
        for name in sorted(names):
            changed.setdefault(name, []).append(p["name"])
    return dict(sorted(changed.items()))


def describe_changes(changed: dict[str, list[str]], run_id: str) -> list[str]:
    """One plain line per changed component: which pipelines' figures it makes the older code's."""
    lines = []
    for name, labels in changed.items():
        which = labels[0] if len(labels) == 1 else f"{len(labels)} pipelines"
        lines.append(
            f"{name}'s code changed since run {run_id[:12]} was stored: the figures of {which} are the older "
            "code's; run the benchmark again (`emoframe bench SPEC` reruns just those folds)"
        )
    return lines
