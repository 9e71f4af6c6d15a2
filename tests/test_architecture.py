"""The layering of docs/architecture.md, enforced: no module imports a layer above its own.

Every import of an ``emoframe`` module (absolute or relative, at module level or inside a
function) is read from the source with ``ast``; an import that points up fails the test
with the file, the line and both layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "emoframe"

#: lowest first; a module may import its own layer and those below it
LAYERS: list[set[str]] = [
    {
        "errors",
        "hookspecs",
        "workdir",
        "ownership",
        "workers",
        "library_warnings",
        "components",
        "contract",
        "code_digest",
    },
    {"registry"},
    {"spec"},
    {"data"},
    {"features"},
    {"evaluation"},
    {"results", "fusion", "default_plugin"},
    {"pipeline"},
    {"bench"},
    {"deploy"},
    {"testing"},
    {"cli", "tui", "__main__", "scaffold", "deploy_commands"},
]
LEVEL = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def top_part(module: Path) -> str:
    rel = module.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def imported(module: Path) -> list[tuple[int, str]]:
    """(line, top-level emoframe part) of every emoframe import in a file."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    pkg_parts = list(module.relative_to(ROOT).with_suffix("").parts)[:-1]  # e.g. ['emoframe', 'bench']
    out = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg_parts[: len(pkg_parts) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            elif node.module:
                names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "emoframe" and len(parts) > 1:
                out.append((node.lineno, parts[1]))
    return out


def test_every_module_is_in_a_layer():
    parts = {top_part(p) for p in PACKAGE.rglob("*.py")} - {"__init__"}
    assert parts <= set(LEVEL), f"put these in a layer of tests/test_architecture.py: {sorted(parts - set(LEVEL))}"


def test_no_module_imports_a_layer_above_its_own():
    violations = []
    for module in sorted(PACKAGE.rglob("*.py")):
        source = top_part(module)
        if source == "__init__":  # the package's facade re-exports the public API
            continue
        for line, target in imported(module):
            if target in LEVEL and LEVEL[target] > LEVEL[source]:
                violations.append(
                    f"{module.relative_to(ROOT)}:{line}: {source} (layer {LEVEL[source]}) imports "
                    f"{target} (layer {LEVEL[target]})"
                )
    assert not violations, "\n".join(violations)


def test_the_checker_sees_an_upward_import(tmp_path, monkeypatch):
    """The test can fail: a planted upward import is found."""
    fake = PACKAGE / "evaluation" / "_planted_for_test.py"
    fake.write_text("from ..bench.runner import run_benchmark\n")
    try:
        found = [t for _, t in imported(fake)]
    finally:
        fake.unlink()
    assert found == ["bench"] and LEVEL["bench"] > LEVEL["evaluation"]


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
