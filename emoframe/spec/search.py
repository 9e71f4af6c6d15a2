"""Search spaces of nested tuning: what a component's ``search`` says, checked against its ``Params``.

A searched parameter is a list (grid points) or one of ``loguniform(a, b)``, ``uniform(a, b)``,
``int(a, b)``, ``choice(a, b, ...)``. A pipeline's space joins the searches of all its slots under
their spec paths (``branches.audio.model.C``); :func:`with_params` gives the pipeline a trial runs,
:func:`untuned` the same pipeline on its defaults (what tuning is compared with).
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from ..errors import SpecProblem
from .dimension import Dimension, parse_dimension
from .models import ComponentRef, PipelineSpec, TuningSpec

GRID_MAX = 10_000  # grid points one search may hold


def dimensions(ref: ComponentRef) -> dict[str, Dimension]:
    return {name: parse_dimension(name, v) for name, v in sorted((ref.search or {}).items())}


# -- a pipeline's search ------------------------------------------------------------------------
def slots(spec: PipelineSpec) -> Iterator[tuple[str, ComponentRef]]:
    """(spec path, reference) of every component slot of a pipeline."""
    for key in sorted(spec.branches):
        b = spec.branches[key]
        for slot in ("extractor", "model"):
            ref = getattr(b, slot)
            if ref is not None:
                yield f"branches.{key}.{slot}", ref
    for slot in ("fusion", "model"):
        ref = getattr(spec, slot)
        if ref is not None:
            yield slot, ref


def is_tuned(spec: PipelineSpec) -> bool:
    return any(ref.search for _, ref in slots(spec))


def space(spec: PipelineSpec) -> dict[str, Dimension]:
    """The joint search space of a pipeline: ``<slot path>.<parameter>`` → dimension."""
    return {f"{path}.{name}": dim for path, ref in slots(spec) for name, dim in dimensions(ref).items()}


def grid_points(dims: dict[str, Dimension]) -> int | None:
    """How many points a space of lists (grids, choices) holds; None when a dimension draws numbers."""
    if not all(d.categorical for d in dims.values()):
        return None
    return math.prod(len(d.values) for d in dims.values())


def sampler_of(spec: PipelineSpec) -> str:
    t = spec.tuning or TuningSpec()
    if t.sampler != "auto":
        return t.sampler
    return "grid" if grid_points(space(spec)) is not None else "tpe"


def budget(spec: PipelineSpec) -> int:
    """Trials per outer fold: ``tuning.trials``, or the grid's size when a grid sampler has fewer points."""
    t = spec.tuning or TuningSpec()
    points = grid_points(space(spec)) if sampler_of(spec) == "grid" else None
    return min(t.trials, points) if points is not None else t.trials


def _replace(spec: PipelineSpec, path: str, ref: ComponentRef) -> PipelineSpec:
    parts = path.split(".")
    if parts[0] == "branches":
        b = spec.branches[parts[1]].model_copy(update={parts[2]: ref})
        return spec.model_copy(update={"branches": {**spec.branches, parts[1]: b}})
    return spec.model_copy(update={parts[0]: ref})


def with_params(spec: PipelineSpec, chosen: dict[str, Any]) -> PipelineSpec:
    """The pipeline a trial runs: each searched parameter set to ``chosen`` (joint names), no search left."""
    out = spec.model_copy(update={"tuning": None})
    for path, ref in slots(spec):
        if ref.search:
            params = {**ref.params, **{n: chosen[f"{path}.{n}"] for n in ref.search if f"{path}.{n}" in chosen}}
            out = _replace(out, path, ComponentRef(name=ref.name, params=params))
    return PipelineSpec.model_validate(out.model_dump(mode="json"))


def untuned(spec: PipelineSpec) -> PipelineSpec:
    """The same pipeline on its defaults (its given params, no search): what tuning is compared with."""
    twin = with_params(spec, {})
    return twin.model_copy(update={"name": f"{spec.name} (untuned)"}) if spec.name else twin


def with_tuning(spec: PipelineSpec, tuning: TuningSpec | None) -> PipelineSpec:
    """A tuned pipeline carries the tuning block (its defaults if none is given); an untuned one none."""
    return spec.model_copy(update={"tuning": (tuning or TuningSpec()) if is_tuned(spec) else None})


def with_default_twins(pipelines: list[PipelineSpec]) -> list[PipelineSpec]:
    """The pipelines, each tuned one followed by its untuned twin (unless ``tuning.default`` is false)."""
    out: dict[str, PipelineSpec] = {}
    for p in pipelines:
        out.setdefault(p.digest(), p)
        if is_tuned(p) and (p.tuning or TuningSpec()).default:
            twin = untuned(p)
            out.setdefault(twin.digest(), twin)
    return list(out.values())


