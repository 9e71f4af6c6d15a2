"""The layering of docs/architecture.md, enforced: no import cycle inside ``emoframe/`` and no module importing
a layer above its own.

Every import of an ``emoframe`` module is read from the source with ``ast``: absolute or relative, at module
level or inside a function. Both count: emoframe imports lazily inside functions (start-up time, optional
dependencies), and a function-level import back up a layer, or back round a cycle, is the same tangle a
module-level one is, only found later. Imports under ``if TYPE_CHECKING:`` are left out (they never run).
The package facade ``emoframe/__init__.py`` is outside the graph: it re-exports the public API, and
``from .. import __version__`` reads a constant it sets before it imports anything.

The checks take the package's folder as an argument, so the tests that show they can fail plant a cycle and
an upward import in a copy of the package under tmp_path, never in the source tree.
"""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "emoframe"

#: lowest first; a module may import its own layer and those below it
LAYERS: list[set[str]] = [
    {"errors", "workdir", "ownership", "workers", "library_warnings"},
    {"plugin", "code_digest"},
    {"spec"},
    {"data"},
    {"features"},
    {"evaluation"},
    {"results", "fusion", "default_plugin", "display"},
    {"pipeline"},
    {"bench"},
    {"deploy"},
    {"testing"},
    {"api"},  # the notebook API (emoframe.validate / bench / run / Run ...): the CLI calls it
    {"cli", "tui", "__main__"},
]
#: old paths of modules that moved into ``plugin/``: each only hands over the moved module (with a warning)
DEPRECATED_PATHS = {"hookspecs", "components", "contract", "registry"}
LEVEL = {name: i for i, layer in enumerate(LAYERS) for name in layer}

#: known cycles, each an explicit allowance to delete once it is gone (as sets of module names)
ALLOWED_CYCLES: dict[str, frozenset[str]] = {
    # components.KINDS / components.BASES, where they lived before the table of kinds: a module __getattr__
    # that reads them from plugin.kinds on first use, for code written against the old names
    "plugin: components <-> kinds (old names, read lazily)": frozenset(
        {"emoframe.plugin.components", "emoframe.plugin.kinds"}
    ),
}


def module_name(path: Path, package: Path) -> str:
    """``emoframe.bench.runner`` for …/emoframe/bench/runner.py, ``emoframe.bench`` for its __init__."""
    parts = [package.name, *path.relative_to(package).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_part(module: Path, package: Path = PACKAGE) -> str:
    rel = module.relative_to(package)
    return rel.parts[0].removesuffix(".py")


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of the tree but those under ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in [child, *_runtime_nodes(child)])
            continue
        yield node
        yield from _runtime_nodes(node)


