"""The component contract, enforced at run time around every plugin call.

A plugin's exception becomes ``<component> (<distribution> <version>) raised <Exception>:
<message> (at file:line)``; what a component returns is checked (a vector extractor gives a
1-D array, a sequence one a (frames × dims) array, probabilities are finite, within [0, 1]
and sum to 1 per row with one column per class), and a violation names the component and
what it returned. Models written scikit-learn style (``fit(X, y)``) get ``groups`` only if
their ``fit`` takes it; sparse input reaches only models that declare ``accepts_sparse``.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, overload

import numpy as np

from ..errors import ComponentError, EmoframeError, describe_exception


class PluginCallError(ComponentError):
    """A component raised something that is not an emoframe error: named with its origin."""


def origin(component: Any) -> str:
    """'sklearn.svc (emoframe-sklearn 0.1.0)': the component and the distribution that shipped it."""
    where = getattr(component, "_origin", "")
    name = getattr(component, "name", type(component).__name__)
    return f"{name} ({where})" if where else name


@contextmanager
def guard(component: Any, action: str) -> Iterator[None]:
    """Run plugin code: emoframe errors pass as they are, anything else is named with its origin."""
    try:
        yield
    except EmoframeError:
        raise
    except Exception as exc:  # noqa: BLE001 — a plugin may raise anything; the user needs its name
        raise PluginCallError(f"{origin(component)} raised {describe_exception(exc)} in {action}") from exc


def takes_groups(model: Any) -> bool:
    """Whether ``model.fit`` accepts speakers (a third positional argument or ``groups=``)."""
    try:
        sig = inspect.signature(model.fit)
    except (TypeError, ValueError):
        return True
    params = list(sig.parameters.values())
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params) or "groups" in sig.parameters:
        return True
    return len([p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]) >= 3


def model_input(model: Any, X: Any) -> Any:
    """Sparse matrices reach only models that declare ``accepts_sparse = True``; others get an array."""
    if hasattr(X, "toarray") and not getattr(model, "accepts_sparse", False):
        return X.toarray()
    return X


def fit_model(model: Any, X: Any, y: Any, groups: Any) -> None:
    """``model.fit`` under the contract: groups only where taken, sparse only where declared."""
    X = model_input(model, X)
    with guard(model, "fit"):
        if takes_groups(model):
            model.fit(X, y, groups)
        else:
            model.fit(X, y)
    if not hasattr(model, "classes_"):
        raise ComponentError(f"{origin(model)}: fit must set classes_ (the labels, sorted)")


def predict_proba(model: Any, X: Any) -> np.ndarray:
    with guard(model, "predict_proba"):
        return np.asarray(model.predict_proba(model_input(model, X)))


def check_feature(extractor: Any, value: Any) -> np.ndarray:
    """One sample's features as the extractor declared them (float32), or a ComponentError saying why."""
    try:
        arr = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise ComponentError(f"{origin(extractor)} returned {type(value).__name__}, not numbers ({exc})") from None
    output = getattr(extractor, "output", "vector")
    if output == "vector":
        if arr.ndim == 2 and arr.shape[0] == 1:
            arr = arr[0]  # (1 × d) is unambiguous
        if arr.ndim != 1:
            raise ComponentError(
                f"{origin(extractor)} declares output 'vector' but returned shape {arr.shape}; return a 1-D array "
                "(or declare output 'sequence' for frames × dims)"
            )
    elif output == "sequence" and (arr.ndim != 2 or arr.shape[0] == 0):
        raise ComponentError(
            f"{origin(extractor)} returned shape {arr.shape}; a sequence is (frames × dims) with at least one frame"
        )
    elif output == "layers" and (arr.ndim != 2 or arr.shape[0] == 0):
        raise ComponentError(
            f"{origin(extractor)} returned shape {arr.shape}; 'layers' output is (layers × dims), at least one layer"
        )
    if not np.all(np.isfinite(arr)):
        raise ComponentError(f"{origin(extractor)} returned NaN or inf values")
    return arr


@overload
def check_probabilities(P: Mapping[str, Any], n_classes: int | None, who: str) -> dict[str, np.ndarray]: ...
@overload
def check_probabilities(P: Any, n_classes: int | None, who: str) -> np.ndarray: ...


