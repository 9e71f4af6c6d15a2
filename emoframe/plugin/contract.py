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
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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


def check_probabilities(P: Any, n_classes: int, who: str) -> np.ndarray:
    """Probabilities: (rows × classes), finite, in [0, 1], rows summing to 1 within 1e-3."""
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 2 or P.shape[1] != n_classes:
        raise ComponentError(f"{who}: predict_proba returned shape {P.shape}; expected (rows × {n_classes} classes)")
    if not np.all(np.isfinite(P)):
        raise ComponentError(f"{who}: predict_proba returned NaN or inf")
    if P.size and (P.min() < -1e-6 or P.max() > 1 + 1e-6):
        raise ComponentError(
            f"{who}: predict_proba returned values outside [0, 1] (min {P.min():.3g}, max {P.max():.3g})"
        )
    sums = P.sum(1)
    if P.size and np.abs(sums - 1).max() > 1e-3:
        raise ComponentError(
            f"{who}: predict_proba rows must sum to 1; a row sums to {sums[np.abs(sums - 1).argmax()]:.4g}"
        )
    return P
