"""`emoframe new plugin NAME`: a plugin distribution whose tests pass out of the box.

It writes a new folder only (an existing non-empty folder is refused): ``pyproject.toml``
with the entry point, a plugin module with one component of each asked kind, conformance
tests through ``emoframe.testing.parametrize_with_checks``, and a README.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import EmoframeError
from ..ownership import is_empty_dir
from .kinds import BY_NAME

_EXTRACTOR = '''

class Level(emoframe.FeatureExtractor):
    """Peak and RMS level of the utterance (replace with your features)."""

    name = "{name}.level"
    version = "1"
    modality = "audio"
    output = "vector"

    class Params(emoframe.Params):
        db: bool = Field(True, description="report decibels")

    def extract(self, signal):
        peak, rms = np.abs(signal).max(), np.sqrt(np.mean(signal**2))
        out = np.array([peak, rms])
        return 20 * np.log10(out + 1e-9) if self.params.db else out
'''

_MODEL = '''

class NearestMean(emoframe.Model):
    """Nearest class mean on standardised vectors (replace with your classifier)."""

    name = "{name}.nearest_mean"
    version = "1"
    accepts = frozenset({{"vector"}})

    class Params(emoframe.Params):
        temperature: float = Field(1.0, gt=0, description="softmax temperature of the distances")

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=float), np.asarray(y)
        if len(np.unique(y)) < 2:
            raise emoframe.ComponentError(f"{{self.name}}: needs at least two classes")
        self.mu_, self.sd_ = X.mean(0), X.std(0) + 1e-9
        Z = (X - self.mu_) / self.sd_
        self.classes_ = np.unique(y)
        self.means_ = np.vstack([Z[y == c].mean(0) for c in self.classes_])
        return self

    def predict_proba(self, X):
        if not hasattr(self, "means_"):
            raise emoframe.ComponentError(f"{{self.name}}: predict_proba called before fit")
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.means_.shape[1]:
            raise emoframe.ComponentError(f"{{self.name}}: expected {{self.means_.shape[1]}} features, got {{X.shape}}")
        d = ((((X - self.mu_) / self.sd_)[:, None, :] - self.means_[None]) ** 2).sum(-1) / self.params.temperature
        e = np.exp(-(d - d.min(1, keepdims=True)))
        return e / e.sum(1, keepdims=True)
'''

_FUSION = '''

class ProductOfExperts(emoframe.LateFusion):
    """Multiply the branches' probabilities and renormalise (replace with your fusion)."""

    name = "{name}.product"
    version = "1"

    def fit(self, probas, y, classes):
        self.classes_ = np.asarray(classes)
        self.branches_ = sorted(probas)
        return self

    def predict_proba(self, probas):
        if not hasattr(self, "branches_"):
            raise emoframe.ComponentError(f"{{self.name}}: predict_proba called before fit")
        probas = emoframe.check_probabilities(probas, len(self.classes_), self.name)
        if sorted(probas) != self.branches_:
            got = sorted(probas)
            raise emoframe.ComponentError(f"{{self.name}}: fitted on branches {{self.branches_}}, got {{got}}")
        P = np.prod([np.clip(probas[k], 1e-9, 1) for k in self.branches_], axis=0)
        return P / P.sum(1, keepdims=True)
'''

#: kind → (class name, its hook in the table of kinds, template)
_CLASSES = {
    kind: (cls, BY_NAME[kind].hook, body)
    for kind, cls, body in (
        ("extractor", "Level", _EXTRACTOR),
        ("model", "NearestMean", _MODEL),
        ("fusion", "ProductOfExperts", _FUSION),
    )
}
#: the kinds the scaffold has a template for
KINDS = tuple(_CLASSES)
_SUFFIX = {"Level": "level", "NearestMean": "nearest_mean", "ProductOfExperts": "product"}


def new_plugin(name: str, out: str | Path, kinds: tuple[str, ...] = KINDS) -> Path:
    """Write ``out/emoframe-NAME/`` and return it; refuses a name that is not an identifier or a used folder."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise EmoframeError(f"'{name}' is not a plugin name: use lower case letters, digits and _ (e.g. acme)")
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise EmoframeError(f"--kinds takes {', '.join(KINDS)} (comma-separated); got {', '.join(kinds) or 'none'}")
    root = Path(out) / f"emoframe-{name}"
    if root.exists() and not is_empty_dir(root):
        raise EmoframeError(f"{root} exists and is not empty; choose another --out or name")
    package = f"emoframe_{name}"
    classes = [_CLASSES[k] for k in KINDS if k in kinds]
    listed = ", ".join(f"`{name}.{_SUFFIX[c]}`" for c, _, _ in classes)
    imported = ", ".join(c for c, _, _ in classes)
    module = [
        f'"""emoframe plugin {name}: one component of each kind asked for; replace their insides."""',
        "",
        "import numpy as np",
        "from pydantic import Field",
        "",
        "import emoframe",
    ]
    module += [body.format(name=name).rstrip("\n") for _, _, body in classes]
    for cls, hook, _ in classes:
        module += ["", "", "@emoframe.hookimpl", f"def {hook}(register):", f"    register({cls})"]
    files = {
        "pyproject.toml": f'''[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "emoframe-{name}"
version = "0.1.0"
description = "emoframe plugin {name}"
requires-python = ">=3.10"
dependencies = ["emoframe", "numpy", "pydantic>=2"]

[project.entry-points.emoframe]
{name} = "{package}.plugin"

[tool.setuptools.packages.find]
include = ["{package}*"]
''',
        f"{package}/__init__.py": f'"""emoframe plugin {name}."""\n',
        f"{package}/plugin.py": "\n".join(module) + "\n",
        "tests/test_conformance.py": f'''"""The components against emoframe's rules: one test per (component, check)."""

from emoframe.testing import parametrize_with_checks

from {package}.plugin import {imported}


@parametrize_with_checks([{imported}])
def test_conformance(component, check):
    check(component)
''',
        "README.md": f"""# emoframe-{name}

An emoframe plugin. `pip install -e .` registers it (entry point `{name}` in the `emoframe`
group); `emoframe plugins` then lists {listed}.

- `{package}/plugin.py`: the components and the hooks that register them;
- `tests/test_conformance.py`: emoframe's conformance checks (`pytest`).

Read emoframe's `docs/plugins.md` for the contract and the rules the checks enforce.
""",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
