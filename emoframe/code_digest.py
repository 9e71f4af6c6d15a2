"""What a component's code *is*, as one sha256: the key that says "these figures came from this code".

The feature cache, the results store (each run and each stored fold) and bundles all ask
:func:`code_digest` for it, so the three agree on what "the code changed" means.

A component's code is:

- the module that defines its class, and the module of every component class it inherits from
  (a plugin's ``SeqMean(Centroid)``), less emoframe's own abstract bases (``emoframe.components``);
- every module those import from *their own* top-level package, transitively (read statically with
  ``ast``: ``emoframe_torch/models.py`` imports ``.networks`` and ``.training``, so editing either
  changes ``torch.cnn``'s digest). Imports inside functions count too. Other packages (numpy,
  scikit-learn, emoframe itself for a third-party plugin) are not code of the component: their
  versions are recorded beside it;
- every module it imports that no version covers: a top-level module outside the standard library
  that no installed distribution provides (a helper lying beside a plugin on ``PYTHONPATH``), and
  what that imports of its own, since no version string would tell its edits apart.

The digest hashes each module's *name* and file content, not its path: a moved install keeps it.
Reading is memoised per file by (path, size, mtime), so asking again costs a ``stat`` per module.
A class without a source file (typed into an interactive session) has the digest ''.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

#: file → ((size, mtime), sha256 of its bytes, absolute names of the modules it imports)
_FILES: dict[str, tuple[tuple[int, int], str, frozenset[str]]] = {}


def _scan(path: str, module: str) -> tuple[str, frozenset[str]]:
    """sha256 of a module's file and the absolute names it imports (memoised by size and mtime)."""
    st = os.stat(path)
    stamp = (st.st_size, st.st_mtime_ns)
    known = _FILES.get(path)
    if known is not None and known[0] == stamp:
        return known[1], known[2]
    data = Path(path).read_bytes()
    names: set[str] = set()
    if path.endswith(".py"):
        try:
            tree = ast.parse(data)
        except (SyntaxError, ValueError):
            tree = None
        package = module if Path(path).name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: max(0, len(package.split(".")) - node.level + 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target:
                    names.add(target)
                    names.update(f"{target}.{a.name}" for a in node.names if a.name != "*")
    digest = hashlib.sha256(data).hexdigest()
    _FILES[path] = (stamp, digest, frozenset(names))
    return digest, frozenset(names)


def _file_of(module: str) -> str | None:
    """The source file of a module, from ``sys.modules`` or found under its top-level package's folder
    (nothing is imported to find it)."""
    loaded = sys.modules.get(module)
    found = getattr(loaded, "__file__", None) if loaded is not None else None
    if found:
        return str(found) if os.path.isfile(found) else None
    top, _, rest = module.partition(".")
    package = sys.modules.get(top)
    if package is None and not rest and unversioned(top):  # a loose module not imported yet: found, not imported
        import importlib.util

        spec = importlib.util.find_spec(top)
        return spec.origin if spec is not None and spec.origin and os.path.isfile(spec.origin) else None
    if package is None or not rest:
        return None
    parts = rest.split(".")
    for root in getattr(package, "__path__", ()) or ():
        base = Path(root).joinpath(*parts)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return str(candidate)
    return None


def module_closure(roots: list[str]) -> dict[str, str]:
    """module name → sha256 of its file, for ``roots`` and every module of each root's own top-level
    package that they import, transitively — and of every module no version covers (:func:`unversioned`)."""
    out: dict[str, str] = {}
    todo = [(name, name.partition(".")[0]) for name in roots]
    while todo:
        name, top = todo.pop()
        if name in out:
            continue
        path = _file_of(name)
        if path is None:
            continue
        try:
            digest, imports = _scan(path, name)
        except OSError:
            continue
        out[name] = digest
        for m in imports:
            other = m.partition(".")[0]
            if m not in out and (other == top or unversioned(other)):
                todo.append((m, other))
    return out


_UNVERSIONED: dict[str, bool] = {}


def unversioned(top: str) -> bool:
    """Is ``top`` a top-level module that no version number covers — not the standard library, not
    installed by a distribution (a helper module lying beside a plugin on ``PYTHONPATH``)? Its code is
    then part of the digest of every component that imports it: an edit to it reruns what it changed.
    A distribution is recognised by its name (``top`` or ``top`` with ``-`` for ``_``), which is cheap
    and right for every package here; a loose module named exactly like an installed distribution is
    taken for it."""
    if top in _UNVERSIONED:
        return _UNVERSIONED[top]
    import importlib.metadata
    import importlib.util

    answer = False
    if top and top not in sys.stdlib_module_names and top not in sys.builtin_module_names:
        loaded = sys.modules.get(top)
        origin = getattr(loaded, "__file__", None) if loaded is not None else None
        if origin is None and loaded is None:
            try:
                spec = importlib.util.find_spec(top)  # searches sys.path; imports nothing for a top-level name
            except (ImportError, ValueError):
                spec = None
            origin = spec.origin if spec is not None else None
        if origin and os.path.isfile(origin) and not {"site-packages", "dist-packages"} & set(Path(origin).parts):
            answer = True
            for dist in {top, top.replace("_", "-")}:
                try:
                    importlib.metadata.distribution(dist)
                except importlib.metadata.PackageNotFoundError:
                    continue
                answer = False
                break
    _UNVERSIONED[top] = answer
    return answer


def code_modules(cls: type) -> list[str]:
    """The modules that define ``cls`` and the component classes it inherits from (not emoframe's bases)."""
    from .plugin.components import Component

    base_module = Component.__module__
    roots = [cls.__module__]
    for klass in cls.__mro__[1:]:
        if isinstance(klass, type) and issubclass(klass, Component) and klass.__module__ != base_module:
            roots.append(klass.__module__)
    return list(dict.fromkeys(r for r in roots if r != "builtins"))


def code_digest(cls: type) -> str:
    """sha256 of a component class's code (see the module docstring); '' when it has no source file."""
    modules = module_closure(code_modules(cls))
    if cls.__module__ not in modules:
        return ""
    return hashlib.sha256(json.dumps(sorted(modules.items())).encode()).hexdigest()


def changed_components(was: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    """The components whose code digest differs between two records (one present in only one counts too)."""
    return sorted(name for name in set(was) | set(now) if was.get(name) != now.get(name))


def fold_is_current(fold_code: Mapping[str, str] | None, run_code: Mapping[str, str] | None) -> bool:
    """Was a stored fold computed by the code its run last ran with? A fold of a pipeline whose component
    changed, stored before the rerun that replaces it finished, is not: its figures are the older code's.
    Stores from before digests (neither recorded) keep every fold; a fold without digests in a run that has
    them since was computed by code nobody recorded, so it is not current either."""
    if run_code is None:
        return True
    if fold_code is None:
        return False
    return all(run_code.get(name) == digest for name, digest in fold_code.items())