def imported_names(module: Path, package: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, dotted name) of every import in a file that points into the package, relative ones resolved;
    for ``from A import B`` both ``A.B`` and ``A`` are candidates (B may be a submodule or a name in A)."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    pkg_parts = list(module.relative_to(package.parent).with_suffix("").parts)[:-1]  # e.g. ['emoframe', 'bench']
    out: list[tuple[int, str]] = []
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(pkg_parts[: len(pkg_parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            out += [(node.lineno, f"{base}.{a.name}") for a in node.names]
    return [(line, name) for line, name in out if name.split(".")[0] == package.name]


def import_graph(package: Path = PACKAGE) -> dict[str, dict[str, int]]:
    """module → {imported module: first line}, over every module of the package but its facade."""
    files = {module_name(p, package): p for p in sorted(package.rglob("*.py"))}
    graph: dict[str, dict[str, int]] = {}
    for name, path in files.items():
        if name == package.name:
            continue
        edges = graph.setdefault(name, {})
        for line, target in imported_names(path, package):
            while target and target not in files:  # a name inside a module: the module it is in
                target = target.rpartition(".")[0]
            if target and target != package.name and target != name:
                edges.setdefault(target, line)
    return graph


def import_cycles(graph: dict[str, dict[str, int]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan): each is an import cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def describe_cycle(component: frozenset[str], graph: dict[str, dict[str, int]]) -> str:
    edges = [f"{a} imports {b} (line {graph[a][b]})" for a in sorted(component) for b in graph[a] if b in component]
    return "import cycle: " + "; ".join(edges)


def unexpected_cycles(package: Path = PACKAGE) -> list[str]:
    graph = import_graph(package)
    allowed = set(ALLOWED_CYCLES.values())
    return [describe_cycle(c, graph) for c in import_cycles(graph) if c not in allowed]


def upward_imports(package: Path = PACKAGE) -> list[str]:
    """One line per import of a module from a layer above the importing module's own."""
    violations = []
    for module in sorted(package.rglob("*.py")):
        source = top_part(module, package)
        if source == "__init__" or source in DEPRECATED_PATHS:  # facades: the public API, old paths
            continue
        for line, name in imported_names(module, package):
            parts = name.split(".")
            target = parts[1] if len(parts) > 1 else ""
            if target in LEVEL and source in LEVEL and LEVEL[target] > LEVEL[source]:
                violations.append(
                    f"{module.relative_to(package.parent)}:{line}: {source} (layer {LEVEL[source]}) imports "
                    f"{target} (layer {LEVEL[target]})"
                )
    return sorted(set(violations))


def test_every_module_is_in_a_layer():
    parts = {top_part(p) for p in PACKAGE.rglob("*.py")} - {"__init__"} - DEPRECATED_PATHS
    assert parts <= set(LEVEL), f"put these in a layer of tests/test_architecture.py: {sorted(parts - set(LEVEL))}"


def test_no_module_imports_a_layer_above_its_own():
    violations = upward_imports()
    assert not violations, "\n".join(violations)


def test_no_import_cycle_inside_the_package():
    cycles = unexpected_cycles()
    assert not cycles, "\n".join(cycles)


def test_the_allowed_cycles_are_still_there_or_named_for_deletion():
    """An allowance outlives its cycle only until the lead deletes it: say so when the cycle is gone."""
    graph = import_graph()
    present = set(import_cycles(graph))
    modules = set(graph)
    for label, cycle in ALLOWED_CYCLES.items():
        if cycle <= modules:
            assert cycle in present, f"the allowed cycle {label} is gone: delete it from ALLOWED_CYCLES"


def planted_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "emoframe"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_the_checker_sees_a_planted_cycle_made_by_function_level_imports(tmp_path):
    package = planted_copy(tmp_path)
    assert unexpected_cycles(package) == unexpected_cycles()  # the copy reads as the source does
    (package / "evaluation" / "planted_a.py").write_text("def f():\n    from .planted_b import g\n    return g\n")
    (package / "evaluation" / "planted_b.py").write_text(
        "def g():\n    from . import planted_a\n    return planted_a\n"
    )
    cycles = unexpected_cycles(package)
    assert len(cycles) == 1 + len(unexpected_cycles())
    assert any("emoframe.evaluation.planted_a imports emoframe.evaluation.planted_b (line 2)" in c for c in cycles)


def test_the_checker_sees_a_planted_module_level_cycle_through_a_package(tmp_path):
    package = planted_copy(tmp_path)
    stats = package / "evaluation" / "stats.py"
    stats.write_text(stats.read_text(encoding="utf-8") + "\nfrom . import planted_c  # noqa\n", encoding="utf-8")
    (package / "evaluation" / "planted_c.py").write_text("from .stats import bootstrap_ci  # noqa\n")
    assert any("emoframe.evaluation.stats" in c and "planted_c" in c for c in unexpected_cycles(package))


def test_the_checker_sees_a_planted_upward_import(tmp_path):
    package = planted_copy(tmp_path)
    (package / "evaluation" / "planted_up.py").write_text("def f():\n    from ..bench.runner import run_benchmark\n")
    (package / "spec" / "planted_up.py").write_text("from emoframe.deploy import bundle  # noqa\n")
    found = set(upward_imports(package)) - set(upward_imports())
    assert found == {
        "emoframe/evaluation/planted_up.py:2: evaluation (layer 5) imports bench (layer 8)",
        "emoframe/spec/planted_up.py:1: spec (layer 2) imports deploy (layer 9)",
    }


def test_type_checking_imports_do_not_count(tmp_path):
    package = planted_copy(tmp_path)
    (package / "spec" / "planted_hint.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..deploy.bundle import Bundle  # noqa\n"
    )
    assert upward_imports(package) == upward_imports()


def test_plugins_use_only_the_public_api():
    """First-party plugins import ``emoframe`` (its ``__all__``) and ``emoframe.testing`` only."""
    import emoframe

    bad = []
    for module in sorted((ROOT / "plugins").rglob("*.py")):
        if "/tests/" in module.as_posix():
            continue
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "emoframe":
                if node.module not in ("emoframe", "emoframe.testing"):
                    bad.append(f"{module.relative_to(ROOT)}:{node.lineno}: from {node.module} import ...")
                elif node.module == "emoframe":
                    bad += [
                        f"{module.relative_to(ROOT)}:{node.lineno}: {a.name} is not in emoframe.__all__"
                        for a in node.names
                        if a.name not in emoframe.__all__
                    ]
            elif isinstance(node, ast.Import):
                bad += [
                    f"{module.relative_to(ROOT)}:{node.lineno}: import {a.name}"
                    for a in node.names
                    if a.name.startswith("emoframe.") and a.name != "emoframe.testing"
                ]
    assert not bad, "\n".join(bad)


def _source_files() -> list[Path]:
    plugins = [p for p in (ROOT / "plugins").rglob("*.py") if "/tests/" not in p.as_posix()]
    return sorted([*PACKAGE.rglob("*.py"), *plugins])


def test_no_module_over_500_lines():
    """One concept a module: a module that grows past 500 lines holds two (docs/architecture.md)."""
    long = [
        f"{p.relative_to(ROOT)}: {n} lines" for p in _source_files() if (n := len(p.read_text().splitlines())) > 500
    ]
    assert not long, "\n".join(long)


def test_no_function_over_80_lines_without_a_reason():
    """A function over 80 lines does several jobs, unless a comment just above it (starting "# one piece")
    says why it is one."""
    long = []
    for path in _source_files():
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno:
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                size = node.end_lineno - node.lineno + 1
                if size > 80 and not lines[first - 2].strip().startswith("# one piece"):
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.name}, {size} lines")
    assert not long, "\n".join(long)