# -- validation ---------------------------------------------------------------------------------
def _types(annotation: Any) -> set[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return {t for a in typing.get_args(annotation) for t in _types(a)}
    if origin is typing.Literal:
        return {"literal"}
    return {annotation}


def bounds_text(field: Any) -> str:
    """The bounds a Params field declares ('> 0, < 1'), or ''."""
    marks = []
    for m in getattr(field, "metadata", []):
        for attr, sign in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤")):
            if getattr(m, attr, None) is not None:
                marks.append(f"{sign} {getattr(m, attr)}")
    return ", ".join(marks)


def _value_problem(params_model: Any, params: dict[str, Any], name: str, value: Any) -> str | None:
    try:
        params_model.model_validate({**params, name: value})
    except ValidationError as err:
        mine = [e["msg"] for e in err.errors() if e["loc"] and e["loc"][0] == name]
        return "; ".join(dict.fromkeys(mine)) if mine else None
    return None


def search_problems(path: str, ref: ComponentRef, params_model: Any) -> Iterator[SpecProblem]:
    """What is wrong with a component's search against its Params: unknown names, values out of bounds or
    of the wrong type, distributions on categorical fields, a grid over the limit."""
    fields = params_model.model_fields
    show = f"`emoframe plugins --show {ref.name}` lists its parameters"
    dims = dimensions(ref)
    for name, dim in dims.items():
        where = f"{path}.search.{name}"
        if name not in fields:
            import difflib

            close = difflib.get_close_matches(name, list(fields), n=3)
            fix = f"did you mean {', '.join(close)}? " if close else ""
            yield SpecProblem(where, f"'{ref.name}' has no parameter '{name}'", fix + show)
            continue
        if name in ref.params:
            yield SpecProblem(where, f"'{name}' is both set in params and searched", f"remove it from {path}.params")
        field = fields[name]
        bounds = bounds_text(field)
        hint = f"its bounds: {bounds}" if bounds else show
        if dim.categorical:
            for v in dim.values:
                msg = _value_problem(params_model, ref.params, name, v)
                if msg:
                    yield SpecProblem(where, f"value {v!r} is not valid for {name}: {msg}", hint)
            continue
        types = _types(field.annotation)
        numeric = types & {float, int}
        if bool in types or not numeric:
            yield SpecProblem(
                where,
                f"{dim.kind}(…) draws numbers but '{name}' is categorical ({_kind_name(types)})",
                f"list its values to search them, e.g. {name}: [{_example(field)}] or choice(…)",
            )
            continue
        if dim.kind != "int" and numeric == {int}:
            yield SpecProblem(
                where, f"'{name}' takes whole numbers but {dim.kind}(…) draws fractions", f"use int({dim.low:g}, …)"
            )
            continue
        for end in (dim.low, dim.high):
            v = int(end) if dim.kind == "int" else end
            msg = _value_problem(params_model, ref.params, name, v)
            if msg:
                yield SpecProblem(where, f"{dim.text()} reaches {v:g}, out of bounds for {name}: {msg}", hint)
    points = math.prod(len(d.values) for d in dims.values() if d.categorical)
    if points > GRID_MAX:
        sizes = " × ".join(str(len(d.values)) for d in dims.values() if d.categorical)
        yield SpecProblem(
            f"{path}.search",
            f"the grid holds {points:,} points ({sizes}), more than {GRID_MAX:,}",
            "shorten the lists, or draw from distributions (loguniform, int, …) with a tuning.trials budget",
        )


def _kind_name(types: set[Any]) -> str:
    if bool in types:
        return "true/false"
    return "a choice of names" if "literal" in types else "not a number"


def _example(field: Any) -> str:
    default = field.default
    return "true, false" if isinstance(default, bool) else str(default)


def extracted_search_problems(path: str, ref: ComponentRef, stateless: bool) -> Iterator[SpecProblem]:
    """A stateless extractor's features are extracted once per run, before any fold: a search over its
    parameters would extract the corpus again in every trial. Its variants belong in the grid instead."""
    if stateless:
        yield SpecProblem(
            f"{path}.search",
            f"'{ref.name}' is extracted once per run, before the folds; tuning its parameters would extract "
            "the corpus again for every trial",
            f"list the variants as alternatives, e.g. extractor: [{{name: {ref.name}, params: {{...}}}}, ...] "
            "(each extracted once and compared on the same folds)",
        )


def sampler_problems(tuning: TuningSpec | None, searched: list[tuple[str, ComponentRef]]) -> Iterator[SpecProblem]:
    """``sampler: grid`` walks lists only: a search drawing numbers needs another sampler."""
    if tuning is None or tuning.sampler != "grid":
        return
    for path, ref in searched:
        drawn = [n for n, d in dimensions(ref).items() if not d.categorical]
        if drawn:
            yield SpecProblem(
                "tuning.sampler",
                f"the grid sampler walks lists, but {path}.search draws {', '.join(drawn)} from a distribution",
                "list the values to try, or set tuning.sampler: tpe (or random, or auto)",
            )


def budget_warnings(pipelines: list[PipelineSpec]) -> list[str]:
    """A comparison of tuned pipelines is fair only on equal budgets: name those with fewer trials."""
    tuned = [p for p in pipelines if is_tuned(p)]
    budgets = {p.display_name: budget(p) for p in tuned}
    if len(set(budgets.values())) < 2:
        return []
    top = max(budgets.values())
    smaller = [f"{name} ({b} trials)" for name, b in budgets.items() if b < top]
    return [
        f"unequal tuning budgets: {', '.join(smaller)} against {top} trials for the others; a comparison of "
        "tuned pipelines favours the larger budget — give every search the same number of points, or set "
        "tuning.sampler: random/tpe so that tuning.trials applies to all"
    ]
