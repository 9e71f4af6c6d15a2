"""Reading spec files: bounded, strict YAML/JSON, errors with file, line and column.

A spec is data from a user, possibly hostile: the file size, nesting depth and the size of
the document once YAML aliases are expanded are bounded; duplicate keys are an error (not
last-wins); bytes that are not UTF-8 are reported with their line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import SpecError, SpecProblem
from ..plugin.registry import Registry
from .grid import is_grid
from .models import BenchmarkSpec, PipelineSpec
from .validation import format_validation_error

MAX_BYTES = 1 << 20  # 1 MiB: a spec is a page of text, not a data file
MAX_DEPTH = 40  # nesting levels
MAX_NODES = 100_000  # values in the document with every alias expanded


def _problem(message: str, fix: str, source: str) -> SpecError:
    return SpecError([SpecProblem("", message, fix)], source=source)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (with their line) instead of keeping the last."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            first = seen.get(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            ) from None
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}' (first at line {first + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _no_duplicate_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key '{key}'")
        out[key] = value
    return out


def _measure(doc: Any) -> tuple[int, int]:
    """(values, depth) of a document as if every alias were copied out; stops early past the bounds."""
    sizes: dict[int, tuple[int, int]] = {}

    def walk(value: Any, level: int) -> tuple[int, int]:
        if level > MAX_DEPTH:
            return MAX_NODES + 1, level
        if not isinstance(value, (dict, list)):
            return 1, 0
        if id(value) in sizes:  # an alias: same object, counted again in full (as a copy would be)
            return sizes[id(value)]
        children = list(value.keys()) + list(value.values()) if isinstance(value, dict) else value
        total, depth = 1, 0
        for child in children:
            n, d = walk(child, level + 1)
            total, depth = total + n, max(depth, d + 1)
            if total > MAX_NODES:
                break
        sizes[id(value)] = (total, depth)
        return total, depth

    return walk(doc, 0)


def read_document(path: str | Path) -> dict[str, Any]:
    """Parse a YAML or JSON spec file into a dict, with a clear error naming the file."""
    p = Path(path)
    source = str(path)
    try:
        if p.is_file() and p.stat().st_size > MAX_BYTES:
            raise _problem(
                f"the file is {p.stat().st_size:,} bytes; a spec may have at most {MAX_BYTES:,}",
                "a spec names data and components; keep data in a manifest",
                source,
            )
        raw = p.read_bytes()
    except OSError as exc:
        raise _problem(f"cannot read spec file: {exc.strerror or exc}", "check the path", source) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _problem(
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} on line {line}", "save the file as UTF-8", source
        ) from None
    return parse_document(text, source, is_json=p.suffix.lower() == ".json")


def parse_document(text: str, source: str, is_json: bool = False) -> dict[str, Any]:
    """A spec's text (YAML, or JSON with ``is_json``) as a dict, under the same bounds as a file: what
    :func:`read_document` does once the bytes are read, and what ``emoframe.validate`` does with YAML text."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise _problem(
            f"the text is more than {MAX_BYTES:,} bytes; a spec may have at most {MAX_BYTES:,}",
            "a spec names data and components; keep data in a manifest",
            source,
        )
    try:
        doc = (
            json.loads(text, object_pairs_hook=_no_duplicate_pairs)
            if is_json
            else yaml.load(text, Loader=_StrictLoader)
        )  # noqa: S506 — a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise _problem(f"not valid YAML{where}: {exc.problem or exc.context}", "fix the syntax", source) from None
    except json.JSONDecodeError as exc:
        raise _problem(
            f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", "fix the syntax", source
        ) from None
    except (yaml.YAMLError, ValueError) as exc:
        raise _problem(f"not valid {'JSON' if is_json else 'YAML'}: {exc}", "fix the syntax", source) from None
    except RecursionError:
        raise _problem(f"nested too deeply (more than {MAX_DEPTH} levels)", "flatten the document", source) from None
    if not isinstance(doc, dict):
        raise _problem("the spec must be a mapping with keys data, branches, ...", "see `emoframe schema`", source)
    nodes, depth = _measure(doc)
    if depth > MAX_DEPTH:
        raise _problem(f"nested too deeply (more than {MAX_DEPTH} levels)", "flatten the document", source)
    if nodes > MAX_NODES:
        raise _problem(
            f"the document expands to more than {MAX_NODES:,} values (YAML aliases counted in full)",
            "write the alternatives out instead of repeating aliases",
            source,
        )
    return doc


def _source_paths(doc: dict[str, Any], problems: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """With ``data: [...]`` every source is checked under its list index: ``sources[1].x`` reads ``data[1].x``,
    and the first source's problems, found twice (as ``data`` too), are said once."""
    if not isinstance(doc.get("data"), list):
        return problems
    out = []
    for path, msg in problems:
        if path == "data" or path.startswith(("data.", "data[")):
            continue
        if path.startswith("sources"):
            path = "data" + path[len("sources") :]
        out.append((path, msg))
    return out


def parse_spec(doc: dict[str, Any], source: str | None = None) -> PipelineSpec | BenchmarkSpec:
    """Build the pydantic spec from a dict; every structural problem is reported at once."""
    cls = BenchmarkSpec if is_grid(doc) else PipelineSpec
    try:
        return cls.model_validate(doc)
    except ValidationError as err:
        problems = [SpecProblem(path, msg) for path, msg in _source_paths(doc, format_validation_error(err))]
        raise SpecError(problems, source=source) from None
    except RecursionError:
        raise SpecError(
            [SpecProblem("", f"nested too deeply (more than {MAX_DEPTH} levels)", "flatten the document")],
            source=source,
        ) from None


def load_spec(path: str | Path, registry: Registry | None = None) -> PipelineSpec | BenchmarkSpec:
    """Read, parse and (given a registry) validate a spec file; raises SpecError with all problems."""
    from .validation import validate

    doc = read_document(path)
    spec = parse_spec(doc, source=str(path))
    if registry is not None:
        validate(spec, registry, base_dir=Path(path).parent, source=str(path))
    return spec


def json_schemas() -> dict[str, Any]:
    return {"PipelineSpec": PipelineSpec.model_json_schema(), "BenchmarkSpec": BenchmarkSpec.model_json_schema()}
