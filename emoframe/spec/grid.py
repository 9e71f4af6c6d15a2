"""Grids: how a benchmark spec expands into pipelines, and how a document says it is one."""

from __future__ import annotations

import itertools
from typing import Any

from ..plugin.registry import Registry
from .models import BenchmarkSpec, BranchSpec, ComponentRef, PipelineSpec
from .search import with_default_twins, with_tuning


def is_grid(doc: dict[str, Any]) -> bool:
    """Whether a spec document is a benchmark: its kind says so, or a slot lists alternatives."""
    if doc.get("kind") in ("pipeline", "benchmark"):
        return doc["kind"] == "benchmark"
    if (
        isinstance(doc.get("data"), list)  # several corpora: a benchmark over each
        or isinstance(doc.get("fusion"), list)
        or isinstance(doc.get("model"), list)
        or "also" in doc
        or "robustness" in doc
    ):
        return True
    branches = doc.get("branches")
    for branch in branches.values() if isinstance(branches, dict) else []:
        if isinstance(branch, list):
            return True
        if isinstance(branch, dict) and any(
            isinstance(branch.get(s), list) for s in ("extractor", "model", "normalise", "transcripts")
        ):
            return True
    return False


def expand(spec: BenchmarkSpec, registry: Registry) -> list[PipelineSpec]:
    """Every pipeline of the grids, fused ones first, then the unimodal ones (baselines included).

    The registry tells early from late fusions; validate the spec first.
    """
    if spec.also:
        unique: dict[str, PipelineSpec] = {}
        for _, part in spec.parts():
            for p in expand(part, registry):
                unique.setdefault(p.digest(), p)
        return sorted(unique.values(), key=lambda p: (not p.is_fused, p.label()))
    per_branch: dict[str, list[BranchSpec]] = {}
    for key in sorted(spec.branches):
        concrete = []
        for _, grid in spec.branch_alternatives(key):
            exts: list[ComponentRef | None] = [*grid.extractor] if grid.extractor else [None]
            mods: list[ComponentRef | None] = [*grid.model] if grid.model else [None]
            sources: list[Any] = [*grid.transcripts] if grid.transcripts else [None]
            for ext, mod, norm, source in itertools.product(exts, mods, grid.normalise, sources):
                concrete.append(
                    BranchSpec(modality=grid.modality, extractor=ext, model=mod, normalise=norm, transcripts=source)
                )
        per_branch[key] = concrete
    keys = sorted(per_branch)
    common = {"data": spec.data, "evaluation": spec.evaluation}  # several sources: the caller runs each
    pipelines: list[PipelineSpec] = []
    fusions: list[ComponentRef | None] = [*spec.fusion] if spec.fusion else [None]
    for fusion in fusions:
        early = fusion is not None and registry.get(fusion.name, "fusion").fusion_kind == "early"
        for combo in itertools.product(*(per_branch[k] for k in keys)):
            branches = dict(zip(keys, combo))
            if fusion is None or len(keys) == 1:
                pipelines.append(PipelineSpec(branches=branches, **common))
                continue
            if early:
                models: list[ComponentRef | None] = [*spec.model] if spec.model else [None]
                for model in models:
                    fused = {k: b.model_copy(update={"model": None}) for k, b in branches.items()}
                    pipelines.append(PipelineSpec(branches=fused, fusion=fusion, model=model, **common))
                    if spec.baselines:
                        for k, b in fused.items():
                            pipelines.append(
                                PipelineSpec(branches={k: b.model_copy(update={"model": model})}, **common)
                            )
            else:
                pipelines.append(PipelineSpec(branches=branches, fusion=fusion, **common))
                if spec.baselines:
                    pipelines.extend(PipelineSpec(branches={k: b}, **common) for k, b in branches.items())
    distinct: dict[str, PipelineSpec] = {}
    # a tuned pipeline carries the tuning block and brings its untuned twin (nested tuning)
    for p in with_default_twins([with_tuning(p, spec.tuning) for p in pipelines]):
        distinct.setdefault(p.digest(), p)
    ordered = sorted(distinct.values(), key=lambda p: (not p.is_fused, p.label()))
    return ordered


def pipelines_of(spec: PipelineSpec | BenchmarkSpec, registry: Registry) -> list[PipelineSpec]:
    """The pipelines a spec stands for: itself, or a benchmark's expanded grid."""
    if isinstance(spec, PipelineSpec):  # a tuned pipeline is compared with its untuned twin
        return with_default_twins([with_tuning(spec, spec.tuning)])
    return expand(spec, registry)