def check_probabilities(P: Any, n_classes: int | None, who: str) -> np.ndarray | dict[str, np.ndarray]:
    """Probabilities as the contract has them: (rows × classes), finite, in [0, 1], rows summing to 1 within
    1e-3. ``P`` is one matrix (what a model's predict_proba returned) or branch → matrix (what a late fusion
    is given: then every branch is held to the same rules and all have the same rows). ``n_classes`` None:
    any number of columns. ``who`` names the component in the ComponentError."""
    if not isinstance(P, Mapping):
        return _checked_matrix(P, n_classes, who, "predict_proba", "returned")
    if not P:
        raise ComponentError(f"{who}: no branch probabilities given")
    out: dict[str, np.ndarray] = {}
    for key, block in P.items():
        out[key] = _checked_matrix(block, n_classes, who, f"branch '{key}'", "has")
        first = next(iter(out.values()))
        if out[key].shape[0] != first.shape[0]:
            raise ComponentError(f"{who}: branch '{key}' has {out[key].shape[0]} rows, others {first.shape[0]}")
    return out


def check_probas(name: str, probas: Mapping[str, Any], n_classes: int | None = None) -> dict[str, np.ndarray]:
    """Deprecated name of :func:`check_probabilities` for branch probabilities (arguments in another order)."""
    warnings.warn(
        "emoframe.check_probas(name, probas, n_classes) is deprecated: use "
        "emoframe.check_probabilities(probas, n_classes, name)",
        DeprecationWarning,
        stacklevel=2,
    )
    return check_probabilities(dict(probas), n_classes, name)


def _checked_matrix(P: Any, n_classes: int | None, who: str, source: str, verb: str) -> np.ndarray:
    """One probability matrix under the rules of :func:`check_probabilities`; ``source`` and ``verb`` word
    the error ('predict_proba returned …', "branch 'audio' has …")."""
    try:
        P = np.asarray(P, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ComponentError(f"{who}: {source} {verb} {type(P).__name__}, not numbers ({exc})") from None
    if P.ndim != 2 or (n_classes is not None and P.shape[1] != n_classes):
        expected = f"{n_classes} classes" if n_classes is not None else "classes"
        raise ComponentError(f"{who}: {source} {verb} shape {P.shape}; expected (rows × {expected})")
    if not np.all(np.isfinite(P)):
        raise ComponentError(f"{who}: {source} {verb} NaN or inf")
    if P.size and (P.min() < -1e-6 or P.max() > 1 + 1e-6):
        raise ComponentError(f"{who}: {source} {verb} values outside [0, 1] (min {P.min():.3g}, max {P.max():.3g})")
    sums = P.sum(1)
    if P.size and np.abs(sums - 1).max() > 1e-3:
        raise ComponentError(f"{who}: {source} rows must sum to 1; a row sums to {sums[np.abs(sums - 1).argmax()]:.4g}")
    return P


def check_explanation(
    fusion: Any, out: Any, branches: list[str], shape: tuple[int, int], expected: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """A late fusion's own ``explain()``: branch → (rows × classes) finite contributions for exactly its
    branches, summing to ``expected`` (fused minus baseline probabilities) when given. A violation names
    the component and what it returned."""
    who = origin(fusion)
    if not isinstance(out, Mapping):
        raise ComponentError(f"{who}: explain() must return branch → (rows × classes) array, got {type(out).__name__}")
    if sorted(map(str, out)) != sorted(branches):
        raise ComponentError(
            f"{who}: explain() returned branches {sorted(map(str, out))}, expected exactly {sorted(branches)}"
        )
    checked = {}
    for key in branches:
        value = np.asarray(out[key], dtype=np.float64)
        if value.shape != shape:
            raise ComponentError(
                f"{who}: explain() gave branch '{key}' an array of shape {value.shape}, expected {shape} "
                "(rows × classes)"
            )
        if not np.isfinite(value).all():
            raise ComponentError(f"{who}: explain() gave branch '{key}' non-finite contributions")
        checked[key] = value
    if expected is not None:
        gap = float(np.abs(sum(checked.values()) - expected).max()) if branches else 0.0
        if gap > 1e-6:
            raise ComponentError(
                f"{who}: explain()'s contributions do not sum to the fused probabilities minus the baseline "
                f"(off by {gap:.2e}); they must add up (efficiency), see docs/plugins.md"
            )
    return checked
