"""A plugin package written to disk by a test, so that the test can edit its code the way an author
does (without bumping a version) and load it again: ``cc.energy`` (extractor, its feature code in
``features.py``) and ``cc.centroid`` (model, its scoring code in ``scoring.py``)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

PACKAGE = "cc_plugin"

INIT = """
import emoframe


@emoframe.hookimpl
def register_extractors(register):
    from .extractors import Energy

    register(Energy)


@emoframe.hookimpl
def register_models(register):
    from .models import Centroid

    register(Centroid)
"""

EXTRACTORS = """
import numpy as np
import emoframe

from .features import features


class Energy(emoframe.FeatureExtractor):
    \"\"\"Frame-energy statistics (the statistics live in features.py).\"\"\"

    name = "cc.energy"
    version = "1"
    modality = "audio"
    output = "vector"

    def extract(self, x):
        return features(np.asarray(x, dtype=np.float32))
"""

FEATURES = """
import numpy as np


def features(x):
    n = max(1, len(x) // 400)
    frames = x[: n * 400].reshape(n, -1) if len(x) >= 400 else x.reshape(1, -1)
    e = np.sqrt((frames**2).mean(axis=1))
    return np.array([e.mean(), e.std(), e.max(), {extra}], dtype=np.float32)
"""

MODELS = """
import numpy as np
import emoframe

from .scoring import SHARPNESS


class Centroid(emoframe.Model):
    \"\"\"Nearest class centroid (how sharp its probabilities are lives in scoring.py).\"\"\"

    name = "cc.centroid"
    version = "1"
    accepts = frozenset({"vector"})

    def fit(self, X, y, groups=None):
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
        self.classes_ = np.unique(y)
        self.mu_, self.sd_ = X.mean(0), X.std(0) + 1e-9
        Z = (X - self.mu_) / self.sd_
        self.centroids_ = np.vstack([Z[y == c].mean(0) for c in self.classes_])
        return self

    def predict_proba(self, X):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.mu_):
            raise emoframe.ComponentError(f"{self.name}: fitted on {len(self.mu_)} features, got {X.shape[1]}")
        Z = (X - self.mu_) / self.sd_
        logits = -SHARPNESS * ((Z[:, None, :] - self.centroids_[None]) ** 2).sum(-1)
        p = np.exp(logits - logits.max(1, keepdims=True))
        return p / p.sum(1, keepdims=True)
"""


def write(root: Path, extra: str = "0.0", sharpness: str = "1.0") -> Path:
    """Write (or rewrite) the package under ``root``; ``extra``: the features' last entry (an expression of
    ``x`` and ``e``; a tuple-extending edit such as ``"0.0, e.min()"`` changes the width); ``sharpness``:
    the model's scoring constant."""
    pkg = root / PACKAGE
    pkg.mkdir(parents=True, exist_ok=True)
    files = {
        "__init__.py": INIT,
        "extractors.py": EXTRACTORS,
        "features.py": FEATURES.format(extra=extra),
        "models.py": MODELS,
        "scoring.py": f"SHARPNESS = {sharpness}\n",
    }
    for name, text in files.items():
        path = pkg / name
        if not path.exists() or path.read_text() != text.lstrip():
            path.write_text(text.lstrip())
    importlib.invalidate_caches()
    return root


def load(root: Path) -> ModuleType:
    """Import the package as it is on disk now (a fresh import, as a new process would); ``root`` must be
    on sys.path (the ``code_plugin`` fixtures put it there)."""
    forget()
    module = importlib.import_module(PACKAGE)
    assert Path(str(module.__file__)).parent.parent == root, "another cc_plugin is first on sys.path"
    return module


def forget() -> None:
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def registry(root: Path):  # -> Registry
    """The built-ins, the toy plugin and this package as it is on disk now."""
    from emoframe.plugin.registry import Registry

    from . import toy_plugin

    reg = Registry.from_entry_points(allow=[])
    reg.add_plugin(toy_plugin, name="toy")
    reg.add_plugin(load(root), name="cc")
    return reg
