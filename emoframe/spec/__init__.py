"""Pipeline and benchmark specs: the data models, grids, reading files, validation.

``models`` says what a spec is, ``grid`` how a benchmark expands into pipelines, ``io`` how
a file becomes a spec (bounded and strict), ``validation`` which rules a spec must meet
against the installed plugins.
"""

from .grid import expand, is_grid, pipelines_of
from .io import json_schemas, load_spec, parse_document, parse_spec, read_document
from .models import (
    MODALITIES,
    NORMALISE_HELP,
    PROTOCOLS,
    Alternatives,
    BenchmarkSpec,
    BranchGrid,
    BranchSpec,
    ComponentRef,
    DataSpec,
    EvaluationSpec,
    GridPart,
    Normalise,
    PipelineSpec,
)
from .repeats import repeat_problems
from .settings import SEED_MAX, Condition, ExecutionSpec, RobustnessSpec, TuningSpec
from .validation import article, branch_modality, check, cost_warnings, validate

__all__ = [
    "cost_warnings",
    "repeat_problems",
    "MODALITIES",
    "NORMALISE_HELP",
    "PROTOCOLS",
    "SEED_MAX",
    "Alternatives",
    "BenchmarkSpec",
    "BranchGrid",
    "BranchSpec",
    "ComponentRef",
    "Condition",
    "DataSpec",
    "EvaluationSpec",
    "ExecutionSpec",
    "GridPart",
    "Normalise",
    "PipelineSpec",
    "RobustnessSpec",
    "TuningSpec",
    "article",
    "branch_modality",
    "check",
    "expand",
    "is_grid",
    "json_schemas",
    "load_spec",
    "parse_spec",
    "pipelines_of",
    "parse_document",
    "read_document",
    "validate",
]
