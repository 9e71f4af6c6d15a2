"""A fitted component's state on disk in safe formats only: JSON, safetensors, skops.

Nothing here unpickles. JSON holds the structure and the scalars; numeric arrays and torch
weights go into one ``arrays.safetensors`` (a format that cannot carry code); scikit-learn
estimators go into ``.skops`` files, loaded only when every type they name is trusted:
scikit-learn's estimators (skops trusts those itself), the internals listed in
:data:`TRUSTED_TYPES`, and what the component declares in ``trusted_types``.
"""

from __future__ import annotations

import importlib.abc
import json
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BundleError

STATE_FILE = "state.json"
ARRAYS_FILE = "arrays.safetensors"

#: types inside scikit-learn estimators that skops does not trust by itself; plain data holders
TRUSTED_TYPES = (
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.tree._tree.Tree",
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.model_selection._split.KFold",
    "scipy.sparse._csr.csr_matrix",
    "scipy.sparse._csc.csc_matrix",
    "scipy.sparse._csr.csr_array",
    "scipy.sparse._csc.csc_array",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.link.MultinomialLogit",
    "sklearn._loss.link.LogitLink",
)

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class _NoTorch(importlib.abc.MetaPathFinder):
    """Refuses ``import torch`` while skops lists scikit-learn's estimators (see :func:`skops_io`)."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        if name == "torch" or name.startswith("torch."):
            raise ImportError("not needed to list scikit-learn's estimators")
        return None


def skops_io() -> Any:
    """``skops.io``, imported without torch when torch is not loaded yet.

    skops builds its trusted-type list by importing every scikit-learn module; walking them
    imports scikit-learn's array-API shim for torch, and so torch itself (2–3 s) when it is
    installed. The walk ignores modules that fail to import, so refusing torch there only saves
    that time: scikit-learn reaches torch through ``sys.modules`` when arrays are torch tensors,
    and a bundle with torch components imports it as usual afterwards.
    """
    if "skops.io" in sys.modules or "torch" in sys.modules:
        import skops.io

        return skops.io
    finder = _NoTorch()
    sys.meta_path.insert(0, finder)
    try:
        import skops.io
    finally:
        sys.meta_path.remove(finder)
    return skops.io


def _is_estimator(value: Any) -> bool:
    try:
        from sklearn.base import BaseEstimator
    except ImportError:  # pragma: no cover - scikit-learn is a core dependency
        return False
    return isinstance(value, BaseEstimator)


def _is_tensor(value: Any) -> bool:
    return type(value).__module__ == "torch" and type(value).__name__ in ("Tensor", "Parameter")


class _Writer:
    def __init__(self, folder: Path):
        self.folder = folder
        self.arrays: dict[str, np.ndarray] = {}
        self.files: list[str] = []

    def encode(self, value: Any, where: str) -> Any:
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, np.generic):
            return self.encode(value.item(), where)
        if isinstance(value, (list, tuple)):
            items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
            return {"$tuple": items} if isinstance(value, tuple) else {"$list": items}
        if isinstance(value, Mapping):
            if all(isinstance(k, str) for k in value):
                return {"$dict": {k: self.encode(v, f"{where}.{k}") for k, v in value.items()}}
            return {"$items": [[self.encode(k, where), self.encode(v, f"{where}[{k!r}]")] for k, v in value.items()]}
        if isinstance(value, bytes):
            name = f"blob-{len(self.files)}.bin"
            (self.folder / name).write_bytes(value)
            self.files.append(name)
            return {"$bytes": name}
        if _is_tensor(value):
            t = value.detach().cpu()
            dtype = str(t.dtype).removeprefix("torch.")
            if dtype == "bfloat16":
                t = t.float()
            return {"$tensor": self.array(t.numpy(), where), "dtype": dtype}
        if isinstance(value, np.ndarray):
            if value.dtype.kind in "biuf":
                return {"$array": self.array(value, where)}
            if value.dtype.kind == "U" or (value.dtype.kind == "O" and all(isinstance(v, str) for v in value.flat)):
                return {"$strings": value.tolist(), "dtype": "object" if value.dtype.kind == "O" else "str"}
            raise BundleError(
                f"{where}: an array of dtype {value.dtype} cannot be saved safely (numbers, booleans and "
                "strings can); convert it in the component's state()"
            )
        if hasattr(value, "tocsr") and hasattr(value, "shape") and type(value).__module__.startswith("scipy.sparse"):
            csr = value.tocsr()
            return {
                "$sparse": [list(csr.shape)],
                "data": self.array(csr.data, f"{where}.data"),
                "indices": self.array(csr.indices, f"{where}.indices"),
                "indptr": self.array(csr.indptr, f"{where}.indptr"),
            }
        if _is_estimator(value):
            sio = skops_io()
            name = f"estimator-{len(self.files)}.skops"
            sio.dump(value, self.folder / name)
            self.files.append(name)
            return {"$sklearn": name}
        raise BundleError(
            f"{where}: a {type(value).__module__}.{type(value).__qualname__} cannot be saved safely; return JSON "
            "values, numpy arrays, torch tensors, bytes or scikit-learn estimators from state(), or override "
            "state()/restore() (docs/deploy.md, 'Saving a component')"
        )

    def array(self, a: np.ndarray, where: str) -> str:
        key = f"a{len(self.arrays)}"
        self.arrays[key] = np.ascontiguousarray(a)
        return key


def save_state(state: Mapping[str, Any], folder: str | Path) -> list[str]:
    """Write ``state`` into ``folder`` (created); the names of the files written."""
    from safetensors.numpy import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    w = _Writer(folder)
    tree = {k: w.encode(v, k) for k, v in state.items()}
    (folder / STATE_FILE).write_text(json.dumps(tree, indent=1, sort_keys=True, allow_nan=True), encoding="utf-8")
    files = [STATE_FILE, *w.files]
    if w.arrays:
        save_file(w.arrays, str(folder / ARRAYS_FILE))
        files.append(ARRAYS_FILE)
    return files


class _Reader:
    def __init__(self, folder: Path, trusted: Iterable[str], owner: str):
        self.folder, self.trusted, self.owner = folder, set(TRUSTED_TYPES) | set(trusted), owner
        self._arrays: dict[str, np.ndarray] | None = None

    def arrays(self) -> dict[str, np.ndarray]:
        if self._arrays is None:
            from safetensors.numpy import load_file

            path = self.folder / ARRAYS_FILE
            try:
                self._arrays = load_file(str(path))
            except Exception as exc:  # noqa: BLE001 - any damage is the same answer
                raise BundleError(
                    f"{path}: not a readable safetensors file ({type(exc).__name__}: {exc}); "
                    "the bundle is damaged or was not written by emoframe — train it again"
                ) from None
        return self._arrays

    def file(self, name: Any) -> Path:
        if not isinstance(name, str) or not _NAME.match(name) or name.startswith("."):
            raise BundleError(f"{self.folder / STATE_FILE}: names a file outside its folder ({name!r}); refusing")
        path = self.folder / name
        if not path.is_file() or path.is_symlink():
            raise BundleError(f"{path}: missing (named by {self.folder / STATE_FILE}); the bundle is incomplete")
        return path

    def array(self, key: Any) -> np.ndarray:
        arrays = self.arrays()
        if key not in arrays:
            raise BundleError(f"{self.folder / ARRAYS_FILE}: no array '{key}'; the bundle is damaged")
        return arrays[key]

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict) or len(node) < 1:
            raise BundleError(f"{self.folder / STATE_FILE}: unexpected value {node!r}; the bundle is damaged")
        if "$list" in node:
            return [self.decode(v) for v in node["$list"]]
        if "$tuple" in node:
            return tuple(self.decode(v) for v in node["$tuple"])
        if "$dict" in node:
            return {k: self.decode(v) for k, v in node["$dict"].items()}
        if "$items" in node:
            return {self.decode(k): self.decode(v) for k, v in node["$items"]}
        if "$array" in node:
            return self.array(node["$array"])
        if "$strings" in node:
            return np.array(node["$strings"], dtype=object if node.get("dtype") == "object" else None)
        if "$tensor" in node:
            import torch

            t = torch.from_numpy(self.array(node["$tensor"]).copy())
            return t.to(getattr(torch, str(node.get("dtype", "float32")))) if node.get("dtype") else t
        if "$bytes" in node:
            return self.file(node["$bytes"]).read_bytes()
        if "$sparse" in node:
            import scipy.sparse as sp

            shape = tuple(node["$sparse"][0])
            return sp.csr_matrix(
                (self.array(node["data"]), self.array(node["indices"]), self.array(node["indptr"])), shape=shape
            )
        if "$sklearn" in node:
            return self.estimator(self.file(node["$sklearn"]))
        raise BundleError(f"{self.folder / STATE_FILE}: unknown entry {sorted(node)}; the bundle is damaged")

    def estimator(self, path: Path) -> Any:
        sio = skops_io()
        try:
            untrusted = sio.get_untrusted_types(file=path)
        except Exception as exc:  # noqa: BLE001 - a pickle, a truncated file: not a skops file
            raise BundleError(
                f"{path}: not a skops file ({type(exc).__name__}); emoframe loads scikit-learn state from skops "
                "files only and never unpickles — refusing"
            ) from None
        refused = sorted(set(untrusted) - self.trusted)
        if refused:
            raise BundleError(
                f"{path}: holds type(s) {', '.join(refused)}, which {self.owner} does not trust; refusing to "
                "load it (a bundle could run code through them). If you wrote that component, list the types "
                "in its trusted_types"
            )
        try:
            return sio.load(path, trusted=list(untrusted))
        except Exception as exc:  # noqa: BLE001
            raise BundleError(f"{path}: could not be loaded ({type(exc).__name__}: {exc})") from None


def load_state(folder: str | Path, trusted: Iterable[str] = (), owner: str = "emoframe") -> dict[str, Any]:
    """Read what :func:`save_state` wrote; refuses untrusted types and anything but its own formats."""
    folder = Path(folder)
    path = folder / STATE_FILE
    try:
        tree = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BundleError(f"{path}: not readable JSON ({exc}); the bundle is damaged or incomplete") from None
    if not isinstance(tree, dict):
        raise BundleError(f"{path}: expected an object of fitted attributes")
    reader = _Reader(folder, trusted, owner)
    return {k: reader.decode(v) for k, v in tree.items()}
