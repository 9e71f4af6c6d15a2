"""Grids: how a benchmark spec expands into pipelines, and how a document says it is one."""
from __future__ import annotations

import itertools
from typing import Any

from .models import BenchmarkSpec, BranchSpec, PipelineSpec


def is_grid(doc: dict[str, Any]) -> bool:
    """Whether a spec document is a benchmark: its kind says so, or a slot lists alternatives."""
    if doc.get("kind") in ("pipeline", "benchmark"):
        return doc["kind"] == "benchmark"
    if isinstance(doc.get("fusion"), list) or isinstance(doc.get("model"), list) or "also" in doc \
            or "robustness" in doc:
        return True
    for branch in (doc.get("branches") or {}).values():
        if isinstance(branch, list):
            return True
        if isinstance(branch, dict) and any(isinstance(branch.get(s), list) for s in ("extractor", "model")):
            return True
    return False


def expand(spec: BenchmarkSpec, registry: Any) -> list[PipelineSpec]:
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
            for ext, mod in itertools.product(grid.extractor or [None], grid.model or [None]):
                concrete.append(BranchSpec(modality=grid.modality, extractor=ext, model=mod,
                                           normalise=grid.normalise))
        per_branch[key] = concrete
    keys = sorted(per_branch)
    common = {"data": spec.data, "evaluation": spec.evaluation}
    pipelines: list[PipelineSpec] = []
    for fusion in spec.fusion or [None]:
        early = fusion is not None and registry.get(fusion.name, "fusion").fusion_kind == "early"
        for combo in itertools.product(*(per_branch[k] for k in keys)):
            branches = dict(zip(keys, combo))
            if fusion is None or len(keys) == 1:
                pipelines.append(PipelineSpec(branches=branches, **common))
                continue
            if early:
                for model in spec.model or [None]:
                    fused = {k: b.model_copy(update={"model": None}) for k, b in branches.items()}
                    pipelines.append(PipelineSpec(branches=fused, fusion=fusion, model=model, **common))
                    if spec.baselines:
                        for k, b in fused.items():
                            pipelines.append(PipelineSpec(
                                branches={k: b.model_copy(update={"model": model})}, **common))
            else:
                pipelines.append(PipelineSpec(branches=branches, fusion=fusion, **common))
                if spec.baselines:
                    pipelines.extend(PipelineSpec(branches={k: b}, **common) for k, b in branches.items())
    unique: dict[str, PipelineSpec] = {}
    for p in pipelines:
        unique.setdefault(p.digest(), p)
    ordered = sorted(unique.values(), key=lambda p: (not p.is_fused, p.label()))
    return ordered


def pipelines_of(spec: PipelineSpec | BenchmarkSpec, registry: Any) -> list[PipelineSpec]:
    """The pipelines a spec stands for: itself, or a benchmark's expanded grid."""
    return [spec] if isinstance(spec, PipelineSpec) else expand(spec, registry)
